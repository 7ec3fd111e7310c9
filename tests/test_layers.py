"""The shape of the code: dependencies point down the layers, never up or round in a cycle;
no module is too long, no function too long; no private name is imported from another module.

Every ``import`` counts, wherever it stands: a lazy import inside a function does not break a
cycle, it hides it. The one exception is an import under ``if TYPE_CHECKING:``, which never
runs: it is there for type hints only, and may name a type from any layer.
"""

from __future__ import annotations

import ast
from pathlib import Path

import pytest

PACKAGE = Path(__file__).resolve().parents[1] / "purgesim"

LAYERS: tuple[tuple[str, ...], ...] = (
    ("purgesim.engine",),
    ("purgesim.vocab", "purgesim.version", "purgesim.datasets", "purgesim.params",
     "purgesim.files", "purgesim.weeks", "purgesim.retry", "purgesim.parallel", "purgesim.cluster",
     "purgesim.memory", "purgesim.core", "purgesim.problems"),
    ("purgesim.population",),
    ("purgesim.model",),
    ("purgesim.mechanisms",),
    ("purgesim.scenario",),
    ("purgesim.results", "purgesim.history", "purgesim.metrics", "purgesim.series"),
    ("purgesim.sim",),
    ("purgesim.ensemble", "purgesim.compare", "purgesim.catalog", "purgesim.calibration",
     "purgesim.export", "purgesim.history_check", "purgesim.runaway", "purgesim.sweeps",
     "purgesim.sensitivity", "purgesim.outputs"),
    ("purgesim.report",),
    ("purgesim.explorer",),
    ("purgesim.cli", "purgesim.__main__", "purgesim.entry"),
    ("purgesim",),
)
"""From the bottom up; a module may import its own layer and the layers below it."""
MAX_MODULE_LINES = 600
MAX_FUNCTION_LINES = 100


def _name(path: Path) -> str:
    parts = path.relative_to(PACKAGE.parent).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts)


MODULES = {_name(p): p for p in sorted(PACKAGE.rglob("*.py"))}


def _layer(module: str) -> int:
    best, level = -1, -1
    for i, prefixes in enumerate(LAYERS):
        for prefix in prefixes:
            if (module == prefix or module.startswith(prefix + ".")) and len(prefix) > best:
                best, level = len(prefix), i
    assert level >= 0, f"{module}: in no layer of tests/test_layers.py; add it to one"
    return level


def _type_checking(node: ast.If) -> bool:
    test = node.test
    return (isinstance(test, ast.Name) and test.id == "TYPE_CHECKING") or (
        isinstance(test, ast.Attribute) and test.attr == "TYPE_CHECKING")


def _imports(module: str, tree: ast.AST) -> list[tuple[str, list[str], int]]:
    """(imported module, names imported from it, line) of every import that can run."""
    found: list[tuple[str, list[str], int]] = []
    package = module if MODULES[module].name == "__init__.py" else module.rpartition(".")[0]

    def visit(node: ast.AST) -> None:
        if isinstance(node, ast.If) and _type_checking(node):
            for child in node.orelse:
                visit(child)
            return
        if isinstance(node, ast.Import):
            found.extend((a.name, [], node.lineno) for a in node.names)
        elif isinstance(node, ast.ImportFrom):
            base = node.module or ""
            if node.level:
                parts = package.split(".")
                base = ".".join(parts[: len(parts) - node.level + 1] + ([base] if base else []))
            found.append((base, [a.name for a in node.names], node.lineno))
        for child in ast.iter_child_nodes(node):
            visit(child)

    visit(tree)
    return found


def _resolve(name: str, names: list[str]) -> list[str]:
    """The purgesim modules an import statement depends on: ``from package import module``
    depends on the module (the package's ``__init__`` runs for any of its modules anyway),
    ``from module import name`` on the module."""
    if not (name == "purgesim" or name.startswith("purgesim.")):
        return []
    submodules = [f"{name}.{n}" for n in names if f"{name}.{n}" in MODULES]
    whole = name in MODULES and (not names or len(submodules) < len(names))
    return ([name] if whole else []) + submodules


GRAPH: dict[str, set[str]] = {}
LINES: dict[str, list[tuple[str, int, list[str]]]] = {}
for _module, _path in MODULES.items():
    _tree = ast.parse(_path.read_text(encoding="utf-8"))
    GRAPH[_module] = set()
    LINES[_module] = []
    for _imported, _names, _line in _imports(_module, _tree):
        for _target in _resolve(_imported, _names):
            if _target != _module:
                GRAPH[_module].add(_target)
                LINES[_module].append((_target, _line, _names))


def test_the_engine_imports_nothing_of_the_model():
    outside = [(m, t, line) for m in MODULES if m.startswith("purgesim.engine")
               for t, line, _ in LINES[m] if not t.startswith("purgesim.engine")]
    assert not outside, outside


def test_dependencies_point_down_the_layers():
    upward = [f"{m}:{line} imports {t} (layer {_layer(t)} above {_layer(m)})"
              for m in MODULES for t, line, _ in LINES[m] if _layer(t) > _layer(m)]
    assert not upward, "\n".join(upward)


def test_no_import_cycles():
    state: dict[str, int] = {}
    cycles: list[list[str]] = []

    def walk(node: str, path: list[str]) -> None:
        state[node] = 1
        for nxt in sorted(GRAPH[node]):
            if state.get(nxt) == 1:
                cycles.append(path[path.index(nxt):] + [nxt] if nxt in path else [node, nxt])
            elif nxt not in state:
                walk(nxt, [*path, nxt])
        state[node] = 2

    for module in sorted(MODULES):
        if module not in state:
            walk(module, [module])
    # a package's __init__ importing its own submodules is not a cycle of dependencies
    real = [c for c in cycles if not all(x == c[0] or x.startswith(c[0] + ".")
                                         or c[0].startswith(x + ".") for x in c)]
    assert not real, "\n".join(" -> ".join(c) for c in real)


def test_no_private_name_is_imported_from_another_module():
    private = [f"{m}:{line} imports {n} from {t}" for m in MODULES
               for t, line, names in LINES[m] for n in names
               if n.startswith("_") and not n.startswith("__") and t != m]
    assert not private, "\n".join(private)


@pytest.mark.parametrize("module", sorted(MODULES))
def test_modules_and_functions_are_short(module: str):
    source = MODULES[module].read_text(encoding="utf-8")
    assert source.count("\n") <= MAX_MODULE_LINES, f"{module}: over {MAX_MODULE_LINES} lines"
    long = []
    for node in ast.walk(ast.parse(source)):
        if isinstance(node, ast.FunctionDef | ast.AsyncFunctionDef):
            kernel = any("njit" in ast.unparse(d) for d in node.decorator_list)
            length = (node.end_lineno or node.lineno) - node.lineno + 1
            if length > MAX_FUNCTION_LINES and not kernel:
                long.append(f"{node.name} ({length} lines)")
    assert not long, f"{module}: " + ", ".join(long)
