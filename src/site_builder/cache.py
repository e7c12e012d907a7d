"""The execution cache: one entry per lesson and profile, keyed on content hashes.

A lesson re-runs only when something that can change its output changed: its
own source, the helper package's source, the converter and executor, the
profile, the data directory, the accelerator, or the versions of the libraries
it runs on. Timestamps never count.

An entry is a folder ``<cache>/<lesson>/`` holding ``executed.ipynb`` and
``record.json``; the record stores the key and the notebook's sha256, so a
corrupt or half-written entry is detected (and the lesson re-runs). Entries
are written to a temporary folder and swapped in with renames, so an
interrupted build leaves either the old entry or the new one, and a failed run
never touches the last good entry.
"""

from __future__ import annotations

import hashlib
import json
import os
import platform
import shutil
import sys
from importlib import metadata
from pathlib import Path

import nbformat

from site_builder.config import Config

KEY_SCHEMA = 1
LIBRARIES = ("torch", "torchvision", "numpy", "matplotlib", "tqdm", "ipykernel")
NOTEBOOK = "executed.ipynb"
RECORD = "record.json"
_BUILDER_SOURCES = ("lesson.py", "execute.py", "cache.py")


def _library_versions() -> dict[str, str | None]:
    versions: dict[str, str | None] = {}
    for name in LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def _tree_digest(folder: Path) -> str:
    digest = hashlib.sha256()
    if folder.is_dir():
        for path in sorted(folder.rglob("*.py")):
            digest.update(path.relative_to(folder).as_posix().encode())
            digest.update(b"\0")
            digest.update(path.read_bytes())
            digest.update(b"\0")
    return digest.hexdigest()


def key_inputs(config: Config) -> dict:
    """Everything except the lesson itself that goes into every lesson's key."""
    here = Path(__file__).parent
    builder = hashlib.sha256()
    for name in _BUILDER_SOURCES:
        builder.update((here / name).read_bytes())
    return {
        "schema": KEY_SCHEMA,
        "profile": config.profile,
        "python": platform.python_version(),
        "implementation": sys.implementation.name,
        "machine": platform.machine(),
        "accelerator": {
            "nvidia": os.path.exists("/dev/nvidia0"),
            "CUDA_VISIBLE_DEVICES": os.environ.get("CUDA_VISIBLE_DEVICES"),
            "COURSE_DEVICE": os.environ.get("COURSE_DEVICE"),
        },
        "data_dir": os.environ.get("COURSE_DATA_DIR"),
        "repository": config.repo_url,  # baked into each notebook's install cell
        "libraries": _library_versions(),
        "helpers": _tree_digest(config.helpers_dir),
        "builder": builder.hexdigest(),
    }


def lesson_key(lesson_path: Path, shared_inputs: dict) -> str:
    digest = hashlib.sha256()
    digest.update(json.dumps(shared_inputs, sort_keys=True).encode())
    digest.update(b"\0lesson\0")
    digest.update(Path(lesson_path).read_bytes())
    return digest.hexdigest()


class Entry:
    """The cache entry of one lesson in one profile."""

    def __init__(self, config: Config, lesson_name: str):
        self.config = config
        self.name = lesson_name
        self.path = config.cache_dir / lesson_name

    @property
    def notebook_path(self) -> Path:
        return self.path / NOTEBOOK

    def _recover_interrupted_swap(self) -> None:
        """If a build died between the two renames of a swap, put the old entry back."""
        if self.path.exists():
            return
        olds = sorted(self.config.cache_dir.glob(f".old-{self.name}-*"))
        if olds:
            olds[-1].rename(self.path)

    def load(self, key: str) -> tuple[nbformat.NotebookNode, dict] | None:
        """The cached notebook and record if the entry is whole and matches ``key``."""
        valid = self.load_any()
        if valid is None or valid[1].get("key") != key:
            return None
        return valid

    def load_any(self) -> tuple[nbformat.NotebookNode, dict] | None:
        """The last good notebook and record, whatever their key; None if absent or corrupt."""
        self._recover_interrupted_swap()
        try:
            record = json.loads((self.path / RECORD).read_text(encoding="utf-8"))
            raw = self.notebook_path.read_bytes()
            if hashlib.sha256(raw).hexdigest() != record.get("notebook_sha256"):
                return None
            nb = nbformat.reads(raw.decode("utf-8"), as_version=4)
        except (OSError, ValueError, KeyError, AttributeError, TypeError):
            return None
        if record.get("status") != "ok":
            return None
        return nb, record

    def store(self, nb: nbformat.NotebookNode, record: dict) -> None:
        """Write a new good entry atomically (temporary folder, then renames)."""
        cache_dir = self.config.cache_dir
        cache_dir.mkdir(parents=True, exist_ok=True)
        tmp = cache_dir / f".tmp-{self.name}-{os.getpid()}"
        old = cache_dir / f".old-{self.name}-{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        raw = nbformat.writes(nb).encode("utf-8")
        (tmp / NOTEBOOK).write_bytes(raw)
        record = {**record, "notebook_sha256": hashlib.sha256(raw).hexdigest()}
        (tmp / RECORD).write_text(json.dumps(record, indent=2, sort_keys=True), encoding="utf-8")
        if self.path.exists():
            self.path.rename(old)
        tmp.rename(self.path)
        shutil.rmtree(old, ignore_errors=True)
