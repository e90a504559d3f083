"""The shape of the package, checked: imports point one way, no cycles, functions a reader can hold.

The rules come from the design guide (docs/contributing.md, "The shape of the product"): the core
(inputs, distributions, model, designs, execution, results, checks, registry) never imports an analysis
(propagate, variance, pce, sensitivity, reliability, calibration, chains' analyses, report, plots,
study, cli, external); nothing imports ``cli``; module-level imports form no cycle.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "uqbridge"

CORE = {
    "uqbridge._deprecation", "uqbridge._lazy", "uqbridge._optional", "uqbridge._types", "uqbridge._version", "uqbridge.checks", "uqbridge.designs",
    "uqbridge.distributions", "uqbridge.index_checks", "uqbridge.inputs", "uqbridge.model", "uqbridge.registry",
    "uqbridge.results", "uqbridge.execution", "uqbridge.execution.batch", "uqbridge.execution.backends",
    "uqbridge.execution.failures", "uqbridge.chains.graph",
}
MAX_FUNCTION_LINES = 120  # body lines, docstring excluded


def _module_name(path: Path) -> str:
    parts = list(path.relative_to(PACKAGE.parent).with_suffix("").parts)
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


def _resolve(module: str, is_package: bool, node: ast.ImportFrom, modules: set[str]) -> list[str]:
    if node.level == 0:
        base = node.module or ""
    else:
        parts = module.split(".") if is_package else module.split(".")[:-1]
        parts = parts[: len(parts) - (node.level - 1)]
        base = ".".join(parts + ([node.module] if node.module else []))
    # "from . import checks" imports the module uqbridge.checks, not the package
    submodules = [f"{base}.{alias.name}" for alias in node.names if f"{base}.{alias.name}" in modules]
    return submodules or [base]


def _imports(top_level_only: bool) -> dict[str, set[str]]:
    modules = {_module_name(p): p for p in PACKAGE.rglob("*.py")}
    graph: dict[str, set[str]] = {}
    for name, path in modules.items():
        tree = ast.parse(path.read_text())
        nodes = tree.body if top_level_only else list(ast.walk(tree))
        found: set[str] = set()
        for node in nodes:
            if isinstance(node, ast.If) and top_level_only:  # `if TYPE_CHECKING:` imports run no code
                continue
            if isinstance(node, ast.ImportFrom):
                found.update(m for m in _resolve(name, path.name == "__init__.py", node, set(modules)) if m in modules)
            elif isinstance(node, ast.Import):
                found.update(a.name for a in node.names if a.name in modules)
        found.discard(name)
        graph[name] = found
    return graph


def test_the_core_never_imports_an_analysis():
    graph = _imports(top_level_only=False)
    bad = {m: sorted(d - CORE) for m, d in graph.items() if m in CORE and d - CORE}
    # chains.graph builds on model/inputs only; execution on model/failures/checks only
    assert not bad, f"core modules import feature modules (move the code or invert the dependency): {bad}"


def test_nothing_imports_the_command_line():
    graph = _imports(top_level_only=False)
    users = sorted(m for m, d in graph.items() if "uqbridge.cli" in d and m not in {"uqbridge.__main__"})
    assert not users, f"modules import uqbridge.cli: {users}"


def test_module_level_imports_form_no_cycle():
    graph = _imports(top_level_only=True)
    # a package importing its own submodules (re-exports) is not a cycle of meaning: drop parent -> child edges
    edges = {m: {d for d in deps if not d.startswith(m + ".")} for m, deps in graph.items()}
    state: dict[str, int] = {}
    stack: list[str] = []

    def visit(m: str) -> list[str] | None:
        state[m] = 1
        stack.append(m)
        for d in sorted(edges.get(m, ())):
            if state.get(d) == 1:
                return stack[stack.index(d):] + [d]
            if d not in state and (cycle := visit(d)):
                return cycle
        state[m] = 2
        stack.pop()
        return None

    for m in sorted(edges):
        if m not in state and (cycle := visit(m)):
            pytest.fail(f"import cycle: {' -> '.join(cycle)}")


def _long_functions() -> list[tuple[int, str]]:
    out = []
    for path in sorted(PACKAGE.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                first = node.body[0]
                has_doc = isinstance(first, ast.Expr) and isinstance(first.value, ast.Constant) and isinstance(first.value.value, str)
                start = first.end_lineno + 1 if has_doc and len(node.body) > 1 else first.lineno
                lines = node.end_lineno - start + 1
                if lines > MAX_FUNCTION_LINES:
                    out.append((lines, f"{path.relative_to(PACKAGE.parent)}:{node.lineno} {node.name}"))
    return out


def test_no_function_body_is_longer_than_a_reader_can_hold():
    long = _long_functions()
    assert not long, f"functions over {MAX_FUNCTION_LINES} lines (split into named steps): {sorted(long, reverse=True)}"


def test_the_architecture_checks_can_fail(tmp_path, monkeypatch):
    """The checks above see what they claim to: a planted cycle and a planted long function are found."""
    pkg = tmp_path / "uqbridge"
    pkg.mkdir()
    (pkg / "__init__.py").write_text("")
    (pkg / "a.py").write_text("from .b import x\n")
    (pkg / "b.py").write_text("from .a import y\n\ndef f():\n" + "    z = 1\n" * (MAX_FUNCTION_LINES + 1))
    monkeypatch.setattr(__import__(__name__), "PACKAGE", pkg)
    with pytest.raises(pytest.fail.Exception, match="import cycle"):
        test_module_level_imports_form_no_cycle()
    assert [name for _, name in _long_functions()] == ["uqbridge/b.py:3 f"]


def test_every_room_has_its_api_page_and_the_readme_names_it():
    """Each public module or subpackage of uqbridge is documented on an API page (docs/api/*.md), and
    the README's layout section names every room (issue #32: layout and docs match the folders)."""
    docs = PACKAGE.parent / "docs" / "api"
    documented = " ".join(page.read_text() for page in docs.glob("*.md"))
    readme = (PACKAGE.parent / "README.md").read_text()
    layout = readme[readme.index("## Layout"):]
    rooms = sorted({_module_name(p).split(".")[1] for p in PACKAGE.rglob("*.py")
                    if _module_name(p).count(".") >= 1 and not _module_name(p).split(".")[1].startswith("_")})
    missing_docs = [r for r in rooms if r != "cli" and f"::: uqbridge.{r}" not in documented]
    missing_readme = [r for r in rooms if r not in layout]
    assert not missing_docs, f"modules with no API page (add '::: uqbridge.<name>' to a docs/api page): {missing_docs}"
    assert not missing_readme, f"rooms the README's layout section does not name: {missing_readme}"
