"""
# Day 8 · Training and validation together (訓練與驗證流程整合)

A training loop that only prints a falling loss tells you little: is the model
right more often? Does it still improve on data it has never seen? Today you
write the loop that answers those questions on every epoch, on real MNIST
digits. You will see why a model needs a training mode and an evaluation mode,
why evaluation runs without gradients, how to count accuracy without a subtle
bug, and how to record a history, draw a progress bar and fold everything into
one reusable `fit` function. The rest of the course trains with that function.

**You will learn:** the structure of a good loop (`train_one_epoch` and
`evaluate`) · `model.train()` and `model.eval()` · evaluation under
`torch.no_grad()` · counting accuracy correctly · a per-epoch history and a
progress bar · a reusable `fit` function

**Before you start:** [Day 5](day05_data_loading.ipynb) (`random_split`),
[Day 6](day06_training_workflow.ipynb) (the five steps),
[Day 7](day07_overfitting.ipynb) (Dropout, validation curves) ·
**Reading time:** about 2 hours
"""

# %%
# ## 1. Set-up
#
# The usual start: imports, one seed so that every run prints the same
# numbers, and one device chosen once ([Day 4](day04_gpu.ipynb)). The profile
# (`full` or `smoke`) decides how much data and how many epochs the run uses;
# everything else is identical in both. The last line says how many CPU
# threads PyTorch uses for its maths (by default, one per core).

import sys
import time

import matplotlib.pyplot as plt
import torch
from torch import nn
from torch.utils.data import DataLoader, TensorDataset, random_split
from tqdm import tqdm

import course
from course.data.mnist import load_mnist
from course.report import headline

course.seed_everything(0)
device = course.choose_device()
print(
    f"profile: {course.PROFILE}, device: {device}, CPU threads: "
    f"{torch.get_num_threads()}"
)

# %%
# ## 2. Three sets: train, validation, test
#
# A model is judged on data it did not train on, and we need such data for
# two different jobs:
#
# - the **validation set** is looked at after every epoch, to follow training
#   and to make decisions (how many epochs, which learning rate, which model);
# - the **test set** is looked at *once*, at the very end, to report how well
#   the final model does. Because no decision was made with it, its number is
#   an honest estimate of performance on new data.
#
# If you tuned on the test set it would become a second validation set, and
# its number would be optimistic. MNIST comes with a training part and a test
# part; we cut the validation set out of the training part and leave the test
# part alone until section 11. In the `smoke` profile `limit` keeps a small,
# class-balanced subset of the real digits.

mnist_train = load_mnist(train=True, limit=course.pick(full=None, smoke=2000))
mnist_test = load_mnist(train=False, limit=course.pick(full=None, smoke=500))

# %%
# The images are stored as a `uint8` tensor of shape `(N, 28, 28)`. Day 10
# looks at normalisation in detail; here we scale the pixels to $[0, 1]$ once,
# up front, and wrap the tensors in a `TensorDataset`. Decoding a PIL image
# for every sample in every epoch would cost more time than this small model
# takes to train.


def as_tensor_dataset(mnist) -> TensorDataset:
    images = mnist.data.float().div(255).unsqueeze(1)  # (N, 1, 28, 28) in [0, 1]
    return TensorDataset(images, mnist.targets)


full_train = as_tensor_dataset(mnist_train)
test_set = as_tensor_dataset(mnist_test)
print("images:", tuple(full_train.tensors[0].shape), full_train.tensors[0].dtype)
print("labels:", tuple(full_train.tensors[1].shape), full_train.tensors[1].dtype)

# %%
# What the model will learn from: the first sixteen training digits, each with
# its label above it.

fig, axes = plt.subplots(2, 8, figsize=(8, 2.4))
for ax, image, label in zip(
    axes.flat, full_train.tensors[0], full_train.tensors[1], strict=False
):
    ax.imshow(image[0], cmap="gray")
    ax.set_title(str(label.item()))
    ax.axis("off")
fig.tight_layout()
plt.show()

# %%
# `random_split` ([Day 5](day05_data_loading.ipynb)) with a seeded generator
# cuts the same validation set on every run. One sixth of the training part
# becomes validation data: on full MNIST that is 10,000 images, the same size
# as the test set.

n_val = len(full_train) // 6
train_set, val_set = random_split(
    full_train,
    [len(full_train) - n_val, n_val],
    generator=torch.Generator().manual_seed(0),
)
overlap = set(train_set.indices) & set(val_set.indices)
print(
    f"train: {len(train_set):,}  validation: {len(val_set):,}  test: "
    f"{len(test_set):,}"
)
print(f"images in both train and validation: {len(overlap)}")

# %%
# Three loaders. Only the training loader shuffles (with its own seeded
# generator, so the order repeats from run to run); validation and test
# batches can be larger, because no gradients are kept for them.

batch_size = 128
train_loader = DataLoader(
    train_set,
    batch_size=batch_size,
    shuffle=True,
    generator=torch.Generator().manual_seed(0),
)
val_loader = DataLoader(val_set, batch_size=512)
test_loader = DataLoader(test_set, batch_size=512)
print(f"batches per epoch: train {len(train_loader)}, validation {len(val_loader)}")

# %%
# ## 3. The model: an MLP with BatchNorm and Dropout
#
# A small multilayer perceptron: flatten the $28 \times 28$ image to 784
# numbers, one hidden layer of 256 units, ten outputs (one **logit** per
# digit). Two layers in it behave differently in training and in evaluation,
# which is the subject of the next section:
#
# - `nn.BatchNorm1d` normalises each hidden unit with the mean and variance of
#   the current batch while training, and keeps running averages of those
#   statistics for evaluation;
# - `nn.Dropout(p)` zeroes each activation with probability $p$ while training
#   and does nothing in evaluation ([Day 7](day07_overfitting.ipynb)).


def make_mlp(hidden: int = 256, dropout: float = 0.2) -> nn.Module:
    return nn.Sequential(
        nn.Flatten(),
        nn.Linear(28 * 28, hidden),
        nn.BatchNorm1d(hidden),
        nn.ReLU(),
        nn.Dropout(dropout),
        nn.Linear(hidden, 10),
    )


model = make_mlp().to(device)
print(model)
print(f"{sum(p.numel() for p in model.parameters()):,} trainable parameters")

# %%
# ## 4. `model.train()` and `model.eval()`
#
# Every `nn.Module` has a flag, `model.training`. `model.train()` sets it to
# `True` on the module and all its children, `model.eval()` sets it to
# `False`. Most layers ignore it; Dropout and BatchNorm do not. Feed the same
# eight images through the model twice in each mode:

images, labels = next(iter(val_loader))
few = images[:8].to(device)

with torch.no_grad():
    model.train()
    first, second = model(few), model(few)
    print(
        f"train mode: two passes differ by up to {(first - second).abs().max():.4f}"
    )
    model.eval()
    first, second = model(few), model(few)
    print(
        f"eval mode:  two passes differ by up to {(first - second).abs().max():.4f}"
    )

# %%
# In training mode Dropout removes a different random set of units on every
# pass, so the same input gives different outputs. In evaluation mode the
# model is a fixed function, which is what you want when you measure it or
# use it.
#
# BatchNorm has a second, quieter effect: in training mode every forward pass
# *updates* its running statistics, even under `torch.no_grad()`. Running the
# validation data through a model left in training mode therefore changes the
# model:

batchnorm = model[2]
before = batchnorm.running_mean.clone()
with torch.no_grad():
    model.train()
    model(few)
    print(
        "train mode changed running_mean:",
        not torch.equal(before, batchnorm.running_mean),
    )
    before = batchnorm.running_mean.clone()
    model.eval()
    model(few)
    print(
        "eval mode changed running_mean: ",
        not torch.equal(before, batchnorm.running_mean),
    )

# %%
# The usual symptom of a forgotten `model.eval()` is silent: the model runs
# and returns numbers, just worse ones, because Dropout still drops units and
# BatchNorm normalises with the statistics of the current batch (Solution 2
# measures how much worse). Only one case fails loudly: BatchNorm cannot
# compute a batch variance from a single sample, so predicting one image in
# training mode raises an error.

one_image = few[:1]
model.train()
try:
    model(one_image)
except ValueError as err:
    print("Expected error:", type(err).__name__, "-", err)
model.eval()
print("in eval mode the prediction works:", model(one_image).argmax(dim=1).item())

# %%
# The rule: call `model.train()` at the start of every training epoch and
# `model.eval()` before every evaluation. Because the training loop calls
# evaluation in the middle of training, a good `evaluate` also puts the model
# back in the mode it found it in.
#
# ## 5. Evaluation without gradients
#
# In a normal forward pass autograd records a graph and **saves** the
# intermediate activations that `backward()` will need
# ([Day 3](day03_autograd.ipynb)). Evaluation never calls `backward()`, so
# that work is wasted. Inside `torch.no_grad()` nothing is recorded:

model.eval()
images = images.to(device)
out = model(images)
print(
    f"normal pass:   requires_grad={out.requires_grad}, "
    f"grad_fn={type(out.grad_fn).__name__}"
)
with torch.no_grad():
    out = model(images)
print(f"under no_grad: requires_grad={out.requires_grad}, grad_fn={out.grad_fn}")

# %%
# How much memory does the graph hold? `saved_tensors_hooks` lets us see every
# tensor autograd saves for the backward pass, for one validation batch, with
# and without `no_grad`. The same tensor can be saved more than once (a ReLU
# output is saved by the ReLU and by the next layer; the weights are saved
# too), so we count each piece of memory (storage) once, by its address, and
# add up the sizes of the distinct storages: the memory the graph keeps alive.


def bytes_saved_for_backward(run) -> int:
    storages = {}

    def pack(tensor: torch.Tensor) -> torch.Tensor:
        storage = tensor.untyped_storage()
        storages[storage.data_ptr()] = storage.nbytes()
        return tensor

    with torch.autograd.graph.saved_tensors_hooks(pack, lambda tensor: tensor):
        run()
    return sum(storages.values())


def forward_with_graph():
    return model(images)


def forward_no_grad():
    with torch.no_grad():
        return model(images)


saved_with_graph = bytes_saved_for_backward(forward_with_graph)
saved_no_grad = bytes_saved_for_backward(forward_no_grad)
print(f"one batch of {len(images)} images, distinct bytes saved for backward:")
print(f"  normal pass:   {saved_with_graph:,}")
print(f"  under no_grad: {saved_no_grad:,}")

# %%
# The saved activations grow with the batch size and the depth of the model:
# for a large network they are most of the memory a training step uses. Under
# `no_grad` they are never kept, which is also why evaluation can use larger
# batches. Does it save time as well? We time the whole validation set both
# ways. On the CPU, recording the graph is cheap next to the matrix products
# of this model, so the two times may well be close; timings also vary from
# run to run. Memory is the saving that counts, and on a GPU memory is what
# limits the batch size.


def time_validation_pass(no_grad: bool) -> float:
    start = time.perf_counter()
    with torch.set_grad_enabled(not no_grad):
        for batch_images, _ in val_loader:
            model(batch_images.to(device))
    return time.perf_counter() - start


time_validation_pass(no_grad=True)  # warm-up: the first pass pays one-off costs
t_graph = time_validation_pass(no_grad=False)
t_no_grad = time_validation_pass(no_grad=True)
print(
    f"validation pass with graph: {t_graph:.3f} s, under no_grad: {t_no_grad:.3f} s"
)
print(
    f"the pass under no_grad took {t_no_grad / t_graph:.0%} of the time of the "
    "normal pass"
)

# %%
# `torch.inference_mode()` is a stricter variant: it also skips the
# bookkeeping that would let its outputs be used in a graph later, so it can
# be a little faster still. `no_grad` is the safe default for validation
# inside a training loop.
#
# Note that `no_grad` and `eval()` are independent switches: `no_grad` turns
# off autograd, `eval()` changes how Dropout and BatchNorm compute. Evaluation
# needs both.
#
# ## 6. Accuracy, counted correctly
#
# The model returns ten logits per image. The prediction is the class with the
# largest logit: `logits.argmax(dim=1)`. No softmax is needed, because softmax
# is increasing and does not change which entry is largest. `dim=1` matters:
# the classes are along dimension 1, the batch along dimension 0. Taking the
# argmax over the batch by mistake fails as soon as the shapes disagree:

with torch.no_grad():
    logits = model(images)
print("logits:", tuple(logits.shape))
try:
    correct = (logits.argmax(dim=0) == labels.to(device)).sum()
except RuntimeError as err:
    print("Expected error:", type(err).__name__, "-", err)
predicted = logits.argmax(dim=1)
print(
    "argmax(dim=1):",
    tuple(predicted.shape),
    "first predictions:",
    predicted[:10].tolist(),
)

# %%
# Accuracy is then *correct predictions over all samples*:
#
# $$\text{accuracy} = \frac{\#\{i : \hat{y}_i = y_i\}}{N}.$$
#
# The tempting shortcut is to compute the accuracy of each batch and average
# those. That is only right when all batches have the same size, and the last
# batch usually does not. Here is the pitfall in miniature: a batch of four
# predictions, all correct, and a last batch of one, wrong.

batch_results = [torch.tensor([True, True, True, True]), torch.tensor([False])]
mean_of_batches = sum(r.float().mean() for r in batch_results) / len(batch_results)
over_samples = sum(r.sum() for r in batch_results) / sum(
    len(r) for r in batch_results
)
print(f"mean of per-batch accuracies: {mean_of_batches:.0%}")
print(f"correct / total:              {over_samples:.0%}")

# %%
# The single sample in the last batch counted as much as the four before it.
# The same happens on real data whenever the dataset size is not a multiple of
# the batch size. In batches of 64, for example, the validation set ends with
# a smaller batch:

demo_batch = 64
n_full, rest = divmod(len(val_set), demo_batch)
print(
    f"{len(val_set)} images = {n_full} batches of {demo_batch} + one batch of "
    f"{rest}"
)

# %%
# A clean way to get accuracy right is to collect every prediction first and
# count afterwards. `predict` returns the predicted and true labels of a whole
# loader, on the CPU, in evaluation mode and without gradients. We then
# compare the two ways of averaging over batches of 64, on the (still
# untrained) model.


def predict(
    model: nn.Module, loader, *, device
) -> tuple[torch.Tensor, torch.Tensor]:
    was_training = model.training
    model.eval()
    predicted, actual = [], []
    with torch.no_grad():
        for batch_images, batch_labels in loader:
            predicted.append(model(batch_images.to(device)).argmax(dim=1).cpu())
            actual.append(batch_labels)
    model.train(was_training)
    return torch.cat(predicted), torch.cat(actual)


val_predicted, val_actual = predict(model, val_loader, device=device)
is_correct = val_predicted == val_actual
per_batch = [chunk.float().mean().item() for chunk in is_correct.split(demo_batch)]
exact = is_correct.sum().item() / len(is_correct)
averaged = sum(per_batch) / len(per_batch)
print(f"correct / total:              {exact:.4%}")
print(f"mean of per-batch accuracies: {averaged:.4%}")
print(f"difference: {100 * abs(exact - averaged):.4f} percentage points")

# %%
# On real data the difference is usually small, but it is a bug: it grows as
# the last batch gets smaller and its accuracy further from the rest, and it
# changes with the batch size, which a measurement should not. Counting
# correct answers and samples as integers and dividing once is exact for any
# batch sizes.
#
# ## 7. Writing the loop well
#
# Now the pieces go together. A training run alternates two functions with one
# job each:
#
# - `train_one_epoch` makes one pass over the training data, updating the
#   weights, and reports the mean loss and accuracy of that pass;
# - `evaluate` measures the model on a loader without changing it.
#
# Both return **means over samples**: the loss of a batch (a mean, with
# PyTorch's default `reduction="mean"`) is multiplied by the batch size
# before it is added up, and the total is divided by the number of samples.
# Here is the first one, the five steps of [Day 6](day06_training_workflow.ipynb)
# plus bookkeeping. It grows Day 6's `train_epoch` (which returned the loss
# alone) by an accuracy count, and takes a new name because it returns two
# numbers; `course.train.train_epoch` stays Day 6's function.


def train_one_epoch(
    model, loader, loss_fn, optimizer, device
) -> tuple[float, float]:
    model.train()  # Dropout on, BatchNorm uses (and updates) batch statistics
    loss_sum, correct, count = 0.0, 0, 0
    for batch_images, batch_labels in loader:
        batch_images, batch_labels = (
            batch_images.to(device),
            batch_labels.to(device),
        )
        logits = model(batch_images)
        loss = loss_fn(logits, batch_labels)
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()
        loss_sum += loss.item() * len(
            batch_labels
        )  # .item(): a float, not the graph
        correct += (logits.argmax(dim=1) == batch_labels).sum().item()
        count += len(batch_labels)
    return loss_sum / count, correct / count


# %%
# `loss.item()` matters. Adding up `loss` itself would add up tensors that
# carry their graph, and each epoch's total would keep every batch's graph
# alive until the end of the epoch. A sum of two losses shows it:

model.train()
demo_losses = [
    nn.functional.cross_entropy(model(few), labels[:8].to(device)) for _ in range(2)
]
running_tensor = demo_losses[0] + demo_losses[1]
running_float = demo_losses[0].item() + demo_losses[1].item()
print(
    f"sum of tensors: {type(running_tensor).__name__}, "
    f"grad_fn={type(running_tensor.grad_fn).__name__}"
)
print(f"sum of .item(): {type(running_float).__name__}")

# %%
# The evaluation function mirrors it, under `torch.no_grad()` in evaluation
# mode, and restores the mode it found. The `try`/`finally` restores it even
# if something inside fails.


def evaluate(model, loader, loss_fn, *, device) -> dict[str, float]:
    was_training = model.training
    model.eval()  # Dropout off, BatchNorm uses its running statistics
    loss_sum, correct, count = 0.0, 0, 0
    try:
        with torch.no_grad():
            for batch_images, batch_labels in loader:
                batch_images, batch_labels = (
                    batch_images.to(device),
                    batch_labels.to(device),
                )
                logits = model(batch_images)
                loss_sum += loss_fn(logits, batch_labels).item() * len(batch_labels)
                correct += (logits.argmax(dim=1) == batch_labels).sum().item()
                count += len(batch_labels)
    finally:
        model.train(was_training)
    return {"loss": loss_sum / count, "accuracy": correct / count}


loss_fn = nn.CrossEntropyLoss()
model.train()
untrained = evaluate(model, val_loader, loss_fn, device=device)
print(
    f"untrained: validation loss {untrained['loss']:.4f}, accuracy "
    f"{untrained['accuracy']:.2%}"
)
print("mode restored to training:", model.training)

# %%
# With ten classes, an untrained model is right about one time in ten, and
# its cross-entropy is close to $\ln 10 \approx 2.30$, the loss of a uniform
# guess. Both numbers above are a useful sanity check before training: a
# model that starts far from them usually has a bug in its data or its output
# layer.
#
# ## 8. A progress bar
#
# An epoch can take minutes on bigger data and models. A progress bar shows
# that training runs, how fast, and when it will finish. `tqdm` wraps any
# iterable, a `DataLoader` included, and draws the bar as the loop consumes
# it. We send it to `sys.stdout` so it appears in the notebook's output next
# to the `print`s (by default it goes to `stderr`), and fix its width with
# `ncols` so it renders the same everywhere. `train_one_epoch` needs no
# change: it just iterates over what it is given.

bar_demo = tqdm(
    val_loader, desc="one pass", unit="batch", file=sys.stdout, ncols=80
)
for batch_images, _ in bar_demo:
    with torch.no_grad():
        model(batch_images.to(device))
bar_demo.close()

# %%
# ## 9. A reusable `fit` function
#
# `fit` runs the epochs. For each one it trains with a progress bar,
# validates, steps an optional learning-rate scheduler (Day 15's subject)
# once, records everything in a **history** (a dict of lists, one value per
# epoch) and prints one summary line. The history is what we print and plot
# afterwards, and what you would save next to the model.


def fit(
    model,
    train_loader,
    val_loader,
    loss_fn,
    optimizer,
    *,
    epochs,
    device,
    scheduler=None,
    progress=True,
) -> dict[str, list[float]]:
    history = {
        "train_loss": [],
        "train_acc": [],
        "val_loss": [],
        "val_acc": [],
        "epoch_time_s": [],
    }
    for epoch in range(1, epochs + 1):
        start = time.perf_counter()
        desc = f"epoch {epoch}/{epochs}"
        batches = tqdm(
            train_loader,
            desc,
            unit="batch",
            file=sys.stdout,
            ncols=80,
            disable=not progress,
        )
        train_loss, train_acc = train_one_epoch(
            model, batches, loss_fn, optimizer, device
        )
        val = evaluate(model, val_loader, loss_fn, device=device)
        if scheduler is not None:
            scheduler.step()  # once per epoch
        seconds = time.perf_counter() - start

        history["train_loss"].append(train_loss)
        history["train_acc"].append(train_acc)
        history["val_loss"].append(val["loss"])
        history["val_acc"].append(val["accuracy"])
        history["epoch_time_s"].append(seconds)
        print(
            f"epoch {epoch}/{epochs}  train loss {train_loss:.4f} acc "
            f"{train_acc:.2%}  |  "
            f"val loss {val['loss']:.4f} acc {val['accuracy']:.2%}  ({seconds:.1f} "
            "s)"
        )
    return history


# %%
# Everything a run depends on is named here: the model is built fresh from a
# fixed seed, Adam with its usual learning rate of $10^{-3}$, and the number
# of epochs from the profile.

epochs = course.pick(full=15, smoke=2)
learning_rate = 1e-3

course.seed_everything(0)
model = make_mlp().to(device)
optimizer = torch.optim.Adam(model.parameters(), lr=learning_rate)
history = fit(
    model,
    train_loader,
    val_loader,
    loss_fn,
    optimizer,
    epochs=epochs,
    device=device,
)

# %%
# ## 10. Reading the history
#
# The history as a table, one row per epoch:

print(
    f"{'epoch':>5} | {'train loss':>10} | {'train acc':>9} | {'val loss':>8} | "
    f"{'val acc':>7}"
)
print("-" * 53)
for i in range(epochs):
    print(
        f"{i + 1:>5} | {history['train_loss'][i]:>10.4f} | "
        f"{history['train_acc'][i]:>9.2%} | "
        f"{history['val_loss'][i]:>8.4f} | {history['val_acc'][i]:>7.2%}"
    )
print(f"total training time: {sum(history['epoch_time_s']):.1f} s")

# %%
# And as curves: loss on the left, accuracy on the right, training against
# validation in each. `course.plot_curves` is the plotting helper
# [Day 7](day07_overfitting.ipynb) introduced; it packages the curves Day 6
# drew by hand.

fig, (ax_loss, ax_acc) = plt.subplots(1, 2, figsize=(11, 4))
course.plot_curves(
    {"train": history["train_loss"], "validation": history["val_loss"]},
    title="Cross-entropy loss per epoch",
    ylabel="loss (mean per image)",
    ax=ax_loss,
)
course.plot_curves(
    {
        "train": [100 * a for a in history["train_acc"]],
        "validation": [100 * a for a in history["val_acc"]],
    },
    title="Accuracy per epoch",
    ylabel="accuracy (%)",
    ax=ax_acc,
)
fig.suptitle("MLP on MNIST: training vs validation")
fig.tight_layout()
plt.show()

# %%
# Early on the validation accuracy can sit *above* the training accuracy.
# That is not a bug: the training numbers are averaged over the epoch while
# the weights are still improving, with Dropout switched on; the validation
# numbers are measured once, at the end of the epoch, on the full network. To
# compare like with like, evaluate the training set the same way:

clean_train_acc = evaluate(model, train_loader, loss_fn, device=device)["accuracy"]
print(
    "last epoch, running train accuracy (dropout on):  "
    f"{history['train_acc'][-1]:.2%}"
)
print(f"end of training, train accuracy in eval mode:     {clean_train_acc:.2%}")
print(
    "end of training, validation accuracy:             "
    f"{history['val_acc'][-1]:.2%}"
)
gap = clean_train_acc - history["val_acc"][-1]
print(
    f"gap between train (eval mode) and validation: {100 * gap:.2f} percentage "
    "points"
)

# %%
# The gap between training and validation is what [Day 7](day07_overfitting.ipynb)
# taught you to watch: as long as the validation loss keeps falling, more
# epochs help; once it turns up while the training loss keeps falling, the
# model has started to overfit. Which epoch had the lowest validation loss?

best_epoch = min(range(epochs), key=history["val_loss"].__getitem__) + 1
print(f"lowest validation loss at epoch {best_epoch} of {epochs}")

# %%
# ## 11. The test set, once
#
# Training is finished and no more decisions will be made, so now, and only
# now, the test set is used. One number, reported next to the validation
# accuracy it should be close to:

test = evaluate(model, test_loader, loss_fn, device=device)
print(f"final validation accuracy: {history['val_acc'][-1]:.2%}")
print(
    f"test accuracy:             {test['accuracy']:.2%}  (test loss "
    f"{test['loss']:.4f})"
)
headline("MNIST test accuracy, one-hidden-layer MLP", f"{test['accuracy']:.2%}")

# %%
# ## 12. The same functions in `course.fit`
#
# `fit`, `evaluate` and `predict` are kept in the course's helper package, in
# `course.fit`, with the same names, arguments and results as the ones you
# just wrote. The packaged versions add a few conveniences: `device` defaults
# to wherever the model's parameters are, the validation loader may be `None`,
# `evaluate` works without a loss function, a single-logit binary output is
# read as "class 1 when the logit is above 0", and a `ReduceLROnPlateau`
# scheduler is given the validation loss. Later days import them instead of
# copying this lesson's code:
#
# ```python
# from course.fit import evaluate, fit, predict
#
# history = fit(model, train_loader, val_loader, loss_fn, optimizer, epochs=10)
# print(evaluate(model, test_loader, loss_fn))  # {'accuracy': ..., 'loss': ...}
# ```
#
# and spend their time on what is new in each lesson.
#
# ## 13. Summary
#
# - Split the data three ways: train to fit, validation to follow training and
#   decide, test once at the end to report. Seed the split.
# - `model.train()` before training, `model.eval()` before evaluating:
#   Dropout and BatchNorm compute differently in the two modes, and BatchNorm
#   updates its running statistics on every training-mode pass.
# - Evaluate under `torch.no_grad()`: no graph, no saved activations, less
#   memory and time. `no_grad` and `eval()` are two separate switches.
# - Prediction is `logits.argmax(dim=1)`; accuracy is correct answers over
#   samples, not a mean of per-batch accuracies.
# - Accumulate `loss.item() * batch_size`, never the loss tensor itself.
# - `fit` = for each epoch, `train_one_epoch` + `evaluate` + a history entry +
#   a summary line, with a `tqdm` progress bar over the training batches.
#
# ## 14. Exercises
#
# 1. **Per-class accuracy.** Use `predict` to compute the validation accuracy
#    of each digit separately. Which digit does the model find hardest?
# 2. **The forgotten `eval()`.** Evaluate the trained model on the validation
#    set in *training* mode (under `no_grad`, but without `model.eval()`). How
#    does the accuracy compare with evaluation mode, and what happened to the
#    model's BatchNorm statistics?
# 3. **A learning-rate schedule.** Train a fresh model for three epochs with
#    `torch.optim.lr_scheduler.StepLR(optimizer, step_size=1, gamma=0.5)`
#    passed to `fit`, and print the learning rate in use at each epoch.

# %%
# **Solution 1.** Group the predictions by their true label: `bincount`
# counts, per class, the samples and the correct ones.

val_predicted, val_actual = predict(model, val_loader, device=device)
per_class_total = torch.bincount(val_actual, minlength=10)
per_class_correct = torch.bincount(
    val_actual[val_predicted == val_actual], minlength=10
)
per_class_acc = per_class_correct / per_class_total
for digit in range(10):
    print(
        f"digit {digit}: {per_class_acc[digit]:.2%} of {per_class_total[digit]} "
        "images"
    )
hardest = per_class_acc.argmin().item()
print(f"hardest digit: {hardest} ({per_class_acc[hardest]:.2%})")

# %%
# **Solution 2.** We work on a copy, so that the real model is not changed.
# In training mode Dropout is on and BatchNorm normalises each batch with its
# own statistics, and every batch moves the running statistics.

import copy

careless = copy.deepcopy(model)
running_before = careless[2].running_mean.clone()
careless.train()
correct = count = 0
with torch.no_grad():
    for batch_images, batch_labels in val_loader:
        logits = careless(batch_images.to(device))
        correct += (logits.argmax(dim=1).cpu() == batch_labels).sum().item()
        count += len(batch_labels)
eval_mode_acc = evaluate(model, val_loader, loss_fn, device=device)["accuracy"]
shift = (careless[2].running_mean - running_before).abs().max().item()
print(f"validation accuracy in train mode: {correct / count:.2%}")
print(f"validation accuracy in eval mode:  {eval_mode_acc:.2%}")
print(
    f"BatchNorm running_mean moved by up to {shift:.4f}: validation data leaked "
    "into the model"
)

# %%
# **Solution 3.** The scheduler halves the learning rate after each epoch. We
# read the rate from the optimiser before each epoch by training one epoch
# per `fit` call, which keeps the example short (a real run would pass
# `epochs=3` once and read the rates afterwards).

course.seed_everything(0)
scheduled = make_mlp().to(device)
sched_optimizer = torch.optim.Adam(scheduled.parameters(), lr=learning_rate)
scheduler = torch.optim.lr_scheduler.StepLR(sched_optimizer, step_size=1, gamma=0.5)
for _ in range(3):
    print(
        f"learning rate for this epoch: {sched_optimizer.param_groups[0]['lr']:.2e}"
    )
    fit(
        scheduled,
        train_loader,
        val_loader,
        loss_fn,
        sched_optimizer,
        epochs=1,
        device=device,
        scheduler=scheduler,
        progress=False,
    )
print(
    f"learning rate after three epochs: {sched_optimizer.param_groups[0]['lr']:.2e}"
)

# %%
# Next, [Day 9](day09_save_load.ipynb) saves the trained model and its
# optimiser to disk, loads them back, and resumes training from a checkpoint.
