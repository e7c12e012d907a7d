"""Day 16's Grad-CAM: the lesson's copy, and agreement with two maintained libraries."""

from __future__ import annotations

from pathlib import Path

import pytest
import torch
import torch.nn.functional as F
from conftest import lesson_copy_difference
from torch import nn

from course import gradcam
from course.cifar import CifarNet

LESSON = Path(__file__).resolve().parents[2] / "tutorials" / "day16_inside_a_cnn.py"


def test_lesson_defines_the_same_grad_cam_as_course_gradcam() -> None:
    """Day 16 teaches grad_cam; course.gradcam keeps the copy later days import."""
    difference = lesson_copy_difference(LESSON, gradcam.grad_cam)
    assert difference is None, difference


def _tiny_cnn() -> nn.Sequential:
    torch.manual_seed(0)
    return nn.Sequential(
        nn.Conv2d(3, 8, 3, padding=1),
        nn.ReLU(),
        nn.MaxPool2d(2),
        nn.Conv2d(8, 16, 3, padding=1),
        nn.ReLU(),
        nn.AdaptiveAvgPool2d(1),
        nn.Flatten(),
        nn.Linear(16, 5),
    ).eval()


def _cifar_net() -> CifarNet:
    torch.manual_seed(0)
    return CifarNet(torch.full((3,), 0.5), torch.full((3,), 0.25)).eval()


def _captum(model: nn.Module, layer: nn.Module, x: torch.Tensor, target) -> torch.Tensor:
    from captum.attr import LayerAttribution, LayerGradCam

    raw = LayerGradCam(model, layer).attribute(x, target=target, relu_attributions=True)
    return raw, LayerAttribution.interpolate(raw, tuple(x.shape[-2:]), "bilinear")


CASES = [
    ("tiny", lambda m: m[3]),
    ("cifar-stage3", lambda m: m.stages[2]),
    ("cifar-stage2", lambda m: m.stages[1]),
    ("cifar-stem", lambda m: m.stem),
]


@pytest.mark.parametrize(("net", "layer"), CASES, ids=[name for name, _ in CASES])
@pytest.mark.parametrize("target", [None, 3])
def test_grad_cam_equals_captums_layer_grad_cam(net: str, layer, target) -> None:
    model = _tiny_cnn() if net == "tiny" else _cifar_net()
    x = torch.rand(4, 3, 32, 32, generator=torch.Generator().manual_seed(1))
    heat, raw = gradcam.grad_cam(model, layer(model), x, target)
    with torch.no_grad():
        predicted = model(x).argmax(1)
    captum_raw, captum_up = _captum(model, layer(model), x, predicted if target is None else 3)
    assert raw.shape == captum_raw[:, 0].shape and heat.shape == (4, 32, 32)
    scale = captum_raw.abs().max()
    assert scale > 0
    torch.testing.assert_close(raw / scale, captum_raw[:, 0] / scale, atol=1e-5, rtol=0)
    captum_heat = captum_up[:, 0] / captum_up.amax(dim=(1, 2, 3))[:, None, None]
    torch.testing.assert_close(heat, captum_heat, atol=1e-5, rtol=0)


def test_grad_cam_agrees_with_the_grad_cam_package() -> None:
    """pytorch_grad_cam upsamples with OpenCV and min-max scales each map; do the same."""
    pytest.importorskip("pytorch_grad_cam", reason="the grad-cam package is not installed")
    from pytorch_grad_cam import GradCAM
    from pytorch_grad_cam.utils.model_targets import ClassifierOutputTarget

    model = _tiny_cnn()
    with torch.no_grad():  # larger scores, so that the package's 1e-7 in its scaling is tiny
        model[-1].weight.mul_(1e3)
    x = torch.rand(4, 3, 32, 32, generator=torch.Generator().manual_seed(2))
    _, raw = gradcam.grad_cam(model, model[3], x, 1)
    with GradCAM(model=model, target_layers=[model[3]]) as cam:
        theirs = cam(input_tensor=x, targets=[ClassifierOutputTarget(1)] * 4)
    mine = F.interpolate(raw[:, None], size=(32, 32), mode="bilinear")[:, 0]
    mine = mine - mine.amin(dim=(1, 2), keepdim=True)
    mine = mine / mine.amax(dim=(1, 2), keepdim=True)
    torch.testing.assert_close(mine, torch.from_numpy(theirs), atol=2e-3, rtol=0)


def test_with_a_global_max_pool_the_last_stage_weights_are_the_heads() -> None:
    """CifarNet ends in a global max pool and a linear layer: the gradient of a channel's
    maximum sums to 1 over the map, so Grad-CAM's weights are the head's row / (h·w)."""
    model = _cifar_net()
    x = torch.rand(3, 3, 32, 32, generator=torch.Generator().manual_seed(3))
    _, raw = gradcam.grad_cam(model, model.stages[2], x, 7)
    with torch.no_grad():
        activations = model.stages(model.stem((x - model.mean) / model.std))
    h, w = activations.shape[-2:]
    expected = F.relu(torch.einsum("c,nchw->nhw", model.head.weight[7] / (h * w), activations))
    torch.testing.assert_close(raw, expected, atol=1e-6, rtol=1e-4)


def test_grad_cam_leaves_no_gradients_and_works_with_frozen_weights() -> None:
    model = _tiny_cnn()
    for p in model.parameters():
        p.requires_grad_(False)
    x = torch.rand(2, 3, 16, 16)
    heat, raw = gradcam.grad_cam(model, model[3], x, torch.tensor([0, 4]))
    assert heat.shape == (2, 16, 16) and raw.shape == (2, 8, 8)
    assert 0 <= heat.min() and heat.amax(dim=(1, 2)).le(1 + 1e-6).all()
    assert all(p.grad is None for p in model.parameters())
    assert x.grad is None and not x.requires_grad
    assert not model._forward_hooks and not model[3]._forward_hooks


def test_grad_cam_of_one_class_matches_a_per_image_loop() -> None:
    """Summing the batch's scores before backward gives each image its own gradient."""
    model = _cifar_net()
    x = torch.rand(3, 3, 32, 32, generator=torch.Generator().manual_seed(4))
    heat, raw = gradcam.grad_cam(model, model.stages[1], x, torch.tensor([2, 5, 9]))
    for i, k in enumerate([2, 5, 9]):
        one_heat, one_raw = gradcam.grad_cam(model, model.stages[1], x[i : i + 1], k)
        torch.testing.assert_close(one_raw[0], raw[i])
        torch.testing.assert_close(one_heat[0], heat[i])
