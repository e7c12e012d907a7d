"""Cats vs dogs photos (Days 16, 17, 23, 24): an ``ImageFolder`` over the data directory.

See :mod:`course.data.store` for where data is looked for.
"""

from __future__ import annotations

from collections.abc import Callable

import numpy as np
from torchvision import datasets as tv_datasets

from course.data import store
from course.data.store import DATA_ENV, DataError

# The data-directory folder this module reads: the build keys its lessons on its content.
DATA_FOLDERS = ("cats_vs_dogs",)
CLASSES = ["cat", "dog"]


def load_cats_vs_dogs(
    split: str = "train", *, transform: Callable | None = None, limit: int | None = None
) -> tv_datasets.ImageFolder:
    """An ``ImageFolder`` over ``<data_dir>/cats_vs_dogs/<split>/{cat,dog}/*.jpg``.

    There is no automatic download: the photos must be in the data directory.
    """
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', not {split!r}")
    store.check_limit(limit)
    root = store.data_dir()
    folder = root / "cats_vs_dogs" / split
    if not folder.is_dir():
        raise DataError(
            f"Cats-vs-dogs {split} photos not found: {folder} does not exist. Put the photos "
            f"in {root / 'cats_vs_dogs'}/{{train,test}}/{{cat,dog}}/*.jpg (the class folder "
            f"names are the labels), or set {DATA_ENV} to a folder that holds cats_vs_dogs/. "
            "There is no automatic download for this dataset."
        )
    try:
        dataset = tv_datasets.ImageFolder(str(folder), transform=transform)
    except (FileNotFoundError, OSError) as err:
        raise DataError(
            f"Cats-vs-dogs {split} photos could not be read from {folder}: {err}. Each class "
            f"needs a folder of .jpg photos, for example {folder / 'cat'} and {folder / 'dog'}."
        ) from err
    total = len(dataset.samples)
    chosen = store.subset_indices(dataset.targets, limit)
    if chosen is not None:
        dataset.samples = [dataset.samples[i] for i in chosen]
        dataset.imgs = dataset.samples
        dataset.targets = [label for _, label in dataset.samples]
    counts = np.bincount(
        np.asarray(dataset.targets, dtype=np.int64), minlength=len(dataset.classes)
    )
    per_class = ", ".join(f"{n:,} {c}" for c, n in zip(dataset.classes, counts, strict=True))
    dataset.identity = {
        "dataset": "cats_vs_dogs",
        "split": split,
        "samples": len(dataset.samples),
        "of": total,
        "files": store.short_hash("\n".join(path for path, _ in dataset.samples)),
    }
    store.announce(
        f"Cats vs dogs {split}", len(dataset.samples), total, folder, f"photos: {per_class}"
    )
    return dataset


# --------------------------------------------------------------------------- SST-2
