"""
# Day 19 · Test-set inference and exporting models (測試集推論與導出模型)

Training ends with a file of weights; using a model means running it on new
inputs, often on a machine without your training code and sometimes without
PyTorch at all. This lesson takes Day 14's trained CIFAR-10 network the whole
way. You measure why `model.eval()` and `torch.inference_mode()` matter,
save the network the safe way and see the whole-module pickle fail in two
instructive ways, trace it with TorchScript (and see where tracing silently
goes wrong), export it with `torch.export` and to ONNX, check that ONNX
Runtime gives the same answers as PyTorch on all 10,000 test images,
compare file sizes and speed in one table, and finally deploy it: a
prediction script and a small HTTP service that need only ONNX Runtime,
NumPy and Pillow, with clear errors for bad input.

**You will learn:** what `eval()` changes (Dropout, BatchNorm) and what
`inference_mode()` saves · `state_dict` versus pickling the whole module,
`weights_only=True` and why it matters · `torch.jit.trace` and its blind
spot · `torch.export` with a dynamic batch size, and `torch.cond` ·
exporting to ONNX and checking it with ONNX Runtime · measuring latency
fairly · a standalone prediction script and an HTTP service, with input
validation · dynamic int8 quantization (optional)

**Before you start:** [Day 18](day18_early_stopping.ipynb) ·
[Day 14](day14_cifar10.ipynb) (the network exported here) ·
[Day 9](day09_save_load.ipynb) (saving and loading) · **Reading time:**
about 2 hours
"""

# %%
# ## 1. Set-up
#
# Beyond PyTorch, this lesson needs three packages: `onnx` (the file format
# and its checker), `onnxscript` (which `torch.onnx.export` uses to write
# the ONNX graph) and `onnxruntime` (Microsoft's engine that runs ONNX files,
# with no PyTorch inside). The line below tells the notebook's first cell to
# install them where they are missing. Nothing new is trained today (Day
# 14's network comes from the model cache); the lesson times itself.

# sphinx_gallery_requires = ["onnx>=1.17", "onnxscript>=0.2", "onnxruntime>=1.20"]

import time

lesson_start = time.perf_counter()

import contextlib
import copy
import importlib
import io
import json
import logging
import re
import shutil
import statistics
import struct
import subprocess
import sys
import threading
import urllib.error
import urllib.request
import warnings
import zlib
from collections import Counter
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

import matplotlib.pyplot as plt
import numpy as np
import onnx
import onnxruntime as ort
import torch
from PIL import Image
from torch import nn

import course
import course.cifar
from course.cifar import CifarNet, trained_cifar_net
from course.experiments import format_table
from course.serving import predict as predict_module
from course.serving.predict import MAX_FILE_BYTES, InputError, Predictor

course.seed_everything(0)
device = course.choose_device()
print(f"profile: {course.PROFILE}, device: {device}, torch {torch.__version__}")
print(f"onnx {onnx.__version__}, onnxruntime {ort.__version__}")

# %%
# ## 2. Day 14's network and the test set
#
# `trained_cifar_net` returns the network Day 14 trained, from the model
# cache (or trains it now, once, with Day 14's recipe). Day 14 trained and
# evaluated it with bfloat16 autocast and channels-last memory, the fast
# paths of a CPU. For everything below we want the plain reference instead:
# **float32, eager, no autocast, channels-first** (`N×3×32×32`, the layout
# every exporter and ONNX Runtime expect), on the **CPU**, where the
# deployed model will run. (On a GPU, convolutions may use TF32 arithmetic,
# which would blur the comparison with ONNX Runtime.)

split = course.cifar.default_split()
net, info = trained_cifar_net(split, device=device)
net = net.cpu().float().eval().to(memory_format=torch.contiguous_format)
test_images, test_labels = split.test
CLASSES = course.cifar.CLASSES
print(f"test set: {len(test_images):,} images, {list(test_images.shape[1:])} uint8")
val_accuracy = info["metrics"]["history"]["val_acc"][-1]
print(f"Day 14's final validation accuracy: {val_accuracy:.1%}")


def to_float(images: torch.Tensor) -> torch.Tensor:
    """uint8 images N×3×32×32 -> float32 in [0, 1], channels-first: the input."""
    return images.float() / 255


# %%
# The network takes plain `[0, 1]` images: Day 14 stored the training set's
# per-channel mean and standard deviation in the model as **buffers** and
# normalises inside `forward`. That matters for deployment: the buffers
# travel with the weights into every exported file, so nobody downstream
# has to know the constants.

print("buffers:", [name for name, _ in net.named_buffers()][:4], "...")
print("mean (R, G, B):", [round(v, 4) for v in net.mean.flatten().tolist()])

# %%
# ## 3. `model.eval()`: two layers behave differently in training
#
# Two kinds of layer do one thing while training and another while
# predicting, and `model.train()` / `model.eval()` switch them (the flag is
# `module.training`, set recursively on every submodule):
#
# - **Dropout** zeroes a random share `p` of its inputs in training (and
#   scales the survivors by $1/(1-p)$, Day 12); in evaluation it does
#   nothing.
# - **BatchNorm** normalises with the statistics of the *current batch* in
#   training, and updates its running averages of them; in evaluation it
#   uses those stored running averages.
#
# Dropout first: the same input, twice in each mode.

dropout = nn.Dropout(p=0.5)
x = torch.ones(1, 8)
dropout.train()
print("train mode, call 1:", dropout(x).tolist()[0])
print("train mode, call 2:", dropout(x).tolist()[0])
dropout.eval()
print("eval mode,  call 1:", dropout(x).tolist()[0])
print("eval mode,  call 2:", dropout(x).tolist()[0])

# %%
# In training mode the output is random, a different mask each call; in
# evaluation mode it is the input, every time. Day 14's network has no
# Dropout but seven BatchNorm layers. In training mode, an image's
# prediction depends on *which other images share its batch*: here the
# same first image goes through the network with two different sets of
# seven companions.
#
# We work on a copy (`copy.deepcopy`), because a forward pass in training
# mode changes the network, as the second printout shows.

probe = copy.deepcopy(net)
batch_a = to_float(test_images[:8])
batch_b = torch.cat([batch_a[:1], to_float(test_images[8:15])])
for mode in ("train", "eval"):
    probe.train(mode == "train")
    with torch.no_grad():
        gap = (probe(batch_a)[0] - probe(batch_b)[0]).abs().max().item()
    print(f"{mode:5s} mode: the same image's logits differ by up to {gap:.4f}")

moved = (probe.stem[1].running_mean - net.stem[1].running_mean).abs().max().item()
print(f"first BatchNorm's running mean moved by up to {moved:.4f}, under no_grad()")

# %%
# In evaluation mode the other images make no difference (a gap of zero,
# to the digits printed); in training mode they change the logits. And
# `torch.no_grad()` did **not** protect the running statistics: they are
# buffers updated during the forward pass, not gradients. Only `eval()`
# stops that. A model evaluated by mistake in training mode quietly
# rewrites its own statistics.
#
# How much does it cost in accuracy? The same test images, in both modes;
# in training mode the batch size matters, because the statistics come from
# the batch (each run starts from a fresh copy of the trained network).

n_mode = course.pick(full=1_000, smoke=64)
generator = torch.Generator().manual_seed(0)
subset = torch.randperm(len(test_images), generator=generator)[:n_mode]


def accuracy_in_mode(model: nn.Module, training: bool, batch_size: int) -> float:
    """Accuracy on the subset, with a fresh copy of `model` in the given mode."""
    model = copy.deepcopy(model).train(training)
    correct = 0
    with torch.no_grad():
        for start in range(0, n_mode, batch_size):
            idx = subset[start : start + batch_size]
            predicted = model(to_float(test_images[idx])).argmax(1)
            correct += (predicted == test_labels[idx]).sum().item()
    return correct / n_mode


big = min(500, n_mode)
print(f"{n_mode:,} test images")
for training, batch_size in [(False, big), (True, big), (True, 4)]:
    mode = "train mode by mistake," if training else "eval mode,"
    accuracy = accuracy_in_mode(net, training, batch_size)
    print(f"{mode:22s} batches of {batch_size:3d}: {accuracy:.1%}")

# %%
# With large batches the batch statistics are close to the running ones, so
# the damage can look small, which is what makes this bug easy to miss;
# with small batches (a web service predicting one image at a time is the
# extreme case) the statistics of a handful of images are far off and the
# accuracy drops. Compare the three numbers printed above. The rule: call
# `model.eval()` before predicting, every time, and `model.train()` before
# training again.
#
# ## 4. `torch.inference_mode()`: no graph, less memory
#
# `eval()` changes what layers compute; it does **not** switch off
# autograd. A plain forward pass records the graph needed for a backward
# pass that, at inference, never comes: every intermediate tensor the
# backward pass would need is kept alive as long as the output is. We can
# count those bytes with `torch.autograd.graph.saved_tensors_hooks`, which
# is called for every tensor autograd saves.

x = to_float(test_images[:64])
saved = []


def pack(tensor: torch.Tensor) -> torch.Tensor:
    saved.append(tensor.numel() * tensor.element_size())
    return tensor


with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
    out_plain = net(x)
with torch.no_grad():
    out_no_grad = net(x)
with torch.inference_mode():
    out_inference = net(x)

print(f"plain:          requires_grad={out_plain.requires_grad}, "
      f"grad_fn={type(out_plain.grad_fn).__name__}, "
      f"kept for backward: {sum(saved) / 1e6:.1f} MB in {len(saved)} tensors")
print(f"no_grad:        requires_grad={out_no_grad.requires_grad}")
print(f"inference_mode: requires_grad={out_inference.requires_grad}, "
      f"is_inference={out_inference.is_inference()}")
del out_plain

# %%
# For a batch of 64 small images, the plain pass kept the megabytes printed
# above alive; they grow with the batch size and the image size. Both
# `torch.no_grad()` and `torch.inference_mode()` record nothing.
# `inference_mode` goes one step further: its tensors skip autograd's
# version counters and view tracking, which saves a little time per
# operation. A timing of the three, taking turns (so that a busy moment of
# the machine hits all three alike), on a batch of 8 images, where such
# bookkeeping is a larger share of the work:

modes = {
    "plain": contextlib.nullcontext,
    "no_grad": torch.no_grad,
    "inference_mode": torch.inference_mode,
}
x8 = x[:8]
times = {name: [] for name in modes}
for mode in modes.values():
    with mode():
        net(x8)  # warm-up: the first call at a new shape prepares its kernels
for _ in range(course.pick(full=15, smoke=2)):
    for name, mode in modes.items():
        with mode():
            start = time.perf_counter()
            net(x8)
            times[name].append(1000 * (time.perf_counter() - start))
for name, values in times.items():
    print(f"{name:15s} median {statistics.median(values):5.1f} ms "
          f"(fastest {min(values):5.1f}, slowest {max(values):5.1f})")

# %%
# Compare the medians with the spread of each row. The bookkeeping that
# `no_grad` and `inference_mode` skip is small next to the convolutions,
# so on a network like this one the time saved is small and can vanish in
# the noise of a busy machine. The memory saved is what matters, and on a
# server it decides how large a batch fits. One catch: a tensor made in
# inference mode can never enter autograd later. If you need that, use
# `no_grad()`.

weight = torch.ones(10, requires_grad=True)
try:
    (out_inference * weight).sum().backward()
except RuntimeError as error:
    print(f"Expected error: {str(error).split('. ')[0]}.")

# %%
# ## 5. Saving for inference: the `state_dict`, not the whole module
#
# Day 9 saved a `state_dict`, the dictionary of parameter and buffer
# tensors. `torch.save(model)` also works: it **pickles** the whole module
# object. Both files are about the same size, because the tensors are
# almost all of it:

torch.save(net.state_dict(), "cifarnet_state.pt")
torch.save(net, "cifarnet_module.pt")
for name in ("cifarnet_state.pt", "cifarnet_module.pt"):
    print(f"{name:20s} {Path(name).stat().st_size / 1e3:7,.0f} kB")

# %%
# A `state_dict` is loaded into a network you build yourself, with its
# class and constructor. The constructor's `mean` and `std` do not matter
# here: they are buffers, so the `state_dict` brings the trained values
# back. `torch.load(..., weights_only=True)` (the default since PyTorch
# 2.6) only accepts tensors and plain containers.

restored = CifarNet(mean=torch.zeros(3), std=torch.ones(3))
state = torch.load("cifarnet_state.pt", weights_only=True)
report = restored.load_state_dict(state)
restored.eval()
with torch.inference_mode():
    same = torch.equal(restored(x), net(x))
print(report, "| same outputs as the original:", same)

# %%
# The whole-module file is refused by that safe loader. Its pickle does not
# contain the *code* of `CifarNet`, only its name, `course.cifar.CifarNet`,
# which the unpickler would have to import and call:

plain_ansi = re.compile(r"\x1b\[[0-9;]*m")  # the message has terminal colour codes
try:
    torch.load("cifarnet_module.pt", weights_only=True)
except Exception as error:  # an UnpicklingError
    lines = plain_ansi.sub("", str(error)).splitlines()
    print(f"Expected error ({type(error).__name__}): {lines[0].split('.')[0]}.")
    detail = next(line for line in lines if "Unsupported global" in line)
    print("  " + detail.strip().split(" Please use")[0])

# %%
# `weights_only=False` would load it, and that is the point of the refusal:
# unpickling can **run arbitrary code**. A pickle may name any function
# with arguments to call while it loads. Here is a harmless demonstration,
# an object whose pickle asks for `print` to be called:


class Surprise:
    def __reduce__(self):
        return (print, ("  ...this line was printed by torch.load itself!",))


torch.save({"weights": torch.zeros(3), "extra": Surprise()}, "surprise.pt")
print("torch.load(weights_only=False):")
loaded = torch.load("surprise.pt", weights_only=False)
try:
    torch.load("surprise.pt", weights_only=True)
except Exception as error:
    lines = plain_ansi.sub("", str(error)).splitlines()
    detail = next(line for line in lines if "Unsupported global" in line)
    print("Expected error with weights_only=True:")
    print("  " + detail.strip().split(" Please")[0])

# %%
# Instead of `print`, a malicious file could name `os.system` with any
# command. So: `weights_only=True` for every file, and `weights_only=False`
# only for a file you made yourself or fully trust. (For classes you trust,
# `torch.serialization.add_safe_globals` allows them one by one.)
#
# The whole-module file has a second problem: it stores the class by its
# **import path**, so it breaks when the code moves. We simulate a refactor:
# a small module in a file `scratch_layers.py`, pickled whole, then the
# file is renamed.

Path("scratch_layers.py").write_text(
    "import torch\n"
    "from torch import nn\n\n\n"
    "class Scale(nn.Module):\n"
    "    def __init__(self):\n"
    "        super().__init__()\n"
    "        self.factor = nn.Parameter(torch.tensor([2.0]))\n\n"
    "    def forward(self, x):\n"
    "        return x * self.factor\n"
)
sys.path.insert(0, str(Path.cwd()))
scratch_layers = importlib.import_module("scratch_layers")
torch.save(scratch_layers.Scale(), "scale_module.pt")
torch.save(scratch_layers.Scale().state_dict(), "scale_state.pt")

Path("scratch_layers.py").rename("layers_v2.py")  # the refactor
del sys.modules["scratch_layers"], scratch_layers
importlib.invalidate_caches()
try:
    torch.load("scale_module.pt", weights_only=False)
except ModuleNotFoundError as error:
    print(f"Expected error (ModuleNotFoundError): {error}")
sys.path.remove(str(Path.cwd()))

# %%
# The `state_dict` has no such tie: it maps names like `"factor"` to
# tensors, and loads into any class with the same parameter names, wherever
# it is defined:


class Scale(nn.Module):
    def __init__(self):
        super().__init__()
        self.factor = nn.Parameter(torch.tensor([0.0]))

    def forward(self, x):
        return x * self.factor


scale = Scale()
scale.load_state_dict(torch.load("scale_state.pt", weights_only=True))
print("loaded factor:", scale.factor.item())

# %%
# ## 6. TorchScript: `torch.jit.trace`, and its blind spot
#
# A `state_dict` still needs the Python class. To run a model without its
# code, the computation itself must be captured in a file. PyTorch's first
# answer was **TorchScript**: `torch.jit.trace` runs the model once on an
# example input, records every tensor operation it sees, and produces a
# program that a C++ runtime can execute without Python. Many deployment
# guides still use it, so it is worth knowing. But it is **deprecated**:
# PyTorch now warns on every call, and we show the warning rather than hide
# it.

example = to_float(test_images[:1])
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    traced = torch.jit.trace(net, example)
    traced.save("cifarnet_traced.pt")
    reloaded = torch.jit.load("cifarnet_traced.pt")  # no CifarNet class needed
for message in sorted({f"{w.category.__name__}: {w.message}" for w in caught}):
    print(message)
with torch.inference_mode():
    gap = (reloaded(x) - net(x)).abs().max().item()
print(f"traced with batch 1, run on batch {len(x)}: largest difference {gap:.2g}")

# %%
# The traced program matches the network, even at another batch size.
# The blind spot: tracing records the operations *that ran* for the example
# input. Python control flow that depends on the data (`if`, loops over
# values) is not recorded; the branch taken for the example is baked in. A
# tiny module shows it:


class SignGate(nn.Module):
    """Doubles x if its sum is positive, else flips its sign."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        if x.sum() > 0:
            return x * 2
        return -x


gate = SignGate()
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    traced_gate = torch.jit.trace(gate, torch.ones(3))
tracer = [w for w in caught if issubclass(w.category, torch.jit.TracerWarning)]
print("TracerWarning:", str(tracer[0].message)[:96], "...")
negative = -torch.ones(3)
print("eager  on [-1, -1, -1]:", gate(negative).tolist())
print("traced on [-1, -1, -1]:", traced_gate(negative).tolist(), " <- wrong")

# %%
# The tracer did warn, and the traced module answers with the branch of the
# example, silently and wrongly, for every negative input. A CNN like ours
# has no such branches, so tracing it was safe; a model with data-dependent
# control flow needs a tool that sees it.
#
# ## 7. `torch.export`: TorchScript's successor
#
# `torch.export.export` captures the model as a clean graph of ATen
# operations (PyTorch's operator set), checked for soundness: it traces
# with symbolic "fake" tensors, so anything it cannot capture faithfully is
# an error rather than a silent guess. `dynamic_shapes` declares which
# dimensions may vary: here dimension 0, the batch.

batch = torch.export.Dim("batch")
example_batch = to_float(test_images[:2])  # kept in the file: keep it small
exported = torch.export.export(net, (example_batch,), dynamic_shapes=({0: batch},))
image_input = next(n for n in exported.graph.nodes if n.name == "x")
print("input x:", list(image_input.meta["val"].shape), "(a symbol: the batch size)")
calls = [node for node in exported.graph.nodes if node.op == "call_function"]
print(f"{len(calls)} operations; the first five:")
for node in calls[:5]:
    arguments = ", ".join(str(a) for a in node.args)
    print(f"  {node.name} = {node.target}({arguments[:50]})")
print("all:", dict(Counter(str(node.target).split(".")[1] for node in calls)))

# %%
# Every step of `forward` is there, the normalisation first (`sub`, `div`
# with the `mean` and `std` buffers), then the convolutions, BatchNorms
# (now fixed: `eval()` mode was captured), GELUs and pools. The weights are
# inputs of the graph (the `p_...` and `b_...` names). `.module()` turns
# the program back into a callable module; `torch.export.save` writes a
# `.pt2` file that `torch.export.load` reads without the `CifarNet` class:

torch.export.save(exported, "cifarnet.pt2")
exported_module = torch.export.load("cifarnet.pt2").module()
x10 = to_float(test_images[:10])
with torch.inference_mode():
    gap = (exported_module(x10) - net(x10)).abs().max().item()
print(f"exported with batch {len(example_batch)}, run on {len(x10)}: "
      f"largest difference {gap:.2g}")

# %%
# And the data-dependent branch? `torch.export` refuses it. It first prints
# the part of the graph it managed to trace (we catch that and show it
# without its file-path comments), then raises an error that names the
# problem: it cannot decide `x.sum() > 0` without real data.

shapes_log = logging.getLogger("torch.fx.experimental.symbolic_shapes")
level = shapes_log.level
shapes_log.setLevel(logging.ERROR)  # it would also log a warning with file paths
partial = io.StringIO()
try:
    with contextlib.redirect_stderr(partial):
        torch.export.export(SignGate(), (torch.ones(3),))
except Exception as error:
    print(f"Expected error ({type(error).__name__}): {str(error).splitlines()[0]}")
finally:
    shapes_log.setLevel(level)
lines = [line.strip() for line in partial.getvalue().splitlines()]
lines = [line for line in lines if "= torch.ops" in line]
print("traced before it stopped:")
for line in dict.fromkeys(lines):  # it prints the graph twice; once is enough
    print("  " + line.split(";")[0])

# %%
# The graph stops at `item`: turning a tensor into a Python `bool` needs
# its value, which an exporter does not have. The fix is to make the
# branch part of the graph: `torch.cond(predicate, true_fn, false_fn,
# operands)` is an operator whose two branches are both captured, and the
# choice is made at run time.


class CondGate(nn.Module):
    """SignGate with the branch inside the graph."""

    def forward(self, x: torch.Tensor) -> torch.Tensor:
        return torch.cond(x.sum() > 0, lambda t: t * 2, lambda t: -t, (x,))


cond_program = torch.export.export(CondGate(), (torch.ones(3),)).module()
print("exported on [-1, -1, -1]:", cond_program(negative).tolist())
print("exported on [ 1,  1,  1]:", cond_program(torch.ones(3)).tolist())

# %%
# Both branches now give the eager answers. `torch.export` is what PyTorch's
# other deployment paths build on: `torch.onnx.export` uses it (next
# section), as do ExecuTorch for phones and AOTInductor for compiled C++
# libraries.
#
# ## 8. ONNX: a model file for any runtime
#
# **ONNX** (Open Neural Network Exchange) is a file format for computation
# graphs, with a standard operator set, that many runtimes execute: ONNX
# Runtime on servers, phones and browsers, TensorRT, OpenVINO, and others.
# `torch.onnx.export(..., dynamo=True)` (the default in recent PyTorch)
# goes through `torch.export`, then translates the graph to ONNX operators
# with the `onnxscript` package. We name the input and output, keep the
# batch size dynamic, store the weights inside the one file
# (`external_data=False`; the default writes them to a separate `.data`
# file, needed only above ONNX's 2 GB limit), and silence its progress
# messages (`verbose=False`).

onnx_path = Path("cifarnet.onnx")
start = time.perf_counter()
torch.onnx.export(
    net,
    (x,),
    onnx_path,
    dynamo=True,
    dynamic_shapes=({0: torch.export.Dim("batch")},),
    input_names=["images"],
    output_names=["logits"],
    external_data=False,
    verbose=False,
)
print(f"exported in {time.perf_counter() - start:.1f} s: {onnx_path}, "
      f"{onnx_path.stat().st_size / 1e3:,.0f} kB")
onnx.checker.check_model(str(onnx_path), full_check=True)
print("onnx.checker: the model is valid")

onnx_model = onnx.load(onnx_path)
op_types = Counter(node.op_type for node in onnx_model.graph.node)
print("ONNX operators:", dict(op_types))
batch_norms = sum(isinstance(m, nn.BatchNorm2d) for m in net.modules())
print(f"BatchNorm layers in PyTorch: {batch_norms}, "
      f"BatchNormalization nodes in ONNX: {op_types['BatchNormalization']}")

# %%
# The exporter also optimised the graph: where a BatchNorm directly follows
# a convolution, its scale and shift can be **folded** into the
# convolution's weights and bias (at inference BatchNorm is a fixed affine
# map), which removes a layer of work; where a max pool sits in between,
# the BatchNorm stays. The counts above show how many were folded.
#
# Now the check that matters: does ONNX Runtime compute the same function
# as PyTorch? We run both on **every** test image, PyTorch in float32
# eager mode, channels-first, without autocast (section 2), and compare
# the logits.

providers = ["CPUExecutionProvider"]  # GPU providers come in other packages
session = ort.InferenceSession(str(onnx_path), providers=providers)
for item in session.get_inputs() + session.get_outputs():
    print(f"{item.name}: {item.shape} {item.type}")


def logits_in_batches(run, images: torch.Tensor, size: int = 1_000) -> np.ndarray:
    """`run` (float32 tensor N×3×32×32 -> logits array) on all images."""
    starts = range(0, len(images), size)
    return np.concatenate([run(to_float(images[s : s + size])) for s in starts])


with torch.inference_mode():
    start = time.perf_counter()
    torch_logits = logits_in_batches(lambda b: net(b).numpy(), test_images)
    torch_seconds = time.perf_counter() - start
start = time.perf_counter()
ort_logits = logits_in_batches(
    lambda b: session.run(["logits"], {"images": b.numpy()})[0], test_images
)
ort_seconds = time.perf_counter() - start
print(f"{len(test_images):,} test images: PyTorch {torch_seconds:.1f} s, "
      f"ONNX Runtime {ort_seconds:.1f} s")

# %%

max_difference = np.abs(ort_logits - torch_logits).max()
torch_predicted, ort_predicted = torch_logits.argmax(1), ort_logits.argmax(1)
changed = np.flatnonzero(torch_predicted != ort_predicted)
labels = test_labels.numpy()
verdict = "met" if max_difference <= 1e-4 else "NOT met"
print(f"largest absolute difference of a logit: {max_difference:.2g} "
      f"(tolerance 1e-4: {verdict})")
print(f"for scale, the largest logit: {np.abs(torch_logits).max():.1f}")
print(f"images whose predicted class differs: {len(changed)} of {len(labels):,}")
print(f"test accuracy: PyTorch {(torch_predicted == labels).mean():.2%}, "
      f"ONNX Runtime {(ort_predicted == labels).mean():.2%}")
if len(changed):
    top_two = np.sort(torch_logits[changed], axis=1)[:, -2:]
    print("  their gap between the two highest PyTorch logits:",
          np.round(top_two[:, 1] - top_two[:, 0], 6).tolist())

# %%
# The two runtimes use different kernels (ONNX Runtime's own convolutions,
# with BatchNorm folded in), so the logits differ in the last bits of
# float32: compare the largest difference printed above with the size of
# the logits themselves. A predicted class can only change where the two
# highest logits of an image are closer than that difference; if any image
# did change above, the gap of its two highest logits is printed with it.
# The accuracy here is one view per image in float32; Day 14 reported its
# test accuracy with test-time augmentation (the image and its mirror) in
# bfloat16, so the two numbers can differ a little.
#
# ## 9. Optional deep dive: dynamic int8 quantization
#
# *Quantization* stores weights as 8-bit integers instead of 32-bit floats:
# a file four times smaller and, on hardware with fast integer arithmetic,
# faster inference. ONNX Runtime's `quantize_dynamic` converts the weights
# once and quantizes each layer's *activations* on the fly, from their
# range in the current input. It was designed for MatMul-heavy models
# (Transformers, LSTMs); by default it also converts convolutions
# (`ConvInteger`), which is what matters for our network, whose only
# matrix product is the small head. `quant_pre_process` (shape inference
# and graph clean-up) is the recommended first step.

from onnxruntime.quantization import QuantType, quant_pre_process, quantize_dynamic

quant_pre_process(str(onnx_path), "cifarnet_prepared.onnx")
int8_path = Path("cifarnet_int8.onnx")
quantize_dynamic("cifarnet_prepared.onnx", int8_path, weight_type=QuantType.QInt8)
int8_ops = Counter(node.op_type for node in onnx.load(int8_path).graph.node)
print(f"size: {onnx_path.stat().st_size / 1e3:,.0f} kB -> "
      f"{int8_path.stat().st_size / 1e3:,.0f} kB")
print("int8 model's operators:", dict(int8_ops))

# %%
# Every convolution became a `ConvInteger` (integer weights, and a
# `DynamicQuantizeLinear` in front that quantizes its input), and the
# head a `MatMulInteger`. Accuracy, on the same test images for both
# models (a paired comparison: we count the images whose verdict flips):

n_quant = course.pick(full=1_000, smoke=120)
chosen = subset[:n_quant].numpy()
session_int8 = ort.InferenceSession(str(int8_path), providers=providers)
int8_logits = logits_in_batches(
    lambda b: session_int8.run(["logits"], {"images": b.numpy()})[0],
    test_images[chosen],
)
right_fp32 = ort_logits[chosen].argmax(1) == labels[chosen]
right_int8 = int8_logits.argmax(1) == labels[chosen]
print(f"{n_quant:,} test images: float32 {right_fp32.mean():.1%}, "
      f"int8 {right_int8.mean():.1%}")
print(f"right -> wrong: {(right_fp32 & ~right_int8).sum()}, "
      f"wrong -> right: {(~right_fp32 & right_int8).sum()}, "
      f"net change: {right_int8.mean() - right_fp32.mean():+.1%}")

# %%
# Quantization adds a small error to every logit; the counts above are the
# images where that error changed the verdict, and the net change is what
# int8 cost (or gained) in accuracy on this sample of the test set. A
# change of a few images in a thousand says that int8 costs little here;
# it does not make either model the better one. The speed is in the next
# section's table.

# %%
# ## 10. File sizes and speed, side by side
#
# Now the four ways to run the network, plus the int8 model, on the same
# inputs: one image (the latency a single user waits) and a batch of 64
# (throughput for offline work). Each runtime is called several times
# after untimed warm-up calls (the first calls allocate memory and pick
# kernels), and we keep two numbers: the **median**, what a caller
# typically waited, and the **fastest** call, what the runtime costs when
# nothing else disturbs it. The runtimes are timed one after the other,
# not taking turns: after each call their thread pools keep their threads
# busy-waiting for a moment, ready for the next call, which would slow
# whichever runtime ran next. PyTorch uses its default number of threads
# and ONNX Runtime its own default.

x64 = to_float(test_images[:64])
x1 = x64[:1]


def timings(runs: dict, batch: torch.Tensor, repeats: int) -> dict[str, tuple]:
    """(median, fastest) milliseconds of each `run(batch)`, one run at a time."""
    found = {}
    for name, run in runs.items():
        for _ in range(warmup):  # allocate memory, pick kernels
            run(batch)
        times = []
        for _ in range(repeats):
            start = time.perf_counter()
            run(batch)
            times.append(1000 * (time.perf_counter() - start))
        found[name] = (statistics.median(times), min(times))
    return found


def onnx_runner(ort_session: ort.InferenceSession):
    """A function of a float32 tensor, like the PyTorch modules, for the timing."""
    return lambda batch: ort_session.run(None, {"images": batch.numpy()})


files = {
    "PyTorch eager": "cifarnet_state.pt",
    "torch.export .module()": "cifarnet.pt2",
    "TorchScript (traced)": "cifarnet_traced.pt",
    "ONNX Runtime": "cifarnet.onnx",
    "ONNX Runtime, int8": "cifarnet_int8.onnx",
}
runs = dict(zip(files, [net, exported_module, reloaded, onnx_runner(session),
                        onnx_runner(session_int8)], strict=True))
repeats_1 = course.pick(full=30, smoke=2)
repeats_64 = course.pick(full=8, smoke=1)
warmup = course.pick(full=2, smoke=1)
with torch.inference_mode():
    batch_1 = timings(runs, x1, repeats_1)
    batch_64 = timings(runs, x64, repeats_64)
rows = [
    {
        "runtime": name,
        "file": file,
        "kB": Path(file).stat().st_size / 1e3,
        "1 median": batch_1[name][0],
        "1 fastest": batch_1[name][1],
        "64 median": batch_64[name][0],
        "64 fastest": batch_64[name][1],
    }
    for name, file in files.items()
]
print(f"milliseconds per call, batch of 1 and of 64 images; {repeats_1} and "
      f"{repeats_64} calls; threads: PyTorch {torch.get_num_threads()}, "
      f"ONNX Runtime its default (one per physical core)")
print(format_table(rows, [
    ("runtime", "runtime"),
    ("file", "file"),
    ("kB", "size (kB)", ",.0f"),
    ("1 median", "1: median", ".2f"),
    ("1 fastest", "fastest", ".2f"),
    ("64 median", "64: median", ".1f"),
    ("64 fastest", "fastest", ".1f"),
]))
best_1 = min(rows, key=lambda row: row["1 fastest"])
best_64 = min(rows, key=lambda row: row["64 fastest"])
print(f"fastest call at batch 1: {best_1['runtime']}; at batch 64: "
      f"{best_64['runtime']} ({64 / best_64['64 fastest'] * 1000:,.0f} images/s)")

# %%
# Read the table with two cautions: the numbers depend on the CPU and the
# libraries, and on a busy machine (this page was built on a shared
# two-core machine, with other jobs running) the medians can move a lot
# between two runs; the fastest calls are steadier. Where a row's median is
# far above its fastest call, something else was using the CPU. Trust
# large differences, not small ones, and time your own machine. What the
# rows measure:
#
# - **size**: the float32 files all hold the same 1.2 MB of weights, plus
#   what else each carries. The `.pt2` archive also stores the graph, its
#   metadata and the example inputs given to `export` (why section 7
#   exported with two images, not 64). The int8 file is about a quarter.
# - **batch 1**: one small image is little arithmetic, so the time goes
#   to overhead per operation. Eager PyTorch dispatches each operation from
#   Python; TorchScript runs its own interpreter; an exported program's
#   `.module()` is a graph executed from Python that also checks its
#   input's shape on every call; ONNX Runtime runs the whole graph in C++.
# - **batch 64**: the arithmetic dominates, and the kernels decide. ONNX
#   Runtime rewrites the graph when it loads it (BatchNorm folded into the
#   convolutions, operations fused, memory layouts chosen for its CPU
#   kernels); PyTorch runs each operation's kernel (oneDNN's, for the
#   convolutions) in turn. Which is faster depends on the CPU, the batch
#   size and the library versions, so measure at the batch sizes you will
#   serve. The three PyTorch rows run the same kernels, so at batch 64 a
#   large gap between them is the machine's noise, not the file format.
# - **int8**: the smallest file; compare its speed with the float32 row.
#   Quantizing every activation on the fly, and `ConvInteger`, are not
#   ONNX Runtime's fast path for convolutions, so dynamic quantization
#   rarely speeds up a conv net. For conv nets, *static* quantization
#   (activation ranges measured once, on calibration images) is the usual
#   choice.
#
# ## 11. Deployment: a prediction script without PyTorch
#
# The ONNX file plus ONNX Runtime is a complete inference engine. What is
# left is the code around it: read image files, turn them into the tensor
# the model expects, run it, and report. That code is the part that breaks
# most often in practice (channels-last arrays, images not divided by 255,
# greyscale files, giant uploads), so it checks everything and says
# clearly what is wrong.
#
# The course keeps the script as a real file in its package,
# `course/serving/predict.py`, so that tests can run it. We copy it, with
# the model, into a `deploy/` folder: those two files are all that a server
# needs, plus `pip install onnxruntime numpy pillow`. Here it is in full:

deploy = Path("deploy")
deploy.mkdir(exist_ok=True)
shutil.copy(predict_module.__file__, deploy / "predict.py")
shutil.copy(onnx_path, deploy / "cifarnet.onnx")
print((deploy / "predict.py").read_text())

# %%
# Worth noticing in it:
#
# - **preprocessing matches training**: RGB, 32×32, `float32` in `[0, 1]`,
#   channels-first `N×3×32×32`; no mean and std, because the model
#   normalises inside. A 32×32 PNG of a test image becomes exactly the
#   tensor PyTorch saw (the crop and resize leave it unchanged);
# - **limits before work**: the file size is checked before reading, the
#   pixel count from the image header before decoding;
# - `np.load(..., allow_pickle=False)`: the same lesson as
#   `weights_only=True` in section 5;
# - one line per problem on stderr and an **exit status** a calling program
#   can test: 0 all classified, 1 some refused, 2 unusable model or command.
#
# Now some real test images as PNG files, plus a greyscale copy and an
# enlarged copy of the first, to check that those are converted:

images_dir = Path("images")
images_dir.mkdir(exist_ok=True)
generator = torch.Generator().manual_seed(1)
shown = torch.randperm(len(test_images), generator=generator)[:6]
png_files = []
for i in shown.tolist():
    png = images_dir / f"test{i:05d}_{CLASSES[test_labels[i]]}.png"
    Image.fromarray(test_images[i].permute(1, 2, 0).numpy()).save(png)
    png_files.append(png)
with Image.open(png_files[0]) as first:
    first.convert("L").save(images_dir / "greyscale.png")
    enlarged = first.resize((640, 480), Image.Resampling.BICUBIC)
    enlarged.save(images_dir / "enlarged.png")
extra_files = [images_dir / "greyscale.png", images_dir / "enlarged.png"]
print("written:", ", ".join(str(p) for p in png_files + extra_files))

# %%
# To *prove* that the script does not need PyTorch, we run it through a
# tiny wrapper, `no_torch.py`, which installs an import hook that makes
# every `import torch` fail and, at exit, reports how many times something
# asked for torch:

Path("no_torch.py").write_text('''\
"""Run a script with `import torch` blocked: python no_torch.py SCRIPT [ARGS...]"""
import atexit
import os
import runpy
import sys


class BlockTorch:
    """An import hook: refuses torch and its submodules, counts the attempts."""

    attempts = 0

    def find_spec(self, name, path=None, target=None):
        if name == "torch" or name.startswith("torch."):
            BlockTorch.attempts += 1
            raise ModuleNotFoundError(f"no_torch.py blocked `import {name}`")
        return None  # anything else: the normal import machinery


def report():
    loaded = "torch" in sys.modules
    print(f"[no_torch] imports of torch tried: {BlockTorch.attempts}, "
          f"torch loaded: {loaded}", file=sys.stderr)


sys.meta_path.insert(0, BlockTorch())
atexit.register(report)
sys.argv = sys.argv[1:]  # the script sees its own name as argv[0]
sys.path.insert(0, os.path.dirname(os.path.abspath(sys.argv[0])))
runpy.run_path(sys.argv[0], run_name="__main__")
''')

command = [sys.executable, "no_torch.py", "deploy/predict.py"]
command += ["deploy/cifarnet.onnx"] + [str(p) for p in png_files + extra_files]
print("$ python no_torch.py deploy/predict.py deploy/cifarnet.onnx images/*.png")
result = subprocess.run(command, capture_output=True, text=True, timeout=120)
print(result.stdout + result.stderr + f"exit status: {result.returncode}")

# %%
# No import of torch was even attempted, and the script classified every
# file. Do its answers agree with PyTorch's on the same test images?

script_answers = dict(line.rsplit(": ", 1) for line in result.stdout.splitlines())
for png, i in zip(png_files, shown.tolist(), strict=True):
    probability = torch.from_numpy(torch_logits[i]).softmax(0)
    k = int(probability.argmax())
    print(f"{png.name:24s} script: {script_answers[str(png)]:22s} "
          f"PyTorch: {CLASSES[k]} ({probability[k]:.1%})")

# %%

fig, axes = plt.subplots(1, len(png_files) + 2, figsize=(14, 2.6))
for ax, png in zip(axes, png_files + extra_files, strict=True):
    with Image.open(png) as picture:
        ax.imshow(picture.convert("RGB"))
    ax.set_title(f"{png.stem[:16]}\n→ {script_answers[str(png)]}", fontsize=8)
    ax.axis("off")
fig.suptitle("Files given to predict.py and its answers (file name → class)")
plt.tight_layout()
plt.show()

# %%
# Bad input, on purpose: a file that does not exist, a text file, a NumPy
# array in channels-last layout (`N×32×32×3`, what Pillow and NumPy give
# you), one left in 0-255 instead of 0-1, and a *decompression bomb*: a
# PNG file of a few dozen bytes whose header claims 100,000 × 100,000
# pixels (ten billion: 30 GB once decoded to RGB).


def png_claiming(width: int, height: int, path: Path) -> None:
    """Write a tiny PNG whose header claims width × height pixels."""
    buffer = io.BytesIO()
    Image.new("L", (1, 1)).save(buffer, "PNG")
    data = bytearray(buffer.getvalue())
    data[16:24] = struct.pack(">II", width, height)  # IHDR chunk: width, height
    data[29:33] = struct.pack(">I", zlib.crc32(data[12:29]))  # the chunk's checksum
    path.write_bytes(bytes(data))


Path("notes.txt").write_text("this is not an image")
np.save("channels_last.npy", to_float(test_images[:2]).permute(0, 2, 3, 1).numpy())
np.save("not_scaled.npy", test_images[:2].float().numpy())
png_claiming(100_000, 100_000, Path("bomb.png"))
bad = ["missing.png", "notes.txt", "channels_last.npy", "not_scaled.npy"]
bad += ["bomb.png"]

start = time.perf_counter()
result = subprocess.run(
    [sys.executable, "deploy/predict.py", "deploy/cifarnet.onnx", *bad],
    capture_output=True, text=True, timeout=120,
)
print("Expected errors (bad input on purpose), from stderr:")
print(result.stderr + f"exit status: {result.returncode}, "
      f"after {time.perf_counter() - start:.1f} s")

# %%
# Each bad file gets one line saying what is wrong, and the exit status
# says that something was refused. The bomb was refused from its header,
# before a byte of it was decoded: the whole run, Python's start-up
# included, took the time printed. (Pillow has a guard of its own, a
# warning above about 89 million pixels and an error above twice that; the
# script replaces it with one clear limit.)
#
# ## 12. A minimal HTTP prediction service
#
# Other programs usually ask for predictions over the network. Python's
# standard library has enough for a small service: `http.server`. A
# *handler* class answers each request; `POST /predict` takes the bytes of
# an image (or a `.npy` array) as the request body and answers JSON, and
# bad input gets a 4xx status with a JSON error. It reuses the script's
# `Predictor` and its checks, so the service still needs no PyTorch.
#
# For each request, `http.server` calls the handler's `do_GET` or
# `do_POST`; `self.path` and `self.headers` describe the request,
# `self.rfile` holds its body, and the answer is written with
# `send_response`, `send_header` and `self.wfile`. Two defences matter even
# in a small service: the body's announced size is checked *before* it is
# read (a 413 answer), and `timeout` drops a client that stops sending
# halfway, which would otherwise hold a thread forever.


class PredictionHandler(BaseHTTPRequestHandler):
    """POST /predict: an image (or .npy) in, JSON predictions out. GET /health."""

    timeout = 10  # seconds a client may stall mid-request before it is dropped

    def do_GET(self) -> None:
        if self.path != "/health":
            return self.send_json(404, {"error": f"no such path: {self.path}"})
        classes = list(self.server.predictor.classes)
        self.send_json(200, {"status": "ok", "classes": classes})

    def do_POST(self) -> None:
        if self.path != "/predict":
            return self.send_json(404, {"error": f"no such path: {self.path}"})
        length = self.headers.get("Content-Length", "")
        if not length.isdigit():
            message = "a Content-Length header is required"
            return self.send_json(411, {"error": message})
        if int(length) > MAX_FILE_BYTES:
            message = f"the body is {int(length):,} bytes, over {MAX_FILE_BYTES:,}"
            return self.send_json(413, {"error": message})  # refused unread
        body = self.rfile.read(int(length))
        try:
            predictions = self.server.predictor.classify(body)
        except InputError as err:
            return self.send_json(400, {"error": str(err)})
        self.send_json(200, {"predictions": predictions})

    def send_json(self, status: int, payload: dict) -> None:
        body = json.dumps(payload).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(body)))
        self.end_headers()
        self.wfile.write(body)

    def log_message(self, format: str, *args: object) -> None:
        pass  # no line per request on stderr


def start_in_background(
    predictor: Predictor, host: str = "127.0.0.1", port: int = 0
) -> tuple[ThreadingHTTPServer, threading.Thread]:
    """Serve `predictor` on host:port (port 0: any free port) from a thread."""
    server = ThreadingHTTPServer((host, port), PredictionHandler)
    server.predictor = predictor
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    return server, thread


# %%
# The server listens on `127.0.0.1`, the loopback address: only programs on
# this machine can reach it. Port 0 asks the operating system for any free
# port, so two notebooks never collide. `ThreadingHTTPServer` handles each
# request in its own thread, and its `serve_forever` loop runs in a
# background thread so the notebook stays usable.

server, thread = start_in_background(Predictor(deploy / "cifarnet.onnx"))
host, port = server.server_address[:2]
url = f"http://{host}:{port}"
print(f"serving on {url}")

# talk to the local server directly, never through a proxy set in the environment
client = urllib.request.build_opener(urllib.request.ProxyHandler({}))
with client.open(f"{url}/health", timeout=10) as response:
    print("GET /health:", response.status, json.load(response)["status"])

request = urllib.request.Request(
    f"{url}/predict", data=png_files[0].read_bytes(), method="POST",
    headers={"Content-Type": "image/png"},
)
with client.open(request, timeout=10) as response:
    answer = json.load(response)["predictions"][0]
top3 = sorted(answer["probabilities"].items(), key=lambda kv: -kv[1])[:3]
print(f"POST /predict {png_files[0].name}: {response.status}, "
      f"{answer['class']} ({answer['probability']:.1%})")
print("  top three:", ", ".join(f"{c} {p:.1%}" for c, p in top3))

# %%
# The same request with the text file instead of an image. `urllib` raises
# `HTTPError` for a 4xx status; the error's body is the service's JSON:

request = urllib.request.Request(
    f"{url}/predict", data=Path("notes.txt").read_bytes(), method="POST"
)
try:
    client.open(request, timeout=10)
except urllib.error.HTTPError as error:
    print(f"Expected error: HTTP {error.code}, {json.load(error)}")

# %%
# Stopping it cleanly: `shutdown()` ends the `serve_forever` loop (and
# waits for it), `server_close()` releases the port, and the thread ends.

server.shutdown()
server.server_close()
thread.join(timeout=10)
print(f"service stopped: {not thread.is_alive()}")

# %%
# The course's copy, `course/serving/service.py`, holds these two
# definitions unchanged (the tests check that) and a `main` function, so
# that next to `predict.py` it runs on its own, without PyTorch:
# `python service.py cifarnet.onnx --port 8000`. `http.server` is fine for
# learning and for a trusted network; it has no TLS or authentication. A
# production service puts the same `Predictor` behind a hardened server.

elapsed = time.perf_counter() - lesson_start
print(f"lesson run time: {elapsed:.0f} s")

# %%
# ## 13. Summary
#
# - Before predicting, **`model.eval()`** (Dropout off, BatchNorm on its
#   running statistics; in training mode a forward pass even changes them)
#   and **`torch.inference_mode()`** (no autograd graph: less memory, a
#   little less time).
# - Save the **`state_dict`** and load it with **`weights_only=True`**. A
#   whole pickled module needs its class at the same import path, and
#   unpickling an untrusted file can run any code.
# - **`torch.jit.trace`** records the operations of one example run: fast
#   and widespread, but deprecated, and blind to data-dependent control
#   flow. **`torch.export`** captures a sound graph, refuses what it cannot
#   capture, and handles branches with `torch.cond`.
# - **ONNX** (`torch.onnx.export(..., dynamo=True)`, with a dynamic batch
#   dimension) runs anywhere ONNX Runtime does; check every export against
#   PyTorch on real data, with a tolerance and the predicted classes.
# - Measure speed after warm-up, at the batch sizes you will serve, and
#   keep both the median and the fastest call: on a busy machine they
#   differ a lot. File size and speed differ between runtimes.
# - The code around the model (decoding, resizing, scaling, layout) is
#   where deployments break: validate inputs, set limits before doing
#   work, and fail with a clear message and status.
#
# ## 14. Exercises
#
# 1. Export the network with `torch.export` **without** `dynamic_shapes`,
#    from a batch of one image. What input shape does the exported graph
#    have, and what happens when you give its `.module()` two images?
# 2. ONNX Runtime uses one thread per physical core by default. Measure the
#    batch-64 latency with `SessionOptions().intra_op_num_threads = 1` and
#    compare it with the table of section 10.
# 3. `predict.py` hard-codes the class names. Store them **in the ONNX
#    file** as metadata (`onnx.helper.set_model_props`) and read them back
#    with ONNX Runtime (`session.get_modelmeta().custom_metadata_map`), so
#    that the labels travel with the model.

# %%
# **Solution 1.** Without `dynamic_shapes` every dimension is fixed to the
# example's size, and the exported module checks its inputs against it.
# `torch.onnx.export` without `dynamic_shapes` does the same, and ONNX
# Runtime then refuses any other batch size.

fixed = torch.export.export(net, (x64[:1],))
fixed_input = next(n for n in fixed.graph.nodes if n.name == "x")
print("input x:", list(fixed_input.meta["val"].shape))
try:
    fixed.module()(x64[:2])
except Exception as error:
    print(f"Expected error ({type(error).__name__}): {str(error).splitlines()[0]}")

# %%
# **Solution 2.** A session with one intra-op thread, timed like the table
# next to the default session.
# Which wins depends on the machine: with idle cores, more threads share
# the work of a batch; on a busy machine, or with several processes each
# running a session, the threads compete for the same cores and one thread
# per session can be as fast or faster.

options = ort.SessionOptions()
options.intra_op_num_threads = 1
single = ort.InferenceSession(str(onnx_path), options, providers=providers)
threads = {"default threads": onnx_runner(session), "1 thread": onnx_runner(single)}
for name, (median, fastest) in timings(threads, x64, repeats_64).items():
    print(f"batch 64, {name}: median {median:.1f} ms, fastest {fastest:.1f} ms")

# %%
# **Solution 3.** ONNX files carry string metadata (`metadata_props`);
# JSON keeps the list intact:

labelled = onnx.load(onnx_path)
onnx.helper.set_model_props(labelled, {"classes": json.dumps(CLASSES)})
onnx.save(labelled, "cifarnet_labelled.onnx")
labelled_session = ort.InferenceSession(
    "cifarnet_labelled.onnx", providers=["CPUExecutionProvider"]
)
metadata = labelled_session.get_modelmeta().custom_metadata_map
print("classes from the file:", json.loads(metadata["classes"]))

# %%
# `Predictor` could then take `classes` from the metadata and fall back to
# CIFAR-10's names.
#
# Next, [Day 20](day20_tuning.ipynb) plans a small project and tunes its
# hyperparameters with a systematic search.
