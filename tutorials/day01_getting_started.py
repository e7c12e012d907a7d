"""
# Day 1 · Getting started: a beginner template for Google Colab (初學者入門範本)

By the end of this lesson you will have PyTorch installed (or running on Google
Colab with a GPU), know how to check what your machine offers, and have trained
your first model: a straight line fitted to noisy data, with the loss printed,
plotted, and the learned numbers compared with the true ones. Every later lesson
follows the same shape, so this notebook is also a template you can copy.

**You will learn:** installing PyTorch (CPU or CUDA build) · setting up Colab or a
local editor · the four core ideas: tensor, device, autograd, module · a first
model trained end to end

**Before you start:** basic Python (variables, functions, `for` loops) · no
PyTorch needed · **Reading time:** about 2 hours
"""

# %%
# ## 1. What PyTorch is, and how this course runs
#
# PyTorch is a Python library for numerical computing with two super-powers:
# it runs array maths on a GPU as easily as on the CPU, and it computes
# **gradients** (derivatives) of your calculations automatically. Deep learning
# is exactly that: a big calculation with adjustable numbers (parameters), a
# score of how wrong it is (the loss), and gradients that say how to nudge each
# parameter to lower the loss.
#
# Every lesson of this course is a notebook that runs top to bottom. You can
# read it on the site, open it in Google Colab, or run it on your own machine.
# Run the cells in order: later cells use names defined by earlier ones.

# %%
# ## 2. Installing PyTorch
#
# ### 2.1 On Google Colab: nothing to install
#
# Colab's machines come with PyTorch, torchvision, NumPy and Matplotlib
# installed and matched to Colab's GPU drivers. **Do not `pip install torch` on
# Colab**: replacing its build can leave you with one that no longer sees the
# GPU. If you ever do install over a preinstalled package, use
# *Runtime > Restart session* before importing it again.
#
# ### 2.2 On your own machine: pip, and CPU vs CUDA builds
#
# PyTorch ships in several **builds** of the same version. They differ in which
# hardware they can use:
#
# | Build | Runs on | Size | Pick it when |
# | --- | --- | --- | --- |
# | CPU | any computer | a few hundred MB | you have no NVIDIA GPU |
# | CUDA (`cu126`, ...) | an NVIDIA GPU and the CPU | a few GB | you have one |
# | macOS | an Apple GPU (`mps`) and the CPU | small | you are on a Mac |
#
# First make a **virtual environment**, so the course's packages do not mix with
# the rest of your system (on Windows, activate with `.venv\Scripts\activate`):
#
# ```bash
# python -m venv .venv
# source .venv/bin/activate
# python -m pip install --upgrade pip
# ```
#
# Then install one build. The index URL chooses it:
#
# ```bash
# # CPU-only build (Linux and Windows)
# pip install torch torchvision --index-url https://download.pytorch.org/whl/cpu
#
# # CUDA build, here for CUDA 12.6: replace cu126 by the tag you choose below
# pip install torch torchvision --index-url https://download.pytorch.org/whl/cu126
#
# # macOS: the normal wheel already includes Apple-GPU (MPS) support
# pip install torch torchvision
# ```
#
# A plain `pip install torch` (no index URL) takes the wheel from PyPI: on Linux
# that is a CUDA build, on Windows a CPU-only build. Conda users can install
# from the `conda-forge` channel; pip is the route PyTorch's own site documents.
#
# ### 2.3 Choosing the CUDA build
#
# A CUDA build contains its own copy of the CUDA libraries, so you do **not**
# need to install the CUDA Toolkit; you only need a recent NVIDIA **driver**.
# The driver decides which CUDA versions can run:
#
# 1. Run `nvidia-smi` in a terminal. Its header shows `CUDA Version: X.Y`: the
#    newest CUDA version your driver supports (not what is installed).
# 2. Open the selector at <https://pytorch.org/get-started/locally/>; it lists
#    the CUDA tags offered for the current release (`cu126` means CUDA 12.6).
# 3. Pick the newest tag that is **not newer** than the driver's `X.Y`. If none
#    fits, or your GPU is very new (newer GPUs need newer CUDA builds), update
#    the driver first.
# 4. Check that it worked:
#
# ```bash
# python -c "import torch; print(torch.__version__, torch.version.cuda)"
# python -c "import torch; print(torch.cuda.is_available())"
# ```
#
# The second line must print `True` on a machine with an NVIDIA GPU. If it is
# `False`, you most likely installed the CPU build (`torch.version.cuda`, the
# first line's second value, is then `None`) or the driver is older than the
# build's CUDA.
#
# Here is what the build running this notebook says about itself:

import torch

cuda_build = torch.version.cuda  # None for a CPU-only build
print(f"torch {torch.__version__}")
if cuda_build is None:
    print("This is a CPU-only build: it cannot use an NVIDIA GPU.")
else:
    print(
        f"This is a CUDA {cuda_build} build: it can use an NVIDIA GPU "
        "whose driver supports it."
    )
    if not torch.cuda.is_available():
        print(
            "CUDA available: False. The build could use a GPU, but this machine "
            "offers none (no NVIDIA GPU, or no driver): PyTorch runs on the CPU "
            "instead. That is fine for Week 1; on Colab, choose a GPU runtime to "
            "see the other answer."
        )

# %%
# The lessons also use `course`, this course's small helper package. The first
# code cell of every course notebook installs it where it is missing (on Colab,
# for example) and leaves an installed one alone; Colab's own torch already
# satisfies its requirements, so it is kept. On your own machine, `pip install .`
# in a clone of the course repository installs `course` together with its
# dependencies (torch, torchvision, NumPy, Matplotlib, tqdm): install the torch
# build you chose first, so that pip keeps it.

# %%
# ## 3. Setting up Colab or an editor
#
# ### 3.1 Google Colab, with a GPU
#
# 1. Open the notebook in Colab: download it from the course page and use
#    *File > Upload notebook* at <https://colab.research.google.com>.
# 2. Choose the hardware. A new Colab session runs on a CPU; for a GPU use
#    **Runtime > Change runtime type**, then under *Hardware accelerator* pick
#    a GPU (the free tier offers a **T4 GPU**) and click **Save**. This starts a
#    fresh machine: any variables you had are gone, so run the notebook again
#    from the top.
# 3. Check the GPU from a cell. Lines starting with `!` run as shell commands:
#
#    ```text
#    !nvidia-smi
#    ```
#
# 4. Run everything with **Runtime > Run all**. A cell that is still running
#    shows a spinning icon beside it.
#
# Colab machines are temporary: after a while idle, or after the session's time
# limit, the machine and every file on it are deleted. Save what you want to
# keep to Google Drive, or download it. To use Drive, run
# `from google.colab import drive; drive.mount("/content/drive")` in a cell.
# The free GPU is shared, so release it
# (*Runtime > Disconnect and delete runtime*) when you are done.
#
# ### 3.2 A local editor
#
# - **VS Code** with the *Python* and *Jupyter* extensions: open the course
#   folder, choose your virtual environment with *Python: Select Interpreter*
#   (from the command palette, Ctrl+Shift+P), then open a notebook and pick the
#   same environment as its kernel. VS Code also runs the course's `.py` lesson
#   files cell by cell: each `# %%` line starts a cell with a *Run Cell* button.
# - **JupyterLab**: `pip install jupyterlab`, then `jupyter lab` in the course
#   folder opens it in your browser.
#
# Whichever you use, the next cell tells you which Python it really runs.

# %%
# ## 4. Environment report
#
# Before training anything, check what the machine gives you. When something
# behaves oddly (slow training, "CUDA not available"), this report is the first
# thing to look at, and the first thing to paste when you ask for help.
#
# The **device** is where tensors live and where the maths runs: `cuda` for an
# NVIDIA GPU, `mps` for an Apple-silicon GPU, `cpu` otherwise. We choose it once,
# preferring a GPU when there is one, and use the name `device` everywhere after.
# ([Day 4](day04_gpu.ipynb) is about devices in depth.)

import os
import platform
import sys

if torch.cuda.is_available():
    device = torch.device("cuda")
elif torch.backends.mps.is_available():
    device = torch.device("mps")
else:
    device = torch.device("cpu")

report = {
    "Python": sys.version.split()[0],
    "operating system": f"{platform.system()} on {platform.machine()}",
    "torch": torch.__version__,
    "CUDA build": torch.version.cuda or "none (CPU-only build)",
    "CUDA available": torch.cuda.is_available(),
    "GPU": torch.cuda.get_device_name(0) if torch.cuda.is_available() else "none",
    "MPS (Apple GPU) available": torch.backends.mps.is_available(),
    "CPU cores": os.cpu_count(),
    "CPU threads torch uses": torch.get_num_threads(),
    "device chosen": device,
}
for name, value in report.items():
    print(f"{name:>26}: {value}")

# %%
# Read it from the bottom: `device chosen` is what this notebook will use.
# On Colab with a GPU runtime it says `cuda`; without one, `cpu`. The lessons
# are written to run on either, only faster on a GPU.

# %%
# PyTorch 2.6 and later also offer one question for every kind of accelerator
# (NVIDIA, Apple, Intel, ...): `torch.accelerator`. PyTorch's own tutorials now
# choose the device with it. `torch.accelerator.is_available()` says whether an
# accelerator is usable, and `torch.accelerator.current_accelerator()` names it.
# Ask `is_available()` first: on its own, `current_accelerator()` names the
# accelerator the build was made for (or, in some versions, raises), even when
# the machine has none. The `hasattr` check keeps the cell working on an older
# PyTorch.

if hasattr(torch, "accelerator"):
    if torch.accelerator.is_available():
        accelerator_device = torch.accelerator.current_accelerator()
    else:
        accelerator_device = torch.device("cpu")
    print("torch.accelerator.is_available():", torch.accelerator.is_available())
    print(f"torch.accelerator chooses: {accelerator_device}")
    print(f"the if/elif above chose:   {device}")
else:
    print(f"torch {torch.__version__} has no torch.accelerator: use the if/elif")

# %%
# ## 5. Reproducible runs: seeding
#
# Random numbers appear everywhere: starting weights, generated data, the order
# of training examples. A **seed** fixes where each random-number generator
# starts, so a rerun prints the same numbers, which makes results comparable
# and bugs repeatable. Python, NumPy and PyTorch each have their own generator:

import random

import numpy as np

SEED = 0
random.seed(SEED)
np.random.seed(SEED)
torch.manual_seed(SEED)  # also seeds the GPUs' generators
print("after seeding:      ", torch.rand(3))
print("the next draw:      ", torch.rand(3))
torch.manual_seed(SEED)
print("after seeding again:", torch.rand(3))

# %%
# The first and third lines match: same seed, same numbers. The second differs,
# because a generator moves on after each draw. So seed once at the top, and
# rerunning the whole notebook repeats every number.
#
# Later lessons do these three seeding lines with one call,
# `course.seed_everything(0)`, from the course's helper package. The package also
# holds the **profile**, read from the `COURSE_PROFILE` environment variable:
# the published pages run the `full` profile (the default), while the tests run
# `smoke`, which does the same steps on less data so they finish in seconds.
# `course.pick(full=..., smoke=...)` returns the value for the active profile.

import course

print(f"profile: {course.PROFILE}")

# %%
# ## 6. Four core ideas, one tiny cell each
#
# ### 6.1 Tensor: an array of numbers
#
# A **tensor** is PyTorch's array: numbers arranged in a grid of any number of
# dimensions, with a **shape** (the size of each dimension) and a **dtype** (the
# kind of number). Images, text, model weights and losses are all tensors.
# [Day 2](day02_tensors.ipynb) covers them in depth.

# 2 cities (rows) x 3 days (columns)
temperatures = torch.tensor([[21.0, 23.5, 19.0], [18.5, 20.0, 22.5]])
print(temperatures)
print("shape:", temperatures.shape, "| dtype:", temperatures.dtype)
print("mean per city:", temperatures.mean(dim=1))

# %%
# ### 6.2 Device: where a tensor lives
#
# Every tensor sits on one device. `.to(device)` returns a copy on another
# device (or the same tensor if it is already there). An operation needs all its
# tensors on the same device, which is why we chose `device` once above.

temperatures_on_device = temperatures.to(device)
print("before:", temperatures.device)
print("after .to(device):", temperatures_on_device.device)

# %%
# ### 6.3 Autograd: derivatives for free
#
# Mark a tensor with `requires_grad=True` and PyTorch records every operation
# done with it. Calling `.backward()` on the result then computes the derivative
# and stores it in `.grad`. For $y = x^2 + 3x$ the derivative is
# $\frac{dy}{dx} = 2x + 3$; at $x = 2$ we expect $7$.
# [Day 3](day03_autograd.ipynb) explains how this works.

x = torch.tensor(2.0, requires_grad=True)
y = x**2 + 3 * x
y.backward()
print(f"y = {y.item()}, dy/dx from autograd = {x.grad.item()}")
print(f"by hand: 2x + 3 = {2 * x.item() + 3}")

# %%
# ### 6.4 Module: a model with parameters
#
# A **module** (`torch.nn.Module`) bundles parameters with the computation that
# uses them. `nn.Linear(1, 1)` computes $\hat{y} = w x + b$ with one weight $w$
# and one bias $b$, both started at small random values. Calling the module on
# a batch of inputs runs that computation on every row.

from torch import nn

line = nn.Linear(in_features=1, out_features=1)
for name, parameter in line.named_parameters():
    print(f"{name}: {parameter.detach()}  requires_grad={parameter.requires_grad}")
inputs = torch.tensor([[0.0], [1.0], [2.0]])  # a batch of 3 examples, 1 feature
print("outputs:", line(inputs).squeeze(1))

# %%
# `.detach()` gives a parameter's values without autograd's bookkeeping, the
# right way to look at them (for a single number, `.item()` gives a plain
# Python float). Older code uses `parameter.data` for the same; avoid it,
# because changes made through `.data` are hidden from autograd.
#
# The `grad_fn=...` in the printed outputs is autograd at work: they were
# computed from parameters that require gradients, so PyTorch remembers how,
# ready for a `backward()` call.

# %%
# ## 7. Your first model, end to end
#
# The task: we make up data that follows a straight line plus noise,
#
# $$y = 3x + 2 + \varepsilon, \qquad \varepsilon \sim \mathcal{N}(0,\ 0.3^2),$$
#
# and ask a model $\hat{y} = wx + b$ to find $w$ and $b$ from the data alone.
# Because we know the true answer ($w = 3$, $b = 2$), we can check the model.
# This is **linear regression**, the smallest real machine-learning problem.
#
# ### 7.1 The data
#
# We draw the inputs uniformly between -1 and 1, generate everything on the CPU
# (so the numbers are the same on every machine) and then move it to `device`.
# PyTorch expects a batch of examples as rows: shape `(number of examples,
# number of features)`, here `(n, 1)`.

TRUE_W, TRUE_B, NOISE_STD = 3.0, 2.0, 0.3
n_points = course.pick(full=200, smoke=50)

x_data = torch.rand(n_points, 1) * 2 - 1  # uniform in [-1, 1)
y_data = TRUE_W * x_data + TRUE_B + NOISE_STD * torch.randn(n_points, 1)
x_data, y_data = x_data.to(device), y_data.to(device)
print("x:", x_data.shape, "y:", y_data.shape, "on", x_data.device)
for xi, yi in zip(x_data[:3, 0].tolist(), y_data[:3, 0].tolist(), strict=True):
    print(f"x = {xi:+.3f}   y = {yi:+.3f}")

# %%
# Always look at the data before modelling it.

import matplotlib.pyplot as plt

grid = torch.linspace(-1, 1, 2)
plt.figure(figsize=(6, 4))
plt.scatter(x_data.cpu(), y_data.cpu(), s=12, alpha=0.6, label="data")
plt.plot(
    grid, TRUE_W * grid + TRUE_B, color="black", label="true line $y = 3x + 2$"
)
plt.title("Generated data")
plt.xlabel("x (input)")
plt.ylabel("y (target)")
plt.legend()
plt.show()

# %%
# ### 7.2 The model
#
# The usual way to write a model is a small class: `__init__` creates the
# layers, `forward` says how an input becomes an output. Calling `model(x)`
# runs `forward`. `.to(device)` moves its parameters to the chosen device.


class LinearRegression(nn.Module):
    def __init__(self):
        super().__init__()
        self.linear = nn.Linear(1, 1)

    def forward(self, x):
        return self.linear(x)


model = LinearRegression().to(device)
print(model)
start_w, start_b = model.linear.weight.item(), model.linear.bias.item()
print(f"start: w = {start_w:.3f}, b = {start_b:.3f}")

# %%
# ### 7.3 The training loop
#
# Training repeats five steps. The **loss** is the mean squared error,
# $\mathcal{L} = \frac{1}{n}\sum_i (\hat{y}_i - y_i)^2$, and the **optimiser**
# moves each parameter a small step against its gradient:
#
# $$w \leftarrow w - \eta\,\frac{\partial \mathcal{L}}{\partial w}.$$
#
# The step size $\eta$ is the **learning rate** (`lr`). The optimiser class is
# `torch.optim.SGD`, for *stochastic* gradient descent: "stochastic" because it
# normally sees a random mini-batch of the data at each step
# ([Day 5](day05_data_loading.ipynb)). Our loop gives it all the points at
# every step, so what runs here is plain, **full-batch gradient descent**,
# through the same class.
#
# We write the loop once, as a function, so the exercises can reuse it.


def train(model, x, y, *, steps, lr, print_every=0):
    """Fit `model` to (x, y) by full-batch gradient descent on the MSE.

    Returns the loss at each step.
    """
    loss_fn = nn.MSELoss()
    optimizer = torch.optim.SGD(model.parameters(), lr=lr)
    losses = []
    for step in range(1, steps + 1):
        prediction = model(x)  # 1. forward: the model's guess
        loss = loss_fn(prediction, y)  # 2. loss: how wrong the guess is
        optimizer.zero_grad()  # 3. forget the previous step's gradients
        loss.backward()  # 4. backward: gradient of the loss for every parameter
        optimizer.step()  # 5. update: move each parameter against its gradient
        losses.append(loss.item())
        if print_every and (step == 1 or step % print_every == 0):
            print(f"step {step:4d} | loss {loss.item():.4f}")
    return losses


# %%
# Two settings to choose: `steps`, how many updates, and `lr`. A learning rate
# of 0.1 is a safe start for inputs and targets of this scale; exercise 1 shows
# what other values do.

steps = course.pick(full=200, smoke=100)
learning_rate = 0.1
losses = train(
    model, x_data, y_data, steps=steps, lr=learning_rate, print_every=steps // 10
)

# %%
# ### 7.4 The loss curve
#
# The loss falls fast at first, then flattens. It cannot reach zero: the noise
# we added is unpredictable by design. The lowest loss *any* straight line can
# reach on this data is given by the exact least-squares solution, which
# `torch.linalg.lstsq` computes directly; we draw it as the floor.

# sphinx_gallery_thumbnail_number = 2
design = torch.cat([x_data, torch.ones_like(x_data)], dim=1)  # columns: x, 1
best_w, best_b = (
    torch.linalg.lstsq(design.cpu(), y_data.cpu()).solution.squeeze(1).tolist()
)
best_loss = ((best_w * x_data + best_b - y_data) ** 2).mean().item()

plt.figure(figsize=(6, 4))
plt.plot(range(1, steps + 1), losses, label="training loss (MSE)")
plt.axhline(
    best_loss, color="gray", linestyle="--", label="best possible for a line"
)
plt.yscale("log")
plt.title("The loss falls as the model learns")
plt.xlabel("step")
plt.ylabel("mean squared error (log scale)")
plt.legend()
plt.show()

print(
    f"loss: first step {losses[0]:.4f} -> last step {losses[-1]:.4f} "
    f"(best possible {best_loss:.4f})"
)

# %%
# ### 7.5 What did it learn?
#
# Compare the learned parameters with the true ones and with the exact
# least-squares answer. The learned values should sit close to the
# least-squares ones: noise moves those a little away from the true 3 and 2,
# and no method can recover the true line exactly from noisy data.

learned_w = model.linear.weight.item()
learned_b = model.linear.bias.item()
print(f"{'':>14} {'w':>7} {'b':>7}")
print(f"{'true':>14} {TRUE_W:7.3f} {TRUE_B:7.3f}")
print(f"{'learned':>14} {learned_w:7.3f} {learned_b:7.3f}")
print(f"{'least squares':>14} {best_w:7.3f} {best_b:7.3f}")

# %%
# And draw the learned line over the data.

plt.figure(figsize=(6, 4))
plt.scatter(x_data.cpu(), y_data.cpu(), s=12, alpha=0.6, label="data")
plt.plot(grid, TRUE_W * grid + TRUE_B, color="black", label="true line")
plt.plot(
    grid,
    learned_w * grid + learned_b,
    color="tab:red",
    linestyle="--",
    label=f"learned line $y = {learned_w:.2f}x + {learned_b:.2f}$",
)
plt.title("Learned line vs true line")
plt.xlabel("x (input)")
plt.ylabel("y (target)")
plt.legend()
plt.show()

# %%
# ### 7.6 Using the trained model
#
# To predict, call the model on new inputs. `torch.no_grad()` tells autograd
# not to record anything, since we will not call `backward()` here; it saves
# memory and time. `.eval()` switches layers that behave differently during
# training (such as dropout, met in [Day 7](day07_overfitting.ipynb)) to their
# prediction behaviour; it changes nothing for this model, but it is a
# good habit.

model.eval()
new_x = torch.tensor([[-0.5], [0.0], [0.5]], device=device)
with torch.no_grad():
    predictions = model(new_x)
for xi, pi in zip(
    new_x.squeeze(1).tolist(), predictions.squeeze(1).tolist(), strict=True
):
    true_y = TRUE_W * xi + TRUE_B
    print(f"x = {xi:+.1f} -> predicted y = {pi:.3f} (true line: {true_y:.3f})")

# %%
# ## 8. Summary
#
# - Colab has PyTorch preinstalled; choose a GPU with *Runtime > Change runtime
#   type*. Locally, install into a virtual environment with pip, picking the CPU
#   build or the CUDA build whose version your driver (`nvidia-smi`) supports.
# - Check the environment first: `torch.__version__`, `torch.version.cuda`,
#   `torch.cuda.is_available()` (or, for any accelerator, `torch.accelerator`),
#   and choose `device` once.
# - **Tensors** hold numbers, live on a **device**, and **autograd** computes
#   their gradients; a **module** holds parameters and a `forward` computation.
# - Training is five steps repeated: forward, loss, `zero_grad`, `backward`,
#   `step`. With all the data in every step, `torch.optim.SGD` does full-batch
#   gradient descent; mini-batches (Day 5) make it stochastic. The template is
#   this:
#
# ```python
# model = LinearRegression().to(device)
# loss_fn = nn.MSELoss()
# optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
# for step in range(steps):
#     loss = loss_fn(model(x), y)
#     optimizer.zero_grad()
#     loss.backward()
#     optimizer.step()
# ```

# %%
# ## 9. Exercises
#
# 1. **The learning rate.** Train a fresh `LinearRegression` with learning
#    rates 0.01, 0.1, 0.5 and 1.2 for 60 steps each, and plot the four loss
#    curves. Which is too slow, and which blows up?
# 2. **More noise, fewer points.** Generate 20 points with noise standard
#    deviation 1.0 instead of 0.3 and train on them. How far are the learned
#    $w$ and $b$ from 3 and 2 now, and why?
# 3. **Two inputs.** Fit $y = 2x_1 - 3x_2 + 1 + \varepsilon$ with
#    `nn.Linear(2, 1)`. What shape must the input tensor have, and does the
#    model find both weights?

# %%
# **Solution 1.** Too small a step crawls; too large a step overshoots the
# minimum by more each time, and the loss grows instead of shrinking. For this
# loss the limit lies where the step overshoots the steepest direction (the
# bias's); the printed final losses show which side of it each rate falls.

rate_steps = 60  # short enough that the diverging run stays below float32's maximum
plt.figure(figsize=(6, 4))
for lr in [0.01, 0.1, 0.5, 1.2]:
    course.seed_everything(0)  # the same starting weights for every learning rate
    curve = train(
        LinearRegression().to(device), x_data, y_data, steps=rate_steps, lr=lr
    )
    plt.plot(range(1, rate_steps + 1), curve, label=f"lr = {lr}")
    print(f"lr = {lr:<4}: final loss {curve[-1]:.4g}")
plt.yscale("log")
plt.title("Loss curves for four learning rates")
plt.xlabel("step")
plt.ylabel("mean squared error (log scale)")
plt.legend()
plt.show()

# %%
# **Solution 2.** With few, noisy points the noise no longer averages out, so
# the best line *for this sample* is further from the true one. The model
# still finds that best line (compare with least squares); it simply cannot
# know what the noise hid.

course.seed_everything(1)
x_small = torch.rand(20, 1) * 2 - 1
y_small = TRUE_W * x_small + TRUE_B + 1.0 * torch.randn(20, 1)
x_small, y_small = x_small.to(device), y_small.to(device)
small_model = LinearRegression().to(device)
train(small_model, x_small, y_small, steps=steps, lr=0.1)
design_small = torch.cat([x_small, torch.ones_like(x_small)], dim=1).cpu()
ls_w, ls_b = (
    torch.linalg.lstsq(design_small, y_small.cpu()).solution.squeeze(1).tolist()
)
print(f"true          w = {TRUE_W:.3f}, b = {TRUE_B:.3f}")
print(
    f"learned       w = {small_model.linear.weight.item():.3f}, "
    f"b = {small_model.linear.bias.item():.3f}"
)
print(f"least squares w = {ls_w:.3f}, b = {ls_b:.3f}")

# %%
# **Solution 3.** Each example is a row with two features, so the input has
# shape `(n, 2)` and `nn.Linear(2, 1)` holds a weight of shape `(1, 2)`. The
# `train` function works unchanged because it never looks at shapes.

course.seed_everything(2)
x_two = torch.rand(n_points, 2) * 2 - 1
true_weights = torch.tensor([[2.0], [-3.0]])
y_two = x_two @ true_weights + 1.0 + NOISE_STD * torch.randn(n_points, 1)
two_input_model = nn.Linear(2, 1).to(device)
two_losses = train(
    two_input_model, x_two.to(device), y_two.to(device), steps=steps, lr=0.1
)
print(f"input shape: {tuple(x_two.shape)}")
print(f"weight shape: {tuple(two_input_model.weight.shape)}")
learned_weights = [round(v, 3) for v in two_input_model.weight.squeeze(0).tolist()]
learned_bias = round(two_input_model.bias.item(), 3)
print(f"learned weights: {learned_weights}, bias: {learned_bias}")
print("true weights:    [2.0, -3.0], bias: 1.0")
print(f"final loss {two_losses[-1]:.4f}")

# %%
# Next: [Day 2](day02_tensors.ipynb) takes tensors apart: creating them,
# reshaping them, and doing maths with them.
