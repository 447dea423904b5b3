"""The package's layout, checked from its source (Python's ``ast``; nothing is imported):

* no import cycle among the package's modules;
* layers point down: front ends (cli/, web/) -> jobs/ -> api, video/ -> engine/ -> models/,
  parallel/ -> io/, settings, errors; nothing imports a front end, and front ends import
  jobs/ and what lies below it, not each other (the CLI starts the studio only through its
  ``serve`` command);
* io/ imports nothing above it (only io/, settings and errors);
* no private name (``_x``) is imported from another module, nor reached through a module;
* no function in cli/ or web/ is longer than 80 lines;
* the package root re-exports lazily, without swapping its module class, and names each
  public name's home in an ``if TYPE_CHECKING:`` block that agrees with its table;
* nothing carries the history of its making: no file named after a work item, no "issue N".

Every import counts, also those inside functions (a lazy import is still a dependency),
except those under ``if TYPE_CHECKING:`` (for type checkers only).
"""

from __future__ import annotations

import ast
import re
from pathlib import Path

import pytest

import inceptionism

ROOT = Path(inceptionism.__file__).parent
REPO = ROOT.parent

# Higher number = higher layer. A module may import its own layer or any lower one.
LAYERS = {
    "errors": 0, "settings": 0, "version": 0, "classes": 0, "progress": 0, "data": 0, "io": 0,
    "models": 1, "parallel": 1,
    "engine": 2,
    "api": 3, "video": 3,
    "jobs": 4,
    "cli": 5, "web": 5,
    "__main__": 6, "__init__": 6,
}
FRONT_ENDS = ("cli", "web")
# The allowed exceptions, each with its reason.
ALLOWED = {
    # The CLI's `serve` command lives with the studio it starts.
    ("cli.main", "web.command"): "the CLI starts the studio through its serve command",
    # The old import path of frames folders and video files, kept for code written against it.
    ("io.video", "video.codec"): "old import path kept for users",
    ("io.video", "video.store"): "old import path kept for users",
}
MAX_LINES = 80
# Private names of other libraries reached on purpose, each with its reason.
ALLOWED_PRIVATE = {
    "torch.ops.mkldnn._convolution_pointwise": "oneDNN's fused convolution has no public name",
    "torch.ops.mkldnn._linear_pointwise": "oneDNN's fused matrix product has no public name",
    "os._exit": "public despite its name: the documented exit without the interpreter's teardown",
    "atexit._run_exitfuncs": "the exit handlers, run before os._exit (which would skip them)",
}


def module_of(path: Path) -> str:
    parts = path.relative_to(ROOT).with_suffix("").parts
    return ".".join(parts[:-1] if parts[-1] == "__init__" else parts) or "__init__"


def is_module(name: str) -> bool:
    base = ROOT.joinpath(*name.split("."))
    return base.with_suffix(".py").is_file() or (base / "__init__.py").is_file()


def modules() -> dict[str, Path]:
    return {module_of(p): p for p in sorted(ROOT.rglob("*.py"))}


def type_checking_lines(tree: ast.AST) -> set[int]:
    lines = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                lines.update(range(child.lineno, child.end_lineno + 1))
    return lines


def imports_of(path: Path) -> list[tuple[str, list[str]]]:
    """(module, names) for each package-internal import of ``path``: the module imported
    from (relative to the package; "__init__" for the package itself) and the names taken."""
    tree = ast.parse(path.read_text())
    skip = type_checking_lines(tree)
    own = module_of(path)
    package = own.split(".") if path.name == "__init__.py" and own != "__init__" else \
        ([] if own == "__init__" or "." not in own and path.name != "__init__.py" else
         own.split(".")[:-1])
    found = []
    for node in ast.walk(tree):
        if getattr(node, "lineno", None) in skip:
            continue
        if isinstance(node, ast.ImportFrom):
            if node.level:
                base = package[: len(package) - node.level + 1]
                target = base + (node.module.split(".") if node.module else [])
            elif node.module and node.module.split(".")[0] == "inceptionism":
                target = node.module.split(".")[1:]
            else:
                continue
            names = [a.name for a in node.names]
            module = ".".join(target) or "__init__"
            found.append((module, names))
        elif isinstance(node, ast.Import):
            for a in node.names:
                if a.name.split(".")[0] == "inceptionism":
                    found.append((".".join(a.name.split(".")[1:]) or "__init__", []))
    return found


def edges() -> dict[str, set[str]]:
    """Module -> the package modules it imports (``from .pkg import sub`` counts as sub)."""
    graph: dict[str, set[str]] = {}
    for name, path in modules().items():
        targets = graph.setdefault(name, set())
        for module, names in imports_of(path):
            subs = [f"{module}.{n}" if module != "__init__" else n for n in names]
            subs = [s for s in subs if is_module(s)]
            if subs:
                targets.update(subs)
            if len(subs) < len(names) or not names:
                targets.add(module)
    for name in graph:
        graph[name].discard(name)
    return graph


def cycles(graph: dict[str, set[str]]) -> list[list[str]]:
    """The strongly connected components with more than one module (Tarjan)."""
    index: dict[str, int] = {}
    low: dict[str, int] = {}
    stack: list[str] = []
    on_stack: set[str] = set()
    found = []

    def visit(v: str) -> None:
        index[v] = low[v] = len(index)
        stack.append(v)
        on_stack.add(v)
        for w in graph.get(v, ()):
            if w not in index:
                visit(w)
                low[v] = min(low[v], low[w])
            elif w in on_stack:
                low[v] = min(low[v], index[w])
        if low[v] == index[v]:
            component = []
            while True:
                w = stack.pop()
                on_stack.discard(w)
                component.append(w)
                if w == v:
                    break
            if len(component) > 1:
                found.append(sorted(component))

    for v in sorted(graph):
        if v not in index:
            visit(v)
    return found


def top(module: str) -> str:
    return module.split(".")[0]


def allowed(source: str, target: str) -> bool:
    return (source, target) in ALLOWED


def test_no_import_cycle():
    assert cycles(edges()) == []


def test_the_cycle_check_sees_a_cycle():
    assert cycles({"a": {"b"}, "b": {"c"}, "c": {"a"}, "d": {"a"}}) == [["a", "b", "c"]]


def test_layers_point_down():
    wrong = [f"{s} imports {t}" for s, targets in edges().items() for t in targets
             if LAYERS[top(t)] > LAYERS[top(s)] and not allowed(s, t)]
    assert not wrong, "; ".join(sorted(wrong))


def test_io_imports_nothing_above_it():
    wrong = [f"{s} imports {t}" for s, targets in edges().items() if top(s) == "io"
             for t in targets if top(t) not in ("io", "errors", "settings") and not allowed(s, t)]
    assert not wrong, "; ".join(sorted(wrong))


@pytest.mark.parametrize("front", FRONT_ENDS)
def test_front_ends_import_jobs_and_below_only(front):
    graph = edges()
    wrong = [f"{s} imports {t}" for s, targets in graph.items() if top(s) == front
             for t in targets if LAYERS[top(t)] >= LAYERS[front] and top(t) != front
             and not allowed(s, t)]
    wrong += [f"{s} imports {t}" for s, targets in graph.items()
              if top(s) not in (*FRONT_ENDS, "__main__") for t in targets if top(t) in FRONT_ENDS]
    assert not wrong, "; ".join(sorted(wrong))


def test_the_walk_sees_a_violation():
    """The checks can fail: a module in io/ importing the engine is caught."""
    bad = ROOT / "io" / "_layer_probe.py"
    bad.write_text("from ..engine.loop import dream\n")
    try:
        targets = edges()["io._layer_probe"]
        assert "engine.loop" in targets and LAYERS["engine"] > LAYERS["io"]
    finally:
        bad.unlink()


def private_uses(path: Path) -> list[str]:
    """Private names ``path`` imports from other modules, or reaches through a module."""
    tree = ast.parse(path.read_text())
    found = []
    modules_bound = set()
    for node in ast.walk(tree):
        if isinstance(node, ast.ImportFrom) and node.module != "__future__":
            for a in node.names:
                if a.name.startswith("_") and not a.name.startswith("__"):
                    found.append(f"imports {a.name} from {'.' * node.level}{node.module or ''}")
                modules_bound.add(a.asname or a.name)
        elif isinstance(node, ast.Import):
            for a in node.names:
                modules_bound.add(a.asname or a.name.split(".")[0])
    for node in ast.walk(tree):
        if isinstance(node, ast.Attribute) and node.attr.startswith("_") \
                and not node.attr.startswith("__"):
            root = node.value
            while isinstance(root, ast.Attribute):
                root = root.value
            if isinstance(root, ast.Name) and root.id in modules_bound \
                    and ast.unparse(node) not in ALLOWED_PRIVATE:
                found.append(f"reaches {ast.unparse(node)}")
    return found


def test_no_private_name_crosses_a_module():
    wrong = [f"{module_of(p)} {use}" for p in ROOT.rglob("*.py") for use in private_uses(p)]
    assert not wrong, "; ".join(sorted(wrong))


def long_functions(folder: str) -> list[str]:
    found = []
    for path in sorted((ROOT / folder).rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                length = node.end_lineno - node.lineno + 1
                if length > MAX_LINES:
                    found.append(f"{path.relative_to(ROOT)}:{node.lineno} {node.name} ({length} lines)")
    return found


@pytest.mark.parametrize("folder", FRONT_ENDS)
def test_no_front_end_function_is_longer_than_80_lines(folder):
    assert long_functions(folder) == []


def test_the_length_check_sees_a_long_function(tmp_path):
    probe = ROOT / "cli" / "_length_probe.py"
    probe.write_text("def f():\n" + "    x = 1\n" * MAX_LINES)
    try:
        assert long_functions("cli") == [f"cli/_length_probe.py:1 f ({MAX_LINES + 1} lines)"]
    finally:
        probe.unlink()


def test_the_package_root_re_exports_lazily_and_names_each_home():
    tree = ast.parse((ROOT / "__init__.py").read_text())
    assert not any(isinstance(n, ast.Attribute) and n.attr == "__class__"
                   for n in ast.walk(tree)), "no module-class swap"
    declared = {}
    for node in ast.walk(tree):
        if isinstance(node, ast.If) and "TYPE_CHECKING" in ast.unparse(node.test):
            for child in node.body:
                for a in child.names:
                    declared[a.name] = child.module
    homes = dict(inceptionism._HOMES)
    assert declared == homes
    for name, home in homes.items():  # each home really holds the name
        assert is_module(home), home
        text = ROOT.joinpath(*home.split(".")).with_suffix(".py").read_text()
        assert re.search(rf"^(def|class) {name}\b|^{name}\b.*=", text, re.M), (name, home)


HISTORY = re.compile(r"\b(issue|work item|ticket)[ _#-]?\d+", re.I)


def test_nothing_is_named_after_a_work_item():
    paths = [p for folder in ("inceptionism", "tests", "scripts", "benchmarks")
             for p in (REPO / folder).rglob("*") if p.is_file() and "__pycache__" not in p.parts]
    named = [str(p.relative_to(REPO)) for p in paths if re.search(r"_\d+\.(sh|py)$", p.name)]
    assert named == []
    cited = [f"{p.relative_to(REPO)}:{i}" for p in paths if p.suffix in (".py", ".sh", ".toml")
             for i, line in enumerate(p.read_text(errors="replace").splitlines(), 1)
             if HISTORY.search(line)]
    assert cited == []


def test_the_private_name_check_sees_one():
    probe = ROOT / "io" / "_private_probe.py"
    probe.write_text("import click\nfrom ..settings import _REAL\n\nBASE = click.types._NumberRangeBase\n")
    try:
        assert private_uses(probe) == ["imports _REAL from ..settings",
                                       "reaches click.types._NumberRangeBase"]
    finally:
        probe.unlink()
