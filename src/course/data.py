"""The course's datasets, found offline first (used from Day 5 on).

Where the data comes from, in this order:

1. **The data directory.** ``$COURSE_DATA_DIR`` when it is set (it must be an existing
   folder, for example the project's ``../shared/data``); otherwise the default
   ``~/.cache/pytorch-course/data``, created when needed. The files are laid out as::

       MNIST/raw/train-images-idx3-ubyte        torchvision's uncompressed idx files
       MNIST/raw/train-labels-idx1-ubyte        (sha256 checked against MNIST_SHA256)
       MNIST/raw/t10k-images-idx3-ubyte
       MNIST/raw/t10k-labels-idx1-ubyte
       cifar10/{train,test}/<class>/*.png       CIFAR-10 as image folders, or
       cifar-10-batches-py/                     torchvision's pickle batches (MD5 checked)
       cats_vs_dogs/{train,test}/{cat,dog}/*.jpg
       sst2/{train,dev,test}.tsv                label<TAB>sentence, 1 = positive

2. **A download** by torchvision into that folder (MNIST and CIFAR-10 only), tried only
   when a connection to the mirror opens within ``NETWORK_TIMEOUT_S`` seconds; every
   socket operation of the download then has a timeout too, so nothing hangs.
3. **Otherwise** :class:`DataError`, saying which files are missing and how to get them.
   In the ``smoke`` profile only, MNIST and CIFAR-10 fall back to a small *generated*
   stand-in instead, and the printed line says so; the ``full`` profile never does
   (unless a caller opts in explicitly with ``allow_synthetic=True``).

Every loader prints one line saying which source it used and how many samples, so the
executed page shows it. Decoded arrays (CIFAR-10's 60,000 PNGs are decoded once) and
checksum stamps live in :func:`cache_dir`: ``$COURSE_CACHE_DIR`` when set, else
``<repo>/build/cache/data`` inside a checkout of the course, else
``~/.cache/pytorch-course``; never the source tree.

``limit`` keeps a deterministic, class-balanced subset (seed ``SUBSET_SEED``): lessons
pass ``limit=pick(full=None, smoke=2000)`` so smoke runs stay fast.
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
import socket
import threading
import time
import urllib.request
import uuid
import zipfile
import zlib
from collections.abc import Callable, Iterator, Sequence
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np
import torch
import torchvision.datasets.cifar as tv_cifar
from PIL import Image, ImageDraw, ImageFont
from torch.utils.data import Dataset
from torchvision import datasets as tv_datasets

from course import profile

DATA_ENV = "COURSE_DATA_DIR"
CACHE_ENV = "COURSE_CACHE_DIR"
DEFAULT_DATA_DIR = "~/.cache/pytorch-course/data"
DEFAULT_CACHE_DIR = "~/.cache/pytorch-course"
NETWORK_TIMEOUT_S = 3.0  # the quick "is there a network?" check
DOWNLOAD_TIMEOUT_S = 60.0  # per socket operation while downloading
SUBSET_SEED = 0
CACHE_FORMAT = 1  # bump to invalidate every decoded-array cache

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
SST2_CLASSES = ["negative", "positive"]


class DataError(RuntimeError):
    """A dataset could not be loaded; the message names the file(s) and what to do."""


# --------------------------------------------------------------------------- where


def data_dir() -> Path:
    """The folder datasets are read from (and downloaded to); see the module docstring."""
    value = os.environ.get(DATA_ENV, "").strip()
    if value:
        path = Path(value).expanduser()
        if not path.is_dir():
            what = "is not a folder" if path.exists() else "does not exist"
            raise DataError(
                f"{DATA_ENV} is set to {value!r}, but {path} {what}. Point {DATA_ENV} at a "
                "folder holding the course's datasets (laid out as MNIST/raw/..., cifar10/..., "
                "sst2/...; for example the project's ../shared/data), or unset it to use the "
                f"default {DEFAULT_DATA_DIR}, where downloads go."
            )
        return path.resolve()
    path = Path(DEFAULT_DATA_DIR).expanduser()
    path.mkdir(parents=True, exist_ok=True)
    return path.resolve()


def _repo_root() -> Path | None:
    """The course checkout this module runs from, if any (a folder with both markers)."""
    for folder in Path(__file__).resolve().parents:
        if (folder / "pyproject.toml").is_file() and (folder / "tutorials").is_dir():
            return folder
    return None


def cache_dir() -> Path:
    """Where decoded arrays, checksum stamps and trained models are kept (created)."""
    value = os.environ.get(CACHE_ENV, "").strip()
    root = _repo_root()
    if value:
        path = Path(value).expanduser().resolve()
        if root is not None:
            for source in ("src", "tutorials", "tests", "docs"):
                if path.is_relative_to(root / source):
                    raise DataError(
                        f"{CACHE_ENV}={value!r} lies inside the source tree ({root / source}); "
                        f"point it elsewhere, for example {root / 'build' / 'cache' / 'data'}."
                    )
    elif root is not None:
        path = root / "build" / "cache" / "data"
    else:
        path = Path(DEFAULT_CACHE_DIR).expanduser().resolve()
    path.mkdir(parents=True, exist_ok=True)
    return path


# --------------------------------------------------------------------------- network


def _network_ok(url: str, timeout: float = NETWORK_TIMEOUT_S) -> bool:
    """Whether an HTTP ``HEAD`` request for ``url`` succeeds within ``timeout`` seconds.

    A real request, not just a TCP connection: sandboxes often accept every connection and
    answer nothing useful. It runs in a daemon thread, so a slow name lookup cannot stretch
    the wait either.
    """
    answer: list[bool] = []

    def probe() -> None:
        request = urllib.request.Request(url, method="HEAD")
        try:
            with urllib.request.urlopen(request, timeout=timeout) as response:
                answer.append(response.status < 400)
        except (OSError, ValueError):  # URLError, HTTPError, timeouts, TLS errors
            answer.append(False)

    thread = threading.Thread(target=probe, daemon=True)
    thread.start()
    thread.join(timeout)
    return bool(answer and answer[0])


@contextlib.contextmanager
def _socket_timeout(seconds: float) -> Iterator[None]:
    old = socket.getdefaulttimeout()
    socket.setdefaulttimeout(seconds)
    try:
        yield
    finally:
        socket.setdefaulttimeout(old)


def _no_network_reason(url: str) -> str:
    host = urlparse(url).hostname
    return f"there is no network here ({host} did not answer within {NETWORK_TIMEOUT_S:g} s)"


def _download_mnist(root: Path) -> None:
    """torchvision's own download (all four files) into ``root/MNIST/raw``."""
    try:
        with _socket_timeout(DOWNLOAD_TIMEOUT_S):
            tv_datasets.MNIST(str(root), train=True, download=True)
    except Exception as err:  # noqa: BLE001 - any failure becomes one clear message
        raise DataError(
            f"Downloading MNIST into {root / 'MNIST' / 'raw'} failed ({type(err).__name__}: "
            f"{err}). Check that the folder is writable and the network works, or set "
            f"{DATA_ENV} to a folder that already holds MNIST/raw/ (for example ../shared/data)."
        ) from err


def _download_cifar10(root: Path) -> None:
    """torchvision's own download and extraction into ``root/cifar-10-batches-py``."""
    try:
        with _socket_timeout(DOWNLOAD_TIMEOUT_S):
            tv_datasets.CIFAR10(str(root), train=True, download=True)
    except Exception as err:  # noqa: BLE001
        raise DataError(
            f"Downloading CIFAR-10 into {root / 'cifar-10-batches-py'} failed "
            f"({type(err).__name__}: {err}). Check that the folder is writable and the network "
            f"works, or set {DATA_ENV} to a folder that already holds cifar10/ or "
            "cifar-10-batches-py/ (for example ../shared/data)."
        ) from err


# --------------------------------------------------------------------------- helpers


def _short_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def _smoke() -> bool:
    return profile.current() == "smoke"


def _synthetic_allowed(flag: bool | None) -> bool:
    """``None`` means: only in the smoke profile. ``True`` opts in explicitly."""
    return _smoke() if flag is None else bool(flag)


def _check_limit(limit: int | None) -> None:
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise ValueError(f"limit must be a positive int or None, not {limit!r}")


def _subset_indices(targets: Sequence[int] | np.ndarray, limit: int | None) -> np.ndarray | None:
    """A deterministic, class-balanced subset of ``limit`` indices (None: keep everything).

    Each class's indices are shuffled with ``SUBSET_SEED``; classes then take turns, so any
    prefix is balanced; the chosen indices are finally shuffled (same seed) so that the
    subset is not ordered by class.
    """
    labels = np.asarray(targets)
    if limit is None or limit >= len(labels):
        return None
    rng = np.random.default_rng(SUBSET_SEED)
    index_parts, rank_parts, class_parts = [], [], []
    for c in np.unique(labels):
        members = rng.permutation(np.flatnonzero(labels == c))
        index_parts.append(members)
        rank_parts.append(np.arange(len(members)))
        class_parts.append(np.full(len(members), c))
    indices = np.concatenate(index_parts)
    order = np.lexsort((np.concatenate(class_parts), np.concatenate(rank_parts)))
    chosen = indices[order[:limit]]
    return chosen[rng.permutation(len(chosen))]


def _count_phrase(n: int, total: int) -> str:
    if n == total:
        return f"{n:,} samples"
    why = "smoke profile" if _smoke() else "limit"
    return f"{n:,} samples (seeded class-balanced subset of {total:,}, {why})"


def _announce(title: str, n: int, total: int, where: Path | str, how: str) -> None:
    print(f"{title}: {_count_phrase(n, total)} from {where} ({how})")


def _write_atomic(path: Path, write: Callable[[Any], None]) -> bool:
    """Write through a temporary file and ``os.replace``; False (and a line) on failure."""
    tmp = path.with_name(f".{path.name}.tmp-{os.getpid()}-{uuid.uuid4().hex[:8]}")
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        with open(tmp, "wb") as fh:
            write(fh)
        os.replace(tmp, path)
        return True
    except OSError as err:
        print(f"Could not write the cache file {path} ({err}); continuing without it.")
        return False
    finally:
        tmp.unlink(missing_ok=True)


# --------------------------------------------------------------------------- checksums


def _stamp_path(path: Path) -> Path:
    return cache_dir() / "checksums" / f"{path.name}-{_short_hash(str(path.resolve()))}.json"


def _verify_sha256(path: Path, content: np.ndarray, expected: str | None) -> bool:
    """Check ``content`` (the bytes of ``path``) against ``expected``.

    Returns False when no checksum is known. A successful check is remembered in a stamp
    file keyed on the file's size and modification time, so the next load skips hashing.
    """
    if expected is None:
        return False
    stat = path.stat()
    record = {"size": stat.st_size, "mtime_ns": stat.st_mtime_ns, "sha256": expected}
    stamp = _stamp_path(path)
    with contextlib.suppress(OSError, ValueError):
        if json.loads(stamp.read_text()) == record:
            return True
    actual = hashlib.sha256(memoryview(content)).hexdigest()
    if actual != expected:
        raise DataError(
            f"Checksum mismatch for {path}: its sha256 is {actual}, but the known file has "
            f"{expected}. The file is truncated, corrupt or a different version. Replace it "
            "with a good copy (for example from ../shared/data), or delete it and run once on "
            "a machine with internet to download it again."
        )
    _write_atomic(stamp, lambda fh: fh.write(json.dumps(record).encode()))
    return True


def _read_idx(path: Path, ndim: int) -> np.ndarray:
    """An idx file of unsigned bytes (magic 0x0000080N) as an array; DataError if damaged."""
    raw = np.fromfile(path, dtype=np.uint8)
    header = 4 + 4 * ndim
    fix = "Replace it with a good copy (for example from ../shared/data/MNIST/raw)."
    if len(raw) < header:
        raise DataError(f"{path} is truncated: only {len(raw)} bytes, less than its header. {fix}")
    if tuple(raw[:3]) != (0, 0, 8) or raw[3] != ndim:
        magic = "".join(f"{b:02x}" for b in raw[:4])
        raise DataError(
            f"{path} is not an idx file of {ndim}-dimensional unsigned bytes (magic 0x{magic}, "
            f"expected 0x0000080{ndim}). {fix}"
        )
    dims = [int.from_bytes(raw[4 + 4 * i : 8 + 4 * i].tobytes(), "big") for i in range(ndim)]
    expected = header + int(np.prod(dims))
    if len(raw) != expected:
        state = "truncated" if len(raw) < expected else "longer than its header says"
        raise DataError(
            f"{path} is {state}: {len(raw):,} bytes, but its header describes "
            f"{expected:,} ({' x '.join(map(str, dims))} values). {fix}"
        )
    return raw


# --------------------------------------------------------------------------- datasets


class _FromArrays:
    """What :class:`MNISTDataset` and :class:`CIFAR10Dataset` add to torchvision's classes:
    they are built from arrays already in memory (no download, no file reading of their
    own), and their repr says where the arrays came from (``.source``)."""

    source: str

    def _fill(
        self,
        root: str | Path,
        train: bool,
        data: Any,
        targets: Any,
        transform: Callable | None,
        target_transform: Callable | None,
    ) -> None:
        tv_datasets.VisionDataset.__init__(
            self, str(root), transform=transform, target_transform=target_transform
        )
        self.train = train
        self.data = data
        self.targets = targets

    def extra_repr(self) -> str:
        return f"Split: {'Train' if self.train else 'Test'}\nSource: {self.source}"


class MNISTDataset(_FromArrays, tv_datasets.MNIST):
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


class CIFAR10Dataset(_FromArrays, tv_datasets.CIFAR10):
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


class SST2Dataset(Dataset):
    """SST-2 sentences: ``ds[i]`` is ``(sentence: str, label: int)``, 1 = positive."""

    classes = SST2_CLASSES

    def __init__(
        self, sentences: list[str], labels: list[int], *, split: str, source: str, identity: dict
    ) -> None:
        self.sentences = sentences
        self.labels = labels
        self.split = split
        self.source = source
        self.identity = identity

    @property
    def targets(self) -> list[int]:
        return self.labels

    def __len__(self) -> int:
        return len(self.sentences)

    def __getitem__(self, index: int) -> tuple[str, int]:
        return self.sentences[index], self.labels[index]

    def __repr__(self) -> str:
        return f"SST2Dataset(split={self.split!r}, sentences={len(self)}, source={self.source!r})"


# --------------------------------------------------------------------------- stand-ins


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


def _synthetic_size(limit: int | None, train: bool) -> int:
    return min(limit, 5000) if limit is not None else (1000 if train else 200)


def _synthetic_line(title: str, name: str, n: int, why: str) -> None:
    because = "the smoke profile allows it" if _smoke() else "allow_synthetic=True"
    print(f"{title}: {n:,} samples of GENERATED stand-in data, not {name} ({why}; {because})")


# --------------------------------------------------------------------------- MNIST


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
    _check_limit(limit)
    split = "train" if train else "test"
    title = f"MNIST {split}"
    root = data_dir()
    raw = root / "MNIST" / "raw"
    names = MNIST_FILES[train]
    how = "torchvision idx files"
    missing = [name for name in names if not (raw / name).is_file()]
    if missing:
        mirror = tv_datasets.MNIST.mirrors[0]
        if _network_ok(mirror + tv_datasets.MNIST.resources[0][0]):
            _download_mnist(root)
            how = "downloaded by torchvision"
            missing = [name for name in names if not (raw / name).is_file()]
            if missing:
                raise DataError(
                    f"MNIST was downloaded, but {raw} still lacks {', '.join(missing)}. Delete "
                    f"{raw} and try again, or set {DATA_ENV} to a folder holding MNIST/raw/."
                )
        elif _synthetic_allowed(allow_synthetic):
            n = _synthetic_size(limit, train)
            images, labels = _synthetic_mnist(n, seed=0 if train else 1)
            _synthetic_line(title, "MNIST", n, f"no MNIST files in {raw} and no network")
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
                f"not be downloaded because {_no_network_reason(mirror)}. Set {DATA_ENV} to a "
                f"folder holding MNIST/raw/{names[0]} and MNIST/raw/{names[1]} (torchvision's "
                "uncompressed idx files; for example ../shared/data), or run once on a machine "
                f"with internet and the files will be downloaded to {raw}."
                + (
                    ""
                    if _smoke()
                    else " (Only the smoke profile may use a generated stand-in instead.)"
                )
            )

    image_path, label_path = raw / names[0], raw / names[1]
    image_bytes = _read_idx(image_path, 3)
    label_bytes = _read_idx(label_path, 1)
    known = [
        _verify_sha256(path, content, MNIST_SHA256.get(path.name))
        for path, content in ((image_path, image_bytes), (label_path, label_bytes))
    ]
    how += ", checksums ok" if all(known) else ", no known checksum"

    n_images = int.from_bytes(image_bytes[4:8].tobytes(), "big")
    rows = int.from_bytes(image_bytes[8:12].tobytes(), "big")
    cols = int.from_bytes(image_bytes[12:16].tobytes(), "big")
    images = torch.from_numpy(image_bytes[16:].reshape(n_images, rows, cols))
    labels = torch.from_numpy(label_bytes[8:].astype(np.int64))
    if len(labels) != n_images:
        raise DataError(
            f"{image_path} holds {n_images:,} images but {label_path} holds {len(labels):,} "
            "labels; the two files do not belong together. Replace them with a matching pair."
        )
    if len(labels) and int(labels.max()) > 9:
        raise DataError(f"{label_path} holds labels above 9; it is not an MNIST label file.")

    total = len(labels)
    chosen = _subset_indices(labels.numpy(), limit)
    if chosen is not None:
        index = torch.from_numpy(chosen)
        images, labels = images[index].clone(), labels[index].clone()
    identity = {
        "dataset": "MNIST",
        "split": split,
        "synthetic": False,
        "samples": len(labels),
        "of": total,
        "subset_seed": None if chosen is None else SUBSET_SEED,
        "sha256": {p.name: MNIST_SHA256.get(p.name) for p in (image_path, label_path)},
        "sizes": {p.name: p.stat().st_size for p in (image_path, label_path)},
    }
    _announce(title, len(labels), total, raw, how)
    return MNISTDataset(
        root,
        train,
        images,
        labels,
        transform=transform,
        target_transform=target_transform,
        source=f"{raw} ({how})",
        identity=identity,
    )


# --------------------------------------------------------------------------- CIFAR-10


def _cifar_listing(folder: Path) -> tuple[list[str], np.ndarray, str]:
    """Sorted PNG paths, their labels, and a fingerprint of names, sizes and mtimes."""
    present = sorted(p.name for p in folder.iterdir() if p.is_dir())
    missing = [c for c in CIFAR10_CLASSES if c not in present]
    extra = [c for c in present if c not in CIFAR10_CLASSES]
    if missing or extra:
        raise DataError(
            f"{folder} should hold exactly one folder per CIFAR-10 class "
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
            raise DataError(f"{folder / name} holds no .png files; every class needs images.")
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
                            f"{paths[i]} is {image.size[0]}x{image.size[1]}, but CIFAR-10 "
                            "images are 32x32. Replace it with the right file."
                        )
                    out[i] = np.asarray(image.convert("RGB"))
            except (OSError, ValueError, SyntaxError) as err:
                raise DataError(
                    f"Could not decode {paths[i]} ({type(err).__name__}: {err}). The file is "
                    "truncated or not a PNG; replace it with a good copy."
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
            if fmt == CACHE_FORMAT and stored_fingerprint == fingerprint:
                data = cached["data"]
                targets = cached["targets"]
            else:
                print(
                    f"The decoded-array cache {path} is out of date (the folder changed); "
                    "decoding the PNGs again to rebuild it."
                )
                return None
    except (OSError, ValueError, EOFError, KeyError, zipfile.BadZipFile, zlib.error) as err:
        print(
            f"The decoded-array cache {path} is unreadable ({type(err).__name__}: {err}); "
            "decoding the PNGs again to rebuild it."
        )
        return None
    if (
        data.dtype != np.uint8
        or data.shape != (len(labels), 32, 32, 3)
        or not np.array_equal(targets, labels)
    ):
        print(f"The decoded-array cache {path} does not match the folder; rebuilding it.")
        return None
    return data


def _cifar_from_folder(
    folder: Path, split: str, limit: int | None
) -> tuple[np.ndarray, np.ndarray, int, str, dict]:
    """Images, labels, total count, how they were obtained, identity (subset applied)."""
    paths, labels, fingerprint = _cifar_listing(folder)
    total = len(paths)
    chosen = _subset_indices(labels, limit)
    cache_path = cache_dir() / f"cifar10-{split}-{_short_hash(str(folder.resolve()))}.npz"
    data = _read_cifar_cache(cache_path, fingerprint, labels)
    if data is not None:
        how = f"PNG image folders, decoded arrays from {cache_path}"
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
                format=np.asarray(CACHE_FORMAT),
                fingerprint=np.asarray(fingerprint),
                data=data,
                targets=labels,
            )

        saved = _write_atomic(cache_path, write)
        how = f"PNG image folders, decoded {total:,} PNGs in {seconds:.1f} s" + (
            f" and cached them at {cache_path}" if saved else ""
        )
    if chosen is not None:
        data, labels = data[chosen], labels[chosen]
    identity = {
        "dataset": "CIFAR-10",
        "split": split,
        "synthetic": False,
        "samples": len(labels),
        "of": total,
        "subset_seed": None if len(labels) == total else SUBSET_SEED,
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
    cache in :func:`cache_dir`), else torchvision's ``<data_dir>/cifar-10-batches-py``, else
    downloads when there is a network, else :class:`DataError` (or a labelled generated
    stand-in when ``allow_synthetic``; by default only in the smoke profile). The image
    folders are read in sorted order (class by class): shuffle when you train.
    """
    _check_limit(limit)
    split = "train" if train else "test"
    title = f"CIFAR-10 {split}"
    root = data_dir()
    folder = root / "cifar10" / split
    batches = root / tv_datasets.CIFAR10.base_folder
    if folder.is_dir():
        data, labels, total, how, identity = _cifar_from_folder(folder, split, limit)
        _announce(title, len(labels), total, folder, how)
        return CIFAR10Dataset(
            root,
            train,
            data,
            labels.tolist(),
            transform=transform,
            target_transform=target_transform,
            source=f"{folder} ({how})",
            identity=identity,
        )

    how = "torchvision's cifar-10-batches-py, MD5 ok"
    if not batches.is_dir():
        if _network_ok(tv_datasets.CIFAR10.url):
            _download_cifar10(root)
            how = "downloaded by torchvision, MD5 ok"
        elif _synthetic_allowed(allow_synthetic):
            n = _synthetic_size(limit, train)
            images, labels = _synthetic_cifar10(n, seed=0 if train else 1)
            _synthetic_line(title, "CIFAR-10", n, f"no CIFAR-10 files in {root} and no network")
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
                f"downloaded because {_no_network_reason(tv_datasets.CIFAR10.url)}. Set "
                f"{DATA_ENV} to a folder holding cifar10/{{train,test}}/<class>/*.png (for "
                "example ../shared/data), or run once on a machine with internet and "
                f"torchvision will download it to {batches}."
                + (
                    ""
                    if _smoke()
                    else " (Only the smoke profile may use a generated stand-in instead.)"
                )
            )
    dataset = _cifar_from_batches(root, train, transform, target_transform)
    total = len(dataset.targets)
    chosen = _subset_indices(dataset.targets, limit)
    if chosen is not None:
        dataset.data = dataset.data[chosen]
        dataset.targets = [dataset.targets[i] for i in chosen]
    dataset.source = f"{batches} ({how})"
    dataset.synthetic = False
    dataset.identity = {
        "dataset": "CIFAR-10",
        "split": split,
        "synthetic": False,
        "samples": len(dataset.targets),
        "of": total,
        "subset_seed": None if chosen is None else SUBSET_SEED,
        "layout": "cifar-10-batches-py",
    }
    _announce(title, len(dataset.targets), total, batches, how)
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


# --------------------------------------------------------------------------- cats vs dogs


def load_cats_vs_dogs(
    split: str = "train", *, transform: Callable | None = None, limit: int | None = None
) -> tv_datasets.ImageFolder:
    """An ``ImageFolder`` over ``<data_dir>/cats_vs_dogs/<split>/{cat,dog}/*.jpg``.

    There is no automatic download: the photos must be in the data directory.
    """
    if split not in ("train", "test"):
        raise ValueError(f"split must be 'train' or 'test', not {split!r}")
    _check_limit(limit)
    root = data_dir()
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
    chosen = _subset_indices(dataset.targets, limit)
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
        "files": _short_hash("\n".join(path for path, _ in dataset.samples)),
    }
    _announce(f"Cats vs dogs {split}", len(dataset.samples), total, folder, f"photos: {per_class}")
    return dataset


# --------------------------------------------------------------------------- SST-2


def load_sst2(split: str = "train", *, limit: int | None = None) -> SST2Dataset:
    """SST-2 sentences from ``<data_dir>/sst2/<split>.tsv`` (``label<TAB>sentence``)."""
    if split not in ("train", "dev", "test"):
        raise ValueError(f"split must be 'train', 'dev' or 'test', not {split!r}")
    _check_limit(limit)
    root = data_dir()
    path = root / "sst2" / f"{split}.tsv"
    if not path.is_file():
        raise DataError(
            f"SST-2 {split} not found: {path} does not exist. Put the SST-2 sentence files "
            f"(one 'label<TAB>sentence' a line, 1 = positive, 0 = negative) at "
            f"{root / 'sst2'}/{{train,dev,test}}.tsv, or set {DATA_ENV} to a folder that holds "
            "sst2/ (for example ../shared/data). There is no automatic download for this layout."
        )
    content = path.read_bytes()
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError as err:
        raise DataError(f"{path} is not UTF-8 text ({err}); replace it with a good copy.") from err
    sentences: list[str] = []
    labels: list[int] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        label, tab, sentence = line.partition("\t")
        if not tab or label.strip() not in ("0", "1") or not sentence.strip():
            raise DataError(
                f"{path}, line {number}: expected 'label<TAB>sentence' with label 0 or 1, got "
                f"{line[:60]!r}. The file is damaged or in another format."
            )
        sentences.append(sentence.strip())
        labels.append(int(label))
    total = len(labels)
    chosen = _subset_indices(labels, limit)
    if chosen is not None:
        sentences = [sentences[i] for i in chosen]
        labels = [labels[i] for i in chosen]
    identity = {
        "dataset": "SST-2",
        "split": split,
        "samples": len(labels),
        "of": total,
        "sha256": hashlib.sha256(content).hexdigest(),
    }
    positive = sum(labels)
    how = f"label<TAB>sentence, {positive:,} positive, {len(labels) - positive:,} negative"
    _announce(f"SST-2 {split}", len(labels), total, path, how)
    return SST2Dataset(sentences, labels, split=split, source=str(path), identity=identity)
