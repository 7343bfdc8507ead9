"""All benchmarks in one run: ``python -m bench`` (``make bench``)."""

import subprocess
import sys

BENCHES = [
    ("matching engine", ["bench.engine"]),
    ("nightly cohort job, 10k nominations (database of DATABASE_URL, else SQLite)",
     ["bench.cohort_job"]),
    ("longest SQLite write-lock hold of the nightly job, 10k nominations (always SQLite)",
     ["bench.write_lock"]),
    ("CSV import, 500 rows", ["bench.import_csv"]),
    ("staff pages and exports, 50k nominations (database of DATABASE_URL, else SQLite)",
     ["bench.staff_pages"]),
    ("staff mentor page, 50k nominations, 2k admitted without a mentor, 2k mentors",
     ["bench.mentor_page"]),
    ("cohort approval, 50k nominations (database of DATABASE_URL, else SQLite)",
     ["bench.cohort_approve"]),
]


def main() -> int:
    # Each in its own process: memory peaks and Django set-up must not leak between them.
    failed = 0
    for title, module in BENCHES:
        print(f"\n=== {title}", flush=True)
        failed |= subprocess.call([sys.executable, "-m", *module, *sys.argv[1:2]]) != 0
    return failed


if __name__ == "__main__":
    sys.exit(main())
