"""Print how far our torchvision-format models are from torchvision's recorded numbers.

    python tests/parity_report.py

For each model: whether the state-dict keys and shapes are identical, then the largest
relative difference over the recorded taps and over the logits. A value's difference is
relative to the magnitude of the tensor it belongs to (the recorded std), since ReLU zeros
make element-wise ratios meaningless; the largest element-wise relative difference over
nonzero recorded values is printed too.
"""

from __future__ import annotations

import torch
from torchvision_parity import normalized_input, reference, synthetic_state_dict

from inceptionism.models import get_spec


def differences(ours: torch.Tensor, mean: float, std: float, first: list[float]):
    ours = ours.double()
    got = ours.flatten()[: len(first)]
    want = torch.tensor(first, dtype=torch.float64)
    scaled = max([abs(ours.mean().item() - mean), abs(ours.std().item() - std),
                  *(got - want).abs().tolist()]) / std
    nonzero = want != 0
    ratios = (got - want).abs()[nonzero] / want.abs()[nonzero]
    elementwise = ratios.max().item() if nonzero.any() else 0.0
    return scaled, elementwise


def main() -> None:
    print(f"{'model':13} {'keys+shapes':12} {'taps: vs std':>13} {'elementwise':>12} "
          f"{'logits: vs std':>15} {'elementwise':>12}  argmax")
    for name, ref in reference().items():
        spec = get_spec(name)
        net = spec.build().eval()
        shapes = {k: list(v.shape) for k, v in net.state_dict().items()}
        same_keys = list(shapes.items()) == list(ref["state_dict_shapes"].items())
        net.load_state_dict(synthetic_state_dict(name), strict=True)
        with torch.no_grad():
            acts = net.features(normalized_input(name), [*ref["taps"], spec.logits_layer])
        taps = [differences(acts[t], r["mean"], r["std"], r["first5"])
                for t, r in ref["taps"].items()]
        logits = acts[spec.logits_layer]
        lg = differences(logits, ref["logits_mean"], ref["logits_std"], ref["logits_first10"])
        argmax = "same" if logits.argmax().item() == ref["argmax"] else "DIFFERENT"
        print(f"{name:13} {'identical' if same_keys else 'DIFFERENT':12} "
              f"{max(t[0] for t in taps):13.2e} {max(t[1] for t in taps):12.2e} "
              f"{lg[0]:15.2e} {lg[1]:12.2e}  {argmax}")


if __name__ == "__main__":
    main()
