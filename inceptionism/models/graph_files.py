"""Networks read from graph files: inception5h's TensorFlow graph and ONNX models.

Each loader takes the file a user has (or that was downloaded and verified) and returns a
:class:`~inceptionism.models.graph.GraphNet`, together with the class names that came with
it, if any. The registry entries that use them live in ``zoo.py``.
"""

from __future__ import annotations

import io
import zipfile
from pathlib import Path

from ..errors import WeightsError
from .graph import GraphNet

# The seed's layer tour, "layer 0 ... layer 11" (Hvass-Labs tutorial #14's list); also the
# default tour of `explore --model inception5h`.
INCEPTION5H_TOUR = ("conv2d0", "conv2d1", "conv2d2", "mixed3a", "mixed3b", "mixed4a", "mixed4b",
                    "mixed4c", "mixed4d", "mixed4e", "mixed5a", "mixed5b")
# The same twelve layers in Caffe's bvlc_googlenet, by their ONNX tensor names.
BVLC_GOOGLENET_TOUR = ("conv1/7x7_s2_2", "conv2/3x3_reduce_2", "conv2/3x3_2",
                       *(f"inception_{b}/output_1" for b in ("3a", "3b", "4a", "4b", "4c", "4d",
                                                             "4e", "5a", "5b")))
INCEPTION5H_GRAPH = "tensorflow_inception_graph.pb"
INCEPTION5H_LABELS = "imagenet_comp_graph_label_strings.txt"
INCEPTION5H_CLASSES = 1008  # softmax width of the graph; the label file has fewer lines
# The most a graph may unpack to: protobuf's own limit for one message (2 GiB). A zip or
# gzip that claims more is refused before anything is unpacked (a decompression bomb).
MAX_GRAPH_BYTES = 2**31 - 1


def _gunzip(data: bytes, path: Path) -> bytes:
    import zlib

    inflate = zlib.decompressobj(16 + zlib.MAX_WBITS)
    try:
        out = inflate.decompress(data, MAX_GRAPH_BYTES)
    except zlib.error:
        raise WeightsError(f"Weights file {path} is a damaged gzip file.") from None
    if inflate.unconsumed_tail:
        raise WeightsError(f"Weights file {path} unpacks to more than 2 GiB; it is not a graph.")
    if not inflate.eof:
        raise WeightsError(f"Weights file {path} is a damaged gzip file (it ends early).")
    return out


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
                info = archive.getinfo(members[INCEPTION5H_GRAPH])
                if info.file_size > MAX_GRAPH_BYTES:
                    raise WeightsError(f"The graph in {path} unpacks to more than 2 GiB; it is "
                                       f"not inception5h.zip.")
                graph = archive.read(members[INCEPTION5H_GRAPH])
                if INCEPTION5H_LABELS in members and archive.getinfo(
                        members[INCEPTION5H_LABELS]).file_size < 2**24:
                    labels = archive.read(members[INCEPTION5H_LABELS]).decode("utf-8", "replace")
        except (zipfile.BadZipFile, zipfile.LargeZipFile, NotImplementedError, EOFError, OSError):
            raise WeightsError(f"Weights file {path} is a damaged zip file.") from None
        data = graph
    elif data[:2] == b"\x1f\x8b":
        data = _gunzip(data, path)
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
    # No label file (a bare .pb alone): indices only; ImageNet's 1000 names would be wrong,
    # the graph orders its classes differently.
    net.labels = labels if labels is not None else ()
    return net


# Ops whose output a user would call "a layer" (a feature map).
_FEATURE_OPS = ("relu", "relu6", "concat", "add", "lrn", "leaky_relu", "maxpool")


def choose_layers(net: GraphNet, probe_size: int = 224) -> tuple[tuple[str, ...], tuple[str, ...]]:
    """(default layers, tour layers) of a graph nobody described.

    Its feature maps are the outputs of ReLUs, concatenations, residual adds, LRNs and max
    pools that still have a spatial size at a ``probe_size`` input. Of those, the ones read
    by two or more nodes are the block outputs (an Inception block's concat feeds four
    branches; a ResNet block's output feeds the next block and its shortcut); a plain chain
    (VGG) has none, and then all feature maps count. The default is the one 60% of the way
    down (GoogLeNet's classic inception_4c sits about there), the tour twelve evenly spaced.
    """
    import torch

    shapes = net.probe_shapes(torch.zeros(1, 3, probe_size, probe_size))
    readers = net.consumers()
    features = [n.name for n in net.nodes if n.op in _FEATURE_OPS and n.name in shapes
                and len(shapes[n.name]) == 3 and shapes[n.name][-1] * shapes[n.name][-2] > 1]
    blocks = [name for name in features if len(readers.get(name, ())) >= 2]
    if len(blocks) >= 4:
        features = blocks
    if not features:
        features = [n.name for n in net.nodes if n.name in shapes and len(shapes[n.name]) == 3]
    if not features:
        raise WeightsError("The model has no layer with a spatial output (a feature map) to dream on.")
    default = features[round(0.6 * (len(features) - 1))]
    count = min(12, len(features))
    tour = tuple(features[round(i * (len(features) - 1) / max(count - 1, 1))] for i in range(count))
    return (default,), tuple(dict.fromkeys(tour))


def load_onnx(path: Path, caffe_pools: bool = False, labels: tuple[str, ...] | None = None) -> GraphNet:
    """An ONNX classifier from ``path``. Its output is the graph's first output, or the
    logits under it when that output is a softmax (``logits_layer``)."""
    from .onnx_graph import read_onnx

    graph, outputs = read_onnx(path, caffe_pools=caffe_pools)
    names = {node.name for node in graph.nodes}
    output = next((o for o in outputs if o in names), graph.nodes[-1].name)
    by_name = {node.name: node for node in graph.nodes}
    while by_name[output].op in ("softmax", "identity") and by_name[output].inputs[0] in by_name:
        output = by_name[output].inputs[0]
    net = GraphNet(graph, output=output)
    net.labels = labels
    net.logits_layer = output
    net.default_layers, net.tour_layers = choose_layers(net)
    return net


def load_bvlc_googlenet(path: Path) -> GraphNet:
    """Caffe's bvlc_googlenet, as the ONNX model zoo's googlenet-12.onnx, with Caffe's
    ceil-rounded pools so that any input size computes what Caffe computed."""
    from ..classes import imagenet_classes

    net = load_onnx(path, caffe_pools=True, labels=imagenet_classes())
    missing = [n for n in ("inception_4c/output_1", "loss3/classifier_1") if n not in net.stage_names]
    if missing:
        raise WeightsError(f"Model file {path} is an ONNX model but not bvlc_googlenet: it has "
                           f"no {', '.join(missing)}.")
    return net


def load_tf_graph(path: Path) -> GraphNet:
    """A frozen TensorFlow graph (``.pb``, NHWC, the ops of ``tf_graph.SUPPORTED_OPS``)."""
    from .tf_graph import read_graphdef

    data = _read(path)
    if data[:2] == b"\x1f\x8b":
        data = _gunzip(data, path)
    try:
        graph = read_graphdef(data, f"Model file {path}")
    except WeightsError:
        raise
    except Exception as exc:
        raise WeightsError(str(exc)) from None
    by_name = {node.name: node for node in graph.nodes}
    output = graph.nodes[-1].name
    while by_name[output].op in ("softmax", "identity") and by_name[output].inputs[0] in by_name:
        output = by_name[output].inputs[0]
    net = GraphNet(graph, output=output)
    net.logits_layer = output
    net.default_layers, net.tour_layers = choose_layers(net)
    return net
