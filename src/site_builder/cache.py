"""The execution cache: entries keyed on everything that can change a lesson's output.

A lesson's **inputs** (:func:`lesson_inputs`) are: its own source; the helper modules it
imports, transitively, each by the meaning of its code (:mod:`site_builder.deps`:
comments, docstrings and layout do not count); the content of the datasets those
modules read (:mod:`course.fingerprint`: where the data lies does not count); the
profile; the accelerator; the versions of Python and of the libraries lessons run on;
the converter and executor. Its **key** is the hash of these inputs. Timestamps never
count.

A lesson keeps up to ``KEEP`` entries, one per key, ``<cache>/<lesson>/<key>/`` each
holding ``executed.ipynb`` and ``record.json`` (the record stores the inputs, so the
build can say *why* a lesson is stale, and the notebook's sha256, so a corrupt or
half-written entry is detected and re-run). Builds that alternate between two settings
therefore re-use both. Entries are written to a temporary folder and renamed into
place: an interrupted build leaves the old entry or the new one, and a failed run never
touches the last good entry.
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

from course.fingerprint import folder_identity, meaning_digest
from site_builder.config import Config
from site_builder.deps import HelperPackage

KEY_SCHEMA = 2
KEEP = 3  # entries per lesson
LIBRARIES = ("torch", "torchvision", "numpy", "matplotlib", "tqdm", "ipykernel")
NOTEBOOK = "executed.ipynb"
RECORD = "record.json"
_BUILDER_SOURCES = ("lesson.py", "execute.py", "cache.py", "checks.py")


def _library_versions() -> dict[str, str | None]:
    versions: dict[str, str | None] = {}
    for name in LIBRARIES:
        try:
            versions[name] = metadata.version(name)
        except metadata.PackageNotFoundError:
            versions[name] = None
    return versions


def data_dir() -> Path:
    """The data directory lessons read (the same rule as ``course.data.store``)."""
    value = os.environ.get("COURSE_DATA_DIR", "").strip()
    return Path(value or "~/.cache/pytorch-course/data").expanduser()


def shared_inputs(config: Config) -> dict:
    """The inputs every lesson shares: profile, platform, libraries, builder."""
    here = Path(__file__).parent
    builder = {
        name: meaning_digest((here / name).read_text(encoding="utf-8")) for name in _BUILDER_SOURCES
    }
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
        "repository": config.repo_url,  # baked into each notebook's install cell
        "libraries": _library_versions(),
        "builder": builder,
    }


class Keys:
    """Computes lesson inputs for one build: parses each helper module and hashes each
    dataset once, however many lessons use them."""

    def __init__(self, config: Config):
        self.config = config
        self.shared = shared_inputs(config)
        self.package = HelperPackage(config.helpers_dir)
        self._data: dict[str, str | None] = {}

    def data_identity(self, folder: str) -> str | None:
        if folder not in self._data:
            memo = self.config.build_dir / "cache" / "identity"
            self._data[folder] = folder_identity(data_dir() / folder, memo)
        return self._data[folder]

    def inputs(self, lesson_path: Path) -> dict:
        """Everything that can change ``lesson_path``'s output (DependencyError if its
        imports are broken)."""
        source = Path(lesson_path).read_bytes()
        deps = self.package.dependencies(source.decode("utf-8"), Path(lesson_path).name)
        return {
            **self.shared,
            "lesson": hashlib.sha256(source).hexdigest(),
            "helpers": deps.modules,
            "data": {folder: self.data_identity(folder) for folder in deps.data_folders},
        }


def key_of(inputs: dict) -> str:
    return hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()


def changes(old: dict | None, new: dict) -> list[str]:
    """Why an entry made from ``old`` inputs is stale for ``new`` ones, in words."""
    if not old:
        return ["no run recorded with its inputs (made by an older builder)"]
    reasons = []
    if old.get("lesson") != new["lesson"]:
        reasons.append("the lesson's source changed")
    old_helpers, new_helpers = old.get("helpers", {}), new["helpers"]
    for module in sorted(set(old_helpers) | set(new_helpers)):
        if module not in old_helpers:
            reasons.append(f"it now imports {module}")
        elif module not in new_helpers:
            reasons.append(f"it no longer imports {module}")
        elif old_helpers[module] != new_helpers[module]:
            reasons.append(f"the code of {module} changed")
    old_data, new_data = old.get("data", {}), new["data"]
    for folder in sorted(set(old_data) | set(new_data)):
        if old_data.get(folder) != new_data.get(folder):
            state = "is absent now" if new_data.get(folder) is None else "changed"
            reasons.append(f"the dataset folder {folder}/ {state}")
    for name, value in new.items():
        if name in ("lesson", "helpers", "data"):
            continue
        if old.get(name) != value:
            if name == "libraries":
                for lib, version in value.items():
                    if old.get(name, {}).get(lib) != version:
                        reasons.append(f"{lib} {old.get(name, {}).get(lib)} -> {version}")
            else:
                reasons.append(f"{name} changed ({_short(old.get(name))} -> {_short(value)})")
    return reasons or ["its key changed"]


def _short(value, limit: int = 40) -> str:
    text = json.dumps(value, sort_keys=True) if not isinstance(value, str) else value
    return text if len(text) <= limit else text[: limit - 3] + "..."


class Entry:
    """The cache entries of one lesson in one profile, one folder per key."""

    def __init__(self, config: Config, lesson_name: str):
        self.config = config
        self.name = lesson_name
        self.path = config.cache_dir / lesson_name

    def folder(self, key: str) -> Path:
        return self.path / key[:24]

    def _recover_interrupted_swap(self) -> None:
        """If a build died between the two renames of a swap, put the old entry back."""
        for old in sorted(self.path.glob(".old-*")):
            target = self.path / old.name.split("-")[1]
            if target.exists():
                shutil.rmtree(old, ignore_errors=True)
            else:
                old.rename(target)

    def _read(self, folder: Path) -> tuple[nbformat.NotebookNode, dict] | None:
        try:
            record = json.loads((folder / RECORD).read_text(encoding="utf-8"))
            raw = (folder / NOTEBOOK).read_bytes()
            if hashlib.sha256(raw).hexdigest() != record.get("notebook_sha256"):
                return None
            nb = nbformat.reads(raw.decode("utf-8"), as_version=4)
        except (OSError, ValueError, KeyError, AttributeError, TypeError):
            return None
        if record.get("status") != "ok" or not isinstance(record.get("key"), str):
            return None
        return nb, record

    def load(self, key: str) -> tuple[nbformat.NotebookNode, dict] | None:
        """The entry for ``key`` if it is whole; None if absent or corrupt."""
        self._recover_interrupted_swap()
        found = self._read(self.folder(key))
        if found is None or found[1]["key"] != key:
            return None
        return found

    def all(self) -> list[tuple[nbformat.NotebookNode, dict, Path]]:
        """Every whole entry, newest first."""
        self._recover_interrupted_swap()
        found = []
        if self.path.is_dir():
            for folder in self.path.iterdir():
                if folder.is_dir() and not folder.name.startswith("."):
                    entry = self._read(folder)
                    if entry is not None:
                        found.append((*entry, folder))
        found.sort(key=lambda e: (e[1].get("date", ""), e[2].stat().st_mtime_ns), reverse=True)
        return found

    def load_any(self) -> tuple[nbformat.NotebookNode, dict] | None:
        """The newest good notebook and record, whatever their key; None if none."""
        entries = self.all()
        return (entries[0][0], entries[0][1]) if entries else None

    def notebook_path(self, key: str) -> Path:
        return self.folder(key) / NOTEBOOK

    def store(self, nb: nbformat.NotebookNode, record: dict) -> None:
        """Write a new good entry atomically (temporary folder, then renames), then keep
        only the ``KEEP`` newest entries of this lesson."""
        self.path.mkdir(parents=True, exist_ok=True)
        key = record["key"]
        target = self.folder(key)
        tmp = self.path / f".tmp-{os.getpid()}"
        old = self.path / f".old-{target.name}-{os.getpid()}"
        shutil.rmtree(tmp, ignore_errors=True)
        tmp.mkdir()
        raw = nbformat.writes(nb).encode("utf-8")
        (tmp / NOTEBOOK).write_bytes(raw)
        record = {**record, "notebook_sha256": hashlib.sha256(raw).hexdigest()}
        (tmp / RECORD).write_text(json.dumps(record, indent=2, sort_keys=True), encoding="utf-8")
        if target.exists():
            target.rename(old)
        tmp.rename(target)
        shutil.rmtree(old, ignore_errors=True)
        for *_, folder in self.all()[KEEP:]:
            shutil.rmtree(folder, ignore_errors=True)
