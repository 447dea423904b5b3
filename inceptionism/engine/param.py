"""Image parameterizations for feature visualization: what the optimizer actually changes.

A visualization from noise optimizes a tensor ``p`` and shows ``image = to_image(p)``, an
(N, 3, H, W) RGB tensor in (0, 1). How ``p`` maps to pixels changes what gradient ascent
finds (Olah, Mordvintsev and Schubert, "Feature Visualization", Distill 2017, section
"Preconditioning and Parameterization"; the method of lucid's ``param.image``):

* **pixel**: ``p`` holds one value per pixel and colour.
* **fft**: ``p`` holds the image's 2-D real Fourier spectrum (``rfft2``, orthonormal),
  each frequency ``f`` (cycles per pixel, ``sqrt(fy^2 + fx^2)``) multiplied by
  ``1 / max(f, 1/max(H, W)) ** decay`` before the inverse transform. The same step then
  moves low frequencies much more than high ones: natural images have a ~1/f amplitude
  spectrum, so the gradient is whitened and the result is not dominated by pixel noise.
* **decorrelate**: the three channels of the pre-image are coordinates along the principal
  axes of ImageNet's colour covariance, scaled by the square root of each axis's variance
  (:data:`COLOR_CORRELATION_SQRT`, normalized so its largest column has length 1); the
  matrix maps them to RGB. Colours then move as they co-vary in photos.

Last, a sigmoid squashes the pre-image into (0, 1). Every map is invertible on its range
(:meth:`ImageParam.from_image`): ``to_image(from_image(img)) == img`` for any ``img`` in
(0, 1) (up to float rounding; ``from_image`` clamps to ``[eps, 1 - eps]`` first). For the
FFT parameterization ``from_image(to_image(p))`` is ``p`` with the parts of the spectrum
that a real image cannot have removed (the imaginary parts of the bins that are their own
mirror image, e.g. the constant term), which do not change the image.

Every function here is tensor in, tensor out; the only randomness is the initial noise of
:meth:`ImageParam.init`, drawn from the ``torch.Generator`` passed in.
"""

from __future__ import annotations

from dataclasses import dataclass

import torch
from torch import Tensor

from ..errors import InceptionismError

# Square root of ImageNet's RGB colour correlation, as published with lucid
# (``color_correlation_svd_sqrt``): its columns are the principal colour axes, each scaled by
# the square root of its variance (a luminance-like axis first, then two opponent axes).
COLOR_CORRELATION_SQRT = torch.tensor([
    [0.26, 0.09, 0.02],
    [0.27, 0.00, -0.05],
    [0.27, -0.09, 0.03],
], dtype=torch.float64)
# Normalized so the longest column (the luminance axis) has unit length: a unit step in the
# decorrelated space moves RGB by at most about one unit.
COLOR_MATRIX = COLOR_CORRELATION_SQRT / COLOR_CORRELATION_SQRT.norm(dim=0).max()
COLOR_MATRIX_INVERSE = torch.linalg.inv(COLOR_MATRIX)
# The inverse FFT of a unit-variance spectrum scaled by 1/f has a much larger spread than a
# pixel image of the same noise; dividing by 4 (lucid's constant) puts it back near the
# sigmoid's linear range.
FFT_DIVISOR = 4.0
# from_image clamps pixels to [EPS, 1 - EPS] so the sigmoid's inverse stays finite.
EPS = 1e-6


@dataclass(frozen=True)
class ParamConfig:
    """How a visualization's image is parameterized (see the module docstring)."""

    fft: bool = True  # optimize the Fourier spectrum (with 1/f scaling) instead of pixels
    decorrelate: bool = True  # optimize decorrelated colour axes instead of RGB
    # The spectrum's scaling exponent, 1/f**decay (fft only). lucid uses 1.0; on
    # EfficientNet-Lite0, 1.5 gave the same activation with half the high-frequency energy
    # (docs/microscope.md).
    decay: float = 1.5
    sd: float = 0.01  # standard deviation of the initial noise in parameter space

    def __post_init__(self):
        if not (isinstance(self.decay, (int, float)) and 0 <= self.decay <= 4):
            raise InceptionismError(f"The spectrum's decay must be from 0 to 4 (got {self.decay!r}).")
        if not (isinstance(self.sd, (int, float)) and 0 <= self.sd <= 10):
            raise InceptionismError(f"The initial noise's sd must be from 0 to 10 (got {self.sd!r}).")

    @property
    def name(self) -> str:
        parts = ["fft" if self.fft else "pixel"] + (["decorrelated"] if self.decorrelate else [])
        return "+".join(parts)


PIXEL = ParamConfig(fft=False, decorrelate=False)
READABLE = ParamConfig()
LUCID = ParamConfig(decay=1.0)  # lucid's param.image(fft=True, decorrelate=True)


def decorrelated_to_rgb(x: Tensor) -> Tensor:
    """(N, 3, H, W) coordinates on ImageNet's colour axes -> (N, 3, H, W) linear RGB."""
    m = COLOR_MATRIX.to(device=x.device, dtype=x.dtype)
    return torch.einsum("ij,njhw->nihw", m, x)


def rgb_to_decorrelated(x: Tensor) -> Tensor:
    """The inverse of :func:`decorrelated_to_rgb`."""
    m = COLOR_MATRIX_INVERSE.to(device=x.device, dtype=x.dtype)
    return torch.einsum("ij,njhw->nihw", m, x)


def spectrum_scale(height: int, width: int, decay: float = 1.5) -> Tensor:
    """(H, W//2 + 1) factors ``1 / max(f, 1/max(H, W)) ** decay`` for ``rfft2``'s bins.

    ``f`` is each bin's frequency in cycles per pixel; the floor keeps the constant term at
    the scale of the lowest non-zero frequency instead of infinity.
    """
    fy = torch.fft.fftfreq(height, dtype=torch.float64)[:, None]
    fx = torch.fft.rfftfreq(width, dtype=torch.float64)[None, :]
    f = torch.sqrt(fy * fy + fx * fx)
    return 1.0 / torch.clamp(f, min=1.0 / max(height, width)) ** decay


class ImageParam:
    """One parameterization of (N, 3, H, W) images: ``init``, ``to_image``, ``from_image``."""

    def __init__(self, config: ParamConfig, height: int, width: int):
        if height < 1 or width < 1:
            raise InceptionismError(f"An image needs a positive size (got {height}x{width}).")
        self.config = config
        self.height = height
        self.width = width

    def shape(self, n: int) -> tuple[int, ...]:
        """The parameter tensor's shape for ``n`` images."""
        return (n, 3, self.height, self.width)

    def init(self, n: int = 1, generator: torch.Generator | None = None,
             device: torch.device | str = "cpu") -> Tensor:
        """Gaussian noise of sd ``config.sd`` in parameter space (what lucid starts from)."""
        noise = torch.randn(self.shape(n), generator=generator, dtype=torch.float32)
        return (noise * self.config.sd).to(device)

    # The pre-image: everything before the colour matrix and the sigmoid.
    def _pre_image(self, p: Tensor) -> Tensor:
        return p

    def _from_pre_image(self, x: Tensor) -> Tensor:
        return x

    def to_image(self, p: Tensor) -> Tensor:
        """The (N, 3, H, W) image in (0, 1) that parameter ``p`` stands for."""
        x = self._pre_image(p)
        if self.config.decorrelate:
            x = decorrelated_to_rgb(x)
        return torch.sigmoid(x)

    def from_image(self, img: Tensor) -> Tensor:
        """A parameter whose ``to_image`` is ``img`` (clamped to ``[EPS, 1 - EPS]``)."""
        if img.dim() != 4 or img.shape[1] != 3 or tuple(img.shape[2:]) != (self.height, self.width):
            raise InceptionismError(
                f"Expected images of shape (N, 3, {self.height}, {self.width}), "
                f"got {tuple(img.shape)}.")
        x = torch.logit(img.clamp(EPS, 1 - EPS))
        if self.config.decorrelate:
            x = rgb_to_decorrelated(x)
        return self._from_pre_image(x)


class PixelParam(ImageParam):
    """One value per pixel and colour channel."""


class FFTParam(ImageParam):
    """The real 2-D Fourier spectrum, 1/f-scaled; stored as real numbers, shape
    (N, 3, H, W//2 + 1, 2) (real and imaginary parts), so any optimizer can step it."""

    def __init__(self, config: ParamConfig, height: int, width: int):
        super().__init__(config, height, width)
        self.scale = spectrum_scale(height, width, config.decay)  # float64; cast at use

    def shape(self, n: int) -> tuple[int, ...]:
        return (n, 3, self.height, self.width // 2 + 1, 2)

    def _pre_image(self, p: Tensor) -> Tensor:
        spectrum = torch.view_as_complex(p.contiguous()) * self.scale.to(p.device, p.dtype)
        x = torch.fft.irfft2(spectrum, s=(self.height, self.width), norm="ortho")
        return x / FFT_DIVISOR

    def _from_pre_image(self, x: Tensor) -> Tensor:
        spectrum = torch.fft.rfft2(x * FFT_DIVISOR, norm="ortho")
        return torch.view_as_real(spectrum / self.scale.to(x.device, x.dtype))


def make_param(config: ParamConfig, height: int, width: int | None = None) -> ImageParam:
    """The parameterization ``config`` describes, for images of ``height`` x ``width``."""
    width = height if width is None else width
    return (FFTParam if config.fft else PixelParam)(config, int(height), int(width))


def high_frequency_share(img: Tensor, cutoff: float = 0.25) -> float:
    """The share of an image's energy (its mean removed) at radial frequencies above
    ``cutoff`` cycles per pixel; 0.25 is half the Nyquist frequency. (N, 3, H, W) -> float."""
    x = img.detach().double()
    x = x - x.mean(dim=(2, 3), keepdim=True)
    power = torch.fft.fft2(x).abs() ** 2
    fy = torch.fft.fftfreq(x.shape[2], dtype=torch.float64)[:, None]
    fx = torch.fft.fftfreq(x.shape[3], dtype=torch.float64)[None, :]
    high = torch.sqrt(fy * fy + fx * fx) > cutoff
    total = power.sum().item()
    return 0.0 if total == 0 else (power * high).sum().item() / total

