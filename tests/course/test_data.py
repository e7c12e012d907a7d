"""Tests for course.data: loaders, where data comes from, checksums, caches, clear errors.

Every test runs against tiny fixtures laid out like the real folders in ``tmp_path``, with
the network check patched to "offline" and downloads patched to fail loudly, so nothing
here touches the network or the real caches. The last tests read the real shared data
when it is there.
"""

from __future__ import annotations

import hashlib
import http.server
import os
import pickle
import threading
import time
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
import torch
import torchvision.datasets.cifar as tv_cifar
from PIL import Image
from torchvision import datasets as tv_datasets
from torchvision.transforms import ToTensor

from course.data import cifar10 as cifar10_module
from course.data import mnist as mnist_module
from course.data import sst2 as sst2_module
from course.data import store
from course.data.cats_vs_dogs import load_cats_vs_dogs
from course.data.cifar10 import CIFAR10_CLASSES, cifar10_tensors, load_cifar10
from course.data.mnist import load_mnist
from course.data.sst2 import load_sst2
from course.data.store import DataError

REPO = Path(__file__).resolve().parents[2]
REAL_NETWORK_OK = store.network_ok  # before the autouse fixture patches it


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(autouse=True)
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> SimpleNamespace:
    """A fresh data dir and cache dir, the full profile, no network, no downloads."""
    data = tmp_path / "data"
    data.mkdir()
    cache = tmp_path / "cache"
    monkeypatch.setenv("COURSE_DATA_DIR", str(data))
    monkeypatch.setenv("COURSE_CACHE_DIR", str(cache))
    monkeypatch.setenv("COURSE_PROFILE", "full")
    network_calls: list[str] = []

    def offline(url: str, timeout: float = 3.0) -> bool:
        network_calls.append(url)
        return False

    def no_download(*args, **kwargs):
        raise AssertionError("a download was attempted")

    monkeypatch.setattr(store, "network_ok", offline)
    monkeypatch.setattr(mnist_module, "_download_mnist", no_download)
    monkeypatch.setattr(cifar10_module, "_download_cifar10", no_download)
    return SimpleNamespace(data=data, cache=cache, network_calls=network_calls)


def write_idx(path: Path, array: np.ndarray) -> None:
    """An idx file of unsigned bytes: magic 0x0000080N, N big-endian sizes, the bytes."""
    header = bytes([0, 0, 8, array.ndim]) + b"".join(int(d).to_bytes(4, "big") for d in array.shape)
    path.write_bytes(header + array.astype(np.uint8).tobytes())


def make_mnist(root: Path, n_train: int = 30, n_test: int = 20) -> dict:
    """MNIST/raw with four real idx files; returns their arrays and sha256 table."""
    raw = root / "MNIST" / "raw"
    raw.mkdir(parents=True, exist_ok=True)
    rng = np.random.default_rng(0)
    arrays, table = {}, {}
    for prefix, n in (("train", n_train), ("t10k", n_test)):
        images = rng.integers(0, 256, (n, 28, 28), dtype=np.uint8)
        labels = rng.permutation(np.arange(n) % 10).astype(np.uint8)
        for kind, array in (("images-idx3", images), ("labels-idx1", labels)):
            name = f"{prefix}-{kind}-ubyte"
            write_idx(raw / name, array)
            arrays[name] = array
            table[name] = hashlib.sha256((raw / name).read_bytes()).hexdigest()
    return {"raw": raw, "arrays": arrays, "sha256": table}


@pytest.fixture
def mnist(env: SimpleNamespace, monkeypatch: pytest.MonkeyPatch) -> dict:
    fixture = make_mnist(env.data)
    monkeypatch.setattr(mnist_module, "MNIST_SHA256", dict(fixture["sha256"]))
    return fixture


def make_cifar_pngs(root: Path, split: str, per_class: int = 2, seed: int = 0) -> dict:
    """cifar10/<split>/<class>/*.png; returns the expected arrays in sorted order."""
    rng = np.random.default_rng(seed)
    images, labels, paths = [], [], []
    for label, name in enumerate(CIFAR10_CLASSES):
        folder = root / "cifar10" / split / name
        folder.mkdir(parents=True, exist_ok=True)
        for i in range(per_class):
            image = rng.integers(0, 256, (32, 32, 3), dtype=np.uint8)
            path = folder / f"{name}_s_{i:06d}.png"
            Image.fromarray(image).save(path)
            images.append(image)
            labels.append(label)
            paths.append(path)
    return {"data": np.stack(images), "targets": labels, "paths": paths}


def make_cifar_batches(root: Path, per_batch: int = 3) -> dict:
    """torchvision's cifar-10-batches-py layout (pickles), with made-up content."""
    base = root / "cifar-10-batches-py"
    base.mkdir(parents=True)
    rng = np.random.default_rng(1)
    arrays = {}
    for name in [f"data_batch_{i}" for i in range(1, 6)] + ["test_batch"]:
        flat = rng.integers(0, 256, (per_batch, 3 * 32 * 32), dtype=np.uint8)
        labels = [int(x) for x in rng.integers(0, 10, per_batch)]
        with open(base / name, "wb") as fh:
            pickle.dump({"data": flat, "labels": labels}, fh)
        arrays[name] = (flat, labels)
    with open(base / "batches.meta", "wb") as fh:
        pickle.dump({"label_names": list(CIFAR10_CLASSES)}, fh)
    return arrays


def make_jpegs(root: Path, counts: dict[str, int]) -> None:
    rng = np.random.default_rng(2)
    for split in ("train", "test"):
        for name, n in counts.items():
            folder = root / "cats_vs_dogs" / split / name
            folder.mkdir(parents=True)
            for i in range(n):
                size = (int(rng.integers(40, 80)), int(rng.integers(40, 80)))
                pixels = rng.integers(0, 256, (size[1], size[0], 3), dtype=np.uint8)
                Image.fromarray(pixels).save(folder / f"{name}.{i}.jpg", quality=90)


def last_line(capsys: pytest.CaptureFixture) -> str:
    lines = capsys.readouterr().out.strip().splitlines()
    return lines[-1] if lines else ""


# --------------------------------------------------------------------------- where


def test_data_dir_comes_from_the_environment(env: SimpleNamespace) -> None:
    assert store.data_dir() == env.data.resolve()


def test_data_dir_defaults_to_the_user_cache(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("COURSE_DATA_DIR")
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    path = store.data_dir()
    assert path == (tmp_path / "home" / ".cache" / "pytorch-course" / "data").resolve()
    assert path.is_dir()


def test_missing_data_dir_is_a_clear_error(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    missing = tmp_path / "no-such-folder"
    monkeypatch.setenv("COURSE_DATA_DIR", str(missing))
    for load in (store.data_dir, load_mnist, load_cifar10, load_sst2, load_cats_vs_dogs):
        with pytest.raises(DataError) as err:
            load()
        message = str(err.value)
        assert "COURSE_DATA_DIR" in message and str(missing) in message
        assert "does not exist" in message and "../shared/data" in message
    assert not missing.exists()


def test_cache_dir_is_build_cache_in_a_checkout_never_the_source_tree(
    monkeypatch: pytest.MonkeyPatch, tmp_path: Path
) -> None:
    monkeypatch.delenv("COURSE_CACHE_DIR")
    assert store.repo_root() == REPO
    path = store.cache_dir()
    assert path == REPO / "build" / "cache" / "data"
    assert "/build/" in (REPO / ".gitignore").read_text()
    for source in ("src", "tests", "tutorials"):
        assert not path.is_relative_to(REPO / source)

    monkeypatch.setattr(store, "repo_root", lambda: None)  # an installed package
    monkeypatch.setenv("HOME", str(tmp_path / "home"))
    assert store.cache_dir() == (tmp_path / "home" / ".cache" / "pytorch-course").resolve()

    monkeypatch.setattr(store, "repo_root", lambda: REPO)
    monkeypatch.setenv("COURSE_CACHE_DIR", str(REPO / "src" / "course" / "cache"))
    with pytest.raises(DataError, match="inside the source tree"):
        store.cache_dir()
    assert not (REPO / "src" / "course" / "cache").exists()


class _Head(http.server.BaseHTTPRequestHandler):
    def do_HEAD(self) -> None:
        self.send_response(200 if self.path == "/file.gz" else 404)
        self.end_headers()

    def log_message(self, *args) -> None:
        pass


def test_network_check_asks_for_the_file_and_never_hangs() -> None:
    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), _Head)
    threading.Thread(target=server.serve_forever, daemon=True).start()
    try:
        base = f"http://127.0.0.1:{server.server_address[1]}"
        assert REAL_NETWORK_OK(f"{base}/file.gz", timeout=2.0)
        assert not REAL_NETWORK_OK(f"{base}/missing.gz", timeout=2.0)  # answers, but 404
    finally:
        server.shutdown()
        server.server_close()
    start = time.perf_counter()
    assert not REAL_NETWORK_OK("https://10.255.255.1/file.gz", timeout=0.3)
    assert not REAL_NETWORK_OK("https://no-such-host.invalid/file.gz", timeout=0.3)
    assert time.perf_counter() - start < 2.0


# --------------------------------------------------------------------------- MNIST


def test_load_mnist_matches_torchvision_interface(mnist: dict, capsys) -> None:
    dataset = load_mnist(train=True)
    line = last_line(capsys)
    assert line == (
        "MNIST train: 30 samples from MNIST/raw in the data directory "
        "(torchvision idx files, checksums ok)"
    )
    assert isinstance(dataset, tv_datasets.MNIST)
    assert len(dataset) == 30
    assert dataset.data.dtype == torch.uint8 and dataset.data.shape == (30, 28, 28)
    assert dataset.targets.dtype == torch.int64
    assert dataset.classes == tv_datasets.MNIST.classes
    assert np.array_equal(dataset.data.numpy(), mnist["arrays"]["train-images-idx3-ubyte"])
    assert np.array_equal(dataset.targets.numpy(), mnist["arrays"]["train-labels-idx1-ubyte"])
    image, label = dataset[3]
    assert isinstance(image, Image.Image) and image.mode == "L" and image.size == (28, 28)
    assert type(label) is int and label == int(mnist["arrays"]["train-labels-idx1-ubyte"][3])
    assert np.array_equal(np.asarray(image), mnist["arrays"]["train-images-idx3-ubyte"][3])
    assert dataset.synthetic is False and dataset.identity["samples"] == 30

    test = load_mnist(train=False, transform=ToTensor(), target_transform=lambda y: y + 100)
    assert len(test) == 20
    x, y = test[0]
    assert isinstance(x, torch.Tensor) and x.shape == (1, 28, 28) and x.dtype == torch.float32
    assert y == int(mnist["arrays"]["t10k-labels-idx1-ubyte"][0]) + 100


def test_mnist_files_in_the_data_dir_beat_a_download(
    mnist: dict, env: SimpleNamespace, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.setattr(store, "network_ok", lambda *a, **k: pytest.fail("network checked"))
    load_mnist()
    assert "downloaded" not in last_line(capsys)


def test_mnist_is_downloaded_only_when_missing_and_online(
    env: SimpleNamespace, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    downloads: list[Path] = []

    def fake_download(root: Path) -> None:
        downloads.append(root)
        fixture = make_mnist(root)
        monkeypatch.setattr(mnist_module, "MNIST_SHA256", fixture["sha256"])

    monkeypatch.setattr(store, "network_ok", lambda url, timeout=3.0: True)
    monkeypatch.setattr(mnist_module, "_download_mnist", fake_download)
    dataset = load_mnist(train=False)
    assert downloads == [env.data.resolve()]
    assert len(dataset) == 20
    assert "(downloaded by torchvision, checksums ok)" in last_line(capsys)
    load_mnist(train=False)  # now the files are there: no second download
    assert len(downloads) == 1


def test_mnist_missing_offline_says_which_files_and_what_to_do(env: SimpleNamespace) -> None:
    with pytest.raises(DataError) as err:
        load_mnist(train=True)
    message = str(err.value)
    raw = env.data.resolve() / "MNIST" / "raw"
    assert str(raw) in message
    assert "train-images-idx3-ubyte" in message and "train-labels-idx1-ubyte" in message
    assert "COURSE_DATA_DIR" in message and "internet" in message
    assert "no network" in message
    assert len(env.network_calls) == 1  # checked once, quickly; never a download


def test_mnist_wrong_checksum_names_the_file(mnist: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setitem(mnist_module.MNIST_SHA256, "train-labels-idx1-ubyte", "0" * 64)
    with pytest.raises(DataError) as err:
        load_mnist(train=True)
    message = str(err.value)
    assert "MNIST/raw/train-labels-idx1-ubyte in the data directory" in message
    assert "Checksum mismatch" in message and mnist["sha256"]["train-labels-idx1-ubyte"] in message
    load_mnist(train=False)  # the other split is fine


def test_mnist_truncated_file_names_the_file(mnist: dict, monkeypatch: pytest.MonkeyPatch) -> None:
    path = mnist["raw"] / "t10k-images-idx3-ubyte"
    path.write_bytes(path.read_bytes()[:-100])
    with pytest.raises(DataError, match="Checksum mismatch for MNIST/raw/t10k-images-idx3-ubyte"):
        load_mnist(train=False)
    # Without a known checksum, torchvision's reader meets the damage: one clear message.
    monkeypatch.setattr(mnist_module, "MNIST_SHA256", {})
    with pytest.raises(DataError) as err:
        load_mnist(train=False)
    assert "MNIST/raw/t10k-images-idx3-ubyte in the data directory" in str(err.value)
    assert "truncated" in str(err.value)
    path.write_bytes(b"\x00\x00")  # shorter than the header
    with pytest.raises(DataError, match="truncated"):
        load_mnist(train=False)


def test_mnist_checksums_are_verified_once_then_remembered(
    mnist: dict, env: SimpleNamespace, monkeypatch: pytest.MonkeyPatch
) -> None:
    hashed: list[int] = []
    real_sha256 = hashlib.sha256

    files = {path.read_bytes() for path in mnist["raw"].iterdir()}

    def counting_sha256(content=b""):
        if content in files:  # a data file, not a stamp's name
            hashed.append(len(content))
        return real_sha256(content)

    monkeypatch.setattr(store.hashlib, "sha256", counting_sha256)
    load_mnist(train=True)
    assert len(hashed) == 2  # images and labels
    assert len(list((env.cache / "checksums").glob("*.json"))) == 2
    load_mnist(train=True)
    assert len(hashed) == 2  # remembered: not hashed again
    # A changed file (new size and mtime) is checked again, and caught.
    path = mnist["raw"] / "train-labels-idx1-ubyte"
    labels = mnist["arrays"]["train-labels-idx1-ubyte"].copy()
    labels[0] = (labels[0] + 1) % 10
    write_idx(path, labels)
    os.utime(path, ns=(1, 1))
    with pytest.raises(DataError, match="train-labels-idx1-ubyte"):
        load_mnist(train=True)


def test_mnist_limit_is_a_deterministic_balanced_subset(mnist: dict, capsys) -> None:
    first = load_mnist(train=True, limit=10)
    line = last_line(capsys)
    assert line.startswith("MNIST train: 10 samples (seeded class-balanced subset of 30, limit)")
    again = load_mnist(train=True, limit=10)
    assert len(first) == 10
    assert sorted(first.targets.tolist()) == list(range(10))  # one of each class
    assert torch.equal(first.data, again.data) and torch.equal(first.targets, again.targets)
    full = load_mnist(train=True)
    rows = {bytes(full.data[i].numpy()) for i in range(len(full))}
    assert all(bytes(first.data[i].numpy()) in rows for i in range(10))
    assert len(load_mnist(train=True, limit=1000)) == 30
    with pytest.raises(ValueError):
        load_mnist(limit=0)


def test_smoke_profile_uses_a_labelled_generated_stand_in(
    env: SimpleNamespace, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.setenv("COURSE_PROFILE", "smoke")
    mnist = load_mnist(train=True, limit=50)
    line = last_line(capsys)
    assert "GENERATED stand-in data, not MNIST" in line and "50 samples" in line
    assert mnist.synthetic is True and len(mnist) == 50
    assert mnist.data.shape == (50, 28, 28) and mnist.data.dtype == torch.uint8
    image, label = mnist[0]
    assert isinstance(image, Image.Image) and isinstance(label, int)
    assert mnist.classes == tv_datasets.MNIST.classes
    assert sorted(set(mnist.targets.tolist())) == list(range(10))

    cifar = load_cifar10(train=False, transform=ToTensor())
    line = last_line(capsys)
    assert "GENERATED stand-in data, not CIFAR-10" in line
    assert cifar.synthetic is True and cifar.data.shape == (200, 32, 32, 3)
    x, y = cifar[0]
    assert x.shape == (3, 32, 32) and isinstance(y, int)
    assert cifar.classes == CIFAR10_CLASSES

    with pytest.raises(DataError):  # a lesson may refuse the stand-in even in smoke
        load_mnist(allow_synthetic=False)


def test_full_profile_never_falls_back_to_generated_data(env: SimpleNamespace) -> None:
    for load in (load_mnist, load_cifar10):
        with pytest.raises(DataError) as err:
            load(train=True, limit=10)
        assert "Only the smoke profile may use a generated stand-in" in str(err.value)


def test_a_smoke_subset_of_real_data_is_real(
    mnist: dict, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    monkeypatch.setenv("COURSE_PROFILE", "smoke")
    dataset = load_mnist(train=True, limit=10)
    assert dataset.synthetic is False
    assert "(seeded class-balanced subset of 30, smoke profile)" in last_line(capsys)


# --------------------------------------------------------------------------- CIFAR-10


def test_load_cifar10_image_folders_match_torchvision_interface(
    env: SimpleNamespace, capsys
) -> None:
    fixture = make_cifar_pngs(env.data, "train", per_class=2)
    dataset = load_cifar10(train=True)
    line = last_line(capsys)
    assert line.startswith(
        "CIFAR-10 train: 20 samples from cifar10/train in the data directory (PNG image folders"
    )
    assert isinstance(dataset, tv_datasets.CIFAR10)
    assert len(dataset) == 20
    assert dataset.data.dtype == np.uint8 and dataset.data.shape == (20, 32, 32, 3)
    assert isinstance(dataset.targets, list) and all(type(t) is int for t in dataset.targets)
    assert dataset.targets == fixture["targets"]  # sorted: class by class
    assert dataset.classes == CIFAR10_CLASSES
    assert dataset.class_to_idx["truck"] == 9
    assert np.array_equal(dataset.data, fixture["data"])
    image, label = dataset[5]
    assert isinstance(image, Image.Image) and image.mode == "RGB" and image.size == (32, 32)
    assert np.array_equal(np.asarray(image), fixture["data"][5]) and label == 2

    transformed = load_cifar10(train=True, transform=ToTensor(), target_transform=str)
    x, y = transformed[5]
    assert x.shape == (3, 32, 32) and x.dtype == torch.float32 and y == "2"


def test_cifar10_decoded_arrays_are_cached_and_reused(
    env: SimpleNamespace, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    make_cifar_pngs(env.data, "test", per_class=2)
    decoded: list[int] = []
    real_decode = cifar10_module._decode_pngs

    def counting_decode(paths):
        decoded.append(len(paths))
        return real_decode(paths)

    monkeypatch.setattr(cifar10_module, "_decode_pngs", counting_decode)
    first = load_cifar10(train=False)
    assert decoded == [20]
    assert "decoded 20 PNGs" in last_line(capsys)
    caches = list(env.cache.glob("cifar10-test-*.npz"))
    assert len(caches) == 1

    second = load_cifar10(train=False)
    assert decoded == [20]  # not decoded again
    assert "decoded arrays from" in last_line(capsys)
    assert np.array_equal(first.data, second.data) and first.targets == second.targets

    # A truncated cache file is detected and rebuilt.
    caches[0].write_bytes(caches[0].read_bytes()[:500])
    third = load_cifar10(train=False)
    out = capsys.readouterr().out
    assert "unreadable" in out and f"{caches[0].name} in the course cache" in out
    assert decoded == [20, 20]
    assert np.array_equal(third.data, first.data)
    with np.load(caches[0]) as rebuilt:
        assert rebuilt["data"].shape == (20, 32, 32, 3)

    # A flipped byte inside the arrays is caught by the zip CRC.
    raw = bytearray(caches[0].read_bytes())
    raw[len(raw) // 2] ^= 0xFF
    caches[0].write_bytes(bytes(raw))
    assert np.array_equal(load_cifar10(train=False).data, first.data)
    assert decoded == [20, 20, 20]

    # A changed folder (a new image) makes the cache out of date.
    Image.fromarray(np.zeros((32, 32, 3), np.uint8)).save(
        env.data / "cifar10" / "test" / "cat" / "zzz.png"
    )
    assert len(load_cifar10(train=False)) == 21
    assert decoded == [20, 20, 20, 21]


def test_cifar10_limit_gives_the_same_subset_with_or_without_the_cache(
    env: SimpleNamespace, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    make_cifar_pngs(env.data, "train", per_class=3)
    decoded: list[int] = []
    real_decode = cifar10_module._decode_pngs
    monkeypatch.setattr(
        cifar10_module, "_decode_pngs", lambda p: decoded.append(len(p)) or real_decode(p)
    )
    small = load_cifar10(train=True, limit=10)
    assert decoded == [10]  # only the subset is decoded, and not cached
    assert "not cached" in last_line(capsys)
    assert not list(env.cache.glob("cifar10-*.npz"))
    load_cifar10(train=True)  # decodes and caches all 30
    cached_small = load_cifar10(train=True, limit=10)
    assert decoded == [10, 30]
    assert np.array_equal(small.data, cached_small.data)
    assert small.targets == cached_small.targets
    assert sorted(small.targets) == list(range(10))


def test_cifar10_bad_png_names_the_file_and_keeps_the_old_cache(env: SimpleNamespace) -> None:
    fixture = make_cifar_pngs(env.data, "test", per_class=1)
    load_cifar10(train=False)
    (cache,) = env.cache.glob("cifar10-test-*.npz")
    before = cache.read_bytes()
    bad = fixture["paths"][4]
    bad.write_bytes(bad.read_bytes()[:40])
    with pytest.raises(DataError) as err:
        load_cifar10(train=False)
    assert str(bad) in str(err.value) and "truncated" in str(err.value)
    assert cache.read_bytes() == before  # nothing already cached is lost
    assert not [p for p in env.cache.iterdir() if ".tmp-" in p.name]


def test_cifar10_wrong_class_folders_are_named(env: SimpleNamespace) -> None:
    make_cifar_pngs(env.data, "train", per_class=1)
    (env.data / "cifar10" / "train" / "truck").rename(env.data / "cifar10" / "train" / "lorry")
    with pytest.raises(DataError) as err:
        load_cifar10()
    assert "missing: truck" in str(err.value) and "unexpected: lorry" in str(err.value)


def test_cifar10_torchvision_batches_layout(
    env: SimpleNamespace, monkeypatch: pytest.MonkeyPatch, capsys
) -> None:
    arrays = make_cifar_batches(env.data, per_batch=3)
    # The made-up batches cannot have the real MD5s: without them torchvision refuses...
    with pytest.raises(DataError) as err:
        load_cifar10(train=True)
    message = str(err.value)
    assert "data_batch_1 (MD5 is not" in message and "batches.meta" in message
    assert "COURSE_DATA_DIR" in message

    # ...and with the check passing, torchvision's own CIFAR10 reads them.
    monkeypatch.setattr(tv_cifar, "check_integrity", lambda *args, **kwargs: True)
    dataset = load_cifar10(train=True, transform=ToTensor())
    line = last_line(capsys)
    assert "CIFAR-10 train: 15 samples from" in line and "cifar-10-batches-py" in line
    assert type(dataset) is tv_datasets.CIFAR10
    assert dataset.data.shape == (15, 32, 32, 3) and dataset.classes == CIFAR10_CLASSES
    flat, labels = arrays["data_batch_1"]
    assert np.array_equal(dataset.data[0], flat[0].reshape(3, 32, 32).transpose(1, 2, 0))
    x, y = dataset[0]
    assert x.shape == (3, 32, 32) and y == labels[0]
    test = load_cifar10(train=False, limit=2)
    assert len(test) == 2 and isinstance(test[0][0], Image.Image)
    assert not env.network_calls


def test_cifar10_image_folders_come_before_batches(
    env: SimpleNamespace, monkeypatch: pytest.MonkeyPatch
) -> None:
    make_cifar_pngs(env.data, "test", per_class=1)
    make_cifar_batches(env.data, per_batch=3)
    monkeypatch.setattr(tv_cifar, "check_integrity", lambda *a, **k: pytest.fail("md5 checked"))
    assert len(load_cifar10(train=False)) == 10
    assert not env.network_calls


def test_cifar10_missing_offline_names_both_layouts(env: SimpleNamespace) -> None:
    with pytest.raises(DataError) as err:
        load_cifar10(train=False)
    message = str(err.value)
    assert "cifar10/test/<class>/*.png" in message and "cifar-10-batches-py" in message
    assert "COURSE_DATA_DIR" in message and "internet" in message


def test_cifar10_tensors_are_ready_for_training(env: SimpleNamespace) -> None:
    fixture = make_cifar_pngs(env.data, "train", per_class=2)
    images, labels = cifar10_tensors(True)
    assert images.dtype == torch.uint8 and images.shape == (20, 3, 32, 32)
    assert images.is_contiguous()
    assert labels.dtype == torch.int64 and labels.tolist() == fixture["targets"]
    assert torch.equal(images[7].permute(1, 2, 0), torch.from_numpy(fixture["data"][7]))
    small_images, small_labels = cifar10_tensors(True, limit=10)
    assert small_images.shape == (10, 3, 32, 32) and sorted(small_labels.tolist()) == list(
        range(10)
    )


# --------------------------------------------------------------------------- cats vs dogs


def test_load_cats_vs_dogs_is_an_image_folder(env: SimpleNamespace, capsys) -> None:
    make_jpegs(env.data, {"cat": 3, "dog": 2})
    dataset = load_cats_vs_dogs("train")
    line = last_line(capsys)
    assert line.startswith("Cats vs dogs train: 5 samples from") and "3 cat, 2 dog" in line
    assert isinstance(dataset, tv_datasets.ImageFolder)
    assert dataset.classes == ["cat", "dog"] and len(dataset) == 5
    image, label = dataset[4]
    assert isinstance(image, Image.Image) and image.mode == "RGB" and label == 1

    def resize(img):
        return img.resize((16, 16))

    test = load_cats_vs_dogs("test", transform=resize, limit=2)
    assert len(test) == 2 and sorted(test.targets) == [0, 1]
    assert test[0][0].size == (16, 16)
    with pytest.raises(ValueError):
        load_cats_vs_dogs("valid")


def test_cats_vs_dogs_missing_says_how_to_add_it(env: SimpleNamespace) -> None:
    with pytest.raises(DataError) as err:
        load_cats_vs_dogs("test")
    message = str(err.value)
    assert str(env.data.resolve() / "cats_vs_dogs" / "test") in message
    assert "{cat,dog}/*.jpg" in message and "COURSE_DATA_DIR" in message
    (env.data / "cats_vs_dogs" / "test" / "cat").mkdir(parents=True)
    with pytest.raises(DataError, match="could not be read"):
        load_cats_vs_dogs("test")


# --------------------------------------------------------------------------- SST-2


def test_load_sst2(env: SimpleNamespace, monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    folder = env.data / "sst2"
    folder.mkdir()
    rows = [(1, "a stirring , funny film"), (0, "dull ."), (0, "flat"), (1, "great fun")]
    (folder / "dev.tsv").write_text("".join(f"{y}\t{s}\n" for y, s in rows) + "\n")
    (folder / "train.tsv").write_text("1\tfine\npositive\tbroken line\n")
    monkeypatch.setattr(  # the fixture's own checksums (the real ones are tested elsewhere)
        sst2_module,
        "SST2_SHA256",
        {
            s: hashlib.sha256((folder / f"{s}.tsv").read_bytes()).hexdigest()
            for s in ("train", "dev")
        },
    )
    dataset = load_sst2("dev")
    assert last_line(capsys) == (
        "SST-2 dev: 4 samples from sst2/dev.tsv in the data directory "
        "(label<TAB>sentence, 2 positive, 2 negative, checksum ok)"
    )
    assert len(dataset) == 4 and dataset.classes == ["negative", "positive"]
    assert dataset[0] == ("a stirring , funny film", 1)
    assert dataset.targets == [1, 0, 0, 1]
    small = load_sst2("dev", limit=2)
    assert len(small) == 2 and sorted(small.labels) == [0, 1]

    with pytest.raises(DataError) as err:
        load_sst2("train")
    assert "sst2/train.tsv in the data directory, line 2" in str(err.value)
    with pytest.raises(DataError, match="test.tsv does not exist"):
        load_sst2("test")


# --------------------------------------------------------------------------- real data


def _real_data_dir() -> Path | None:
    """$COURSE_DATA_DIR as it was when the tests were collected, else ../shared/data."""
    for candidate in (
        os.environ.get("COURSE_DATA_DIR"),
        Path(__file__).resolve().parents[3] / "shared" / "data",
    ):
        if candidate and (Path(candidate) / "MNIST" / "raw").is_dir():
            return Path(candidate)
    return None


REAL = _real_data_dir()  # read at import, before the env fixture replaces the variable
needs_real_data = pytest.mark.skipif(
    REAL is None,
    reason="the real datasets ($COURSE_DATA_DIR or ../shared/data) are not on this machine",
)


@needs_real_data
def test_real_mnist_test_split(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    monkeypatch.setenv("COURSE_DATA_DIR", str(REAL))
    dataset = load_mnist(train=False)
    assert len(dataset) == 10_000
    line = last_line(capsys)
    assert "10,000 samples" in line and "checksums ok" in line
    assert torch.bincount(dataset.targets).tolist()[:2] == [980, 1135]


@needs_real_data
def test_real_cifar10_test_subset(monkeypatch: pytest.MonkeyPatch) -> None:
    if not (REAL / "cifar10" / "test").is_dir():
        pytest.skip(f"{REAL} has no cifar10/test")
    monkeypatch.setenv("COURSE_DATA_DIR", str(REAL))
    dataset = load_cifar10(train=False, limit=100)
    assert len(dataset) == 100 and sorted(set(dataset.targets)) == list(range(10))


@needs_real_data
def test_real_sst2_matches_the_known_checksums(monkeypatch: pytest.MonkeyPatch, capsys) -> None:
    if not (REAL / "sst2").is_dir():
        pytest.skip(f"{REAL} has no sst2")
    monkeypatch.setenv("COURSE_DATA_DIR", str(REAL))
    sizes = {split: len(load_sst2(split)) for split in ("train", "dev", "test")}
    assert sizes == {"train": 6920, "dev": 872, "test": 1821}
    assert "checksum ok" in last_line(capsys)
    assert not any(p.name.startswith(".") for p in (REAL / "sst2").iterdir())


@needs_real_data
def test_real_cats_vs_dogs_is_read_without_a_download(monkeypatch: pytest.MonkeyPatch) -> None:
    if not (REAL / "cats_vs_dogs" / "test").is_dir():
        pytest.skip(f"{REAL} has no cats_vs_dogs/test")
    monkeypatch.setenv("COURSE_DATA_DIR", str(REAL))
    monkeypatch.setattr(store, "network_ok", lambda *a, **k: pytest.fail("network checked"))
    dataset = load_cats_vs_dogs("test", limit=10)
    assert len(dataset) == 10 and dataset.identity["of"] == 2000
    assert sorted(set(dataset.targets)) == [0, 1]
