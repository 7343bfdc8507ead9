"""Benchmark of the pure matching engine: ``python -m bench.engine [--quick] [--no-reference]``.

Times :func:`ecocycle.matching.stable_match` on generated cohorts, compares it with the PyPI
``matching`` package on the same instances, and times :func:`ecocycle.matching.assign_optimal`.
The instance generators are public so other benchmarks (e.g. a database end-to-end one) can
reuse them.

Every case runs in a fresh subprocess so that its peak memory can be read from the kernel:
tracemalloc is slow and does not see numpy's or OR-Tools' native allocations, while RSS does.
The child builds the instance, then resets its peak-RSS counter (writing ``5`` to
``/proc/self/clear_refs`` sets ``VmHWM`` back to the current RSS) and reports
``VmHWM - VmRSS(before the runs)``: the extra memory the call needed on top of its input.
"""

from __future__ import annotations

import argparse
import gc
import hashlib
import importlib.util
import multiprocessing
import resource
import sys
import threading
import time
import warnings
from collections.abc import Callable, Hashable, Mapping, Sequence
from dataclasses import dataclass, field
from typing import Any

import numpy as np

from ecocycle.matching import assign_optimal, stable_match

__all__ = [
    "CohortInstance",
    "MentorInstance",
    "generate_cohort_instance",
    "generate_mentor_instance",
    "main",
    "matching_package_inputs",
    "solve_with_matching_package",
]


# --------------------------------------------------------------------------- instances


@dataclass(frozen=True)
class CohortInstance:
    """Input of :func:`ecocycle.matching.stable_match` (dicts: treat as read-only)."""

    candidate_prefs: dict[Hashable, list[Hashable]]
    track_prefs: dict[Hashable, list[Hashable]]
    capacities: dict[Hashable, int]


@dataclass(frozen=True)
class MentorInstance:
    """Input of :func:`ecocycle.matching.assign_optimal`."""

    fits: list[tuple[Hashable, Hashable, float]]
    capacities: dict[Hashable, int]


def _distinct_rows(
    rng: np.random.Generator, rows: int, k: int, n_items: int, p: np.ndarray | None = None
) -> np.ndarray:
    """``rows x k`` matrix; each row holds k distinct items drawn (weighted by p) in draw order."""
    if k > n_items:
        raise ValueError(f"cannot draw {k} distinct items out of {n_items}")
    out = np.empty((rows, k), dtype=np.int64)
    todo = np.arange(rows)
    for _ in range(4):
        if not len(todo):
            return out
        draws = rng.choice(n_items, size=(len(todo), 2 * k), p=p)
        order = np.argsort(draws, axis=1, kind="stable")
        ordered = np.take_along_axis(draws, order, axis=1)
        dup = np.zeros_like(draws, dtype=bool)
        np.put_along_axis(dup, order[:, 1:], ordered[:, 1:] == ordered[:, :-1], axis=1)
        keep = ~dup & (np.cumsum(~dup, axis=1) <= k)
        done = keep.sum(axis=1) == k
        out[todo[done]] = draws[done][keep[done]].reshape(-1, k)
        todo = todo[~done]
    for row in todo:  # rare: k close to n_items
        out[row] = rng.choice(n_items, size=k, replace=False, p=p)
    return out


def generate_cohort_instance(
    n_candidates: int,
    n_tracks: int,
    seed: int,
    *,
    prefs_per_candidate: int = 10,
    seat_ratio: float = 0.85,
    str_keys: bool = False,
) -> CohortInstance:
    """Seeded random cohort: every candidate ranks ``prefs_per_candidate`` distinct tracks.

    Track popularity is log-normal (some tracks are wanted much more than others); each track
    ranks exactly the candidates who ranked it, by a global candidate score plus track-specific
    noise; seats are proportional to popularity with +-40% jitter and total about
    ``seat_ratio * n_candidates`` (at least one per track), so ~80-90% of candidates are placed.
    Keys are ints (candidates ``1..n``, tracks ``1..m``, like database ids), or strings
    (``"c1"``, ``"t1"``) with ``str_keys``. Deterministic for a given seed.
    """
    rng = np.random.default_rng(seed)
    k = min(prefs_per_candidate, n_tracks)
    popularity = rng.lognormal(0.0, 0.6, n_tracks)
    share = popularity / popularity.sum()
    prefs = _distinct_rows(rng, n_candidates, k, n_tracks, share)
    cand = np.repeat(np.arange(n_candidates), k)
    track = prefs.ravel()
    score = rng.normal(size=n_candidates)[cand] + 0.7 * rng.normal(size=len(cand))
    order = np.lexsort((-score, track))
    seats = np.rint(seat_ratio * n_candidates * share * rng.uniform(0.6, 1.4, n_tracks))
    seats = np.maximum(1, seats).astype(np.int64)

    cand_ids: list[Hashable] = list(range(1, n_candidates + 1))
    track_ids: list[Hashable] = list(range(1, n_tracks + 1))
    if str_keys:
        cand_ids = [f"c{i}" for i in cand_ids]
        track_ids = [f"t{i}" for i in track_ids]
    ranked = [cand_ids[i] for i in cand[order].tolist()]
    bounds = np.concatenate([[0], np.cumsum(np.bincount(track, minlength=n_tracks))]).tolist()
    return CohortInstance(
        candidate_prefs={
            c: [track_ids[t] for t in row] for c, row in zip(cand_ids, prefs.tolist(), strict=True)
        },
        track_prefs={t: ranked[bounds[i] : bounds[i + 1]] for i, t in enumerate(track_ids)},
        capacities=dict(zip(track_ids, seats.tolist(), strict=True)),
    )


def generate_mentor_instance(
    n_mentees: int,
    seed: int,
    *,
    mentors_per_mentee: int = 30,
    mentees_per_mentor: int = 5,
    max_capacity: int = 5,
) -> MentorInstance:
    """Seeded random mentor instance.

    ``n_mentees // mentees_per_mentor`` mentors with capacities uniform in
    ``1..max_capacity``; each mentee is eligible for ``mentors_per_mentee`` distinct mentors
    (log-normal mentor popularity) with weights uniform in [0, 1) at 1/1000 resolution. Fits
    are grouped by mentee, as a database query ordered by mentee would return them. Keys are
    ints (mentees ``1..n``, mentors ``1..n_mentors``).
    """
    rng = np.random.default_rng(seed)
    n_mentors = max(1, n_mentees // mentees_per_mentor)
    k = min(mentors_per_mentee, n_mentors)
    popularity = rng.lognormal(0.0, 0.5, n_mentors)
    mentors = _distinct_rows(rng, n_mentees, k, n_mentors, popularity / popularity.sum()) + 1
    weights = np.round(rng.random((n_mentees, k)), 3)
    capacities = rng.integers(1, max_capacity + 1, n_mentors)
    return MentorInstance(
        fits=list(
            zip(
                np.repeat(np.arange(1, n_mentees + 1), k).tolist(),
                mentors.ravel().tolist(),
                weights.ravel().tolist(),
                strict=True,
            )
        ),
        capacities=dict(zip(range(1, n_mentors + 1), capacities.tolist(), strict=True)),
    )


# --------------------------------------------------------------------------- reference solver


def matching_package_inputs(
    candidate_prefs: Mapping[Hashable, Sequence[Hashable]],
    track_prefs: Mapping[Hashable, Sequence[Hashable]],
    capacities: Mapping[Hashable, int],
) -> tuple[dict, dict, dict]:
    """Translate an instance into the form the ``matching`` package requires.

    ``HospitalResident`` needs mutually consistent lists (a hospital ranks exactly the
    residents that rank it), non-empty resident lists, capacities >= 1 and no duplicates;
    otherwise it warns, or crashes inside ``solve``. Dropping the pairs that our semantics
    make unusable (unknown or seatless track, candidate not acceptable to the track, later
    duplicates) leaves the set of stable matchings unchanged.
    """
    seats = {t: capacities.get(t, 0) for t in (*track_prefs, *capacities)}
    rank: dict[Hashable, dict[Hashable, int]] = {}
    for track, cands in track_prefs.items():
        ranks: dict[Hashable, int] = {}
        for i, cand in enumerate(cands):
            ranks.setdefault(cand, i)
        rank[track] = ranks
    residents: dict[Hashable, list[Hashable]] = {}
    for cand, tracks in candidate_prefs.items():
        usable = [
            t for t in dict.fromkeys(tracks) if seats.get(t, 0) > 0 and cand in rank.get(t, {})
        ]
        if usable:
            residents[cand] = usable
    ranked_by: dict[Hashable, set[Hashable]] = {}
    for cand, tracks in residents.items():
        for t in tracks:
            ranked_by.setdefault(t, set()).add(cand)
    hospitals = {
        t: [c for c in dict.fromkeys(track_prefs[t]) if c in ranked_by[t]] for t in ranked_by
    }
    return residents, hospitals, {t: seats[t] for t in hospitals}


def solve_with_matching_package(
    candidate_prefs: Mapping[Hashable, Sequence[Hashable]],
    track_prefs: Mapping[Hashable, Sequence[Hashable]],
    capacities: Mapping[Hashable, int],
    *,
    solver_only: bool = False,
    timings: dict[str, float] | None = None,
) -> dict[Hashable, Hashable]:
    """Resident-optimal ``HospitalResident`` solution as ``{candidate: track}``.

    ``solver_only`` skips ``create_from_dictionaries`` (a deep copy plus input checks that are
    O(residents x hospitals)) and runs the package's algorithm on freshly built players.
    ``timings`` receives ``"build"`` and ``"solve"`` seconds (the adapter is not timed).
    """
    # In here: the PyPI `matching` package is optional (main skips its rows without it).
    from matching.algorithms import hospital_resident  # noqa: PLC0415
    from matching.games import HospitalResident  # noqa: PLC0415
    from matching.games.hospital_resident import _make_players  # noqa: PLC0415

    residents, hospitals, seats = matching_package_inputs(candidate_prefs, track_prefs, capacities)
    out: dict[str, Any] = {}

    def run() -> None:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            t0 = time.perf_counter()
            if solver_only:
                players = _make_players(residents, hospitals, seats)
                t1 = time.perf_counter()
                result = hospital_resident(*players, optimal="resident")
            else:
                game = HospitalResident.create_from_dictionaries(residents, hospitals, seats)
                t1 = time.perf_counter()
                result = game.solve(optimal="resident")
            t2 = time.perf_counter()
        out["timings"] = {"build": t1 - t0, "solve": t2 - t1}
        out["placements"] = {r.name: h.name for h, rs in result.items() for r in rs}

    # Its deepcopy recurses along preference lists: give it a deep stack in its own thread.
    old_limit, old_stack = sys.getrecursionlimit(), threading.stack_size()
    sys.setrecursionlimit(max(old_limit, 2_000_000))
    threading.stack_size(1 << 30)
    try:
        worker = threading.Thread(target=run)
        worker.start()
        worker.join()
    finally:
        threading.stack_size(old_stack)
        sys.setrecursionlimit(old_limit)
    if "placements" not in out:
        raise RuntimeError("the matching package failed (see the thread's traceback)")
    if timings is not None:
        timings.update(out["timings"])
    return out["placements"]


# --------------------------------------------------------------------------- measurement


def _status_kib(field_name: str) -> int | None:
    try:
        with open("/proc/self/status") as status:
            for line in status:
                if line.startswith(field_name + ":"):
                    return int(line.split()[1])
    except OSError:
        pass
    return None


def _reset_peak_rss() -> bool:
    try:
        with open("/proc/self/clear_refs", "w") as refs:
            refs.write("5")
    except OSError:
        return False
    return True


def _digest(placements: Mapping[Hashable, Hashable]) -> str:
    text = repr(sorted(placements.items(), key=repr))
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def _case_stable(params: dict[str, Any]) -> tuple[Callable[[], Any], Callable[[Any], dict]]:
    inst = generate_cohort_instance(**params)
    n = len(inst.candidate_prefs)

    def info(result: Any) -> dict:
        return {"placed": len(result.placements) / max(n, 1), "digest": _digest(result.placements)}

    return (lambda: stable_match(inst.candidate_prefs, inst.track_prefs, inst.capacities)), info


def _case_reference(
    params: dict[str, Any], *, solver_only: bool
) -> tuple[Callable[[], Any], Callable[[Any], dict]]:
    inst = generate_cohort_instance(**params)
    timings: dict[str, float] = {}

    def run() -> Any:
        return solve_with_matching_package(
            inst.candidate_prefs,
            inst.track_prefs,
            inst.capacities,
            solver_only=solver_only,
            timings=timings,
        )

    def info(result: Any) -> dict:
        return {"digest": _digest(result), **timings}

    return run, info


def _case_mentors(params: dict[str, Any]) -> tuple[Callable[[], Any], Callable[[Any], dict]]:
    inst = generate_mentor_instance(**params)

    def info(result: Any) -> dict:
        return {
            "pairs": len(inst.fits),
            "covered": len(result),
            "weight": sum(w for a, b, w in inst.fits if result.get(a) == b),
        }

    return (lambda: assign_optimal(inst.fits, inst.capacities)), info


def _child(case: str, params: dict[str, Any], repeats: int, conn: Any) -> None:
    try:
        if case == "stable":
            run, info = _case_stable(params)
        elif case == "reference":
            run, info = _case_reference(params, solver_only=False)
        elif case == "reference_solver":
            run, info = _case_reference(params, solver_only=True)
        else:
            run, info = _case_mentors(params)
        gc.collect()
        base = _status_kib("VmRSS")
        exact = _reset_peak_rss()
        times = []
        result = None
        for _ in range(repeats):
            result = None
            gc.collect()
            t0 = time.perf_counter()
            result = run()
            times.append(time.perf_counter() - t0)
        peak = _status_kib("VmHWM") if exact else None
        if peak is None:  # no clear_refs: lifetime peak, includes instance generation
            peak = resource.getrusage(resource.RUSAGE_SELF).ru_maxrss
        conn.send(
            {
                "times": times,
                "extra_mb": None if base is None else (peak - base) / 1024,
                "exact_memory": exact,
                **info(result),
            }
        )
    except BaseException as exc:  # report anything, including MemoryError, to the parent
        conn.send({"error": f"{type(exc).__name__}: {exc}"})
    finally:
        conn.close()


def run_isolated(
    case: str, params: dict[str, Any], *, repeats: int, timeout: float
) -> dict[str, Any]:
    """Run one benchmark case in a fresh spawned process; kill it after ``timeout`` seconds."""
    ctx = multiprocessing.get_context("spawn")
    parent, child = ctx.Pipe(duplex=False)
    proc = ctx.Process(target=_child, args=(case, params, repeats, child))
    proc.start()
    child.close()
    try:
        if parent.poll(timeout):
            return parent.recv()
        return {"error": f"timed out after {timeout:.0f} s"}
    except EOFError:
        return {"error": f"worker died (exit code {proc.exitcode})"}
    finally:
        if proc.is_alive():
            proc.kill()
        proc.join()


# --------------------------------------------------------------------------- report


@dataclass
class Row:
    case: str
    size: str
    result: dict[str, Any]
    goal: str = ""
    ok: bool | None = None
    notes: list[str] = field(default_factory=list)

    @property
    def best(self) -> float | None:
        times = self.result.get("times")
        return min(times) if times else None


def _k(x: int) -> str:
    return f"{x // 1000}k" if x >= 1000 and x % 1000 == 0 else str(x)


def _fmt_row(row: Row) -> str:
    res = row.result
    if "error" in res:
        return f"{row.case:<30} {row.size:<26} {'-':>4} {'-':>9} {'-':>9}  ERROR {res['error']}"
    extra = res.get("extra_mb")
    mem = "-" if extra is None else f"{extra:,.0f}" + ("" if res.get("exact_memory") else "*")
    verdict = "" if row.ok is None else ("PASS " if row.ok else "FAIL ")
    goal = f"{verdict}{row.goal}".strip()
    return (
        f"{row.case:<30} {row.size:<26} {len(res['times']):>4} {row.best:>9.3f} {mem:>9}  "
        f"{goal:<24} {'; '.join(row.notes)}"
    )


def _emit(row: Row) -> None:
    print(_fmt_row(row), flush=True)


def _cohort_rows(
    n: int,
    m: int,
    repeats: int,
    goal: float | None,
    reference: str | None,
    *,
    seed: int,
    quick: bool,
    no_reference: bool,
) -> bool:
    """Our stable_match on one cohort size, then the reference rows; True if a goal is missed."""
    failed = False
    params = {"n_candidates": n, "n_tracks": m, "seed": seed}
    size = f"{_k(n)} x {_k(m)} ({_k(n * 10)} prefs)"
    ours = Row("stable_match", size, run_isolated("stable", params, repeats=repeats, timeout=600))
    if "error" not in ours.result:
        ours.notes.append(f"placed {ours.result['placed']:.1%}")
        if goal is not None:
            ours.goal, ours.ok = f"<= {goal:g} s", ours.best <= goal
            failed |= not ours.ok
    _emit(ours)
    if n >= 100_000 and not quick:
        strs = run_isolated("stable", {**params, "str_keys": True}, repeats=repeats, timeout=600)
        _emit(Row("stable_match (str keys)", size, strs, notes=["generic dict interning"]))
    if reference is None or no_reference:
        return failed
    kinds = [("reference", "matching create+solve")] if "full" in reference else []
    kinds.append(("reference_solver", "matching solver only"))
    for kind, label in kinds:
        ref = Row(label, size, run_isolated(kind, params, repeats=1, timeout=900))
        failed |= _compare(ref, ours, quick=quick)
        _emit(ref)
    return failed


def _compare(ref: Row, ours: Row, *, quick: bool) -> bool:
    """Note the reference's speed and placements against ours; True if a goal is missed."""
    failed = False
    if "error" not in ref.result:
        # Time the package's own work only, not our adapter around it.
        ref.result["times"] = [ref.result["build"] + ref.result["solve"]]
    if "error" not in ref.result and "error" not in ours.result:
        same = ref.result["digest"] == ours.result["digest"]
        ratio = ref.best / ours.best
        if not quick:  # tiny instances measure fixed overheads, not speed
            ref.goal, ref.ok = "ours >= 10x faster", ratio >= 10 and same
            failed |= not ref.ok
        failed |= not same
        ref.notes.append(f"ours {ratio:,.0f}x faster")
        ref.notes.append("same placements" if same else "DIFFERENT placements")
        ref.notes.append(f"build {ref.result['build']:.2f} s + solve {ref.result['solve']:.2f} s")
    return failed


def _mentor_row(n: int, repeats: int, goal: float | None, *, seed: int) -> bool:
    """assign_optimal on one size; True if a goal is missed."""
    res = run_isolated("mentors", {"n_mentees": n, "seed": seed}, repeats=repeats, timeout=600)
    row = Row("assign_optimal", f"{_k(n)} mentees ({_k(n * 30)} pairs)", res)
    if "error" not in res:
        row.notes.append(f"covered {res['covered']:,} ({res['covered'] / n:.1%})")
        row.notes.append(f"weight {res['weight']:,.3f}")
        if goal is not None:
            mem_goal = 500 if n >= 100_000 else None
            ok = row.best <= goal
            row.goal = f"<= {goal:g} s"
            if mem_goal is not None:
                ok = ok and res["extra_mb"] is not None and res["extra_mb"] <= mem_goal
                row.goal += f", <= {mem_goal} MB"
            row.ok = ok
    _emit(row)
    return row.ok is False


def main(argv: Sequence[str] | None = None) -> int:
    """Run the benchmark and print a table; returns 1 if a goal is missed, else 0."""
    parser = argparse.ArgumentParser(prog="python -m bench.engine", description=__doc__)
    parser.add_argument("--quick", action="store_true", help="small sizes only (smoke test)")
    parser.add_argument(
        "--no-reference", action="store_true", help="skip the PyPI matching package"
    )
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args(argv)
    if not args.no_reference and importlib.util.find_spec("matching") is None:
        print("the PyPI `matching` package is not installed: skipping the reference rows\n")
        args.no_reference = True

    # (candidates, tracks, repeats, goal seconds, reference: None / "solver" / "full+solver")
    if args.quick:
        cohorts = [(2_000, 200, 3, None, "full+solver"), (5_000, 500, 3, None, "solver")]
        mentors = [(1_000, 3, None), (5_000, 3, None)]
    else:
        cohorts = [
            (20_000, 2_000, 5, None, "full+solver"),
            (100_000, 5_000, 3, 1.0, "solver"),
            (300_000, 10_000, 3, 4.0, None),
        ]
        mentors = [(10_000, 5, 0.5), (100_000, 3, 5.0)]

    print(
        f"{'case':<30} {'size':<26} {'runs':>4} {'best s':>9} {'extra MB':>9}  {'goal':<24} notes"
    )
    print("-" * 130)
    failed = False
    for cohort in cohorts:
        failed |= _cohort_rows(
            *cohort, seed=args.seed, quick=args.quick, no_reference=args.no_reference
        )
    for n, repeats, goal in mentors:
        failed |= _mentor_row(n, repeats, goal, seed=args.seed)
    print("-" * 130)
    print(
        "best s = best wall time of `runs` calls (perf_counter, whole call incl. key interning); "
        "extra MB = peak RSS during the calls minus RSS before them (instance excluded; "
        "* = lifetime peak, no clear_refs)."
    )
    print(f"machine: {multiprocessing.cpu_count()} CPUs, Python {sys.version.split()[0]}")
    return 1 if failed else 0


if __name__ == "__main__":
    raise SystemExit(main())
