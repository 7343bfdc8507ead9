"""`make bench`'s runner (issue 16): it reads the goal lines each benchmark prints, says which
benchmark is missing or failed, and refuses clearly to run without PostgreSQL."""

import sys

from bench import __main__ as runner


def test_goal_lines_are_read_with_their_verdict():
    output = "\n".join([
        "database: postgresql; built 50000 nominations",
        "  coordinator list  p50 80 ms  p95 150 ms  90.1 req/s (goal p95 < 200 ms): met",
        "  API list  p50 300 ms  p95 900 ms (goal p95 < 200 ms): MISSED errors: 500 x2",
        "whole nightly job at 50k: 28.1 s (goal ≤ 30 s), 0.8 GB (goal ≤ 1 GB) — passed",
        "a line with a goal but no verdict (goal ≤ 2 s)",
        "  public /cycle/  p50 20 ms (no goal): measured",
    ])
    assert runner.goal_lines(output) == [
        ("coordinator list  p50 80 ms  p95 150 ms  90.1 req/s (goal p95 < 200 ms)", True),
        ("API list  p50 300 ms  p95 900 ms (goal p95 < 200 ms)", False),
        ("whole nightly job at 50k: 28.1 s (goal ≤ 30 s), 0.8 GB (goal ≤ 1 GB)", True),
    ]


def test_a_missing_benchmark_is_said_and_skipped(capsys):
    step = runner.Step("not written yet", "bench.not_written_yet", owner="someone's part")
    outcome = runner.run_step(step, quick=False, env={})
    assert outcome.status == "missing"
    assert "bench.not_written_yet is not in this branch" in capsys.readouterr().out


def test_a_benchmark_is_run_and_its_goals_tabled(monkeypatch, capsys):
    step = runner.Step("a stand-in", "bench.load")
    script = "print('thing p95 10 ms (goal p95 < 200 ms): met'); print('other (goal 1): MISSED')"
    real_popen = runner.subprocess.Popen

    def popen(command, **kwargs):
        return real_popen([sys.executable, "-c", script], **kwargs)

    monkeypatch.setattr(runner.subprocess, "Popen", popen)
    outcome = runner.run_step(step, quick=True, env=None)
    assert outcome.status == "ran"
    assert outcome.goals == [("thing p95 10 ms (goal p95 < 200 ms)", True),
                             ("other (goal 1)", False)]
    table = runner.table([outcome], quick=True)
    assert "yes    load --quick" in table and "NO     load --quick" in table
    assert "1 of 2 goals met" in table


def test_without_postgresql_it_says_so(monkeypatch, capsys):
    monkeypatch.setenv("DATABASE_URL", "postgres://postgres@127.0.0.1:1/nowhere")
    assert runner.main([]) == 2
    assert "make bench needs PostgreSQL: PostgreSQL at 127.0.0.1:1 is unreachable" in (
        capsys.readouterr().err)
    monkeypatch.setenv("DATABASE_URL", "sqlite:////tmp/x.sqlite3")
    assert runner.main([]) == 2
    assert "not a PostgreSQL database" in capsys.readouterr().err
