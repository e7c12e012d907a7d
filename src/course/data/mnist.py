"""MNIST (Days 8-12): torchvision's own idx reader over ``<data_dir>/MNIST/raw``.

See :mod:`course.data.store` for where data is looked for and what happens offline.
"""

from __future__ import annotations

import os
from collections.abc import Callable
from pathlib import Path

import numpy as np
import torch
from PIL import Image, ImageDraw, ImageFont
from torchvision import datasets as tv_datasets
from torchvision.datasets.mnist import read_image_file, read_label_file

from course.data import store
from course.data.store import DATA_ENV, DataError

# The data-directory folder this module reads: the build keys its lessons on its content.
DATA_FOLDERS = ("MNIST",)

MNIST_CLASSES = list(tv_datasets.MNIST.classes)
MNIST_FILES = {
    True: ("train-images-idx3-ubyte", "train-labels-idx1-ubyte"),
    False: ("t10k-images-idx3-ubyte", "t10k-labels-idx1-ubyte"),
}
# The original files, as extracted by torchvision (values from ../shared/data/README.md).
MNIST_SHA256 = {
    "train-images-idx3-ubyte": "ba891046e6505d7aadcbbe25680a0738ad16aec93bde7f9b65e87a2fc25776db",
    "train-labels-idx1-ubyte": "65a50cbbf4e906d70832878ad85ccda5333a97f0f4c3dd2ef09a8a9eef7101c5",
    "t10k-images-idx3-ubyte": "0fa7898d509279e482958e8ce81c8e77db3f2f8254e26661ceb7762c4d494ce7",
    "t10k-labels-idx1-ubyte": "ff7bcfd416de33731a308c3f266cc351222c34898ecbeaf847f06e48f7ec33f2",
}


def _download_mnist(root: Path) -> None:
    """torchvision's own download (all four files) into ``root/MNIST/raw``."""
    try:
        with store.socket_timeout(store.DOWNLOAD_TIMEOUT_S):
            tv_datasets.MNIST(str(root), train=True, download=True)
    except Exception as err:  # noqa: BLE001 - any failure becomes one clear message
        raise DataError(
            f"Downloading MNIST into {root / 'MNIST' / 'raw'} failed ({type(err).__name__}: "
            f"{err}). Check that the folder is writable and the network works, or set "
            f"{DATA_ENV} to a folder that already holds MNIST/raw/ (for example ../shared/data)."
        ) from err


def _read(reader: Callable[[str], torch.Tensor], path: Path) -> torch.Tensor:
    """torchvision's idx reader, its failures turned into one clear message."""
    try:
        return reader(str(path))
    except (AssertionError, ValueError, RuntimeError, IndexError, OSError) as err:
        raise DataError(
            f"{store.shown(path)} is not a readable MNIST idx file ({type(err).__name__}: "
            f"{err}); it is truncated or damaged. Replace it with a good copy (for example "
            "from ../shared/data/MNIST/raw)."
        ) from err


class MNISTDataset(store.FromArrays, tv_datasets.MNIST):
    """torchvision's ``MNIST`` built from arrays already read: same attributes, same items.

    ``.source`` says where the data came from, ``.synthetic`` whether it is a generated
    stand-in, and ``.identity`` is a small dict that identifies the data (pass it in the
    key of :func:`course.model_cache.trained_model`).
    """

    def __init__(
        self,
        root: str | Path,
        train: bool,
        data: torch.Tensor,
        targets: torch.Tensor,
        *,
        transform: Callable | None = None,
        target_transform: Callable | None = None,
        source: str = "",
        synthetic: bool = False,
        identity: dict | None = None,
    ) -> None:
        self._fill(root, train, data, targets, transform, target_transform)
        self.source = source
        self.synthetic = synthetic
        self.identity = identity or {}

    @property
    def raw_folder(self) -> str:
        return os.path.join(self.root, "MNIST", "raw")


def _synthetic_mnist(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """Digit glyphs drawn with Pillow's font, shifted, scaled and noised: learnable, not MNIST."""
    try:
        font = ImageFont.load_default(size=22)
    except (TypeError, OSError):  # old Pillow or no FreeType: the small bitmap font
        font = ImageFont.load_default()
    templates = np.zeros((10, 28, 28), np.float32)
    for digit in range(10):
        canvas = Image.new("L", (28, 28))
        draw = ImageDraw.Draw(canvas)
        try:
            draw.text((14, 14), str(digit), fill=255, font=font, anchor="mm")
        except ValueError:  # bitmap fonts know no anchors
            draw.text((10, 8), str(digit), fill=255, font=font)
        templates[digit] = np.asarray(canvas, np.float32) / 255.0
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.arange(n) % 10)
    images = np.empty((n, 28, 28), np.uint8)
    for i, label in enumerate(labels):
        shifted = np.roll(templates[label], tuple(rng.integers(-3, 4, size=2)), axis=(0, 1))
        noisy = shifted * rng.uniform(0.6, 1.0) + rng.normal(0.0, 0.08, (28, 28))
        images[i] = np.clip(noisy * 255.0, 0, 255).astype(np.uint8)
    return images, labels.astype(np.int64)


def load_mnist(
    train: bool = True,
    *,
    transform: Callable | None = None,
    target_transform: Callable | None = None,
    limit: int | None = None,
    allow_synthetic: bool | None = None,
) -> MNISTDataset:
    """MNIST as a ``torchvision.datasets.MNIST`` (items: PIL image or ``transform(image)``, int).

    Reads ``<data_dir>/MNIST/raw`` (checksums verified once, then remembered), else downloads
    with torchvision when there is a network, else raises :class:`DataError` (or, when
    ``allow_synthetic`` -- by default only in the smoke profile -- returns a labelled
    generated stand-in). ``limit`` keeps a deterministic class-balanced subset.
    """
    store.check_limit(limit)
    split = "train" if train else "test"
    title = f"MNIST {split}"
    root = store.data_dir()
    raw = root / "MNIST" / "raw"
    names = MNIST_FILES[train]
    how = "torchvision idx files"
    missing = [name for name in names if not (raw / name).is_file()]
    if missing:
        mirror = tv_datasets.MNIST.mirrors[0]
        if store.network_ok(mirror + tv_datasets.MNIST.resources[0][0]):
            _download_mnist(root)
            how = "downloaded by torchvision"
            missing = [name for name in names if not (raw / name).is_file()]
            if missing:
                raise DataError(
                    f"MNIST was downloaded, but {raw} still lacks {', '.join(missing)}. Delete "
                    f"{raw} and try again, or set {DATA_ENV} to a folder holding MNIST/raw/."
                )
        elif store.synthetic_allowed(allow_synthetic):
            n = store.synthetic_size(limit, train)
            images, labels = _synthetic_mnist(n, seed=0 if train else 1)
            store.synthetic_line(
                title, "MNIST", n, f"no MNIST files in {store.shown(raw)} and no network"
            )
            return MNISTDataset(
                "(generated)",
                train,
                torch.from_numpy(images),
                torch.from_numpy(labels),
                transform=transform,
                target_transform=target_transform,
                source="generated stand-in (not MNIST)",
                synthetic=True,
                identity={"dataset": "MNIST", "split": split, "synthetic": True, "samples": n},
            )
        else:
            raise DataError(
                f"MNIST {split} data not found: {raw} lacks {', '.join(missing)}, and it could "
                f"not be downloaded because {store.no_network_reason(mirror)}. Set {DATA_ENV} to a "
                f"folder holding MNIST/raw/{names[0]} and MNIST/raw/{names[1]} (torchvision's "
                "uncompressed idx files; for example ../shared/data), or run once on a machine "
                f"with internet and the files will be downloaded to {raw}."
                + (
                    ""
                    if store.is_smoke()
                    else " (Only the smoke profile may use a generated stand-in instead.)"
                )
            )

    image_path, label_path = raw / names[0], raw / names[1]
    known = [store.verify_sha256(p, MNIST_SHA256.get(p.name)) for p in (image_path, label_path)]
    how += ", checksums ok" if all(known) else ", no known checksum"
    images = _read(read_image_file, image_path)
    labels = _read(read_label_file, label_path)
    if len(labels) != len(images):
        raise DataError(
            f"{store.shown(image_path)} holds {len(images):,} images but "
            f"{store.shown(label_path)} holds {len(labels):,} labels; the two files do not "
            "belong together. Replace them with a matching pair."
        )
    if len(labels) and int(labels.max()) > 9:
        raise DataError(
            f"{store.shown(label_path)} holds labels above 9; it is not an MNIST label file."
        )

    total = len(labels)
    chosen = store.subset_indices(labels.numpy(), limit)
    if chosen is not None:
        index = torch.from_numpy(chosen)
        images, labels = images[index].clone(), labels[index].clone()
    identity = {
        "dataset": "MNIST",
        "split": split,
        "synthetic": False,
        "samples": len(labels),
        "of": total,
        "subset_seed": None if chosen is None else store.SUBSET_SEED,
        "sha256": {p.name: MNIST_SHA256.get(p.name) for p in (image_path, label_path)},
        "sizes": {p.name: p.stat().st_size for p in (image_path, label_path)},
    }
    store.announce(title, len(labels), total, raw, how)
    return MNISTDataset(
        root,
        train,
        images,
        labels,
        transform=transform,
        target_transform=target_transform,
        source=f"{store.shown(raw)} ({how})",
        identity=identity,
    )
