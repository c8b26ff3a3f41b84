"""The house rules, checked: docs/LAYOUT.md lists every module, layers import only downwards, no import
circle, and a module over 450 lines says why."""

from __future__ import annotations

import ast
import re
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]
PACKAGE = ROOT / "drapto"
LAYERS = {"core": 0, "graph": 1, "shell": 2}
MAX_LINES = 450


def modules() -> dict[str, Path]:
    return {
        ".".join(path.relative_to(ROOT).with_suffix("").parts): path
        for path in PACKAGE.rglob("*.py")
        if path.name != "__init__.py" or path.parent != PACKAGE
    }


def imports(path: Path) -> set[str]:
    """Every drapto module `path` imports, at the top or inside a function."""
    found = set()
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom) and node.module and node.module.startswith("drapto"):
            found.add(node.module)
            found.update(f"{node.module}.{alias.name}" for alias in node.names)
        elif isinstance(node, ast.Import):
            found.update(alias.name for alias in node.names if alias.name.startswith("drapto"))
    known = modules()
    return {name for name in found if name in known}


def layer(module: str) -> int | None:
    parts = module.split(".")
    return LAYERS.get(parts[1]) if len(parts) > 2 else None


def test_layout_lists_every_module_and_nothing_else():
    layout = (ROOT / "docs" / "LAYOUT.md").read_text()
    listed = set(re.findall(r"`(drapto/[\w/]+\.py)`", layout))
    actual = {str(path.relative_to(ROOT)) for path in PACKAGE.rglob("*.py") if path.name != "__init__.py"}
    actual.add("drapto/__init__.py")
    assert actual - listed == set(), "modules missing from docs/LAYOUT.md"
    assert listed - actual - {"drapto/__main__.py"} == set(), "docs/LAYOUT.md lists modules that are gone"


def test_layers_import_only_downwards():
    for module, path in modules().items():
        own = layer(module)
        for name in imports(path):
            other = layer(name)
            assert own is None or other is None or other <= own, f"{module} imports {name} from a layer above"


def test_no_import_circle():
    graph = {module: imports(path) - {module} for module, path in modules().items()}
    state: dict[str, int] = {}

    def visit(module: str, trail: list[str]) -> None:
        state[module] = 1
        for name in graph.get(module, ()):
            if state.get(name) == 1:
                raise AssertionError("import circle: " + " -> ".join([*trail[trail.index(name) :], name]))
            if name not in state:
                visit(name, [*trail, name])
        state[module] = 2

    for module in graph:
        if module not in state:
            visit(module, [module])


def test_a_long_module_says_why():
    for module, path in modules().items():
        text = path.read_text()
        if len(text.splitlines()) > MAX_LINES:
            docstring = ast.get_docstring(ast.parse(text)) or ""
            assert re.search(r"^Reason:", docstring, re.M), f"{module} has over {MAX_LINES} lines and no Reason:"
