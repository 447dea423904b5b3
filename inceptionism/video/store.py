"""Frames folders: a long render's frames kept safe on disk, so a render can be stopped.

A :class:`FrameStore` is a folder of numbered PNG frames (``frame_000000.png``, ...) plus
``params.json``, the fingerprint of everything that decides what the frames look like. The
fingerprint is written before the first frame; a render with a different one is refused
instead of being mixed in. Each frame is written to a temporary file, flushed to disk and
renamed into place, so a killed process leaves only complete frames (and perhaps a
temporary ``.part`` file, removed when the render resumes). Each frame's SHA-256 is then
added to ``frames.sha256`` (the format ``sha256sum -c`` reads), and a frame counts as done
only when its file matches it: a resume checks every frame and renders again from the
first one that is missing its digest or does not match it, and encoding refuses such a
frame, naming it, instead of letting ffmpeg repeat a neighbour in its place.

A video's cuts (frames where the dream started afresh because the scene changed) are
recorded as one small file per cut beside its frame, ``frame_000012.cut``, holding the
colour-histogram distance that found it (one file each, so that worker processes writing
frames of several segments at once never write the same file). A marker is written before
its frame, so a frame that counts as done never lacks its marker.
"""

from __future__ import annotations

import json
import os
import re
from pathlib import Path

import numpy as np
from PIL import Image

from ..errors import VideoError
from ..io.files import atomic_write, file_sha256
from ..io.images import to_pil

FRAME_NAME = "frame_{:06d}.png"
FRAME_PATTERN = "frame_%06d.png"  # the same name, as ffmpeg's image-sequence reader spells it
FRAME_RE = re.compile(r"frame_(\d{6})\.png")
PARAMS_NAME = "params.json"
DIGESTS_NAME = "frames.sha256"
CUT_NAME = "frame_{:06d}.cut"
CUT_RE = re.compile(r"frame_(\d{6})\.cut")
_DIGEST_LINE = re.compile(r"([0-9a-f]{64})  (frame_\d{6}\.png)")
# zlib level of the frames' PNGs: working files, written once and read once by the encoder.
# Level 1 against Pillow's default 6, measured on a dreamed 400x300 frame: 8.7 against 34 ms
# for a file 7% larger (a 1152x864 photo: 61 against 269 ms, 15% larger).
FRAME_PNG_LEVEL = 1


def default_frames_dir(output: Path) -> Path:
    """``dream.mp4`` -> ``dream.frames``, beside the output."""
    return output.with_suffix(".frames")


def file_digest(path: Path) -> str:
    """SHA-256 of a file: identifies an input video in a fingerprint."""
    return file_sha256(path)


def _flatten(d: object, prefix: str = "") -> dict[str, object]:
    if isinstance(d, dict):
        out: dict[str, object] = {}
        for k, v in d.items():
            out.update(_flatten(v, f"{prefix}{k}."))
        return out
    return {prefix.rstrip("."): d}


class FrameStore:
    """A folder of numbered PNG frames and the parameters that made them."""

    def __init__(self, folder: str | Path):
        self.folder = Path(folder)
        self.notes: list[str] = []  # what open() repaired, for the user

    @property
    def params_path(self) -> Path:
        return self.folder / PARAMS_NAME

    @property
    def pattern(self) -> Path:
        return self.folder / FRAME_PATTERN

    def path(self, index: int) -> Path:
        return self.folder / FRAME_NAME.format(index)

    def count(self) -> int:
        """How many complete frames there are, counting from frame 0 up to the first gap."""
        if not self.folder.is_dir():
            return 0
        present = {int(m.group(1)) for p in self.folder.iterdir() if (m := FRAME_RE.fullmatch(p.name))}
        n = 0
        while n in present:
            n += 1
        return n

    @property
    def digests_path(self) -> Path:
        return self.folder / DIGESTS_NAME

    def digests(self) -> dict[str, str]:
        """{frame file name: SHA-256} as stored when each frame was written (a later line
        wins; a line cut short by a crash is ignored)."""
        try:
            text = self.digests_path.read_text(encoding="ascii", errors="replace")
        except FileNotFoundError:
            return {}
        except OSError as exc:
            raise VideoError(f"Cannot read {self.digests_path} ({exc.strerror or exc}).") from None
        return {m.group(2): m.group(1) for line in text.splitlines()
                if (m := _DIGEST_LINE.fullmatch(line))}

    def damaged(self, frames: int, digests: dict[str, str] | None = None) -> tuple[int, str] | None:
        """The first of frames ``0 .. frames-1`` that is missing, has no stored digest or does
        not match it, as (index, why); None when all are sound."""
        digests = self.digests() if digests is None else digests
        for i in range(frames):
            path = self.path(i)
            want = digests.get(path.name)
            if not path.is_file():
                return i, "is missing"
            if want is None:
                return i, "has no stored digest, so it cannot be checked"
            if file_digest(path) != want:
                return i, "does not match the digest stored when it was written (it was changed or damaged)"
        return None

    def params(self) -> dict | None:
        try:
            return json.loads(self.params_path.read_text())
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise VideoError(f"Cannot read {self.params_path} ({exc}).") from None

    def _ours(self, path: Path) -> bool:
        """Whether ``path`` names a file this store writes or deletes."""
        return bool(FRAME_RE.fullmatch(path.name) or CUT_RE.fullmatch(path.name)) \
            or path.name in (PARAMS_NAME, DIGESTS_NAME) \
            or (path.name.startswith(".frame_") and path.name.endswith(".part"))

    def protect(self, inputs: tuple[Path, ...]) -> None:
        """Refuse when a file a render reads would be written or deleted by this store:
        compared by resolved path, so links and relative paths cannot hide it."""
        folder = self.folder.resolve()
        for source in inputs:
            source = Path(source).resolve()
            if source.parent == folder and self._ours(source):
                raise VideoError(
                    f"Input {source} is inside the frames folder {self.folder}, where frames are "
                    "written and deleted; move it out of that folder or use another frames folder."
                )

    def open(self, params: dict, restart: bool = False, inputs: tuple[Path, ...] = ()) -> int:
        """Make the folder ready for frames made with ``params``; return the number of frames
        already done (the frame to resume from).

        Refuses a folder whose frames came from other parameters, unless ``restart`` is set,
        in which case its frames are deleted first, and one where ``inputs`` (the files the
        render reads) would be written or deleted. Frames that do not match their stored
        digests are deleted with every frame after them, which were made from them, and
        rendered again; :attr:`notes` then says so.
        """
        self.notes = []
        params = json.loads(json.dumps(params))  # tuples -> lists, as they come back from disk
        if self.folder.exists() and not self.folder.is_dir():
            raise VideoError(f"Frames folder {self.folder} is a file, not a folder.")
        self.protect(inputs)
        try:
            self.folder.mkdir(parents=False, exist_ok=True)
        except OSError as exc:
            raise VideoError(f"Cannot create frames folder {self.folder}: {exc.strerror or exc}.") from None
        for leftover in self.folder.glob(".frame_*.part"):  # from a process killed mid-write
            leftover.unlink(missing_ok=True)
        if restart:
            for p in self.folder.iterdir():
                if FRAME_RE.fullmatch(p.name) or CUT_RE.fullmatch(p.name) \
                        or p.name in (PARAMS_NAME, DIGESTS_NAME):
                    p.unlink()
        old = self.params()
        done = self.count()
        if old is None:
            if done:
                problem = (f"Frames folder {self.folder} holds frames but no {PARAMS_NAME}, so they "
                           "cannot be checked")
                raise VideoError(f"{problem}; move them away or restart to discard them.",
                                 remedy="discard_frames", problem=problem)
            self.digests_path.unlink(missing_ok=True)
            atomic_write(self.params_path,
                          lambda tmp: tmp.write_text(json.dumps(params, indent=1, sort_keys=True) + "\n"))
            return 0
        if old != params:
            a, b = _flatten(old), _flatten(params)
            differ = sorted(k for k in a.keys() | b.keys() if a.get(k) != b.get(k))
            problem = (f"Frames folder {self.folder} holds {done} frames made with other "
                       f"parameters (different {', '.join(differ)})")
            raise VideoError(f"{problem}; restart to discard them, or use another frames folder.",
                             remedy="discard_or_other_folder", problem=problem)
        digests = self.digests()
        bad = self.damaged(done, digests)
        if bad is not None:
            index, why = bad
            self.notes.append(f"frame {self.path(index)} {why}, so it and the frames after it "
                              "are rendered again.")
            self._discard_from(index, digests)
            done = index
        return done

    def _discard_from(self, index: int, digests: dict[str, str]) -> None:
        """Delete frames ``index`` and later (and their cut markers), and rewrite the digests
        of those before."""
        for p in self.folder.iterdir():
            if (m := FRAME_RE.fullmatch(p.name) or CUT_RE.fullmatch(p.name)) \
                    and int(m.group(1)) >= index:
                p.unlink()
        keep = [self.path(i).name for i in range(index)]
        text = "".join(f"{digests[name]}  {name}\n" for name in keep)
        atomic_write(self.digests_path, lambda tmp: tmp.write_text(text))

    def save(self, index: int, rgb: np.ndarray) -> Path:
        """Write frame ``index`` (RGB floats in [0, 1]) atomically and durably, then record
        its digest: only then does it count as done."""
        path = self.path(index)
        digest = []

        def write(tmp: Path) -> None:
            to_pil(rgb).save(tmp, format="PNG", compress_level=FRAME_PNG_LEVEL)
            with open(tmp, "rb") as f:  # on disk before the rename makes it count as done
                os.fsync(f.fileno())
            digest.append(file_digest(tmp))

        try:
            atomic_write(path, write)
            with open(self.digests_path, "a", encoding="ascii") as f:
                f.write(f"{digest[0]}  {path.name}\n")
                f.flush()
                os.fsync(f.fileno())
        except OSError as exc:
            raise VideoError(f"Cannot write frame {path}: {exc.strerror or exc}.") from None
        return path

    def cuts(self) -> dict[int, float]:
        """{frame index: colour-histogram distance} of the cuts among the stored frames."""
        if not self.folder.is_dir():
            return {}
        out = {}
        for p in self.folder.iterdir():
            if (m := CUT_RE.fullmatch(p.name)) and self.path(int(m.group(1))).is_file():
                out[int(m.group(1))] = self.cut(int(m.group(1)))
        return dict(sorted(out.items()))

    def cut(self, index: int) -> float | None:
        """The colour-histogram distance if frame ``index`` starts a new scene, else None."""
        try:
            return float((self.folder / CUT_NAME.format(index)).read_text())
        except FileNotFoundError:
            return None
        except (OSError, ValueError) as exc:
            raise VideoError(f"Cannot read {self.folder / CUT_NAME.format(index)} ({exc}).") from None

    def mark_cut(self, index: int, change: float) -> None:
        """Record that frame ``index`` starts a new scene (dreamed afresh); before the
        frame itself is saved."""
        path = self.folder / CUT_NAME.format(index)
        try:
            atomic_write(path, lambda tmp: tmp.write_text(f"{change:.4f}\n"))
        except OSError as exc:
            raise VideoError(f"Cannot write {path}: {exc.strerror or exc}.") from None

    def load(self, index: int) -> np.ndarray:
        """Frame ``index`` as RGB floats in [0, 1] (the exact values the render continued from)."""
        path = self.path(index)
        try:
            with Image.open(path) as img:
                return np.asarray(img.convert("RGB"), dtype=np.float32) / 255.0
        except (OSError, ValueError) as exc:
            raise VideoError(
                f"Frame {path} cannot be read ({exc}); delete it and run again to redo it."
            ) from None

    def frame_size(self) -> tuple[int, int]:
        """(width, height) of frame 0."""
        with Image.open(self.path(0)) as img:
            return img.size


MASK_NAME = "mask_{:06d}.png"


def save_mask(folder: str | Path, index: int, mask: np.ndarray) -> Path:
    """Write frame ``index``'s consistency mask ((H, W) in [0, 1]: white where the previous
    dream was carried and held, black where the frame was dreamed afresh) as a gray PNG in
    ``folder`` (made if missing), atomically, for a person to look at."""
    folder = Path(folder)
    path = folder / MASK_NAME.format(index)
    gray = Image.fromarray((np.clip(mask, 0, 1) * 255).round().astype(np.uint8), mode="L")
    try:
        folder.mkdir(parents=True, exist_ok=True)
        atomic_write(path, lambda tmp: gray.save(tmp, format="PNG"))
    except OSError as exc:
        raise VideoError(f"Cannot write mask {path}: {exc.strerror or exc}.") from None
    return path
