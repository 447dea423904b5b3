"""The page as a whole, built in this process (no server, no browser): its HTTP API keeps its
parameters, every handler is a module-level function with a test that calls it, and no
function in the web package is long."""

from __future__ import annotations

import ast
import types
import typing
from pathlib import Path

import pytest

import inceptionism.web
from inceptionism.web.app import build
from inceptionism.web.slots import Slots
from inceptionism.web.studio import Studio

WEB = Path(inceptionism.web.__file__).parent
TESTS = Path(__file__).parent
MAX_LINES = 80

SETTINGS = [("steps_", "Slider"), ("octaves_", "Slider"), ("scale_", "Slider"),
            ("size_", "Slider"), ("smooth_", "Slider"), ("growth_", "Slider"),
            ("cascade_", "Checkbox"), ("pyramid_", "Radio"), ("blend_", "Slider"),
            ("jitter_", "Slider"), ("seed_", "Number")]
VIDEO = [("photo_path", "File"), ("clip_path", "File"), ("objective_text", "Textbox"),
         ("model_name", "Dropdown"), ("frames_", "Slider"), ("zoom_", "Slider"),
         ("rotate_", "Slider"), ("size_text", "Textbox"), ("fps_", "Slider"),
         ("steps_", "Slider"), ("carry_", "Slider"), ("loop_", "Checkbox"),
         ("steady_", "Slider")]
# What gradio_client callers rely on: each endpoint's parameters (name and component, in
# order) and what it returns.
API = {
    "/dream": ([("photo_path", "File"), ("model_name", "Dropdown"),
                ("objective_text", "Textbox"), *SETTINGS, ("guide_path", "File"),
                ("preset_name", "Dropdown")],
               ["Html", "Image", "File", "Markdown"]),
    "/tour": ([("photo_path", "File"), ("model_name", "Dropdown"), ("size", "Slider"),
               ("names", "Textbox"), ("tour_steps_", "Slider")], ["Html", "Gallery", "File"]),
    "/zoom": (VIDEO, ["Html", "Image", "Video"]),
    "/video": (VIDEO, ["Html", "Image", "Video"]),
    "/atlas": ([("photo_path", "File"), ("model_name", "Dropdown"), ("layer", "Textbox"),
                ("channels", "Textbox"), ("pick", "Radio"), ("count", "Slider"),
                ("size", "Slider"), ("atlas_steps_", "Slider")], ["Html", "Gallery", "File"]),
}


@pytest.fixture(scope="module")
def page(tmp_path_factory):
    return build(Studio(root=tmp_path_factory.mktemp("page"), slots=Slots(1)))


def test_the_http_api_keeps_its_endpoints_and_parameters(page):
    info = page.get_api_info()
    assert sorted(info["named_endpoints"]) == sorted(API)
    assert not info["unnamed_endpoints"]
    for name, (parameters, returns) in API.items():
        endpoint = info["named_endpoints"][name]
        assert [(p["parameter_name"], p["component"]) for p in endpoint["parameters"]] == \
            parameters, name
        assert [r["component"] for r in endpoint["returns"]] == returns, name


def handlers(page) -> list[types.FunctionType]:
    """The functions the page calls on its events (a bound handler's function itself)."""
    fns = [getattr(f.fn, "__func__", f.fn) for f in page.fns.values()]
    return list({fn: None for fn in fns})


def calls_in_tests() -> set[tuple[str, str]]:
    """(module, name) of every function a test module imports by name and calls."""
    found = set()
    for path in TESTS.glob("test_*.py"):
        tree = ast.parse(path.read_text())
        imported = {a.asname or a.name: (node.module, a.name) for node in ast.walk(tree)
                    if isinstance(node, ast.ImportFrom) and node.module for a in node.names}
        called = {node.func.id for node in ast.walk(tree)
                  if isinstance(node, ast.Call) and isinstance(node.func, ast.Name)}
        found |= {imported[name] for name in called if name in imported}
    return found


def test_every_handler_is_a_module_level_function_called_by_a_test(page):
    found = handlers(page)
    assert len(found) >= 12
    tested = calls_in_tests()
    for fn in found:
        assert fn.__module__.startswith("inceptionism.web."), fn
        assert fn.__qualname__ == fn.__name__, f"{fn.__qualname__} is not module-level"
        assert (fn.__module__, fn.__name__) in tested, f"no test calls {fn.__name__} directly"
        typing.get_type_hints(fn)  # Gradio reads them to hand over the gr.Request


def test_no_function_in_the_web_package_is_longer_than_80_lines():
    long = []
    for path in sorted(WEB.rglob("*.py")):
        for node in ast.walk(ast.parse(path.read_text())):
            if isinstance(node, (ast.FunctionDef, ast.AsyncFunctionDef)):
                lines = node.end_lineno - node.lineno + 1
                if lines > MAX_LINES:
                    long.append(f"{path.relative_to(WEB)}:{node.lineno} {node.name} ({lines})")
    assert not long, f"functions over {MAX_LINES} lines: {long}"
