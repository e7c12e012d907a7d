"""CIFAR-10 (Days 11-14 and later): image folders decoded once, or torchvision's batches.

See :mod:`course.data.store` for where data is looked for and what happens offline.
"""

from __future__ import annotations

import hashlib
import os
import time
import zipfile
import zlib
from collections.abc import Callable, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any

import numpy as np
import torch
import torchvision.datasets.cifar as tv_cifar
from PIL import Image
from torchvision import datasets as tv_datasets

from course.data import store
from course.data.store import DATA_ENV, DataError

# The data-directory folders this module reads: the build keys its lessons on their content.
DATA_FOLDERS = ("cifar10", "cifar-10-batches-py")

CIFAR10_CLASSES = [
    "airplane",
    "automobile",
    "bird",
    "cat",
    "deer",
    "dog",
    "frog",
    "horse",
    "ship",
    "truck",
]


def _download_cifar10(root: Path) -> None:
    """torchvision's own download and extraction into ``root/cifar-10-batches-py``."""
    try:
        with store.socket_timeout(store.DOWNLOAD_TIMEOUT_S):
            tv_datasets.CIFAR10(str(root), train=True, download=True)
    except Exception as err:  # noqa: BLE001
        raise DataError(
            f"Downloading CIFAR-10 into {root / 'cifar-10-batches-py'} failed "
            f"({type(err).__name__}: {err}). Check that the folder is writable and the network "
            f"works, or set {DATA_ENV} to a folder that already holds cifar10/ or "
            "cifar-10-batches-py/ (for example ../shared/data)."
        ) from err


class CIFAR10Dataset(store.FromArrays, tv_datasets.CIFAR10):
    """torchvision's ``CIFAR10`` built from arrays already decoded: same attributes and items.

    ``.data`` is uint8 N x 32 x 32 x 3 (NumPy), ``.targets`` a list of ints; ``.source``,
    ``.synthetic`` and ``.identity`` as in :class:`MNISTDataset`.
    """

    def __init__(
        self,
        root: str | Path,
        train: bool,
        data: np.ndarray,
        targets: list[int],
        *,
        transform: Callable | None = None,
        target_transform: Callable | None = None,
        source: str = "",
        synthetic: bool = False,
        identity: dict | None = None,
    ) -> None:
        self._fill(root, train, data, targets, transform, target_transform)
        self.classes = list(CIFAR10_CLASSES)
        self.class_to_idx = {name: i for i, name in enumerate(self.classes)}
        self.source = source
        self.synthetic = synthetic
        self.identity = identity or {}


def _synthetic_cifar10(n: int, seed: int) -> tuple[np.ndarray, np.ndarray]:
    """One smooth random colour pattern per class plus noise and flips: learnable, not CIFAR."""
    pattern_rng = np.random.default_rng(1234)
    coarse = pattern_rng.uniform(0.15, 0.85, (10, 4, 4, 3)).astype(np.float32)
    templates = coarse.repeat(8, axis=1).repeat(8, axis=2)  # 10 x 32 x 32 x 3
    rng = np.random.default_rng(seed)
    labels = rng.permutation(np.arange(n) % 10)
    images = np.empty((n, 32, 32, 3), np.uint8)
    for i, label in enumerate(labels):
        image = templates[label]
        if rng.random() < 0.5:
            image = image[:, ::-1]
        noisy = image * rng.uniform(0.7, 1.1) + rng.normal(0.0, 0.08, image.shape)
        images[i] = np.clip(noisy * 255.0, 0, 255).astype(np.uint8)
    return images, labels.astype(np.int64)


def _cifar_listing(folder: Path) -> tuple[list[str], np.ndarray, str]:
    """Sorted PNG paths, their labels, and a fingerprint of names, sizes and mtimes."""
    present = sorted(p.name for p in folder.iterdir() if p.is_dir())
    missing = [c for c in CIFAR10_CLASSES if c not in present]
    extra = [c for c in present if c not in CIFAR10_CLASSES]
    if missing or extra:
        raise DataError(
            f"{store.shown(folder)} should hold exactly one folder per CIFAR-10 class "
            f"({', '.join(CIFAR10_CLASSES)}); missing: {', '.join(missing) or 'none'}; "
            f"unexpected: {', '.join(extra) or 'none'}. Fix the folder, or point {DATA_ENV} "
            "at a complete copy (for example ../shared/data)."
        )
    paths: list[str] = []
    labels: list[int] = []
    digest = hashlib.sha256()
    for label, name in enumerate(CIFAR10_CLASSES):
        with os.scandir(folder / name) as entries:
            pngs = sorted(
                (e for e in entries if e.name.lower().endswith(".png") and e.is_file()),
                key=lambda e: e.name,
            )
        if not pngs:
            raise DataError(
                f"{store.shown(folder / name)} holds no .png files; every class needs images."
            )
        for entry in pngs:
            stat = entry.stat()
            digest.update(f"{name}/{entry.name}\t{stat.st_size}\t{stat.st_mtime_ns}\n".encode())
            paths.append(entry.path)
            labels.append(label)
    return paths, np.asarray(labels, dtype=np.int64), digest.hexdigest()


def _decode_pngs(paths: Sequence[str]) -> np.ndarray:
    """Decode 32x32 RGB PNGs into one uint8 array (N x 32 x 32 x 3), a few threads at once."""
    out = np.empty((len(paths), 32, 32, 3), dtype=np.uint8)

    def decode(start: int, stop: int) -> None:
        for i in range(start, stop):
            try:
                with Image.open(paths[i]) as image:
                    image.load()
                    if image.size != (32, 32):
                        raise DataError(
                            f"{store.shown(paths[i])} is {image.size[0]}x{image.size[1]}, but "
                            "CIFAR-10 images are 32x32. Replace it with the right file."
                        )
                    out[i] = np.asarray(image.convert("RGB"))
            except (OSError, ValueError, SyntaxError) as err:
                raise DataError(
                    f"Could not decode {store.shown(paths[i])} ({type(err).__name__}: {err}). "
                    "The file is truncated or not a PNG; replace it with a good copy."
                ) from err

    workers = max(1, min(8, os.cpu_count() or 1, len(paths) // 500 or 1))
    bounds = np.linspace(0, len(paths), workers + 1).astype(int)
    with ThreadPoolExecutor(workers) as pool:
        for job in [
            pool.submit(decode, a, b) for a, b in zip(bounds[:-1], bounds[1:], strict=True)
        ]:
            job.result()
    return out


def _read_cifar_cache(path: Path, fingerprint: str, labels: np.ndarray) -> np.ndarray | None:
    """The cached images if the file is whole and matches the folder; else None (and why)."""
    if not path.exists():
        return None
    try:
        with np.load(path, allow_pickle=False) as cached:
            fmt = int(cached["format"])
            stored_fingerprint = str(cached["fingerprint"])
            if fmt == store.CACHE_FORMAT and stored_fingerprint == fingerprint:
                data = cached["data"]
                targets = cached["targets"]
            else:
                print(
                    f"The decoded-array cache {store.shown(path)} is out of date (the folder "
                    "changed); decoding the PNGs again to rebuild it."
                )
                return None
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile, zlib.error) as err:
        print(
            f"The decoded-array cache {store.shown(path)} is unreadable "
            f"({type(err).__name__}: {err}); decoding the PNGs again to rebuild it."
        )
        return None
    if (
        data.dtype != np.uint8
        or data.shape != (len(labels), 32, 32, 3)
        or not np.array_equal(targets, labels)
    ):
        print(
            f"The decoded-array cache {store.shown(path)} does not match the folder; rebuilding it."
        )
        return None
    return data


def _cifar_from_folder(
    folder: Path, split: str, limit: int | None
) -> tuple[np.ndarray, np.ndarray, int, str, dict]:
    """Images, labels, total count, how they were obtained, identity (subset applied)."""
    paths, labels, fingerprint = _cifar_listing(folder)
    total = len(paths)
    chosen = store.subset_indices(labels, limit)
    cache_path = (
        store.cache_dir() / f"cifar10-{split}-{store.short_hash(str(folder.resolve()))}.npz"
    )
    data = _read_cifar_cache(cache_path, fingerprint, labels)
    if data is not None:
        how = "PNG image folders, decoded arrays from the course cache"
    elif chosen is not None:
        start = time.perf_counter()
        data = _decode_pngs([paths[i] for i in chosen])
        seconds = time.perf_counter() - start
        how = f"PNG image folders, decoded {len(chosen):,} PNGs in {seconds:.1f} s, not cached"
        labels = labels[chosen]
        chosen = None
    else:
        start = time.perf_counter()
        data = _decode_pngs(paths)
        seconds = time.perf_counter() - start

        def write(fh: Any) -> None:
            np.savez(
                fh,
                format=np.asarray(store.CACHE_FORMAT),
                fingerprint=np.asarray(fingerprint),
                data=data,
                targets=labels,
            )

        saved = store.write_atomic(cache_path, write)
        how = f"PNG image folders, decoded {total:,} PNGs in {seconds:.1f} s" + (
            " and cached the arrays" if saved else ""
        )
    if chosen is not None:
        data, labels = data[chosen], labels[chosen]
    identity = {
        "dataset": "CIFAR-10",
        "split": split,
        "synthetic": False,
        "samples": len(labels),
        "of": total,
        "subset_seed": None if len(labels) == total else store.SUBSET_SEED,
        "layout": "png-folders",
        "fingerprint": fingerprint,
    }
    return data, labels, total, how, identity


def _cifar_batch_problems(root: Path) -> list[str]:
    """Files of ``cifar-10-batches-py`` that are missing or fail torchvision's MD5 check."""
    base = root / tv_datasets.CIFAR10.base_folder
    expected = tv_datasets.CIFAR10.train_list + tv_datasets.CIFAR10.test_list
    expected = expected + [[tv_datasets.CIFAR10.meta["filename"], tv_datasets.CIFAR10.meta["md5"]]]
    problems = []
    for name, md5 in expected:
        path = base / name
        if not path.is_file():
            problems.append(f"{path} (missing)")
        elif not tv_cifar.check_integrity(str(path), md5):
            problems.append(f"{path} (MD5 is not {md5})")
    return problems


def _cifar_from_batches(
    root: Path, train: bool, transform: Callable | None, target_transform: Callable | None
) -> tv_datasets.CIFAR10:
    """torchvision's own CIFAR10 when its MD5 check passes; else DataError naming the files."""
    try:
        return tv_datasets.CIFAR10(
            str(root), train=train, transform=transform, target_transform=target_transform
        )
    except Exception as err:  # noqa: BLE001 - explained below, file by file
        problems = _cifar_batch_problems(root)
        if problems:
            raise DataError(
                "torchvision's CIFAR-10 batches are incomplete or corrupt: "
                + "; ".join(problems)
                + ". torchvision accepts only the original files. Delete the folder and run "
                f"once with internet to download it again, or set {DATA_ENV} to a folder "
                "holding cifar10/{train,test}/<class>/*.png (for example ../shared/data)."
            ) from err
        raise DataError(
            f"torchvision could not read {root / 'cifar-10-batches-py'} ({err}). Delete the "
            "folder and download it again."
        ) from err


def load_cifar10(
    train: bool = True,
    *,
    transform: Callable | None = None,
    target_transform: Callable | None = None,
    limit: int | None = None,
    allow_synthetic: bool | None = None,
) -> tv_datasets.CIFAR10:
    """CIFAR-10 as a ``torchvision.datasets.CIFAR10`` (items: PIL image or transformed, int).

    Reads ``<data_dir>/cifar10/<split>/<class>/*.png`` (decoded once, then from a ``.npz``
    cache in the course cache), else torchvision's ``<data_dir>/cifar-10-batches-py``,
    else downloads when there is a network, else :class:`DataError` (or a labelled generated
    stand-in when ``allow_synthetic``; by default only in the smoke profile). The image
    folders are read in sorted order (class by class): shuffle when you train.
    """
    store.check_limit(limit)
    split = "train" if train else "test"
    title = f"CIFAR-10 {split}"
    root = store.data_dir()
    folder = root / "cifar10" / split
    batches = root / tv_datasets.CIFAR10.base_folder
    if folder.is_dir():
        data, labels, total, how, identity = _cifar_from_folder(folder, split, limit)
        store.announce(title, len(labels), total, folder, how)
        return CIFAR10Dataset(
            root,
            train,
            data,
            labels.tolist(),
            transform=transform,
            target_transform=target_transform,
            source=f"{store.shown(folder)} ({how})",
            identity=identity,
        )

    how = "torchvision's cifar-10-batches-py, MD5 ok"
    if not batches.is_dir():
        if store.network_ok(tv_datasets.CIFAR10.url):
            _download_cifar10(root)
            how = "downloaded by torchvision, MD5 ok"
        elif store.synthetic_allowed(allow_synthetic):
            n = store.synthetic_size(limit, train)
            images, labels = _synthetic_cifar10(n, seed=0 if train else 1)
            store.synthetic_line(
                title, "CIFAR-10", n, "no CIFAR-10 files in the data directory and no network"
            )
            return CIFAR10Dataset(
                "(generated)",
                train,
                images,
                labels.tolist(),
                transform=transform,
                target_transform=target_transform,
                source="generated stand-in (not CIFAR-10)",
                synthetic=True,
                identity={"dataset": "CIFAR-10", "split": split, "synthetic": True, "samples": n},
            )
        else:
            raise DataError(
                f"CIFAR-10 {split} data not found: neither {folder}/<class>/*.png (image "
                f"folders) nor {batches} (torchvision's batches) exists, and it could not be "
                f"downloaded because {store.no_network_reason(tv_datasets.CIFAR10.url)}. Set "
                f"{DATA_ENV} to a folder holding cifar10/{{train,test}}/<class>/*.png (for "
                "example ../shared/data), or run once on a machine with internet and "
                f"torchvision will download it to {batches}."
                + (
                    ""
                    if store.is_smoke()
                    else " (Only the smoke profile may use a generated stand-in instead.)"
                )
            )
    dataset = _cifar_from_batches(root, train, transform, target_transform)
    total = len(dataset.targets)
    chosen = store.subset_indices(dataset.targets, limit)
    if chosen is not None:
        dataset.data = dataset.data[chosen]
        dataset.targets = [dataset.targets[i] for i in chosen]
    dataset.source = f"{store.shown(batches)} ({how})"
    dataset.synthetic = False
    dataset.identity = {
        "dataset": "CIFAR-10",
        "split": split,
        "synthetic": False,
        "samples": len(dataset.targets),
        "of": total,
        "subset_seed": None if chosen is None else store.SUBSET_SEED,
        "layout": "cifar-10-batches-py",
    }
    store.announce(title, len(dataset.targets), total, batches, how)
    return dataset


def cifar10_tensors(
    train: bool, *, limit: int | None = None, allow_synthetic: bool | None = None
) -> tuple[torch.Tensor, torch.Tensor]:
    """CIFAR-10 as ready tensors: uint8 images N x 3 x 32 x 32 and int64 labels (no PIL).

    For fast training loops (Day 14): move both to the device once, then convert a batch
    with ``images.float().div(255)`` and normalise there.
    """
    return cifar10_as_tensors(load_cifar10(train, limit=limit, allow_synthetic=allow_synthetic))


def cifar10_as_tensors(dataset: CIFAR10Dataset) -> tuple[torch.Tensor, torch.Tensor]:
    """A loaded CIFAR-10 dataset as uint8 images N x 3 x 32 x 32 and int64 labels.

    For callers that also need the dataset itself, e.g. its ``.identity`` (Day 14).
    """
    images = torch.from_numpy(np.ascontiguousarray(dataset.data)).permute(0, 3, 1, 2)
    return images.contiguous(), torch.as_tensor(dataset.targets, dtype=torch.int64)
