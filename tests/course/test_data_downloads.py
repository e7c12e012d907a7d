"""Tests for the downloads of course.data: SST-2's files and the cats-vs-dogs archive.

Small files laid out like the real ones are served from a local HTTP server on the
loopback address; the modules' URLs, checksums, sizes and counts are patched to match,
so nothing here touches the internet and every test takes well under a second.
"""

from __future__ import annotations

import hashlib
import http.server
import io
import json
import threading
import zipfile
from pathlib import Path
from types import SimpleNamespace

import numpy as np
import pytest
from PIL import Image

from course.data import cats_vs_dogs as cvd
from course.data import sst2 as sst2_module
from course.data import store
from course.data.cats_vs_dogs import load_cats_vs_dogs
from course.data.sst2 import load_sst2
from course.data.store import DataError

REAL_NETWORK_OK = store.network_ok  # before any fixture patches it
DEAD_PID = 4_194_305  # above Linux's largest possible pid: never a running process


# --------------------------------------------------------------------------- fixtures


@pytest.fixture(autouse=True)
def env(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> SimpleNamespace:
    """A fresh data dir and cache dir, the full profile, and no network unless a test
    turns the real check back on (for the local server)."""
    data = tmp_path / "data"
    data.mkdir()
    cache = tmp_path / "cache"
    monkeypatch.setenv("COURSE_DATA_DIR", str(data))
    monkeypatch.setenv("COURSE_CACHE_DIR", str(cache))
    monkeypatch.setenv("COURSE_PROFILE", "full")
    monkeypatch.setenv("no_proxy", "127.0.0.1,localhost")
    monkeypatch.setenv("NO_PROXY", "127.0.0.1,localhost")
    monkeypatch.setattr(store, "DOWNLOAD_TIMEOUT_S", 5.0)
    network_calls: list[str] = []

    def offline(url: str, timeout: float = 3.0) -> bool:
        network_calls.append(url)
        return False

    monkeypatch.setattr(store, "network_ok", offline)
    return SimpleNamespace(data=data, cache=cache, network_calls=network_calls, tmp=tmp_path)


class _Files(http.server.BaseHTTPRequestHandler):
    """Serves ``files`` (path -> bytes); ``cut[path] = n`` announces all, sends n bytes."""

    files: dict[str, bytes]
    cut: dict[str, int]
    requests: list[tuple[str, str]]
    timeout = 5  # seconds per socket operation: a test can never hang on the server

    def _answer(self, body: bool) -> None:
        self.requests.append((self.command, self.path))
        data = self.files.get(self.path)
        if data is None:
            self.send_error(404)
            return
        self.send_response(200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Content-Length", str(len(data)))
        self.end_headers()
        if body:
            self.wfile.write(data[: self.cut.get(self.path, len(data))])
            self.close_connection = True

    def do_HEAD(self) -> None:
        self._answer(body=False)

    def do_GET(self) -> None:
        self._answer(body=True)

    def log_message(self, *args) -> None:
        pass


@pytest.fixture
def server(monkeypatch: pytest.MonkeyPatch):
    """A local HTTP server (loopback only) and the real network check pointed at it."""
    state = SimpleNamespace(files={}, cut={}, requests=[])
    handler = type(
        "Handler", (_Files,), {"files": state.files, "cut": state.cut, "requests": state.requests}
    )
    httpd = http.server.ThreadingHTTPServer(("127.0.0.1", 0), handler)
    httpd.daemon_threads = True
    thread = threading.Thread(
        target=httpd.serve_forever, kwargs={"poll_interval": 0.05}, daemon=True
    )
    thread.start()
    state.url = f"http://127.0.0.1:{httpd.server_address[1]}"
    state.gets = lambda: [path for method, path in state.requests if method == "GET"]
    monkeypatch.setattr(
        store, "network_ok", lambda url, timeout=2.0: REAL_NETWORK_OK(url, timeout=2.0)
    )
    try:
        yield state
    finally:
        httpd.shutdown()
        httpd.server_close()
        thread.join(5)


def listing(folder: Path) -> list[str]:
    """Every file and folder under ``folder`` (hidden ones too), relative, sorted."""
    return sorted(p.relative_to(folder).as_posix() for p in folder.rglob("*"))


# --------------------------------------------------------------------------- store.download


def test_download_verifies_and_renames_into_place(
    env: SimpleNamespace, server: SimpleNamespace, capsys
) -> None:
    payload = bytes(range(256)) * (3 * 4096 + 7)  # a bit over 3 MiB: three or four chunks
    server.files["/big.bin"] = payload
    target = env.data / "sub" / "big.bin"
    digest = store.download(f"{server.url}/big.bin", target, progress="Big")
    assert digest == hashlib.sha256(payload).hexdigest()
    assert target.read_bytes() == payload
    assert listing(env.data) == ["sub", "sub/big.bin"]
    lines = capsys.readouterr().out.splitlines()
    assert 3 <= len(lines) <= 4 and lines[-1] == "Big: 100% (3 of 3 MB)"
    assert all(line.startswith("Big: ") and "%" in line for line in lines)


@pytest.mark.parametrize(
    ("options", "cut", "expected"),
    [
        ({"sha256": "0" * 64}, None, "checksum mismatch"),
        ({}, 1000, "sent 1,000 of the 5,000 bytes it announced (the download was interrupted)"),
        ({"min_bytes": 10_000}, None, "not the right file"),
        ({"max_bytes": 4_000}, None, "not the right file"),
        ({"spare_bytes": 10**18}, None, "free disk space"),
    ],
)
def test_failed_downloads_keep_nothing(
    env: SimpleNamespace, server: SimpleNamespace, options: dict, cut: int | None, expected: str
) -> None:
    server.files["/f.bin"] = b"x" * 5000
    if cut is not None:
        server.cut["/f.bin"] = cut
    with pytest.raises(DataError) as err:
        store.download(f"{server.url}/f.bin", env.data / "f.bin", hint="Do this.", **options)
    message = str(err.value)
    assert expected in message and "f.bin in the data directory" in message
    assert message.endswith("Nothing was kept. Do this.")
    assert listing(env.data) == []


def test_download_errors_are_clear_and_never_hang(
    env: SimpleNamespace, server: SimpleNamespace
) -> None:
    with pytest.raises(DataError, match="HTTP Error 404"):
        store.download(f"{server.url}/missing.bin", env.data / "m.bin")
    with pytest.raises(DataError, match="URLError"):  # nothing listens there
        store.download("http://127.0.0.1:9/x.bin", env.data / "x.bin")
    assert listing(env.data) == []


def test_stale_parts_of_dead_processes_are_removed(env: SimpleNamespace) -> None:
    target = env.data / "cats_vs_dogs"
    mine = store.part_path(target)
    host = mine.name.split(store.PART_MARK)[1].split("-")[0]
    dead = env.data / f".cats_vs_dogs{store.PART_MARK}{host}-{DEAD_PID}-0badc0de"
    other_host = env.data / f".cats_vs_dogs{store.PART_MARK}zzzzzz-{DEAD_PID}-0badc0de"
    for folder in (mine, dead, other_host):
        folder.mkdir()
        (folder / "archive.zip").write_bytes(b"partial")
    unrelated = env.data / ".sst2.part-notes"
    unrelated.write_text("keep")
    store.remove_stale_parts(target)
    assert mine.is_dir() and other_host.is_dir() and unrelated.is_file()
    assert not dead.exists()


# --------------------------------------------------------------------------- SST-2

SST2_ROWS = {
    "train": [(1, "a stirring , funny film"), (0, "dull ."), (1, "great fun"), (0, "flat")],
    "dev": [(1, "warm and wise"), (0, "a mess")],
    "test": [(0, "tedious"), (1, "lovely"), (1, "sharp")],
}


@pytest.fixture
def sst2_files(server: SimpleNamespace, monkeypatch: pytest.MonkeyPatch) -> dict[str, bytes]:
    files = {
        split: "".join(f"{y}\t{s}\n" for y, s in rows).encode() for split, rows in SST2_ROWS.items()
    }
    for split, content in files.items():
        server.files[f"/sst2/{split}.tsv"] = content
    monkeypatch.setattr(sst2_module, "SST2_URL", server.url + "/sst2/{split}.tsv")
    monkeypatch.setattr(
        sst2_module,
        "SST2_SHA256",
        {split: hashlib.sha256(content).hexdigest() for split, content in files.items()},
    )
    return files


def test_sst2_url_is_pinned_to_one_commit() -> None:
    url = sst2_module.SST2_URL.format(split="dev")
    assert url == (
        "https://raw.githubusercontent.com/YJiangcm/SST-2-sentiment-analysis/"
        "e22153cadcaf08fd6f60410453990ff073adf4ef/data/dev.tsv"
    )
    assert set(sst2_module.SST2_SHA256) == {"train", "dev", "test"}


def test_sst2_downloads_into_an_empty_data_dir(
    env: SimpleNamespace, server: SimpleNamespace, sst2_files: dict, capsys
) -> None:
    dataset = load_sst2("dev")
    out = capsys.readouterr().out
    assert "SST-2: downloaded sst2/train.tsv in the data directory (sha256 ok)" in out
    assert out.strip().splitlines()[-1] == (
        "SST-2 dev: 2 samples from sst2/dev.tsv in the data directory "
        "(label<TAB>sentence, 1 positive, 1 negative, downloaded, checksum ok)"
    )
    assert str(env.tmp) not in out
    assert dataset[0] == ("warm and wise", 1) and dataset.targets == [1, 0]
    assert dataset.identity["sha256"] == hashlib.sha256(sst2_files["dev"]).hexdigest()
    assert listing(env.data) == ["sst2", "sst2/dev.tsv", "sst2/test.tsv", "sst2/train.tsv"]
    for split, content in sst2_files.items():
        assert (env.data / "sst2" / f"{split}.tsv").read_bytes() == content
    assert sorted(server.gets()) == ["/sst2/dev.tsv", "/sst2/test.tsv", "/sst2/train.tsv"]

    train = load_sst2("train")  # already there: no download
    assert len(train) == 4 and len(server.gets()) == 3
    assert "(label<TAB>sentence, 2 positive, 2 negative, checksum ok)" in capsys.readouterr().out


def test_sst2_wrong_checksum_download_keeps_nothing(
    env: SimpleNamespace, server: SimpleNamespace, sst2_files: dict, monkeypatch
) -> None:
    monkeypatch.setitem(sst2_module.SST2_SHA256, "train", "0" * 64)
    with pytest.raises(DataError) as err:
        load_sst2("train")
    message = str(err.value)
    assert "checksum mismatch" in message and "sst2/train.tsv in the data directory" in message
    assert "COURSE_DATA_DIR" in message
    assert listing(env.data) == []


def test_sst2_interrupted_download_keeps_nothing(
    env: SimpleNamespace, server: SimpleNamespace, sst2_files: dict
) -> None:
    server.cut["/sst2/train.tsv"] = 10
    with pytest.raises(DataError, match="the download was interrupted"):
        load_sst2("dev")
    assert listing(env.data) == []


def test_sst2_offline_says_what_to_do(env: SimpleNamespace) -> None:
    with pytest.raises(DataError) as err:
        load_sst2("test")
    message = str(err.value)
    assert "test.tsv does not exist" in message and "no network" in message
    assert "COURSE_DATA_DIR" in message and "internet" in message
    assert "raw.githubusercontent.com" in message
    assert env.network_calls == [sst2_module.SST2_URL.format(split="test")]
    assert listing(env.data) == []


def test_sst2_local_files_are_verified_once(
    env: SimpleNamespace, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = env.data / "sst2"
    folder.mkdir()
    content = b"1\tgood\n0\tbad\n"
    (folder / "dev.tsv").write_bytes(content)
    with pytest.raises(DataError) as err:  # the real checksums: this is not the real file
        load_sst2("dev")
    assert "checksum mismatch" in str(err.value).lower()
    assert "sst2/dev.tsv in the data directory" in str(err.value)

    monkeypatch.setitem(sst2_module.SST2_SHA256, "dev", hashlib.sha256(content).hexdigest())
    assert len(load_sst2("dev")) == 2
    assert len(list((env.cache / "checksums").glob("dev.tsv-*.json"))) == 1
    real_sha256 = hashlib.sha256

    def refuse_the_file(data=b""):
        assert data != content, "the file was hashed again"
        return real_sha256(data)

    monkeypatch.setattr(store.hashlib, "sha256", refuse_the_file)
    assert load_sst2("dev").identity["sha256"] == real_sha256(content).hexdigest()
    assert not env.network_calls


# --------------------------------------------------------------------------- cats vs dogs

CAT_IDS = [0, 1, 2, 3, 10, 11]  # numeric order differs from the names' order
DOG_IDS = [0, 1, 2, 3, 4, 5]


def _photo(size: tuple[int, int], seed: int, fmt: str = "JPEG", mode: str = "RGB") -> bytes:
    rng = np.random.default_rng(seed)
    pixels = rng.integers(0, 256, (size[1], size[0], len(mode)), dtype=np.uint8)
    out = io.BytesIO()
    Image.fromarray(pixels, mode).save(out, fmt)
    return out.getvalue()


def make_archive(broken: dict[str, set[int]] | None = None, dog_folder: bool = True) -> bytes:
    """A zip laid out like Microsoft's: PetImages/{Cat,Dog}/<n>.jpg, plus Thumbs.db files.

    Cat 0 is larger than 224 px (300 x 250: resized), dog 1 a small RGBA PNG named .jpg
    (kept), ``broken`` ids are empty or not images, like the few in the real archive.
    """
    broken = {"cat": {2}, "dog": set()} if broken is None else broken
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as archive:
        for name, folder, ids in (("cat", "Cat", CAT_IDS), ("dog", "Dog", DOG_IDS)):
            if name == "dog" and not dog_folder:
                continue
            for n in ids:
                if n in broken.get(name, set()):
                    data = b"" if n % 2 == 0 else b"GIF89a, but not really"
                elif (name, n) == ("cat", 0):
                    data = _photo((300, 250), seed=n)
                elif (name, n) == ("dog", 1):
                    data = _photo((50, 40), seed=n, fmt="PNG", mode="RGBA")
                else:
                    data = _photo((48 + n, 40), seed=100 + n)
                archive.writestr(f"PetImages/{folder}/{n}.jpg", data)
            archive.writestr(f"PetImages/{folder}/Thumbs.db", b"not a photo")
    return buffer.getvalue()


@pytest.fixture
def archive_server(server: SimpleNamespace, monkeypatch: pytest.MonkeyPatch) -> SimpleNamespace:
    """The server with the archive at /kaggle.zip and the module set for 2 a class a split."""
    monkeypatch.setattr(cvd, "ARCHIVE_URL", f"{server.url}/kaggle.zip")
    monkeypatch.setattr(cvd, "ARCHIVE_MIN_BYTES", 1_000)
    monkeypatch.setattr(cvd, "ARCHIVE_MAX_BYTES", 10_000_000)
    monkeypatch.setattr(cvd, "PREPARED_SPARE_BYTES", 0)
    monkeypatch.setattr(cvd, "PER_CLASS", 2)
    server.files["/kaggle.zip"] = make_archive()
    return server


def test_cats_vs_dogs_downloads_and_prepares_into_an_empty_data_dir(
    env: SimpleNamespace, archive_server: SimpleNamespace, capsys
) -> None:
    dataset = load_cats_vs_dogs("train")
    out = capsys.readouterr().out
    lines = out.strip().splitlines()
    assert "downloading Microsoft's Kaggle archive kagglecatsanddogs_5340.zip" in lines[0]
    assert "go to cats_vs_dogs in the data directory" in lines[0]
    assert (
        "Cats vs dogs: prepared 8 photos (2 a class in each of train, test), skipped 1 "
        "undecodable file (cat 2); deleted the downloaded archive" in out
    )
    assert lines[-1] == (
        "Cats vs dogs train: 4 samples from cats_vs_dogs/train in the data directory "
        "(photos: 2 cat, 2 dog, downloaded and prepared)"
    )
    assert str(env.tmp) not in out and ".part-" not in out
    assert dataset.classes == ["cat", "dog"] and len(dataset) == 4

    base = env.data / "cats_vs_dogs"
    assert listing(env.data) == ["cats_vs_dogs"] + [
        f"cats_vs_dogs/{rest}"
        for rest in [
            "MANIFEST.json",
            "test",
            "test/cat",
            "test/cat/cat.10.jpg",
            "test/cat/cat.3.jpg",
            "test/dog",
            "test/dog/dog.2.jpg",
            "test/dog/dog.3.jpg",
            "train",
            "train/cat",
            "train/cat/cat.0.jpg",
            "train/cat/cat.1.jpg",
            "train/dog",
            "train/dog/dog.0.jpg",
            "train/dog/dog.1.jpg",
        ]
    ]
    with Image.open(base / "train" / "cat" / "cat.0.jpg") as image:  # 300 x 250: resized
        assert image.format == "JPEG" and image.mode == "RGB" and image.size == (269, 224)
    with Image.open(base / "train" / "dog" / "dog.1.jpg") as image:  # a small RGBA PNG: kept
        assert image.format == "JPEG" and image.mode == "RGB" and image.size == (50, 40)
    manifest = json.loads((base / "MANIFEST.json").read_text())
    assert manifest["source"] == cvd.ARCHIVE_URL
    assert (
        manifest["archive_sha256"]
        == hashlib.sha256(archive_server.files["/kaggle.zip"]).hexdigest()
    )
    assert manifest["counts"] == {"train": {"cat": 2, "dog": 2}, "test": {"cat": 2, "dog": 2}}
    assert manifest["skipped"] == {"cat": [2], "dog": []}
    assert manifest["ids"]["test"]["cat"] == [3, 10]

    test = load_cats_vs_dogs("test")  # already there: no second download
    assert len(test) == 4 and archive_server.gets() == ["/kaggle.zip"]
    assert "downloaded" not in capsys.readouterr().out


def test_cats_vs_dogs_preparation_is_deterministic(
    env: SimpleNamespace, archive_server: SimpleNamespace, monkeypatch: pytest.MonkeyPatch
) -> None:
    load_cats_vs_dogs("train")
    first = {p: (env.data / p).read_bytes() for p in listing(env.data) if p.endswith(".jpg")}
    other = env.tmp / "other"
    other.mkdir()
    monkeypatch.setenv("COURSE_DATA_DIR", str(other))
    load_cats_vs_dogs("test")
    second = {p: (other / p).read_bytes() for p in listing(other) if p.endswith(".jpg")}
    assert first == second and len(first) == 8


@pytest.mark.parametrize(
    ("archive", "expected"),
    [
        (lambda: b"PK not really a zip" * 100, "not a valid zip archive"),
        (lambda: make_archive(dog_folder=False), "no photos in PetImages/Dog"),
        (
            lambda: make_archive({"cat": set(), "dog": {0, 1, 3}}),
            "PetImages/Dog yields only 3 decodable photos (of 6), but 4 are needed",
        ),
    ],
)
def test_cats_vs_dogs_wrong_archive_keeps_nothing(
    env: SimpleNamespace, archive_server: SimpleNamespace, archive, expected: str
) -> None:
    archive_server.files["/kaggle.zip"] = archive()
    with pytest.raises(DataError) as err:
        load_cats_vs_dogs("train")
    message = str(err.value)
    assert expected in message and "Nothing was kept" in message and "COURSE_DATA_DIR" in message
    assert listing(env.data) == []


def test_cats_vs_dogs_interrupted_download_keeps_nothing(
    env: SimpleNamespace, archive_server: SimpleNamespace, monkeypatch: pytest.MonkeyPatch
) -> None:
    size = len(archive_server.files["/kaggle.zip"])
    archive_server.cut["/kaggle.zip"] = size // 2
    with pytest.raises(DataError) as err:
        load_cats_vs_dogs("test")
    assert f"sent {size // 2:,} of the {size:,} bytes" in str(err.value)
    assert "the archive kagglecatsanddogs_5340.zip" in str(err.value)
    assert listing(env.data) == []

    monkeypatch.setattr(cvd, "ARCHIVE_MIN_BYTES", size + 1)  # the size sanity check
    with pytest.raises(DataError, match="not the right file"):
        load_cats_vs_dogs("test")
    assert listing(env.data) == []


def test_cats_vs_dogs_offline_says_what_to_do(env: SimpleNamespace) -> None:
    with pytest.raises(DataError) as err:
        load_cats_vs_dogs("train")
    message = str(err.value)
    assert "no network" in message and "download.microsoft.com" in message
    assert "COURSE_DATA_DIR" in message and "internet" in message
    assert "kagglecatsanddogs_5340.zip" in message and "{cat,dog}/*.jpg" in message
    assert env.network_calls == [cvd.ARCHIVE_URL]
    assert listing(env.data) == []


def test_cats_vs_dogs_existing_folder_is_read_as_before(
    env: SimpleNamespace, monkeypatch: pytest.MonkeyPatch
) -> None:
    monkeypatch.setattr(store, "network_ok", lambda *a, **k: pytest.fail("network checked"))
    for split in ("train", "test"):
        for name in ("cat", "dog"):
            folder = env.data / "cats_vs_dogs" / split / name
            folder.mkdir(parents=True)
            (folder / f"{name}.1.jpg").write_bytes(_photo((40, 30), seed=1))
    assert len(load_cats_vs_dogs("test")) == 2  # no MANIFEST.json needed
    (env.data / "cats_vs_dogs" / "test").rename(env.data / "cats_vs_dogs" / "valid")
    with pytest.raises(DataError, match="delete it to have it downloaded again"):
        load_cats_vs_dogs("test")


def test_cats_vs_dogs_download_removes_a_killed_run_s_leftovers(
    env: SimpleNamespace, archive_server: SimpleNamespace
) -> None:
    host = store.part_path(env.data / "cats_vs_dogs").name.split(store.PART_MARK)[1][:6]
    stale = env.data / f".cats_vs_dogs{store.PART_MARK}{host}-{DEAD_PID}-0badc0de"
    stale.mkdir()
    (stale / "kagglecatsanddogs_5340.zip").write_bytes(b"half")
    load_cats_vs_dogs("train")
    assert [p.name for p in env.data.iterdir()] == ["cats_vs_dogs"]
