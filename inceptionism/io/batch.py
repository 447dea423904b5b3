"""Files of a batch: finding the inputs, naming the outputs, the manifest, safe writes.

A batch turns many photos into many dreams with one recipe. Everything here is about files
and knows nothing of dreams (``inceptionism.batch`` runs the work):

* :func:`discover` expands the command line's files, folders and glob patterns into a sorted
  list of :class:`BatchItem` (input path, and the relative path its output keeps).
* :func:`plan_outputs` maps each input to ``OUTDIR/<relative path>`` with the output's
  extension, and refuses, before any work, a batch that would write one output twice or write
  onto one of its inputs.
* :class:`EncodedImage` is an output file's bytes (and sidecar), made by a worker that may be
  on another machine; :func:`write_output` writes them atomically on the driver.
* :class:`Manifest` is ``OUTDIR/manifest.jsonl``: one JSON line per input, written as each
  finishes, so even a killed batch leaves a true record of what it did.
"""

from __future__ import annotations

import errno
import glob
import json
import os
from dataclasses import asdict, dataclass
from pathlib import Path

from ..errors import InceptionismError
from .files import atomic_write
from .images import OUTPUT_FORMATS, output_format, sidecar_path

# Extensions taken as photos when a folder is given (a file named explicitly is always tried).
PHOTO_EXTENSIONS = frozenset(OUTPUT_FORMATS) | {".jfif", ".pbm", ".pgm", ".ppm", ".tga", ".heic"}
MANIFEST_NAME = "manifest.jsonl"


class OutputFolderError(InceptionismError):
    """The output folder cannot take the batch's files (read-only, full, missing): the whole
    batch stops, since every later file would fail the same way."""


@dataclass(frozen=True)
class BatchItem:
    path: Path  # the input file
    relative: Path  # where under OUTDIR its output goes (input's extension still on)


def _is_photo(path: Path) -> bool:
    return path.suffix.lower() in PHOTO_EXTENSIONS and not path.name.startswith(".")


def _under(path: Path, folder: Path | None) -> bool:
    if folder is None:
        return False
    try:
        path.resolve().relative_to(folder.resolve())
        return True
    except ValueError:
        return False


def discover(inputs: list[str | Path], recursive: bool = False,
             exclude: Path | None = None) -> list[BatchItem]:
    """Expand files, folders and glob patterns into batch items, in a stable order.

    * a file: itself, its output named after its file name;
    * a folder: the photos in it (by extension; with ``recursive`` also in its sub-folders),
      their outputs keeping the path below the folder;
    * a glob pattern (``*``, ``?``, ``[``, and ``**`` with ``recursive``): the files it matches,
      named after their path below the pattern's fixed leading folders.

    Files under ``exclude`` (the output folder) are left out when it lies inside a folder being
    searched, so re-running a batch whose output folder is a sub-folder of its input folder never
    dreams its own outputs. An input that matches
    nothing is refused: it is more likely a typo than a wish for an empty batch.
    """
    items: dict[Path, BatchItem] = {}

    def add(path: Path, relative: Path, root: Path | None = None) -> None:
        # The output folder's files are left out when it lies *inside* the folder searched;
        # when it is that folder itself (or above), leaving out its files would leave nothing.
        key = path.resolve()
        skip = root is not None and _under(path, exclude) and not _under(root, exclude)
        if key not in items and not skip:
            items[key] = BatchItem(path, relative)

    for raw in inputs:
        text = str(raw)
        path = Path(text)
        if glob.has_magic(text):
            matches = sorted(glob.glob(text, recursive=recursive))
            if not matches:
                raise InceptionismError(f"No file matches {text}.")
            parts = Path(text).parts
            fixed = next((i for i, p in enumerate(parts) if glob.has_magic(p)), len(parts))
            base = Path(*parts[:fixed]) if fixed else Path(".")
            for m in matches:
                mp = Path(m)
                if mp.is_file():
                    add(mp, mp.relative_to(base) if _under(mp, base) else Path(mp.name), base)
        elif path.is_dir():
            walker = path.rglob("*") if recursive else path.iterdir()
            found = sorted(p for p in walker if p.is_file() and _is_photo(p)
                           and not any(part.startswith(".") for part in p.relative_to(path).parts))
            for p in found:
                add(p, p.relative_to(path), path)
        elif path.exists() or path.is_symlink():
            add(path, Path(path.name))
        else:
            raise InceptionismError(f"Input {text} does not exist.")
    if not items:
        if recursive:
            raise InceptionismError("The inputs hold no photos.")
        raise InceptionismError("The inputs hold no photos (sub-folders were not searched).",
                                remedy="recursive", problem="The inputs hold no photos")
    return list(items.values())


def plan_outputs(items: list[BatchItem], outdir: Path, ext: str) -> list[Path]:
    """``OUTDIR/<relative path>`` with ``ext`` for its extension, for each item (same order).

    Refused before any work: an unknown output format, two inputs that would share an output
    (``a.jpg`` and ``a.png`` in one folder), and an output that would land on an input.
    """
    ext = ext if ext.startswith(".") else f".{ext}"
    output_format(Path(f"x{ext}"))  # an unknown format: one sentence
    outputs = [outdir / item.relative.with_suffix(ext) for item in items]
    seen: dict[Path, BatchItem] = {}
    for item, out in zip(items, outputs):
        key = Path(os.path.abspath(out))
        if key in seen:
            raise InceptionismError(
                f"{seen[key].path} and {item.path} would both be written to {out}; "
                "dream them in separate batches or rename one."
            )
        seen[key] = item
    inputs = {Path(os.path.abspath(item.path)): item for item in items}
    for out in outputs:
        hit = inputs.get(Path(os.path.abspath(out)))
        if hit is None and out.exists():
            hit = next((i for i in items if os.path.samefile(out, i.path)), None)
        if hit is not None:
            raise InceptionismError(
                f"Output {out} would overwrite the input {hit.path}; inputs are never "
                "overwritten, so choose another output folder or format."
            )
        if out.is_dir():
            raise InceptionismError(f"Output {out} is a folder.")
    return outputs


def prepare_outdir(outdir: Path) -> None:
    """Create the output folder (its parent must exist) and make sure it can be written,
    with one sentence if not. Root may write into read-only folders, so writability is
    tested by writing, not by asking ``os.access``."""
    if outdir.exists() and not outdir.is_dir():
        raise OutputFolderError(f"Output folder {outdir} is a file, not a folder.")
    if not outdir.parent.is_dir():
        raise OutputFolderError(f"Folder {outdir.parent} does not exist.")
    try:
        outdir.mkdir(exist_ok=True)
        probe = outdir / f".inceptionism-write-test-{os.getpid()}"
        probe.write_bytes(b"x")
        probe.unlink()
    except OSError as exc:
        raise folder_error(outdir, exc) from None


def folder_error(outdir: Path, exc: OSError) -> OutputFolderError:
    """An OSError from writing into ``outdir`` as the one sentence the user sees."""
    if exc.errno in (errno.ENOSPC, errno.EDQUOT):
        return OutputFolderError(f"Output folder {outdir} is full (no space left on the device); "
                                 "free some space and run the same command again to go on.")
    if exc.errno in (errno.EACCES, errno.EPERM, errno.EROFS):
        return OutputFolderError(f"Output folder {outdir} is not writable.")
    return OutputFolderError(f"Cannot write into output folder {outdir}: {exc.strerror or exc}.")


@dataclass(frozen=True)
class EncodedImage:
    """An output file's bytes, made where the dream was made, written by the driver."""

    ext: str
    data: bytes
    sidecar: str | None  # JSON parameters for formats that cannot hold them inside
    notes: tuple[str, ...] = ()


def write_output(path: Path, encoded: EncodedImage, outdir: Path) -> None:
    """Write an encoded output (and its sidecar) atomically, creating sub-folders as needed.
    A full or read-only folder raises :class:`OutputFolderError` (the batch stops)."""
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        atomic_write(path, lambda tmp: tmp.write_bytes(encoded.data))
        side = sidecar_path(path)
        if encoded.sidecar is not None:
            atomic_write(side, lambda tmp: tmp.write_text(encoded.sidecar + "\n"))
        else:
            side.unlink(missing_ok=True)  # a stale one from an older output
    except OSError as exc:
        raise folder_error(outdir, exc) from None


@dataclass(frozen=True)
class ManifestEntry:
    input: str
    status: str  # "done", "skipped" (already done with this recipe) or "failed"
    output: str | None
    seconds: float  # wall time of the dream (0 for skipped)
    error: str | None = None  # the one-sentence reason, for "failed"
    worker: str | None = None  # which worker made it ("local-0", a Ray actor's node and pid)


class Manifest:
    """``OUTDIR/manifest.jsonl``, rewritten by each run: one line per input, flushed as soon as
    that input is finished."""

    def __init__(self, outdir: Path):
        self.path = outdir / MANIFEST_NAME
        self.file = None

    def __enter__(self) -> Manifest:
        try:
            self.file = open(self.path, "w", encoding="utf-8")
        except OSError as exc:
            raise folder_error(self.path.parent, exc) from None
        return self

    def add(self, entry: ManifestEntry) -> None:
        try:
            self.file.write(json.dumps(asdict(entry), sort_keys=True) + "\n")
            self.file.flush()
        except OSError as exc:
            raise folder_error(self.path.parent, exc) from None

    def __exit__(self, *exc) -> None:
        try:
            self.file.close()
        except OSError:
            pass


def read_manifest(path: Path) -> list[dict]:
    with open(path, encoding="utf-8") as f:
        return [json.loads(line) for line in f if line.strip()]
