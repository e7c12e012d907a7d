"""Cats vs dogs photos (Days 16, 17, 21, 23, 24): an ``ImageFolder`` over the data directory.

Read from ``<data_dir>/cats_vs_dogs/{train,test}/{cat,dog}/*.jpg`` (the shared copy: 1,000
photos a class a split). When the data directory has no ``cats_vs_dogs/`` and there is a
network, the loader downloads Microsoft's public Kaggle "Cats and Dogs" archive (about
800 MB, ``PetImages/{Cat,Dog}/<n>.jpg``) and prepares the same layout from it by a fixed
rule, so every machine gets the same photos:

- per class, the photos in increasing numeric id; the first ``PER_CLASS`` that Pillow
  decodes go to ``train``, the next ``PER_CLASS`` to ``test`` (undecodable files -- the
  archive has a few -- are skipped and counted);
- each converted to RGB, resized with Lanczos so that its shorter side is 224 px (smaller
  originals keep their size), saved as JPEG quality 85 as ``<class>.<n>.jpg``.

The archive is streamed into a hidden temporary folder in the data directory, checked (a
zip with ``PetImages/Cat`` and ``PetImages/Dog``, enough decodable photos), the prepared
folder is checked (exactly ``PER_CLASS`` photos a class a split) and gets a
``MANIFEST.json`` (counts, skipped ids, source URL, the archive's sha256), and only then is
it renamed to ``cats_vs_dogs/``; the archive is deleted. A failure keeps nothing. The
prepared photos are not byte-identical to the shared copy (which came from another subset
of the same Kaggle photos). See :mod:`course.data.store` for where data is looked for.
"""

from __future__ import annotations

import io
import json
import os
import re
import shutil
import warnings
import zipfile
import zlib
from collections.abc import Callable
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import numpy as np
import PIL
from PIL import Image
from torchvision import datasets as tv_datasets

from course.data import store
from course.data.store import DATA_ENV, DataError

# The data-directory folder this module reads: the build keys its lessons on its content.
DATA_FOLDERS = ("cats_vs_dogs",)
CLASSES = ["cat", "dog"]
SPLITS = ("train", "test")

# The download: Microsoft's public copy of the Kaggle photos (Asirra, Microsoft Research).
ARCHIVE_URL = (
    "https://download.microsoft.com/download/3/E/1/3E1C3F21-ECDB-4869-8368-6DEBA77B919F/"
    "kagglecatsanddogs_5340.zip"
)
ARCHIVE_NAME = "kagglecatsanddogs_5340.zip"
ARCHIVE_MIN_BYTES = 500_000_000  # it has about 800 MB: anything far off is not the archive
ARCHIVE_MAX_BYTES = 1_500_000_000
ARCHIVE_FOLDERS = {"cat": "PetImages/Cat", "dog": "PetImages/Dog"}  # 12,500 photos each
PREPARED_SPARE_BYTES = 200_000_000  # room for the prepared photos (about 70 MB) and more
# The preparation rule.
PER_CLASS = 1000  # photos a class a split
SHORT_SIDE = 224
JPEG_QUALITY = 85
MANIFEST = "MANIFEST.json"


# --------------------------------------------------------------------------- download


def _convert(data: bytes) -> bytes | None:
    """One photo prepared by the rule (RGB, shorter side 224 px, JPEG 85); None if undecodable."""
    try:
        with Image.open(io.BytesIO(data)) as image:
            image.load()
            rgb = image.convert("RGB")
    except Exception:  # noqa: BLE001 - empty, truncated, not an image, absurdly large, ...
        return None
    width, height = rgb.size
    if min(width, height) > SHORT_SIDE:
        scale = SHORT_SIDE / min(width, height)
        if width <= height:
            size = (SHORT_SIDE, max(1, round(height * scale)))
        else:
            size = (max(1, round(width * scale)), SHORT_SIDE)
        rgb = rgb.resize(size, Image.Resampling.LANCZOS)
    out = io.BytesIO()
    rgb.save(out, "JPEG", quality=JPEG_QUALITY)
    return out.getvalue()


def _members(archive: zipfile.ZipFile) -> dict[str, list[tuple[int, str]]]:
    """Per class, ``(numeric id, member name)`` of ``PetImages/<Class>/<n>.jpg``, sorted by id."""
    found: dict[str, list[tuple[int, str]]] = {name: [] for name in CLASSES}
    patterns = {
        name: re.compile(rf"{re.escape(folder)}/(\d+)\.jpe?g", re.IGNORECASE)
        for name, folder in ARCHIVE_FOLDERS.items()
    }
    for member in archive.namelist():
        for name, pattern in patterns.items():
            match = pattern.fullmatch(member)
            if match:
                found[name].append((int(match.group(1)), member))
    return {name: sorted(entries) for name, entries in found.items()}


def _prepare_class(
    archive: zipfile.ZipFile,
    name: str,
    entries: list[tuple[int, str]],
    out: Path,
    pool: ThreadPoolExecutor,
) -> tuple[dict[str, list[int]], list[int]]:
    """Write ``out/<split>/<name>/`` by the rule; returns the ids per split and the skipped."""
    need = len(SPLITS) * PER_CLASS
    kept: list[int] = []
    skipped: list[int] = []
    for split in SPLITS:
        (out / split / name).mkdir(parents=True)
    position = 0
    while len(kept) < need and position < len(entries):
        chunk = entries[position : position + need - len(kept) + 16]  # a margin for skips
        position += len(chunk)
        data = []
        for _, member in chunk:
            try:
                data.append(archive.read(member))
            except (zipfile.BadZipFile, zlib.error, OSError, EOFError) as err:
                raise DataError(
                    f"The downloaded archive {ARCHIVE_NAME} is damaged: {member} cannot be "
                    f"read ({type(err).__name__}: {err})."
                ) from err
        for (number, _), jpeg in zip(chunk, pool.map(_convert, data), strict=True):
            if len(kept) == need:
                break
            if jpeg is None:
                skipped.append(number)
                continue
            split = SPLITS[len(kept) // PER_CLASS]
            (out / split / name / f"{name}.{number}.jpg").write_bytes(jpeg)
            kept.append(number)
    if len(kept) < need:
        raise DataError(
            f"The downloaded archive {ARCHIVE_NAME} is not the expected one: "
            f"{ARCHIVE_FOLDERS[name]} yields only {len(kept):,} decodable photos (of "
            f"{len(entries):,}), but {need:,} are needed ({PER_CLASS:,} for each of "
            f"{', '.join(SPLITS)})."
        )
    ids = {split: kept[i * PER_CLASS : (i + 1) * PER_CLASS] for i, split in enumerate(SPLITS)}
    return ids, skipped


def _prepare(archive_path: Path, out: Path, sha256: str, size: int) -> dict:
    """The course layout in ``out`` (checked, with its manifest) from the archive."""
    try:
        archive = zipfile.ZipFile(archive_path)
    except (zipfile.BadZipFile, OSError) as err:
        raise DataError(
            f"The downloaded file {ARCHIVE_NAME} is not a valid zip archive ({err}); it is "
            "damaged or not the expected archive."
        ) from err
    ids: dict[str, dict[str, list[int]]] = {split: {} for split in SPLITS}
    skipped: dict[str, list[int]] = {}
    with archive:
        members = _members(archive)
        empty = [ARCHIVE_FOLDERS[name] for name in CLASSES if not members[name]]
        if empty:
            raise DataError(
                f"The downloaded archive {ARCHIVE_NAME} is not the expected one: it has no "
                f"photos in {' or '.join(empty)} (<n>.jpg)."
            )
        workers = max(1, min(4, os.cpu_count() or 1))
        with warnings.catch_warnings(), ThreadPoolExecutor(workers) as pool:
            warnings.filterwarnings("ignore", module=r"PIL\.")  # e.g. "corrupt EXIF data"
            for name in CLASSES:
                per_split, skipped[name] = _prepare_class(archive, name, members[name], out, pool)
                for split in SPLITS:
                    ids[split][name] = per_split[split]
    counts = {
        split: {name: sum(1 for _ in (out / split / name).glob("*.jpg")) for name in CLASSES}
        for split in SPLITS
    }
    wrong = [
        f"{split}/{name}: {n:,}"
        for split, row in counts.items()
        for name, n in row.items()
        if n != PER_CLASS
    ]
    if wrong:
        raise DataError(
            f"Preparing cats vs dogs went wrong: every class of every split should hold "
            f"{PER_CLASS:,} photos, but {'; '.join(wrong)}."
        )
    manifest = {
        "dataset": "cats_vs_dogs",
        "source": ARCHIVE_URL,
        "archive_sha256": sha256,
        "archive_bytes": size,
        "rule": (
            "per class, the archive's PetImages/<Class>/<n>.jpg in increasing n; the first "
            f"{PER_CLASS} that Pillow decodes go to train, the next {PER_CLASS} to test; "
            "undecodable files are skipped"
        ),
        "format": (
            f"RGB JPEG quality {JPEG_QUALITY} named <class>.<n>.jpg; shorter side "
            f"{SHORT_SIDE} px (Lanczos), smaller originals keep their size"
        ),
        "counts": counts,
        "ids": {
            split: {name: [row[0], row[-1]] for name, row in ids[split].items()} for split in SPLITS
        },
        "skipped": skipped,
        "pillow": PIL.__version__,
    }
    (out / MANIFEST).write_text(json.dumps(manifest, indent=2) + "\n")
    return manifest


def _download_cats_vs_dogs(root: Path) -> None:
    """Download the archive, prepare ``root/cats_vs_dogs`` from it, delete the archive."""
    base = root / "cats_vs_dogs"
    hint = (
        f"Try again later, or set {DATA_ENV} to a folder that holds "
        "cats_vs_dogs/{train,test}/{cat,dog}/*.jpg (for example ../shared/data)."
    )
    store.remove_stale_parts(base)
    work = store.part_path(base)  # hidden, next to the target: the archive and the photos
    try:
        try:
            work.mkdir()
        except OSError as err:
            raise DataError(
                f"Cannot download cats vs dogs into the data directory {root} ({err}). Make "
                f"it writable, or {hint[0].lower()}{hint[1:]}"
            ) from err
        print(
            f"Cats vs dogs: downloading Microsoft's Kaggle archive {ARCHIVE_NAME} (about "
            f"800 MB); the prepared photos go to {store.shown(base)}.",
            flush=True,
        )
        archive = work / ARCHIVE_NAME
        sha256 = store.download(
            ARCHIVE_URL,
            archive,
            min_bytes=ARCHIVE_MIN_BYTES,
            max_bytes=ARCHIVE_MAX_BYTES,
            spare_bytes=PREPARED_SPARE_BYTES,
            progress="Cats vs dogs download",
            label=f"the archive {ARCHIVE_NAME}",
            hint=hint,
        )
        size = archive.stat().st_size
        try:
            manifest = _prepare(archive, work / "cats_vs_dogs", sha256, size)
        except DataError as err:
            raise DataError(f"{err} Nothing was kept. {hint}") from err
        except OSError as err:
            raise DataError(
                f"Preparing cats vs dogs in the data directory {root} failed ({err}). Nothing "
                f"was kept. {hint}"
            ) from err
        archive.unlink()
        skipped = manifest["skipped"]
        n_skipped = sum(len(v) for v in skipped.values())
        detail = "; ".join(
            f"{name} {', '.join(map(str, ids))}" for name, ids in skipped.items() if ids
        )
        print(
            f"Cats vs dogs: prepared {len(CLASSES) * len(SPLITS) * PER_CLASS:,} photos "
            f"({PER_CLASS:,} a class in each of {', '.join(SPLITS)}), skipped {n_skipped} "
            f"undecodable file{'s' if n_skipped != 1 else ''}"
            + (f" ({detail})" if detail else "")
            + f"; deleted the downloaded archive ({size / 1e6:,.0f} MB).",
            flush=True,
        )
        try:
            os.rename(work / "cats_vs_dogs", base)
        except OSError as err:
            if all((base / split).is_dir() for split in SPLITS):
                print(f"Cats vs dogs: another process prepared {store.shown(base)} meanwhile.")
            else:
                raise DataError(
                    f"Could not move the prepared photos to {base} ({err}). Nothing was kept. "
                    f"{hint}"
                ) from err
    finally:
        shutil.rmtree(work, ignore_errors=True)


# --------------------------------------------------------------------------- loading


def load_cats_vs_dogs(
    split: str = "train", *, transform: Callable | None = None, limit: int | None = None
) -> tv_datasets.ImageFolder:
    """An ``ImageFolder`` over ``<data_dir>/cats_vs_dogs/<split>/{cat,dog}/*.jpg``.

    When the data directory has no ``cats_vs_dogs/`` and there is a network, the photos are
    downloaded and prepared first (see the module docstring); otherwise :class:`DataError`
    says what to do.
    """
    if split not in SPLITS:
        raise ValueError(f"split must be 'train' or 'test', not {split!r}")
    store.check_limit(limit)
    root = store.data_dir()
    base = root / "cats_vs_dogs"
    folder = base / split
    downloaded = False
    if not base.exists():
        if not store.network_ok(ARCHIVE_URL):
            raise DataError(
                f"Cats-vs-dogs {split} photos not found: {folder} does not exist, and they "
                f"could not be downloaded because {store.no_network_reason(ARCHIVE_URL)}. Set "
                f"{DATA_ENV} to a folder that holds cats_vs_dogs/ (for example "
                f"../shared/data), put the photos in {base}/{{train,test}}/{{cat,dog}}/*.jpg "
                "(the class folder names are the labels), or run once on a machine with "
                f"internet: the loader downloads Microsoft's Kaggle archive ({ARCHIVE_NAME}, "
                f"about 800 MB) and prepares {PER_CLASS:,} photos a class a split in {base}."
            )
        _download_cats_vs_dogs(root)
        downloaded = True
    if not folder.is_dir():
        raise DataError(
            f"Cats-vs-dogs {split} photos not found: {folder} does not exist, although {base} "
            f"does. Complete it ({base}/{{train,test}}/{{cat,dog}}/*.jpg), delete it to have it "
            f"downloaded again, or set {DATA_ENV} to a folder that holds cats_vs_dogs/ (for "
            "example ../shared/data)."
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
    how = f"photos: {per_class}" + (", downloaded and prepared" if downloaded else "")
    store.announce(f"Cats vs dogs {split}", len(dataset.samples), total, folder, how)
    return dataset
