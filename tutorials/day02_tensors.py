"""
# Day 2 · Tensors: basics and advanced operations (Tensor 基礎與進階操作)

Everything a model reads, computes and learns is a tensor: images, labels,
weights, gradients, losses. After this lesson you can create tensors every way
PyTorch offers, reshape them without surprises, combine tensors of different
shapes through broadcasting, and move data between PyTorch and NumPy knowing
when memory is shared. Most bugs in deep-learning code are shape bugs; this is
the lesson that prevents them.

**You will learn:** creating tensors · dtype and device · indexing and slicing ·
`view` / `reshape` / `permute` / `transpose` / `squeeze` / `unsqueeze` /
`flatten` and contiguity · `cat` and `stack` · broadcasting · element-wise,
reduction and matrix operations · in-place operations · NumPy interop and
shared memory

**Before you start:** [Day 1](day01_getting_started.ipynb) ·
**Reading time:** about 2 hours
"""

# %%
# ## 1. What a tensor is
#
# A tensor is a block of numbers in memory (its **storage**) plus a description
# of how to read it: a **shape** (the size of each dimension), a **dtype** (the
# kind of number), a **device** (CPU or GPU) and **strides** (how many elements
# to skip in memory to move one step along each dimension). Keep that picture
# in mind: it explains why some operations are free and others copy, and why
# `view` sometimes refuses to work (section 6).
#
# We seed the random generators once, choose the device once (the choice from
# [Day 1](day01_getting_started.ipynb), packaged as `course.choose_device`), and
# write a small helper that prints a tensor with its shape and dtype.

import matplotlib.pyplot as plt
import numpy as np
import torch

import course

course.seed_everything(0)
device = course.choose_device()
print("device:", device)


def show(label, t):
    """Print a tensor's shape and dtype, then its values."""
    print(f"{label}: shape {tuple(t.shape)}, dtype {t.dtype}")
    print(t)


# %%
# ## 2. Creating tensors
#
# ### 2.1 From Python data
#
# `torch.tensor` copies the data you give it and infers the dtype: whole
# numbers become `int64`, numbers with a decimal point `float32`, and
# `True`/`False` become `bool`. One float in a list makes the whole tensor float.

show("scalar (0 dimensions)", torch.tensor(3.5))
show("vector", torch.tensor([1, 2, 3]))
show("matrix", torch.tensor([[1.0, 2.0], [3.0, 4.0]]))
show("mixed ints and a float", torch.tensor([1, 2, 3.5]))
show("booleans", torch.tensor([True, False]))

# %%
# ### 2.2 From NumPy
#
# Three routes, which differ in whether they copy (section 11 shows the sharing
# at work). Note the dtype: NumPy's default float is `float64`, PyTorch's is
# `float32`, and converting keeps NumPy's.

array = np.array([[1.0, 2.0], [3.0, 4.0]])
show("torch.from_numpy (shares memory)", torch.from_numpy(array))
show("torch.as_tensor (shares when it can)", torch.as_tensor(array))
show("torch.tensor (always copies)", torch.tensor(array))

# %%
# ### 2.3 Filled with a constant
#
# Pass the shape as separate numbers or as a tuple. `torch.empty` only reserves
# memory: its values are whatever was there before, so never read them before
# writing.

show("zeros", torch.zeros(2, 3))
show("ones (int64)", torch.ones((2, 3), dtype=torch.int64))
show("full", torch.full((2, 3), 7.0))
show("eye (identity)", torch.eye(3))
print(
    "empty: shape",
    tuple(torch.empty(2, 3).shape),
    "(values undefined, not printed)",
)

# %%
# ### 2.4 Ranges
#
# `arange(start, end, step)` excludes `end`, like Python's `range`.
# `linspace(start, end, steps)` includes both ends and takes the *number of
# points*. For floats prefer `linspace`: with a float step, rounding can add or
# drop an end point, while `linspace` always gives exactly `steps` points.

show("arange(5)", torch.arange(5))
show("arange(2, 10, 3)", torch.arange(2, 10, 3))
show("linspace(0, 1, 5)", torch.linspace(0, 1, 5))
show("logspace(0, 3, 4) (powers of 10)", torch.logspace(0, 3, 4))
show("arange(1, 1.3, 0.1): the excluded end shows up", torch.arange(1, 1.3, 0.1))

# %%
# ### 2.5 Random
#
# `rand` draws uniformly from $[0, 1)$, `randn` from the standard normal
# distribution $\mathcal{N}(0, 1)$, `randint(low, high, shape)` whole numbers
# with `high` excluded, and `randperm(n)` a shuffled `0..n-1`. A large sample
# shows the distributions are what they claim.

show("rand(2, 3)", torch.rand(2, 3))
show("randint(0, 10, (2, 5))", torch.randint(0, 10, (2, 5)))
show("randperm(6)", torch.randperm(6))
sample = torch.randn(course.pick(full=100_000, smoke=10_000))
print(f"randn sample of {sample.numel()} numbers:")
print(f"mean {sample.mean():.4f} (expected 0), std {sample.std():.4f} (expected 1)")

# %%
# ### 2.6 Shaped like another tensor
#
# The `*_like` functions copy shape, dtype and device from an existing tensor,
# which saves you from repeating them (and from forgetting the device).

template = torch.tensor([[1.0, 2.0, 3.0], [4.0, 5.0, 6.0]], device=device)
show("zeros_like", torch.zeros_like(template))
show("ones_like", torch.ones_like(template))
show("full_like", torch.full_like(template, -1.0))
show("rand_like", torch.rand_like(template))
show("randn_like", torch.randn_like(template))

# %%
# ## 3. dtype and device
#
# ### 3.1 dtypes
#
# The dtype decides the range, the precision and the memory per element.
# Training normally uses `float32`; `float16` and `bfloat16` halve memory and
# run faster on modern GPUs, at the cost of precision; labels are `int64`
# (`long`); images arrive as `uint8` (0 to 255). `torch.finfo` tells what a
# float type can hold: `eps` is the gap between 1 and the next representable
# number.

for dtype in [torch.float64, torch.float32, torch.float16, torch.bfloat16]:
    info = torch.finfo(dtype)
    size = torch.tensor([], dtype=dtype).element_size()
    print(f"{str(dtype):15} {size} bytes  max {info.max:10.3g}  eps {info.eps:.3g}")

# %%
# Convert with `.to(dtype)` or the shortcuts `.float()`, `.double()`,
# `.long()`, `.half()`. Converting a float to an integer type truncates toward
# zero.

decimals = torch.tensor([1.7, -2.7, 3.2])
print(
    decimals.to(torch.int64),
    decimals.long(),
    decimals.half(),
    decimals.double(),
    sep="\n",
)

# %%
# When an operation mixes dtypes, PyTorch **promotes** to a type that can hold
# both. Dividing integers with `/` gives a float; `//` keeps integers (rounding
# down).

ints = torch.tensor([1, 2, 3])
print("int64 + 0.5  ->", (ints + 0.5).dtype)
print("int64 / 2    ->", ints / 2)
print("int64 // 2   ->", ints // 2)
print(
    "int64 + float64 tensor ->",
    (ints + torch.tensor([1.0], dtype=torch.float64)).dtype,
)

# %%
# The most common dtype mistake: data loaded with NumPy is `float64`, while a
# model's weights are `float32`. Layers do not promote, they refuse:

layer = torch.nn.Linear(2, 1)
features = torch.from_numpy(np.random.rand(4, 2))  # float64
try:
    layer(features)
except RuntimeError as err:
    print("Expected error:", type(err).__name__, "-", err)

# %%
# The fix is to convert once, when the data enters PyTorch:

print("output shape after .float():", tuple(layer(features.float()).shape))

# %%
# ### 3.2 Device
#
# Every tensor lives on one device. Create tensors directly where they are
# needed with `device=`, or move them with `.to(device)` (a copy when the device
# changes). [Day 4](day04_gpu.ipynb) covers devices in depth. Memory use is
# `numel() * element_size()`, also available as `nbytes`.

on_device = torch.zeros(1000, 1000, device=device)
print(
    on_device.device,
    f"{on_device.numel():,} elements x {on_device.element_size()} bytes "
    f"= {on_device.nbytes / 1e6:.1f} MB",
)
print("moved back:", on_device.to("cpu").device)

# %%
# ## 4. Indexing and slicing
#
# ### 4.1 Basic indexing
#
# Indexing works like NumPy: one index or slice per dimension, counting from 0,
# negative numbers counting from the end, `start:stop:step` slices with `stop`
# excluded. `...` stands for "all remaining dimensions", and `None` inserts a
# new dimension of size 1.

grid = torch.arange(20).reshape(4, 5)
show("grid", grid)
show("grid[1] (second row)", grid[1])
show("grid[:, 0] (first column)", grid[:, 0])
show("grid[1, 2] (one element)", grid[1, 2])
show("grid[1:3, ::2] (rows 1-2, every other column)", grid[1:3, ::2])
show("grid[-1] (last row)", grid[-1])
show("grid[..., -1] (last column)", grid[..., -1])
show("grid[None] (a new leading dimension)", grid[None])

# %%
# ### 4.2 Boolean masks
#
# A comparison gives a `bool` tensor of the same shape; indexing with it picks
# the elements where it is `True` (always as a flat vector). `torch.where`
# chooses element by element between two tensors, and assigning through a mask
# changes only the selected elements.

mask = grid % 3 == 0
show("mask: grid % 3 == 0", mask)
show("grid[mask]", grid[mask])
show("torch.where(mask, grid, -1)", torch.where(mask, grid, -1))
clipped = grid.clone()
clipped[clipped > 12] = 12
show("values above 12 set to 12", clipped)

# %%
# ### 4.3 Index tensors
#
# Indexing with a tensor (or list) of positions picks those rows. Two index
# tensors pick *pairs* `(row, column)`: a pattern you will use to read each
# example's score for its correct class.

show("grid[[0, 3]] (rows 0 and 3)", grid[[0, 3]])
scores = torch.tensor([[0.1, 0.7, 0.2], [0.5, 0.3, 0.2], [0.2, 0.2, 0.6]])
labels = torch.tensor([1, 0, 2])
show("scores[arange(3), labels]", scores[torch.arange(3), labels])
show("same with gather", scores.gather(dim=1, index=labels.unsqueeze(1)).squeeze(1))
show("index_select(dim=1, [0, 2])", grid.index_select(1, torch.tensor([0, 2])))

# %%
# ### 4.4 Slices are views; index tensors copy
#
# A slice does not copy: it is a **view**, a new description of the same
# storage. Writing through a view changes the original. Indexing with a tensor
# or a mask returns a copy. Remember this whenever you modify part of a tensor.
# The helper below tells whether two tensors read the same block of memory.


def shares_memory(a, b):
    """True when the two tensors are views of the same storage."""
    return a.untyped_storage().data_ptr() == b.untyped_storage().data_ptr()


original = torch.zeros(2, 4)
row_view = original[0]  # a slice: shares memory
row_copy = original[[1]]  # an index list: a copy
print(
    "slice shares memory:",
    shares_memory(row_view, original),
    "| index list shares memory:",
    shares_memory(row_copy, original),
)
row_view += 1
row_copy += 5
show("original after changing the slice (+1) and the copy (+5)", original)

# %%
# ## 5. Changing shape
#
# Layers expect particular shapes: a linear layer wants `(batch, features)`, a
# convolution `(batch, channels, height, width)`. These operations rearrange
# the same numbers into the shape you need. Each cell prints the shapes.
#
# ### 5.1 `view` and `reshape`
#
# Both give the same numbers in a new shape with the same total count. One size
# may be `-1`: PyTorch computes it. `view` never copies (and fails when it
# would have to, section 6); `reshape` returns a view when possible and a copy
# otherwise.

flat = torch.arange(12)
show("flat", flat)
show("flat.view(3, 4)", flat.view(3, 4))
show("flat.view(-1, 6) (-1 inferred)", flat.view(-1, 6))
show("flat.reshape(2, 3, 2)", flat.reshape(2, 3, 2))

# %%
# Asking for a shape with a different number of elements is an error, with
# either:

try:
    flat.view(5, 3)
except RuntimeError as err:
    print("Expected error:", type(err).__name__, "-", err)

# %%
# ### 5.2 `permute` and `transpose`
#
# `permute` reorders all dimensions; `transpose(a, b)` swaps two. A typical use:
# image libraries store a batch as `(N, H, W, C)` (channels last), PyTorch's
# convolutions want `(N, C, H, W)`. `permute(0, 3, 1, 2)` says where each
# output dimension comes from: N from 0, C from 3, H from 1, W from 2.
#
# A tempting shortcut is `transpose(1, 3)`, which swaps H and C. But a swap
# moves W too: `(N, H, W, C)` becomes `(N, C, W, H)`, every image transposed
# (flipped about its diagonal). On square images the shape still looks right,
# so nothing fails. Images 24 pixels high and 32 wide show the difference, and
# on square ones `torch.equal` shows that the values differ all the same:

images_nhwc = torch.rand(8, 24, 32, 3)  # 8 RGB images, 24 high, 32 wide
print("NHWC:                ", tuple(images_nhwc.shape))
print(
    "permute(0, 3, 1, 2): ", tuple(images_nhwc.permute(0, 3, 1, 2).shape), "= NCHW"
)
print("transpose(1, 3):     ", tuple(images_nhwc.transpose(1, 3).shape), "= NCWH")
square_nhwc = torch.rand(8, 32, 32, 3)
by_permute = square_nhwc.permute(0, 3, 1, 2)
by_transpose = square_nhwc.transpose(1, 3)
print("square images, same shape:", by_permute.shape == by_transpose.shape)
print("square images, same values:", torch.equal(by_permute, by_transpose))

# %%
# For a matrix, `.T` is the transpose; `.mT` transposes the last two
# dimensions of a batch of matrices.

matrix = torch.arange(6).reshape(2, 3)
show("matrix", matrix)
show("matrix.T", matrix.T)
print("batch of matrices (5, 2, 3) -> .mT ->", tuple(torch.zeros(5, 2, 3).mT.shape))

# %%
# ### 5.3 `squeeze` and `unsqueeze`
#
# `unsqueeze(d)` inserts a dimension of size 1 at position `d`; use it to turn
# one example into a batch of one. `squeeze(d)` removes dimension `d` if its
# size is 1. Without an argument `squeeze()` removes *every* size-1 dimension,
# including a batch dimension that happens to be 1: name the dimension.

example = torch.tensor([0.5, 1.5, 2.5])
batch_of_one = example.unsqueeze(0)
show("example", example)
show("example.unsqueeze(0) (a batch of one)", batch_of_one)
show("example.unsqueeze(1) (a column)", example.unsqueeze(1))
model_output = torch.zeros(1, 3, 1)  # batch of 1 example, 3 outputs, trailing 1
print(
    "squeeze(2):",
    tuple(model_output.squeeze(2).shape),
    "(keeps the batch dimension)",
)
print(
    "squeeze(): ",
    tuple(model_output.squeeze().shape),
    "(the batch dimension is gone too)",
)

# %%
# ### 5.4 `flatten` and `unflatten`
#
# `flatten()` makes one long vector; `flatten(start_dim=1)` keeps the batch
# dimension and flattens the rest, the step between a convolutional part and a
# linear layer. `unflatten` undoes it.

images_nchw = torch.zeros(8, 3, 32, 32)
print("flatten():           ", tuple(images_nchw.flatten().shape))
print("flatten(start_dim=1):", tuple(images_nchw.flatten(start_dim=1).shape))
print(
    "unflatten(1, (3, 32, 32)):",
    tuple(images_nchw.flatten(start_dim=1).unflatten(1, (3, 32, 32)).shape),
)

# %%
# | Operation | What it does | Copies data? |
# | --- | --- | --- |
# | `view(shape)` | new shape, same order | never (errors instead) |
# | `reshape(shape)` | new shape, same order | only if it must |
# | `permute(dims)`, `transpose(a, b)`, `.T` | reorder dimensions | never |
# | `unsqueeze(d)` / `squeeze(d)` | add / remove a size-1 dimension | never |
# | `flatten(start, end)` | merge dimensions | only if it must |

# %%
# ## 6. Contiguity: why `view` sometimes fails (optional deep dive)
#
# The core path can skip this section and come back later. What the next days
# need from it is one rule: when `view` fails with an error about size and
# stride, use `reshape` instead (or call `.contiguous()` first). The rest of
# the section explains why, with strides, the way a tensor maps onto memory.
#
# A tensor is **contiguous** when reading its elements in row order walks
# through memory one step at a time. The **strides** say how many memory steps
# one index step takes in each dimension. `transpose` and `permute` do not move
# any data: they swap the strides, so the same memory is read in a different
# order. Take `matrix` from section 5.2 and its transpose:

transposed = matrix.T
print(
    f"matrix     shape {tuple(matrix.shape)} stride {matrix.stride()} "
    f"contiguous {matrix.is_contiguous()}"
)
print(
    f"matrix.T   shape {tuple(transposed.shape)} stride {transposed.stride()} "
    f"contiguous {transposed.is_contiguous()}"
)
print("same memory:", shares_memory(matrix, transposed))

# %%
# Here is the picture: each cell shows where in memory that element sits.
# Reading `matrix` row by row visits memory in order; reading `matrix.T` row
# by row jumps around.

fig, axes = plt.subplots(1, 2, figsize=(8, 3.2))
for ax, tensor, name in zip(
    axes, [matrix, transposed], ["matrix (2 x 3)", "matrix.T (3 x 2)"], strict=True
):
    ax.imshow(tensor, cmap="Blues", vmin=-2, vmax=7)
    for (row, col), value in np.ndenumerate(tensor.numpy()):
        ax.text(col, row, f"slot {value}", ha="center", va="center", fontsize=11)
    ax.set_title(f"{name}, strides {tensor.stride()}")
    ax.set_xlabel("column index")
    ax.set_ylabel("row index")
    ax.set_xticks(range(tensor.shape[1]))
    ax.set_yticks(range(tensor.shape[0]))
fig.suptitle(
    "Where each element sits in memory: the same six slots, read in two orders"
)
fig.tight_layout()
plt.show()

# %%
# `view` only changes the description, never the memory. Flattening `matrix.T`
# would have to read memory slots 0, 3, 1, 4, 2, 5: no single stride does that,
# so `view` refuses:

try:
    transposed.view(6)
except RuntimeError as err:
    print("Expected error:", type(err).__name__, "-", err)

# %%
# The message says it all: the requested shape cannot be described with
# strides over the existing memory. Two fixes, both copying the data into
# row order: `.contiguous()` first, or `reshape`, which copies only when it has
# to. `reshape` on the original, contiguous `matrix` shares memory as before.

fixed_1 = transposed.contiguous().view(6)
fixed_2 = transposed.reshape(6)
show("matrix.T.contiguous().view(6)", fixed_1)
print(
    "reshape on the transposed tensor shares memory:",
    shares_memory(fixed_2, matrix),
)
print(
    "reshape on the contiguous tensor shares memory:",
    shares_memory(matrix.reshape(6), matrix),
)

# %%
# ## 7. Joining tensors: `cat` and `stack`
#
# `torch.cat` joins tensors along an **existing** dimension: the others must
# match. `torch.stack` adds a **new** dimension: all shapes must be equal. Use
# `stack` to turn a list of examples into a batch, `cat` to append batches.

a = torch.zeros(2, 3)
b = torch.ones(2, 3)
print("cat dim=0:  ", tuple(torch.cat([a, b], dim=0).shape))
print("cat dim=1:  ", tuple(torch.cat([a, b], dim=1).shape))
print("stack dim=0:", tuple(torch.stack([a, b], dim=0).shape))
print("stack dim=2:", tuple(torch.stack([a, b], dim=2).shape))
show("torch.cat([a, b], dim=1)", torch.cat([a, b], dim=1))

# %%
# The error messages name the mismatch:

wider = torch.ones(2, 4)
for joiner in (torch.cat, torch.stack):
    try:
        joiner([a, wider], dim=0)
    except RuntimeError as err:
        print(
            f"Expected error from {joiner.__name__}:", type(err).__name__, "-", err
        )

# %%
# The inverses split a tensor back into pieces: `chunk` into a number of
# pieces, `split` into pieces of a given size, `unbind` along a dimension
# (undoing `stack`).

joined = torch.arange(10)
print("chunk(3):", [piece.tolist() for piece in joined.chunk(3)])
print("split(4):", [piece.tolist() for piece in joined.split(4)])
print(
    "unbind(0) of a stacked pair:",
    [tuple(t.shape) for t in torch.stack([a, b]).unbind(0)],
)

# %%
# ## 8. Broadcasting
#
# Adding a bias to every row, subtracting a per-feature mean from every
# example: element-wise operations between tensors of *different* shapes are
# everywhere. **Broadcasting** makes them work without copying data, following
# three rules:
#
# 1. Line the shapes up from the **right**; where one shape is shorter, pad it
#    on the left with 1s.
# 2. In each position the sizes must be **equal**, or one of them must be **1**.
# 3. A size-1 dimension is **stretched** to match the other: its values are
#    reused, not copied.
#
# The result's size in each position is the larger of the two.
#
# ### 8.1 A worked example
#
# A column of shape `(3, 1)` plus a row of shape `(4,)`. The function below
# applies the rules step by step and prints them.


def explain_broadcast(shape_a, shape_b):
    """Print the broadcasting rules for two shapes; return the result shape."""
    ndim = max(len(shape_a), len(shape_b))
    padded_a = (1,) * (ndim - len(shape_a)) + tuple(shape_a)
    padded_b = (1,) * (ndim - len(shape_b)) + tuple(shape_b)
    print(f"rule 1, pad on the left: {padded_a} and {padded_b}")
    result = []
    for position, (size_a, size_b) in enumerate(
        zip(padded_a, padded_b, strict=True)
    ):
        if size_a != size_b and 1 not in (size_a, size_b):
            raise ValueError(
                f"position {position}: sizes {size_a} and {size_b} cannot broadcast"
            )
        result.append(max(size_a, size_b))
        print(f"rule 2, position {position}: {size_a} vs {size_b} -> {result[-1]}")
    print(f"result shape: {tuple(result)}")
    return tuple(result)


column = torch.tensor([[0], [10], [20]])  # shape (3, 1)
row = torch.tensor([0, 1, 2, 3])  # shape (4,)
explain_broadcast(column.shape, row.shape)
print("torch agrees:", tuple(torch.broadcast_shapes(column.shape, row.shape)))
show("column + row", column + row)

# %%
# Rule 3 in pictures: the size-1 dimensions are stretched (pale: the reused
# values), then the two grids are added element by element.

# sphinx_gallery_thumbnail_number = 2
stretched = torch.broadcast_tensors(column, row)
panels = [
    (stretched[0], "column (3, 1) stretched to (3, 4)", (3, 1)),
    (stretched[1], "row (4,) stretched to (3, 4)", (1, 4)),
    (column + row, "column + row, shape (3, 4)", (3, 4)),
]
fig, axes = plt.subplots(1, 3, figsize=(12, 3))
for ax, (values, title, original_shape) in zip(axes, panels, strict=True):
    ax.imshow(values, cmap="viridis", alpha=0.35)
    for (r, c), value in np.ndenumerate(values.numpy()):
        is_original = r < original_shape[0] and c < original_shape[1]
        ax.text(
            c,
            r,
            str(value),
            ha="center",
            va="center",
            fontweight="bold" if is_original else "normal",
            color="black" if is_original else "gray",
        )
    ax.set_title(title)
    ax.set_xlabel("column index")
    ax.set_ylabel("row index")
    ax.set_xticks(range(4))
    ax.set_yticks(range(3))
fig.suptitle("Broadcasting: bold values are stored, grey ones are reused")
fig.tight_layout()
plt.show()

# %%
# "Reused, not copied" is literal: `expand` (what broadcasting does inside)
# gives a stretched view whose stride along the stretched dimension is 0.

expanded = column.expand(3, 4)
print(
    "expanded shape",
    tuple(expanded.shape),
    "stride",
    expanded.stride(),
    "| shares memory with column:",
    shares_memory(expanded, column),
)

# %%
# ### 8.2 Broadcasting at work: standardising features
#
# A data set of 5 examples with 3 features, each feature on its own scale.
# `data.mean(dim=0)` has shape `(3,)`, which broadcasts against `(5, 3)`: one
# line standardises every column.
#
# One detail before the code: `torch.std` divides by $N - 1$ by default
# (Bessel's correction, which makes the variance estimate unbiased), while
# NumPy's `np.std` divides by $N$. On 5 rows that is a visible difference, so
# results computed with the other library will not match unless you say which
# one you mean; `correction=0` makes PyTorch divide by $N$ like NumPy.

scales = torch.tensor([1.0, 10.0, 100.0])
offsets = torch.tensor([0.0, 50.0, -200.0])
data = torch.randn(5, 3) * scales + offsets
standardised = (data - data.mean(dim=0)) / data.std(dim=0)
print("shapes:", tuple(data.shape), "-", tuple(data.mean(dim=0).shape))
print("column means after:", standardised.mean(dim=0))
print("column stds after: ", standardised.std(dim=0))
first_feature = data[:, 0]
print("standard deviation of feature 0:")
print(f"  torch.std (divides by N - 1): {first_feature.std():.4f}")
print(f"  torch.std(correction=0):      {first_feature.std(correction=0):.4f}")
print(f"  np.std (divides by N):        {np.std(first_feature.numpy()):.4f}")

# %%
# Means printed as tiny numbers such as `1e-07` are zero up to `float32`
# rounding (compare with `eps` in section 3.1). The three standard deviations
# show the two conventions: the $N - 1$ one is larger by a factor
# $\sqrt{N / (N - 1)}$, here $\sqrt{5/4}$. With thousands of rows the gap
# all but vanishes, but it explains small mismatches between PyTorch and NumPy
# (or scikit-learn, which divides by $N$).

# %%
# ### 8.3 The silent bug, and the loud one
#
# Broadcasting never complains when shapes *can* be stretched, even when you
# did not mean it. A classic: a model outputs predictions of shape `(N, 1)`,
# the targets have shape `(N,)`. Their difference broadcasts to `(N, N)`, every
# prediction minus every target, and the "loss" is silently wrong:

predictions = torch.tensor([[1.0], [2.0], [3.0]])  # (3, 1), as a model returns them
targets = torch.tensor([1.0, 2.0, 3.0])  # (3,), as labels are often stored
wrong = ((predictions - targets) ** 2).mean()
right = ((predictions.squeeze(1) - targets) ** 2).mean()
print("shape of the difference:", tuple((predictions - targets).shape))
print(
    f"loss with the shape bug: {wrong.item():.4f}, correct loss: {right.item():.4f}"
)

# %%
# The predictions are perfect, so the correct loss is 0; the buggy one is not.
# (PyTorch's `nn.MSELoss` warns about exactly this mismatch.) When the shapes
# cannot be stretched, you get a loud error instead, naming the position that
# failed:

try:
    torch.ones(2, 3) + torch.ones(2)
except RuntimeError as err:
    print("Expected error:", type(err).__name__, "-", err)

# %%
# ## 9. Operations
#
# ### 9.1 Element-wise
#
# Arithmetic operators and most `torch` functions work element by element
# (broadcasting when shapes differ). Comparisons return `bool` tensors.

x = torch.tensor([-2.0, -0.5, 0.0, 1.0, 4.0])
print("x + 1        ", x + 1)
print("x * x        ", x * x)
print("x ** 2       ", x**2)
print("exp(x)       ", torch.exp(x))
print("sqrt(|x|)    ", torch.sqrt(x.abs()))
print("clamp(x,-1,1)", x.clamp(min=-1, max=1))
print("x > 0        ", x > 0)

# %%
# ### 9.2 Reductions, `dim` and `keepdim`
#
# A reduction (`sum`, `mean`, `max`, `std`, ...) combines many numbers into
# fewer. Without `dim` it reduces everything to one number. With `dim=d`,
# dimension `d` is the one that **disappears**: for a `(3, 4)` tensor,
# `dim=0` combines the rows (one result per column, shape `(4,)`), `dim=1` the
# columns (one per row, shape `(3,)`). `keepdim=True` keeps that dimension with
# size 1, so the result still broadcasts against the input.

m = torch.arange(12.0).reshape(3, 4)
show("m", m)
show("m.sum()", m.sum())
show("m.sum(dim=0)", m.sum(dim=0))
show("m.sum(dim=1)", m.sum(dim=1))
show("m.sum(dim=1, keepdim=True)", m.sum(dim=1, keepdim=True))

# %%
# With a `dim`, `max` and `min` return both the values and where they are
# (`argmax` returns only the positions: the predicted class of a classifier).

values, indices = m.max(dim=1)
print("max per row:", values, "at columns", indices)
print("argmax per row:", m.argmax(dim=1))
print("mean:", m.mean().item(), "| std per column:", m.std(dim=0))

# %%
# Why `keepdim` matters: to make each row sum to 1, divide by the row sums.
# Without `keepdim` the sums have shape `(3,)`, which lines up with the
# *columns* (size 4) and fails; with `keepdim` they have shape `(3, 1)` and
# broadcast along each row. (On a square matrix the first version would not
# fail: it would silently divide by the wrong numbers.)

try:
    m / m.sum(dim=1)
except RuntimeError as err:
    print("Expected error:", type(err).__name__, "-", err)
row_normalised = m / m.sum(dim=1, keepdim=True)
print("row sums after normalising:", row_normalised.sum(dim=1))

# %%
# ### 9.3 Matrix products
#
# `A @ B` (the same as `torch.matmul(A, B)`) multiplies matrices: an
# `(n, k)` matrix times a `(k, p)` matrix gives `(n, p)`, each entry
# $C_{ij} = \sum_k A_{ik} B_{kj}$. It is **not** `*`, which multiplies element
# by element.

A = torch.tensor([[1.0, 2.0], [3.0, 4.0]])
B = torch.tensor([[10.0, 0.0], [0.0, 1.0]])
show("A @ B (matrix product)", A @ B)
show("A * B (element-wise)", A * B)

# %%
# The inner sizes must match; the error shows both shapes:

try:
    torch.ones(2, 3) @ torch.ones(2, 3)
except RuntimeError as err:
    print("Expected error:", type(err).__name__, "-", err)

# %%
# `matmul` also handles vectors and batches. For a batch of matrices it
# multiplies pair by pair and broadcasts the batch dimensions; `torch.bmm` is
# the strict version (both inputs `(B, n, k)` and `(B, k, p)`).

batch_a = torch.randn(10, 2, 3)
batch_b = torch.randn(10, 3, 4)
weights = torch.randn(3, 4)
vector = torch.randn(3)
print("matrix @ vector:       ", tuple((batch_a[0] @ vector).shape))
print("bmm (10,2,3)x(10,3,4): ", tuple(torch.bmm(batch_a, batch_b).shape))
print(
    "matmul with broadcast: ",
    tuple((batch_a @ weights).shape),
    "(one weight matrix)",
)

# %%
# ### 9.4 `einsum` (optional deep dive)
#
# The core path can skip this and come back later: `@` and `matmul` cover
# everything the next days do. `torch.einsum` writes any of these products as
# a formula over index letters: letters that disappear from the output are
# summed.

print(
    "einsum 'bij,bjk->bik': ",
    tuple(torch.einsum("bij,bjk->bik", batch_a, batch_b).shape),
)
print(
    "einsum agrees with bmm:",
    torch.allclose(
        torch.einsum("bij,bjk->bik", batch_a, batch_b), torch.bmm(batch_a, batch_b)
    ),
)
print(
    f"dot product 'i,i->':    {torch.einsum('i,i->', vector, vector).item():.4f} "
    f"= torch.dot {torch.dot(vector, vector).item():.4f}"
)

# %%
# ## 10. In-place operations
#
# Methods ending in an underscore (`add_`, `mul_`, `zero_`, `clamp_`, `fill_`)
# change the tensor itself instead of returning a new one; so do `+=`, `*=` and
# assignment into an index (`t[0] = 1`). They save memory, but they destroy
# the old values. Compare the memory address before and after:

t = torch.ones(3)
address = t.data_ptr()
t.add_(1)
print("after t.add_(1):", t, "| same memory:", t.data_ptr() == address)
t += 1
print("after t += 1:   ", t, "| same memory:", t.data_ptr() == address)
t = t + 1
print("after t = t + 1:", t, "| same memory:", t.data_ptr() == address)

# %%
# Autograd ([Day 3](day03_autograd.ipynb)) dislikes in-place operations, for a
# reason: to compute gradients it **saves** some of the values seen on the way
# forward. Overwriting them would make the gradients silently wrong, so PyTorch
# refuses. A parameter (a tensor that requires gradients and was created by
# you, a *leaf*) cannot be modified in place while autograd is recording:

weight = torch.ones(3, requires_grad=True)
try:
    weight.add_(1)
except RuntimeError as err:
    print("Expected error:", type(err).__name__, "-", err)

# %%
# The rule of thumb: avoid in-place operations on anything autograd is
# tracking; use them for buffers and, inside `torch.no_grad()`, for updating
# parameters (which is what optimisers do).

# %%
# ### 10.1 Version counters (optional deep dive)
#
# The core path can skip this and come back later. It shows the other harmful
# in-place change, and how PyTorch notices it: a value that a later gradient
# needs cannot be overwritten. Here `squared = hidden ** 2` saves
# `hidden` (its derivative is `2 * hidden`). Every tensor has a version counter
# that each in-place operation increments; `backward` checks it and stops:

hidden = weight * 2
squared = hidden**2
print("version of hidden before:", hidden._version)
hidden.mul_(10)
print("version of hidden after: ", hidden._version)
try:
    squared.sum().backward()
except RuntimeError as err:
    print("Expected error:", type(err).__name__, "-", err)

# %%
# ## 11. NumPy interop and shared memory
#
# `tensor.numpy()` and `torch.from_numpy(array)` do not copy: the tensor and
# the array are two views of the **same memory** (on the CPU). Change one and
# the other changes too:

shared_array = np.zeros(3)
shared_tensor = torch.from_numpy(shared_array)
shared_array[0] = 5.0  # change the NumPy array...
shared_tensor[1] = 7.0  # ...and the tensor
print("array: ", shared_array)
print("tensor:", shared_tensor)

# %%
# The same holds the other way, from a tensor to NumPy, and even for in-place
# tensor methods. `torch.tensor(array)` copies instead, so it stays independent:

source = torch.arange(4.0)
as_numpy = source.numpy()
source.mul_(10)
print("tensor after mul_(10):", source, "| the NumPy view:", as_numpy)
copied = torch.tensor(shared_array)
shared_array[2] = -1.0
print("torch.tensor copy:", copied, "| the array it came from:", shared_array)

# %%
# Two limits. A tensor that requires gradients must be detached first (NumPy
# knows nothing of autograd), and a GPU tensor must be copied to the CPU
# (`.cpu()`) first. `tensor.numpy(force=True)` does both, copying when needed.

try:
    weight.numpy()
except RuntimeError as err:
    print("Expected error:", type(err).__name__, "-", err)
print("detach().numpy():", weight.detach().numpy())
print(
    "on the device, numpy(force=True):",
    torch.ones(2, device=device).numpy(force=True),
)

# %%
# For single numbers and short lists, `.item()` and `.tolist()` give plain
# Python values (use them for printing and logging, not inside a model):

print(torch.tensor(2.5).item(), torch.tensor([[1, 2], [3, 4]]).tolist())

# %%
# ## 12. Summary
#
# - Create tensors from data (`torch.tensor`), from NumPy (`from_numpy`
#   shares, `tensor` copies), filled (`zeros`, `ones`, `full`, `eye`), as ranges
#   (`arange` excludes the end, `linspace` counts points), at random (`rand`,
#   `randn`, `randint`, `randperm`) or shaped like another (`*_like`).
# - Mind the dtype (`float32` for models, `int64` for labels; NumPy gives
#   `float64`) and create tensors on the device that will use them.
# - Slices are views; index tensors and masks copy.
# - `view`, `reshape`, `permute`, `transpose`, `squeeze`, `unsqueeze`,
#   `flatten` rearrange shapes; `view` needs a contiguous layout, `reshape`
#   copies when it must.
# - `cat` joins along an existing dimension, `stack` creates a new one.
# - Broadcasting lines shapes up from the right and stretches size-1
#   dimensions; check shapes, because a wrong one can broadcast silently.
# - Reductions remove the `dim` you name; `keepdim=True` keeps it for
#   broadcasting back. `@` is the matrix product, `*` is element-wise.
# - In-place operations (`_` suffix) save memory but fight autograd.
# - `torch.std` divides by $N - 1$, `np.std` by $N$ (`correction=0`).
# - To go from NHWC to NCHW, `permute(0, 3, 1, 2)`; `transpose(1, 3)` also
#   swaps height and width.
# - `.numpy()` and `from_numpy` share memory with the tensor.

# %%
# ## 13. Exercises
#
# 1. **Images from NumPy.** A batch of 8 RGB images of 32 x 32 pixels arrives
#    from an image library as a NumPy `uint8` array of shape `(8, 32, 32, 3)`.
#    Turn it into a `float32` tensor of shape `(8, 3, 32, 32)` with values in
#    $[0, 1]$, then standardise each colour channel to mean 0 and standard
#    deviation 1 (statistics over the batch and all pixels), using `keepdim`.
# 2. **Pairwise distances without loops.** For 5 points and 4 points in 2-D,
#    compute the `(5, 4)` matrix of Euclidean distances with broadcasting
#    only, and check it against `torch.cdist`.
# 3. **A safe softmax.** The softmax of a row is
#    $\mathrm{softmax}(z)_i = e^{z_i} / \sum_j e^{z_j}$. Write it for the rows
#    of a 2-D tensor with `dim` and `keepdim`, make it survive inputs such as
#    1000 (hint: subtracting the row's maximum changes nothing mathematically),
#    and compare with `torch.softmax`.

# %%
# **Solution 1.** `from_numpy` then `permute` moves channels first; the
# statistics reduce over every dimension except the channel one (0, 2 and 3),
# and `keepdim=True` leaves them with shape `(1, 3, 1, 1)`, ready to broadcast.

raw = np.random.randint(0, 256, size=(8, 32, 32, 3), dtype=np.uint8)
images = torch.from_numpy(raw).permute(0, 3, 1, 2).float() / 255
channel_mean = images.mean(dim=(0, 2, 3), keepdim=True)
channel_std = images.std(dim=(0, 2, 3), keepdim=True)
normalised = (images - channel_mean) / channel_std
print(
    "shape:",
    tuple(normalised.shape),
    "| dtype:",
    normalised.dtype,
    "| statistics shape:",
    tuple(channel_mean.shape),
)
print("per-channel mean:", normalised.mean(dim=(0, 2, 3)))
print("per-channel std: ", normalised.std(dim=(0, 2, 3)))

# %%
# **Solution 2.** Give the first set a new middle dimension and the second a
# new leading one: `(5, 1, 2) - (1, 4, 2)` broadcasts to `(5, 4, 2)`, every
# pair's difference. Square, sum over the last dimension, take the root.

points_a = torch.randn(5, 2)
points_b = torch.randn(4, 2)
differences = points_a.unsqueeze(1) - points_b.unsqueeze(0)
distances = differences.pow(2).sum(dim=-1).sqrt()
print(
    "differences:",
    tuple(differences.shape),
    "-> distances:",
    tuple(distances.shape),
)
print(
    "matches torch.cdist:",
    torch.allclose(distances, torch.cdist(points_a, points_b), atol=1e-6),
)

# %%
# **Solution 3.** $e^{1000}$ overflows to infinity and the naive version
# returns `nan`. Subtracting the row maximum (with `keepdim`, so it broadcasts)
# makes the largest exponent $e^0 = 1$; the factor $e^{-\max}$ cancels between
# numerator and denominator.


def naive_softmax(z):
    return z.exp() / z.exp().sum(dim=1, keepdim=True)


def safe_softmax(z):
    shifted = z - z.max(dim=1, keepdim=True).values
    return shifted.exp() / shifted.exp().sum(dim=1, keepdim=True)


logits = torch.tensor([[1.0, 2.0, 3.0], [1000.0, 1001.0, 1002.0]])
print("naive:", naive_softmax(logits))
print("safe: ", safe_softmax(logits))
print(
    "matches torch.softmax:",
    torch.allclose(safe_softmax(logits), torch.softmax(logits, dim=1)),
)

# %%
# Next: [Day 3](day03_autograd.ipynb) looks inside autograd, the engine that
# turns these tensor operations into gradients.
