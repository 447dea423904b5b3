"""Networks read from graph files: inception5h's TensorFlow graph and ONNX models.

Each loader takes the file a user has (or that was downloaded and verified) and returns a
:class:`~inceptionism.models.graph.GraphNet`, together with the class names that came with
it, if any. The registry entries that use them live in ``zoo.py``.
"""

from __future__ import annotations

import gzip
import io
import zipfile
from pathlib import Path

from ..errors import WeightsError
from .graph import GraphNet

# The seed's layer tour, "layer 0 ... layer 11" (Hvass-Labs tutorial #14's list); also the
# default tour of `explore --model inception5h`.
INCEPTION5H_TOUR = ("conv2d0", "conv2d1", "conv2d2", "mixed3a", "mixed3b", "mixed4a", "mixed4b",
                    "mixed4c", "mixed4d", "mixed4e", "mixed5a", "mixed5b")
INCEPTION5H_GRAPH = "tensorflow_inception_graph.pb"
INCEPTION5H_LABELS = "imagenet_comp_graph_label_strings.txt"
INCEPTION5H_CLASSES = 1008  # softmax width of the graph; the label file has fewer lines


def _read(path: Path) -> bytes:
    try:
        return path.read_bytes()
    except FileNotFoundError:
        raise WeightsError(f"Weights file {path} does not exist.") from None
    except IsADirectoryError:
        raise WeightsError(f"Weights file {path} is a folder, not a file.") from None
    except OSError as exc:
        raise WeightsError(f"Weights file {path} cannot be read ({exc.strerror or exc}).") from None


def _labels(text: str, width: int) -> tuple[str, ...]:
    names = [line.strip() for line in text.splitlines()]
    while names and not names[-1]:
        names.pop()
    # Outputs beyond the label file (the graph pads its classifier to 1008) get a placeholder.
    names += [f"(unused {i})" for i in range(len(names), width)]
    return tuple(names)


def read_inception5h(path: Path) -> tuple[bytes, tuple[str, ...] | None]:
    """The graph bytes and class names from ``inception5h.zip``, the bare ``.pb`` (labels
    read from the label file beside it, if there) or a gzipped ``.pb``."""
    data = _read(path)
    labels = None
    if data[:4] == b"PK\x03\x04":
        try:
            with zipfile.ZipFile(io.BytesIO(data)) as archive:
                members = {Path(n).name: n for n in archive.namelist()}
                if INCEPTION5H_GRAPH not in members:
                    raise WeightsError(f"The zip {path} does not contain {INCEPTION5H_GRAPH}; "
                                       f"it is not inception5h.zip.")
                graph = archive.read(members[INCEPTION5H_GRAPH])
                if INCEPTION5H_LABELS in members:
                    labels = archive.read(members[INCEPTION5H_LABELS]).decode("utf-8", "replace")
        except zipfile.BadZipFile:
            raise WeightsError(f"Weights file {path} is a damaged zip file.") from None
        data = graph
    elif data[:2] == b"\x1f\x8b":
        try:
            data = gzip.decompress(data)
        except (OSError, EOFError):
            raise WeightsError(f"Weights file {path} is a damaged gzip file.") from None
    else:
        beside = path.parent / INCEPTION5H_LABELS
        if beside.is_file():
            labels = beside.read_text("utf-8", "replace")
    return data, (_labels(labels, INCEPTION5H_CLASSES) if labels is not None else None)


def load_inception5h(path: Path) -> GraphNet:
    """inception5h from ``path``: every node is a tap; ``forward`` gives the 1008 logits."""
    from .tf_graph import read_graphdef

    data, labels = read_inception5h(path)
    try:
        graph = read_graphdef(data, f"Weights file {path}")
    except WeightsError:
        raise
    except Exception as exc:  # InceptionismError from the reader: name the file
        raise WeightsError(str(exc)) from None
    names = {node.name for node in graph.nodes}
    missing = [name for name in (*INCEPTION5H_TOUR, "softmax2_pre_activation") if name not in names]
    if missing:
        raise WeightsError(
            f"Weights file {path} is a TensorFlow graph but not inception5h: it has no "
            f"{', '.join(missing[:3])}."
        )
    net = GraphNet(graph, output="softmax2_pre_activation")
    net.labels = labels
    return net
