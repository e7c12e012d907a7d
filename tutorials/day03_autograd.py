"""
# Day 3 · Autograd: automatic differentiation (Autograd 自動微分)

Training a model means following the gradient of the loss downhill, and
PyTorch's **autograd** computes that gradient for any calculation you write.
After this lesson you can tell which tensors autograd tracks, read the graph
it records, call `backward()` and know where the gradients land (and why they
add up), switch tracking off, handle outputs that are not a single number,
check gradients against finite differences, and write gradient descent with
your own hands: the loop every optimiser runs.

**You will learn:** `requires_grad` · the graph and `grad_fn` · `backward()` ·
gradient accumulation and zeroing · `no_grad`, `inference_mode` and `detach` ·
non-scalar outputs · gradient checking · gradient descent by hand

**Before you start:** [Day 2](day02_tensors.ipynb) · **Reading time:** about 2 hours
"""

# %%
# ## 1. Why automatic differentiation
#
# A model is a function of its parameters $\theta$; the loss $\mathcal{L}(\theta)$
# says how wrong it is. Gradient descent improves $\theta$ with
#
# $$\theta \leftarrow \theta - \eta \, \nabla_\theta \mathcal{L}(\theta),$$
#
# so we need the gradient: one partial derivative per parameter, millions of
# them for a real network. Deriving them by hand does not scale; approximating
# them numerically is slow and inexact (section 9). Autograd does it exactly:
# while your code runs, it records each operation in a **graph**; `backward()`
# then walks that graph from the output back to the inputs, applying the
# **chain rule** at every step:
#
# $$\frac{d\mathcal{L}}{dx} = \frac{d\mathcal{L}}{dy}\,\frac{dy}{dx}.$$
#
# One backward pass costs a small multiple of the forward pass (typically
# about twice as much), however many parameters there are. That is what makes
# deep learning practical.

import matplotlib.pyplot as plt
import torch

import course

course.seed_everything(0)

# %%
# ## 2. `requires_grad`: what autograd tracks
#
# Autograd only records operations on tensors that have `requires_grad=True`.
# Tensors you create are *leaves* of the graph; a result computed from at least
# one tracked tensor is tracked too. Data (inputs, targets) normally does not
# require gradients; parameters do.

scale = torch.tensor(0.5, requires_grad=True)  # a parameter
reading = torch.tensor(2.0)  # an input: not tracked
scaled = scale * reading
for name, t in [
    ("scale", scale),
    ("reading", reading),
    ("scaled = scale * reading", scaled),
]:
    print(f"{name:25} requires_grad={t.requires_grad!s:5}  is_leaf={t.is_leaf}")

# %%
# The layers of `torch.nn` create their parameters with `requires_grad=True`
# already. You can switch it on later with `.requires_grad_()`. Only floating
# point (and complex) tensors can have gradients, since a derivative needs
# values that can change by tiny amounts:

print("nn.Linear weight:", torch.nn.Linear(2, 1).weight.requires_grad)
print("after requires_grad_():", torch.zeros(3).requires_grad_().requires_grad)
try:
    torch.tensor([1, 2, 3], requires_grad=True)
except RuntimeError as err:
    print("Expected error:", type(err).__name__, "-", err)

# %%
# ## 3. The graph and `grad_fn`
#
# Take one step of Day 1's linear regression: a prediction $\hat{y} = wx + b$
# and a squared error $\mathcal{L} = (\hat{y} - t)^2$ against a target $t$.

w = torch.tensor(0.5, requires_grad=True)
b = torch.tensor(1.0, requires_grad=True)
x = torch.tensor(2.0)
target = torch.tensor(4.0)

prediction = w * x + b
loss = (prediction - target) ** 2
print("prediction:", prediction)
print("loss:", loss)

# %%
# Each computed tensor remembers the operation that made it in `grad_fn`
# (printed above as `grad_fn=<...>`): the node of the graph that knows how to
# send a gradient back through that operation. Leaves have no `grad_fn`.

print("loss.grad_fn:      ", loss.grad_fn.name())
print("prediction.grad_fn:", prediction.grad_fn.name())
print("w.grad_fn:         ", w.grad_fn)

# %%
# ### 3.1 Walking the whole graph (optional deep dive)
#
# The core path can skip this and come back later: it looks inside the graph
# that `backward()` walks for you. Each node lists the nodes it sends
# gradients to in `next_functions`. Walking them from the loss recovers the
# whole graph. A tracked leaf ends in an
# `AccumulateGrad` node (it adds the gradient into the leaf's `.grad`); an
# untracked input appears as `None`, because no gradient flows to it.

leaf_names = {id(w): "w", id(b): "b"}


def print_graph(node, depth=0):
    """Print the backward graph below `node`, one node per line, indented."""
    if node is None:
        print("    " * depth + "None (no gradient needed: x, target or a constant)")
        return
    label = type(node).__name__
    if hasattr(node, "variable"):  # AccumulateGrad: the end of the line, a leaf
        label += f"  -> into {leaf_names.get(id(node.variable), '?')}.grad"
    print("    " * depth + label)
    for next_node, _ in node.next_functions:
        print_graph(next_node, depth + 1)


print_graph(loss.grad_fn)

# %%
# Read it from the top: the loss came from a power (`PowBackward0`) of a
# subtraction (`SubBackward0`) of an addition (`AddBackward0`) of a
# multiplication (`MulBackward0`) and `b`. Backward follows exactly these
# arrows.

# %%
# ### 3.2 Define by run
#
# The graph is built **as the code runs** ("define by run"). Ordinary Python
# `if` and `while` decide which operations happen, and the graph records only
# those. Here the number of doublings depends on the input, and so does the
# gradient, $2^k$ for $k$ doublings:


def double_until_large(v):
    doublings = 0
    while v.abs() < 10:
        v = v * 2
        doublings += 1
    return v, doublings


for start in [0.3, 3.0]:
    leaf = torch.tensor(start, requires_grad=True)
    out, doublings = double_until_large(leaf)
    out.backward()
    print(
        f"start {start}: {doublings} doublings, gradient {leaf.grad.item():.0f} "
        f"(2**{doublings} = {2**doublings})"
    )

# %%
# ## 4. `backward()`: computing the gradients
#
# `loss.backward()` runs the graph backwards and stores
# $\frac{\partial \mathcal{L}}{\partial w}$ in `w.grad` and
# $\frac{\partial \mathcal{L}}{\partial b}$ in `b.grad`. By hand, with the chain
# rule: $\frac{\partial \mathcal{L}}{\partial w} = 2(\hat{y} - t)\,x$ and
# $\frac{\partial \mathcal{L}}{\partial b} = 2(\hat{y} - t)$.

loss.backward()
residual = (prediction - target).item()
print(f"autograd: dL/dw = {w.grad.item():.4f}, dL/db = {b.grad.item():.4f}")
print(
    f"by hand:  dL/dw = {2 * residual * x.item():.4f}, dL/db = {2 * residual:.4f}"
)

# %%
# To save memory, `backward()` frees the values the graph saved on the way
# forward as soon as it has used them. A second `backward()` through the same
# graph therefore fails (pass `retain_graph=True` to the first call if you
# truly need two):

try:
    loss.backward()
except RuntimeError as err:
    print("Expected error:", type(err).__name__, "-", err)

# %%
# Gradients land only in **leaves**. An intermediate tensor such as
# `prediction` gets none (reading its `.grad` gives `None` and a warning)
# unless you ask with `.retain_grad()` before the backward pass. By the chain
# rule, $\frac{\partial \mathcal{L}}{\partial \hat{y}} = 2(\hat{y} - t)$.
# A new forward pass builds a new graph (the old one was freed):

prediction = w * x + b
prediction.retain_grad()
loss = (prediction - target) ** 2
loss.backward()
print(f"dL/dprediction, kept by retain_grad: {prediction.grad.item():.4f}")
print(f"by hand, 2 * (prediction - target):  {2 * residual:.4f}")

# %%
# `torch.autograd.grad(outputs, inputs)` is the functional alternative: it
# *returns* the gradients of the inputs you name and leaves their `.grad`
# untouched. Handy when you want a gradient as a value (exercise 1 uses it for
# a second derivative). It still runs the whole backward pass, though: a
# tensor marked with `retain_grad()` in the same graph gets its `.grad` filled
# (and, like every `.grad`, added to), which is why this cell builds a fresh
# graph rather than reusing the one above.

w_grad_before = w.grad.item()
fresh_loss = (w * x + b - target) ** 2
grad_w, grad_b = torch.autograd.grad(fresh_loss, [w, b])
print(f"returned: dL/dw = {grad_w.item():.4f}, dL/db = {grad_b.item():.4f}")
print(f"w.grad before: {w_grad_before:.4f}, after: {w.grad.item():.4f} (untouched)")

# %%
# ## 5. Gradients accumulate: zero them
#
# `backward()` **adds** into `.grad`; it never overwrites. Section 4 and the
# `retain_grad` cell each ran a backward pass through the same numbers
# (`autograd.grad` added nothing), so `w.grad` now holds the gradient twice:

print(
    f"w.grad after two backward passes: {w.grad.item():.4f} "
    f"(one pass gives {2 * residual * x.item():.4f})"
)

# %%
# That is why every training loop clears the gradients before each backward
# pass, either with `optimizer.zero_grad()` or, by hand, by setting `.grad` to
# `None` (what `zero_grad()` does by default) or filling it with zeros.

w.grad = None
b.grad.zero_()
print("after clearing:", w.grad, b.grad)

# %%
# Accumulation is a feature, not an accident. When a batch is too big for
# memory, split it into micro-batches, call `backward()` on each (scaled so the
# parts add up to the full-batch mean), and update once. The accumulated
# gradient equals the full-batch gradient:

inputs = torch.randn(8)
targets = 3 * inputs + 1
weight = torch.tensor(0.0, requires_grad=True)

full_loss = ((weight * inputs - targets) ** 2).mean()
full_gradient = torch.autograd.grad(full_loss, weight)[0]

n_micro = 4
for x_part, t_part in zip(
    inputs.chunk(n_micro), targets.chunk(n_micro), strict=True
):
    part_loss = ((weight * x_part - t_part) ** 2).mean() / n_micro
    part_loss.backward()  # adds into weight.grad
print(
    f"full batch: {full_gradient.item():.6f} | "
    f"{n_micro} accumulated micro-batches: {weight.grad.item():.6f}"
)

# %%
# ## 6. Switching tracking off: `no_grad`, `inference_mode`, `detach`
#
# Recording the graph costs memory (saved values) and time. When you will not
# call `backward()` (evaluating a model, updating weights, logging) switch it
# off.
#
# **`torch.no_grad()`**: nothing inside the block is recorded. Results do not
# require gradients and have no `grad_fn`.

with torch.no_grad():
    untracked = w * 2
print(
    "inside no_grad: requires_grad",
    untracked.requires_grad,
    "| grad_fn",
    untracked.grad_fn,
)
tracked = w * 2
print(
    "outside:        requires_grad",
    tracked.requires_grad,
    "| grad_fn",
    tracked.grad_fn.name(),
)

# %%
# **`torch.inference_mode()`**: a stricter, slightly faster `no_grad` for pure
# prediction. Tensors created inside are *inference tensors* and can never
# enter a graph later, which is what lets PyTorch skip more bookkeeping:

with torch.inference_mode():
    features = torch.ones(3) * 2
print("inference tensor:", torch.is_inference(features))
parameter = torch.ones(3, requires_grad=True)
try:
    (parameter * features).sum().backward()
except RuntimeError as err:
    print("Expected error:", type(err).__name__, "-", err)

# %%
# Use `inference_mode` when the results are final (serving predictions), and
# `no_grad` when they might feed a later computation that needs gradients.
# Both also work as decorators (`@torch.no_grad()` above a function), and
# `torch.set_grad_enabled(flag)` switches tracking with a boolean, handy for a
# loop shared by training and evaluation.
#
# **`.detach()`**: a new tensor that shares the same memory but is cut from the
# graph. Use it to take a value out of the graph (for NumPy, plotting, logging)
# or to stop a gradient on purpose. Here $z = u \cdot \mathrm{detach}(u)$: the
# detached factor counts as a constant, so $\frac{dz}{du} = u$ instead of $2u$.

u = torch.tensor(3.0, requires_grad=True)
u_const = u.detach()
print(
    "detached:",
    u_const.requires_grad,
    "| same memory:",
    u_const.data_ptr() == u.data_ptr(),
)
(u * u).backward()
print(f"d(u*u)/du          = {u.grad.item()} (2u)")
u.grad = None
(u * u_const).backward()
print(
    f"d(u*detach(u))/du  = {u.grad.item()} (u: the detached factor is a constant)"
)

# %%
# ## 7. Non-scalar outputs (optional deep dive)
#
# The core path can skip this section and come back later; what it needs is
# the first cell: `backward()` without arguments needs a **scalar** output,
# such as a loss.
# For a vector output there is no single gradient but a whole Jacobian matrix
# $J_{ij} = \partial y_i / \partial x_j$, and PyTorch will not guess which
# combination you want:

xs = torch.tensor([1.0, 2.0, 3.0], requires_grad=True)
ys = torch.stack([xs[0] * xs[1], xs[1] * xs[2], xs[0] + xs[2]])
try:
    ys.backward()
except RuntimeError as err:
    print("Expected error:", type(err).__name__, "-", err)

# %%
# Autograd computes **vector-Jacobian products**: given a vector $v$ shaped
# like the output, `ys.backward(gradient=v)` stores $v^\top J$ in `xs.grad`,
# which is the gradient of the scalar $\sum_i v_i y_i$. It never builds $J$
# itself, which is what keeps backward cheap. To see that it agrees, compute
# the full Jacobian with `torch.autograd.functional.jacobian`. By hand, its
# rows are the gradients of the three outputs: $(x_1, x_0, 0)$, $(0, x_2, x_1)$
# and $(1, 0, 1)$.

v = torch.tensor([1.0, 0.1, 0.01])
ys.backward(gradient=v)
jacobian = torch.autograd.functional.jacobian(
    lambda t: torch.stack([t[0] * t[1], t[1] * t[2], t[0] + t[2]]), xs.detach()
)
print("Jacobian:\n", jacobian)
print("v^T J:                     ", v @ jacobian)
print("xs.grad from backward(v):  ", xs.grad)

# %%
# With $v$ all ones, `ys.backward(gradient=torch.ones_like(ys))` equals
# `ys.sum().backward()`. For an **element-wise** function, where $y_i$ depends
# only on $x_i$, $J$ is diagonal and this gives every element's derivative at
# once. The next section uses exactly that.

# %%
# ## 8. A function beside its autograd derivative
#
# Take $f(x) = x \sin x$. Its derivative by the product rule is
# $f'(x) = \sin x + x \cos x$. Evaluate $f$ on a grid of points, call
# `backward` on the sum, and `grid.grad` holds $f'$ at every point: each term
# $f(x_i)$ of the sum depends on $x_i$ alone, so the derivative of the sum with
# respect to $x_i$ is $f'(x_i)$.

grid = torch.linspace(
    -2 * torch.pi,
    2 * torch.pi,
    course.pick(full=400, smoke=100),
    requires_grad=True,
)
f = grid * torch.sin(grid)
f.sum().backward()
autograd_derivative = grid.grad

with torch.no_grad():
    analytic_derivative = torch.sin(grid) + grid * torch.cos(grid)
max_gap = (autograd_derivative - analytic_derivative).abs().max().item()
print(f"largest |autograd - analytic| over {grid.numel()} points: {max_gap:.2e}")

# %%
# Plot the function, the autograd derivative, and the analytic one on top as a
# dashed line. (`.detach()` takes the values out of the graph for Matplotlib.)

plt.figure(figsize=(7, 4))
plt.plot(grid.detach(), f.detach(), label="$f(x) = x \\sin x$")
plt.plot(
    grid.detach(),
    autograd_derivative,
    linewidth=3,
    alpha=0.6,
    label="$f'(x)$ from autograd",
)
plt.plot(
    grid.detach(),
    analytic_derivative,
    "k--",
    label="$f'(x) = \\sin x + x\\cos x$ (analytic)",
)
plt.axhline(0, color="gray", linewidth=0.5)
plt.title("A function and its derivative: autograd matches the analytic formula")
plt.xlabel("x (radians)")
plt.ylabel("value")
plt.legend(loc="upper center")
plt.show()

# %%
# Where $f$ has a peak or a valley, its derivative crosses zero: the places
# gradient descent would stop.

# %%
# ## 9. Checking gradients against finite differences (optional deep dive)
#
# The core path can skip this section and come back later: it matters when you
# write a gradient yourself (a custom `torch.autograd.Function`, below), which
# most training code never does.
#
# How do you know a gradient is right (say, for a function you wrote
# yourself)? Compare it with the definition of the derivative. The **central
# difference**
#
# $$f'(x) \approx \frac{f(x + h) - f(x - h)}{2h}$$
#
# has an error that shrinks like $h^2$, but a tiny $h$ subtracts two nearly
# equal numbers and loses digits to rounding. The best $h$ balances the two,
# and it depends on the precision of the dtype.
#
# ### 9.1 By hand


def central_difference(func, point, h):
    return (func(point + h) - func(point - h)) / (2 * h)


def x_sin_x(t):
    return t * torch.sin(t)


steps = torch.logspace(-12, -1, 45, dtype=torch.float64)
errors = {}
for dtype in [torch.float32, torch.float64]:
    point = torch.tensor(1.0, dtype=dtype, requires_grad=True)
    x_sin_x(point).backward()
    exact = point.grad.item()
    with torch.no_grad():
        errors[dtype] = [
            abs(central_difference(x_sin_x, point, h.item()).item() - exact)
            for h in steps
        ]
    best = min(range(len(steps)), key=lambda i: errors[dtype][i])
    print(
        f"{str(dtype):14} autograd f'(1) = {exact:.10f} | smallest gap "
        f"{errors[dtype][best]:.1e} at h = {steps[best].item():.0e}"
    )

# %%
# The error against $h$ on log-log axes: on the right the $h^2$ truncation
# error, on the left rounding noise, which is far worse in `float32`. At the
# far left of the `float32` line, $h$ is below `float32`'s resolution near 1,
# so $1 + h$ rounds back to $1$, the difference is $0$, and the "derivative"
# is $0$: the error is then the whole of $f'(1)$.

plt.figure(figsize=(7, 4))
for dtype, label in [(torch.float32, "float32"), (torch.float64, "float64")]:
    # exact zeros cannot go on a log axis
    gaps = torch.tensor(errors[dtype]).clamp(min=1e-17)
    plt.loglog(steps, gaps, marker=".", label=label)
plt.title("Finite difference vs autograd at x = 1: the error depends on h")
plt.xlabel("step size h")
plt.ylabel("|finite difference - autograd|")
plt.legend()
plt.show()

# %%
# ### 9.2 With `torch.autograd.gradcheck`
#
# `gradcheck` does this systematically: it perturbs every input element, builds
# the numerical Jacobian, and compares it with autograd's. It is meant for
# `float64` inputs, where finite differences are accurate enough to compare
# with a tight tolerance. It returns `True` or raises an error.


def layer_function(a, b):
    return torch.tanh(a @ b)


a64 = torch.randn(3, 4, dtype=torch.float64, requires_grad=True)
b64 = torch.randn(4, 2, dtype=torch.float64, requires_grad=True)
print("gradcheck, float64:", torch.autograd.gradcheck(layer_function, (a64, b64)))

# %%
# In `float32` the numerical side is too noisy: gradcheck warns, then reports a
# mismatch even though autograd is right. The warnings are caught here to print
# them tidily.

import warnings

from torch.autograd.gradcheck import GradcheckError

a32 = a64.detach().float().requires_grad_()
b32 = b64.detach().float().requires_grad_()
with warnings.catch_warnings(record=True) as caught:
    warnings.simplefilter("always")
    try:
        torch.autograd.gradcheck(layer_function, (a32, b32))
    except GradcheckError as err:
        print("Expected error:", type(err).__name__, "-", str(err).splitlines()[0])
print("Expected warning:", str(caught[0].message).strip())

# %%
# Where gradcheck earns its keep: checking a backward pass you wrote. With
# `torch.autograd.Function` you can define a new operation with your own
# `forward` and `backward` (rarely needed, but it happens). Here is $x^2$ with a
# bug: the backward forgets the factor 2.


class SquareWithBug(torch.autograd.Function):
    @staticmethod
    def forward(ctx, t):
        ctx.save_for_backward(t)
        return t**2

    @staticmethod
    def backward(ctx, grad_output):
        (t,) = ctx.saved_tensors
        return grad_output * t  # wrong: d(t^2)/dt = 2t


probe = torch.randn(3, dtype=torch.float64, requires_grad=True)
try:
    torch.autograd.gradcheck(SquareWithBug.apply, (probe,))
except GradcheckError as err:
    print("Expected error:", type(err).__name__, "-", err)

# %%
# The report shows the numerical Jacobian and the analytical one (from the
# buggy backward): their ratio is the missing factor of 2.

# %%
# ## 10. Gradient descent by hand
#
# Now the payoff: minimise a function with nothing but autograd and a loop. The
# function is a stretched bowl,
#
# $$f(w_1, w_2) = (w_1 - 3)^2 + 10\,(w_2 + 1)^2,$$
#
# with its minimum $f = 0$ at $(3, -1)$. Each step computes the loss, calls
# `backward()`, moves the parameters against the gradient, and zeroes the
# gradient. The update runs inside `torch.no_grad()`: it is not part of the
# model, and autograd must not record it.


def bowl(params):
    return (params[0] - 3) ** 2 + 10 * (params[1] + 1) ** 2


start = torch.tensor([-2.0, 1.5])
learning_rate = 0.09
n_steps = course.pick(full=80, smoke=40)

params = start.clone().requires_grad_()
path, losses = [params.detach().clone()], []
for step in range(1, n_steps + 1):
    loss = bowl(params)
    loss.backward()
    with torch.no_grad():
        params -= learning_rate * params.grad  # the update: w <- w - lr * grad
    params.grad = None  # forget this step's gradient before the next one
    losses.append(loss.item())
    path.append(params.detach().clone())
    if step == 1 or step % (n_steps // 8) == 0:
        print(
            f"step {step:3d} | loss {loss.item():.3e} | "
            f"w = ({params[0].item():.4f}, {params[1].item():.4f})"
        )
print(
    f"distance to the minimum (3, -1) after {n_steps} steps: "
    f"{(params.detach() - torch.tensor([3.0, -1.0])).norm().item():.2e}"
)

# %%
# The path on the bowl's contour lines, and the loss at each step. Each step
# multiplies the distance to the minimum along $w_1$ by $1 - 2\eta$ and along
# $w_2$ by $1 - 20\eta$ (the derivatives of the two terms of $f$). The steep
# $w_2$ factor is negative, so $w_2$ overshoots to the other side at every
# step: the zig-zag. The cell after the plot measures both factors on the path.

path_tensor = torch.stack(path)
w1_grid, w2_grid = torch.meshgrid(
    torch.linspace(-3, 5, 200), torch.linspace(-3.5, 2.5, 200), indexing="xy"
)
fig, (ax_path, ax_loss) = plt.subplots(1, 2, figsize=(12, 4.5))
ax_path.contour(w1_grid, w2_grid, bowl((w1_grid, w2_grid)), levels=20, cmap="Greys")
ax_path.plot(
    path_tensor[:, 0],
    path_tensor[:, 1],
    "o-",
    color="tab:red",
    markersize=3,
    label="gradient descent path",
)
ax_path.plot(3, -1, "*", color="tab:green", markersize=15, label="minimum (3, -1)")
ax_path.set_title("Gradient descent on $f(w_1, w_2)$")
ax_path.set_xlabel("$w_1$")
ax_path.set_ylabel("$w_2$")
ax_path.legend()
ax_loss.semilogy(range(1, n_steps + 1), losses)
ax_loss.set_title("The loss at each step")
ax_loss.set_xlabel("step")
ax_loss.set_ylabel("f(w) (log scale)")
fig.tight_layout()
plt.show()

# %%
# The factors, measured on the path: the signed distance to the minimum after
# a step divided by the one before it, averaged over the first five steps.

offsets = path_tensor - torch.tensor([3.0, -1.0])  # signed distance, per coordinate
factors = (offsets[1:6] / offsets[:5]).mean(dim=0).tolist()
print(
    f"w1: x {factors[0]:+.3f} per step (1 - 2 lr  = {1 - 2 * learning_rate:+.3f})"
)
print(
    f"w2: x {factors[1]:+.3f} per step (1 - 20 lr = {1 - 20 * learning_rate:+.3f})"
)
if abs(abs(factors[0]) - abs(factors[1])) < 0.1:
    print(
        f"At lr = {learning_rate} both distances shrink by about the same factor "
        "per step, so neither direction lags; w2 just changes side every step."
    )
else:
    slow = "w1" if abs(factors[0]) > abs(factors[1]) else "w2"
    print(f"At lr = {learning_rate} the {slow} direction shrinks more slowly.")
small_lr = 0.02
print(
    f"With lr = {small_lr} (exercise 3) the factors would be "
    f"{1 - 2 * small_lr:+.2f} and {1 - 20 * small_lr:+.2f}: the steep w2 "
    "direction settles fast while the shallow w1 direction creeps in."
)

# %%
# ### 10.1 Two mistakes, and what they do
#
# Forget `torch.no_grad()` around the update, and autograd tries to record an
# in-place change of a leaf it is tracking, which it refuses:

params = start.clone().requires_grad_()
bowl(params).backward()
try:
    params -= learning_rate * params.grad
except RuntimeError as err:
    print("Expected error:", type(err).__name__, "-", err)

# %%
# Forget to zero the gradient, and no error appears at all: each step uses the
# sum of every gradient so far, a direction that has little to do with the
# current slope. Same start, same learning rate, same number of steps:

params = start.clone().requires_grad_()
for _ in range(n_steps):
    loss = bowl(params)
    loss.backward()
    with torch.no_grad():
        params -= learning_rate * params.grad  # no zeroing: .grad keeps growing
print(f"final loss with zeroing: {losses[-1]:.3e}")
print(f"final loss without zeroing: {loss.item():.3e}")

# %%
# ### 10.2 This is what an optimiser does
#
# `torch.optim.SGD` runs exactly this update. Given the same start and learning
# rate, it follows the same path, up to `float32` rounding (it computes
# $w - \eta g$ in a single fused operation, so the last digits can differ):

params = start.clone().requires_grad_()
optimizer = torch.optim.SGD([params], lr=learning_rate)
sgd_path = [params.detach().clone()]
for _ in range(n_steps):
    optimizer.zero_grad()
    bowl(params).backward()
    optimizer.step()
    sgd_path.append(params.detach().clone())
gap = (torch.stack(sgd_path) - path_tensor).abs().max().item()
print(f"largest difference between the hand-written and the SGD path: {gap:.1e}")

# %%
# ## 11. Summary
#
# - Autograd records operations on tensors with `requires_grad=True`; results
#   carry a `grad_fn`, and `next_functions` links them into a graph built as
#   the code runs.
# - `backward()` applies the chain rule from a scalar back to the leaves and
#   **adds** into their `.grad`; clear it every step (`zero_grad()`, or set
#   `.grad = None`). The graph is freed after one backward pass.
# - `torch.no_grad()` and `torch.inference_mode()` switch recording off;
#   `.detach()` cuts one tensor out of the graph.
# - For a non-scalar output, `backward(gradient=v)` computes the
#   vector-Jacobian product $v^\top J$.
# - Check gradients with central differences or `torch.autograd.gradcheck`,
#   in `float64`.
# - Gradient descent is: loss, `backward()`, update under `no_grad()`, zero the
#   gradient. `torch.optim.SGD` does the same.

# %%
# ## 12. Exercises
#
# 1. **A second derivative.** Use `torch.autograd.grad(..., create_graph=True)`
#    to get $f'(x)$ of $f(x) = x \sin x$ *as a tracked tensor*, then
#    differentiate again. Compare with $f''(x) = 2\cos x - x \sin x$.
# 2. **Check a gradient three ways.** For
#    $\mathrm{LSE}(z) = \log \sum_i e^{z_i}$ (`torch.logsumexp`), the gradient
#    is the softmax of $z$. Compare autograd's gradient with the softmax and
#    with central differences, then run `gradcheck`.
# 3. **Momentum.** Heavy-ball momentum keeps a running direction,
#    $v \leftarrow \beta v + \nabla f$, and steps $w \leftarrow w - \eta v$
#    ($\beta = 0$ is plain gradient descent). Write it by hand for the bowl of
#    section 10 with $\eta = 0.02$ and the same start, and count the steps
#    needed to bring the loss below $10^{-6}$ for
#    $\beta \in \{0, 0.5, 0.7, 0.9, 0.95\}$. Is more momentum always better?

# %%
# **Solution 1.** `create_graph=True` records the backward pass itself, so the
# first derivative is a tensor with a `grad_fn` that can be differentiated in
# turn. Summing works again because $f'$ is element-wise.

points = torch.linspace(-5, 5, 101, requires_grad=True)
(first,) = torch.autograd.grad(
    (points * torch.sin(points)).sum(), points, create_graph=True
)
(second,) = torch.autograd.grad(first.sum(), points)
with torch.no_grad():
    analytic_second = 2 * torch.cos(points) - points * torch.sin(points)
print("first derivative is tracked:", first.grad_fn is not None)
largest_gap = (second - analytic_second).abs().max().item()
print(f"largest |autograd f'' - analytic f''|: {largest_gap:.2e}")

# %%
# **Solution 2.** All three agree; the finite differences only to about the
# precision that section 9 predicts for `float64` with this `h`.

z = torch.randn(5, dtype=torch.float64, requires_grad=True)
torch.logsumexp(z, dim=0).backward()
softmax = torch.softmax(z.detach(), dim=0)
h = 1e-6
with torch.no_grad():
    numeric = torch.stack(
        [
            (torch.logsumexp(z + h * e, dim=0) - torch.logsumexp(z - h * e, dim=0))
            / (2 * h)
            for e in torch.eye(5, dtype=torch.float64)
        ]
    )
print("autograd:   ", z.grad)
print("softmax:    ", softmax)
print("numeric:    ", numeric)
print(
    f"max gaps: autograd-softmax {(z.grad - softmax).abs().max().item():.1e}, "
    f"autograd-numeric {(z.grad - numeric).abs().max().item():.1e}"
)
print(
    "gradcheck:",
    torch.autograd.gradcheck(lambda t: torch.logsumexp(t, dim=0), (z,)),
)

# %%
# **Solution 3.** Momentum builds up speed along the shallow $w_1$ direction,
# where plain descent with this small step crawls. But the velocity also
# carries the parameters past the minimum: with too much momentum they spiral
# around it for a long time. Compare the counts printed below: the best
# $\beta$ is in the middle, and where exactly depends on the function.


def steps_to_converge(momentum, lr=0.02, tolerance=1e-6, max_steps=2000):
    params = start.clone().requires_grad_()
    velocity = torch.zeros_like(params)
    for step in range(1, max_steps + 1):
        loss = bowl(params)
        if loss.item() < tolerance:
            return step - 1
        loss.backward()
        with torch.no_grad():
            velocity = momentum * velocity + params.grad
            params -= lr * velocity
        params.grad = None
    return max_steps


for beta in [0.0, 0.5, 0.7, 0.9, 0.95]:
    n_needed = steps_to_converge(momentum=beta)
    print(f"beta = {beta:<4}: {n_needed:4d} steps to loss < 1e-6")

# %%
# Next: [Day 4](day04_gpu.ipynb) moves all of this onto a GPU, and shows how to
# choose the device once and move models and data to it.
