"""Guardrails of the code's shape: short functions, and no app holding most of the code.

Both read the source files only (no Django): migrations are generated and left out.
"""

import ast
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent

# The application code; bench/ is held to the function length too, but is not an app.
APPS = ["config", "hub", "privacy", "mentors", "students", "candidates", "programs", "ecocycle"]
MAX_FUNCTION_LINES = 60
MAX_APP_SHARE = 0.40

# Numeric kernels of the engine that would lose speed if split, each with a comment at the
# function saying so: "ecocycle/matching/<module>.py:<function>". Today every kernel is split
# at no cost, so none is listed.
LONG_ENGINE_KERNELS: frozenset[str] = frozenset()


def _sources(*packages: str) -> list[Path]:
    return [path for package in packages for path in sorted((ROOT / package).rglob("*.py"))
            if "migrations" not in path.relative_to(ROOT).parts]


def _functions(node: ast.AST, prefix: str = ""):
    """(qualified name, lines) of every function and method under `node`, nested ones too."""
    for child in ast.iter_child_nodes(node):
        if isinstance(child, ast.FunctionDef | ast.AsyncFunctionDef):
            # From the `def` line to the last line of the body: decorators do not count.
            yield f"{prefix}{child.name}", child.end_lineno - child.lineno + 1
            yield from _functions(child, f"{prefix}{child.name}.")
        elif isinstance(child, ast.ClassDef):
            yield from _functions(child, f"{prefix}{child.name}.")
        else:
            yield from _functions(child, prefix)


def _function_lengths(*packages: str) -> dict[str, int]:
    """Lines of every function, by "path:qualified name"."""
    return {f"{path.relative_to(ROOT).as_posix()}:{name}": lines
            for path in _sources(*packages)
            for name, lines in _functions(ast.parse(path.read_text(encoding="utf-8")))}


def test_no_function_is_longer_than_60_lines():
    lengths = _function_lengths(*APPS, "bench")
    assert lengths, "no source found"
    too_long = {where: lines for where, lines in lengths.items()
                if lines > MAX_FUNCTION_LINES and where not in LONG_ENGINE_KERNELS}
    assert not too_long, (
        f"functions over {MAX_FUNCTION_LINES} lines (break them into named steps): "
        + ", ".join(f"{where} ({lines})" for where, lines in sorted(too_long.items())))
    # The allow-list stays small and true: engine kernels only, and only while they are long.
    for where in LONG_ENGINE_KERNELS:
        assert where.startswith("ecocycle/matching/"), f"{where} is not an engine kernel"
        assert lengths.get(where, 0) > MAX_FUNCTION_LINES, f"{where} is short now: unlist it"


def test_no_app_holds_more_than_40_percent_of_the_application_code():
    lines = {app: sum(len(path.read_text(encoding="utf-8").splitlines())
                      for path in _sources(app))
             for app in APPS}
    total = sum(lines.values())
    shares = {app: count / total for app, count in lines.items()}
    assert all(shares.values()), f"an app without code: {shares}"
    biggest = max(shares, key=shares.get)
    assert shares[biggest] <= MAX_APP_SHARE, (
        f"{biggest} holds {shares[biggest]:.0%} of the application code ({lines[biggest]} of "
        f"{total} lines), more than {MAX_APP_SHARE:.0%}: " + ", ".join(
            f"{app} {share:.1%}" for app, share in sorted(shares.items(), key=lambda i: -i[1])))
