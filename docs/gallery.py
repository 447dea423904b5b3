"""Every picture the documentation shows, made from the embedded model and the sample photos.

    python docs/gallery.py             # full size: the sample photos as they are (minutes)
    python docs/gallery.py --small     # what CI builds: the photos 160 pixels wide (a minute)
    python docs/gallery.py --out DIR   # somewhere else than docs/gallery/

Each picture is made by one ``inceptionism`` command, run in the output folder; that command
is the picture's caption, word for word, and the picture stores every parameter it was made
with, so ``inceptionism dream --params-from PICTURE.png cat.png -o again.png`` (run in the
same folder) makes it again, bit for bit. The commands run in this process, sharing one
loaded model (loading has no randomness, so the pixels are those of separate commands).

Besides the pictures, the folder gets one Markdown snippet per group (the pictures with
their captions), which the pages include (``--8<-- "gallery/presets.md"``), and
``manifest.json``: every picture with its group, label and command. The folder is made
afresh on every run and is not committed, so the site always shows what this script makes.
"""

from __future__ import annotations

import argparse
import contextlib
import html
import io
import json
import os
import shlex
import shutil
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path

HERE = Path(__file__).resolve().parent
SMALL_WIDTH = 160  # --small: the photos' width, in pixels


@dataclass
class Picture:
    file: str  # what the command writes, in the gallery folder
    label: str  # a few words under the picture
    args: list[str]  # the command's arguments after `inceptionism`
    alt: str = ""  # what the picture shows, for screen readers
    show: str = ""  # the file the page shows, if not `file` (a video's GIF)

    @property
    def command(self) -> str:
        return "inceptionism " + shlex.join(self.args)


@dataclass
class Group:
    name: str  # the snippet's file name: gallery/NAME.md
    title: str
    pictures: list[Picture] = field(default_factory=list)
    note: str = ""  # a sentence under the group


def dream(out: str, label: str, *options: str, photo: str = "cat.png", alt: str = "") -> Picture:
    return Picture(out, label, ["dream", photo, "-o", out, *options], alt or label)


def groups(small: bool) -> list[Group]:
    """Every picture of the site, in groups; the single list the script, the pages and the
    tests read."""
    frames = "12" if small else "48"
    size = "160x96" if small else "320x200"
    return [
        Group("hero", "A photo and a dream", [
            Picture("cat.png", "the photo: cat.png", ["sample", "cat.png"],
                    "The sample photo: a tabby cat lying down"),
            dream("hero.png", "layer b8, the painterly preset", "-l", "b8", "--preset", "painterly",
                  alt="The sample cat covered in soft, swirling eyes and loops"),
        ]),
        Group("presets", "Presets", [
            dream("preset-classic.png", "classic (the default)", "--preset", "classic"),
            dream("preset-subtle.png", "subtle", "--preset", "subtle"),
            dream("preset-painterly.png", "painterly", "--preset", "painterly"),
        ], "Options given with a preset override it, e.g. `--preset subtle --steps 20`."),
        Group("layers", "Layers, shallow to deep", [
            dream("layer-b2.png", "b2: strokes", "-l", "b2"),
            dream("layer-b5.png", "b5: loops and rings", "-l", "b5"),
            dream("layer-b8.png", "b8: eyes", "-l", "b8"),
            dream("layer-b10.png", "b10 (the default): faces", "-l", "b10"),
            dream("layer-b13.png", "b13: fur, the cat's own face", "-l", "b13"),
            dream("channels.png", "channels 3 and 37 of b12", "-l", "b12/3+37", "--steps", "20"),
        ]),
        Group("models", "The embedded models", [
            dream(f"model-{name}.png", f"{name}, default layer", "--model", name)
            for name in ("efficientnet_lite0", "efficientnet_lite1", "efficientnet_lite2")
        ]),
        Group("pyramid", "Pyramid variants", [
            dream("pyramid-octave.png", "octave (the default)", "--pyramid", "octave"),
            dream("pyramid-recursive.png", "recursive, blend 0.5", "--pyramid", "recursive"),
            dream("pyramid-recursive-blend.png", "recursive, blend 0.8", "--pyramid",
                  "recursive", "--blend", "0.8"),
            dream("smoothing-growth.png", "smoothing growth 2", "--smoothing-growth", "2"),
            dream("smoothing-cascade.png", "growth 2 with the cascade", "--smoothing-growth",
                  "2", "--smoothing-cascade"),
        ]),
        Group("smoothing", "Gradient smoothing", [
            dream(f"smoothing-{s}.png", f"--smoothing {s}", "--smoothing", s)
            for s in ("0", "0.5", "2", "4")
        ], "Sigma of the gradient's blur, in pixels: larger is smoother, with larger shapes."),
        Group("step-size", "Step size", [
            dream(f"step-{s}.png", f"--step-size {s}", "--step-size", s)
            for s in ("0.004", "0.012", "0.03", "0.06")
        ], "The mean change per step: small steps leave the photo clear, large ones take it over."),
        Group("lapnorm", "Laplacian-pyramid normalization", [
            dream("lapnorm-4.png", "--lapnorm (4 levels)", "--lapnorm"),
            dream("lapnorm-8.png", "--lapnorm 8", "--lapnorm", "8"),
        ], "Each step's gradient normalized band by band: larger shapes and fewer fine "
           "strokes than without it (the classic preset, under Presets in the Gallery); with "
           "many levels the coarsest band, a colour cast over the whole photo, weighs as much "
           "as the strokes."),
        Group("guide", "A guided dream", [
            Picture("coffee.png", "the guide: coffee.png", ["sample", "coffee.png", "--name", "coffee"],
                    "A cup of espresso on a saucer"),
            dream("guided.png", "the cat, guided by the coffee", "--guide", "coffee.png", "-l", "b9"),
            dream("unguided.png", "the same without the guide", "-l", "b9"),
        ]),
        Group("mask-colours", "A mask, and the photo's own colours", [
            Picture("mask.png", "mask.png: white left, fading to black", [], "A mask: white on "
                    "the left, black on the right, a soft edge between"),
            dream("masked.png", "--mask mask.png", "--mask", "mask.png"),
            dream("keep-colors.png", "--keep-colors", "--keep-colors"),
        ], "White is dreamed, black is left exactly as it is; `--keep-colors` changes only "
           "the luminance."),
        Group("classes", "ImageNet classes", [
            dream(f"class-{name}.png", f"class={name}", "-l", f"class={name}", "--steps", "20")
            for name in ("goldfish", "jellyfish", "volcano", "daisy")
        ], "A class objective maximizes that class's logit; with EfficientNet-Lite0 it paints "
           "the class's textures rather than whole objects."),
        Group("tour", "The layer tour", [
            Picture("tour.png", "every layer of EfficientNet-Lite0",
                    ["explore", "cat.png", "-o", "tour.png", "--tiles-dir", "tour-tiles"],
                    "The sample photo dreamed at each of the model's layers, as a grid of tiles "
                    "with the layer's name under each"),
        ], "Each tile is also saved on its own, with its parameters, in `tour-tiles/`."),
        Group("zoom", "A zoom loop", [
            Picture("zoom.mp4", "a zoom loop, 1.05 per frame",
                    ["zoom", "cat.png", "-o", "zoom.mp4", "-o", "zoom.gif", "--frames", frames,
                     "--size", size, "--zoom", "1.05", "--fps", "8"],
                    "The cat dreamed, zoomed in and dreamed again, frame after frame",
                    show="zoom.gif"),
        ], "The frames and their parameters stay in `zoom.frames/`: running the same command "
           "again resumes, or asks for more `--frames`."),
    ]


def photo(out: Path, name: str, file: str, small: bool) -> None:
    """The sample photo ``name`` as ``file``, shrunk to SMALL_WIDTH pixels wide if small."""
    from PIL import Image

    run(["sample", file, "--name", name], out)  # the same command as the caption's
    if small:
        with Image.open(out / file) as image:
            height = round(image.height * SMALL_WIDTH / image.width)
            image.convert("RGB").resize((SMALL_WIDTH, height), Image.LANCZOS).save(out / file)


def draw_mask(path: Path, size: tuple[int, int]) -> None:
    """White on the left half, fading to black over a tenth of the width, black on the right."""
    import numpy as np
    from PIL import Image

    width, height = size
    x = np.arange(width, dtype=float)
    edge = max(width / 10, 1)
    row = np.clip((width / 2 + edge / 2 - x) / edge, 0, 1)
    Image.fromarray((np.tile(row, (height, 1)) * 255).round().astype(np.uint8)).save(path)


def run(args: list[str], cwd: Path) -> None:
    from inceptionism.cli import main

    previous, said = os.getcwd(), io.StringIO()
    os.chdir(cwd)
    try:
        with contextlib.redirect_stderr(said):  # progress lines; shown if the command fails
            status = main(list(args))
    finally:
        os.chdir(previous)
    if status != 0:
        raise SystemExit(f"gallery: `inceptionism {shlex.join(args)}` failed (exit {status}):\n"
                         f"{said.getvalue()}")


def load_models_once() -> None:
    """Every job loads its model through Hooks.load; here each model is loaded once."""
    from inceptionism.jobs import base

    load, loaded = base.Hooks.load, {}

    def load_once(self, model, weights, device, download_progress=True, max_pixels=None,
                  preprocess=None):
        key = (model, weights, device, max_pixels, preprocess)
        if key not in loaded:
            loaded[key] = load(self, model, weights, device, download_progress, max_pixels,
                               preprocess)
        return loaded[key]

    base.Hooks.load = load_once


def snippet(group: Group, small: bool) -> str:
    figures = []
    for pic in group.pictures:
        if pic.args:
            shrunk = (f", then shrunk to {SMALL_WIDTH} pixels wide (the site's quick build; "
                      f"<code>python docs/gallery.py</code> keeps the full size)"
                      if small and pic.args[0] == "sample" else "")
            caption = (f"<strong>{html.escape(pic.label)}</strong><br>"
                       f"<code>{html.escape(pic.command)}</code>{shrunk}")
        else:
            caption = (f"<strong>{html.escape(pic.label)}</strong><br>"
                       f"drawn by <code>docs/gallery.py</code>")
        figures.append(f'<figure markdown="span">\n![{pic.alt or pic.label}](gallery/'
                       f"{pic.show or pic.file})\n<figcaption>{caption}</figcaption>\n</figure>")
    note = f"\n\n{group.note}" if group.note else ""
    columns = f"n{min(len(figures), 4)}"  # one, two or three pictures fill the width
    return (f'<div class="gallery {columns}" markdown>\n\n' + "\n\n".join(figures)
            + f"\n\n</div>{note}\n")


def make(out: Path, small: bool) -> list[Group]:
    """Make every picture in ``out`` (emptied first); return the groups."""
    if out.exists():
        shutil.rmtree(out)
    out.mkdir(parents=True)
    load_models_once()
    from PIL import Image

    all_groups = groups(small)
    for group in all_groups:
        for pic in group.pictures:
            start = time.perf_counter()
            if not pic.args:  # the mask, drawn to the photo's size
                with Image.open(out / "cat.png") as cat:
                    draw_mask(out / pic.file, cat.size)
            elif pic.args[0] == "sample":
                name = pic.args[pic.args.index("--name") + 1] if "--name" in pic.args else "chelsea"
                photo(out, name, pic.args[1], small)
            else:
                run(pic.args, out)
            print(f"gallery: {pic.file} ({time.perf_counter() - start:.1f} s)", file=sys.stderr)
        (out / f"{group.name}.md").write_text(snippet(group, small))
    size = (f"the photos shrunk to {SMALL_WIDTH} pixels wide (`python docs/gallery.py --small`)"
            if small else "the photos at their own size (`python docs/gallery.py`)")
    (out / "about.md").write_text(f"The pictures of this build were made with {size}.\n")
    manifest = {"small": small, "photo": "cat.png",
                "groups": [{"name": g.name, "title": g.title,
                            "pictures": [asdict(p) | {"command": p.command if p.args else None}
                                         for p in g.pictures]} for g in all_groups]}
    (out / "manifest.json").write_text(json.dumps(manifest, indent=1))
    return all_groups


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--small", action="store_true",
                        help=f"photos {SMALL_WIDTH} pixels wide and a shorter zoom (for CI)")
    parser.add_argument("--out", type=Path, default=HERE / "gallery",
                        help="folder to write (emptied first; default: docs/gallery)")
    args = parser.parse_args(argv)
    start = time.perf_counter()
    made = make(args.out.resolve(), args.small)
    count = sum(len(g.pictures) for g in made)
    print(f"gallery: {count} pictures in {args.out} ({time.perf_counter() - start:.0f} s)",
          file=sys.stderr)
    return 0


if __name__ == "__main__":
    sys.exit(main())
