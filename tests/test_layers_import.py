"""Layers point down: front ends -> jobs -> api/engine -> models -> io.

Walks every module of the package, reads its imports from the source (no importing needed)
and fails if one imports a module of a higher layer.
"""

from __future__ import annotations

import ast
from pathlib import Path

import inceptionism

ROOT = Path(inceptionism.__file__).parent

# Higher number = higher layer. A module may import its own layer or any lower one.
LAYERS = {
    "io": 0, "errors": 0, "checks": 0, "data": 0, "runtime": 0, "progress": 0, "config": 0,
    "models": 1, "classes": 1,
    "transforms": 2, "objectives": 2, "dream": 2, "explore": 2, "video": 2, "presets": 2,
    "segments": 2,
    "api": 2,
    "param": 2, "robustness": 2, "visualize": 2,  # feature visualization's engine
    "jobs": 3,
    "atlas": 3,  # a workflow with its own folder of files, like a job
    "cli": 4, "__main__": 4, "web": 4,
    "__init__": 5,  # the package's front door re-exports everything
}


def layer_of(parts: tuple[str, ...]) -> int:
    head = parts[0] if parts else "__init__"
    return LAYERS[head]


def imports_of(path: Path) -> list[tuple[str, ...]]:
    """The package-internal modules ``path`` imports, as parts relative to the package."""
    rel = path.relative_to(ROOT).with_suffix("").parts
    package = rel[:-1]
    found = []
    for node in ast.walk(ast.parse(path.read_text())):
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                mod = tuple(node.module.split(".")) if node.module else ()
                target = base + mod
                if not mod:  # `from . import x`: x may be a module
                    found += [target + (a.name,) for a in node.names]
                    continue
                found.append(target)
            elif node.module and node.module.split(".")[0] == "inceptionism":
                found.append(tuple(node.module.split(".")[1:]))
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name.split(".")[0] == "inceptionism":
                    found.append(tuple(a.name.split(".")[1:]))
    return found


def test_no_module_imports_a_higher_layer():
    wrong = []
    for path in ROOT.rglob("*.py"):
        parts = path.relative_to(ROOT).with_suffix("").parts
        own = layer_of(parts)
        for target in imports_of(path):
            if target in ((), ("__init__",)) or target == ("__version__",):
                continue  # the package's version
            if target[0] not in LAYERS:
                continue  # a name re-exported by the package root, not a module
            if layer_of(target) > own:
                wrong.append(f"{'.'.join(parts)} imports {'.'.join(target)}")
    assert not wrong, "; ".join(wrong)


def test_io_is_a_leaf():
    for path in (ROOT / "io").rglob("*.py"):
        for target in imports_of(path):
            # errors and checks (the number rules) are leaves themselves: nothing of dreams.
            assert target[0] in ("io", "errors", "checks"), f"{path.name} imports {'.'.join(target)}"


def test_the_walk_sees_a_violation(tmp_path):
    """The check can fail: a module in io/ importing dream is caught."""
    bad = ROOT / "io" / "_layer_probe.py"
    bad.write_text("from ..dream import DreamConfig\n")
    try:
        assert ("dream",) in imports_of(bad)
        assert layer_of(("dream",)) > layer_of(("io", "_layer_probe"))
    finally:
        bad.unlink()
