"""Grad-CAM written from scratch with a forward hook and a tensor (gradient) hook.

Defined in Day 16, which builds it line by line and checks it against Captum's
``LayerGradCam``; the lesson's copy is checked against this one by
``tests/course/test_gradcam.py``. Later days (21, 24) import it from here.
"""

from __future__ import annotations

import torch
import torch.nn.functional as F
from torch import nn


def grad_cam(
    model: nn.Module,
    target_layer: nn.Module,
    images: torch.Tensor,
    class_idx: int | torch.Tensor | None = None,
) -> tuple[torch.Tensor, torch.Tensor]:
    """Grad-CAM maps of ``class_idx`` (default: each image's predicted class).

    Returns ``(heat, raw)``: ``raw`` is ReLU(sum over channels of weight × activation) at
    the target layer's resolution, ``N×h×w``, each channel's weight being the spatial mean
    of the class score's gradient; ``heat`` is ``raw`` upsampled (bilinear) to the images'
    ``H×W`` and divided by its maximum, so each map lies in [0, 1]. The model should be in
    eval mode; no gradients are left in its parameters. Defined in Day 16.
    """
    saved = {}

    def keep_activations(module, inputs, output):
        saved["activations"] = output.detach()
        output.register_hook(lambda grad: saved.update(gradients=grad.detach()))

    hook = target_layer.register_forward_hook(keep_activations)
    try:
        with torch.enable_grad():
            logits = model(images.detach().requires_grad_(True))
            if class_idx is None:
                class_idx = logits.argmax(dim=1)
            targets = torch.as_tensor(class_idx, device=logits.device)
            targets = targets.expand(len(logits)).view(-1, 1)  # one class per image
            logits.gather(1, targets).sum().backward()
    finally:
        hook.remove()
        model.zero_grad(set_to_none=True)
    weights = saved["gradients"].mean(dim=(2, 3), keepdim=True)  # N×C×1×1
    raw = F.relu((weights * saved["activations"]).sum(dim=1))  # N×h×w
    size = images.shape[-2:]
    heat = F.interpolate(raw[:, None], size=size, mode="bilinear")[:, 0]  # N×H×W
    heat = heat / heat.amax(dim=(1, 2), keepdim=True).clamp_min(1e-12)
    return heat, raw
