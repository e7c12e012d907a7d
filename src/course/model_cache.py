"""Reusing trained models across lessons (Day 14's CIFAR-10 network in Days 16, 19, 21).

:func:`trained_model` returns a trained model from a cache, training it only when its
key changed. The key is made of what decides the weights, each named by the caller:

* ``settings``: the recipe's values (hyperparameters, split sizes, seeds), plain JSON;
* ``code``: the modules that define and train the model, by the meaning of their source
  (:func:`course.fingerprint.meaning_digest`: comments and docstrings do not count);
* ``data``: the data-directory folders training reads, by their content
  (:func:`course.fingerprint.folder_identity`: where they lie does not count);
* the run profile and the torch and torchvision versions.

Each entry is one file ``<name>-<key>.pt`` in ``course.data.store.cache_dir() / "models"``
(inside a checkout: ``build/cache/data/models``), written atomically, loaded with
``torch.load(weights_only=True)`` and checked against a checksum of its weights. A file
that cannot be used is trained again, with a line saying why; a key that changed is
explained by naming what changed. Processes that want the same entry at the same time
(lessons built in parallel) take turns through a file lock (``filelock``).
"""

from __future__ import annotations

import hashlib
import inspect
import json
import re
import time
from collections.abc import Callable, Sequence
from pathlib import Path
from types import ModuleType

import torch
import torchvision
from filelock import FileLock
from torch import nn

from course import profile
from course.data import store
from course.fingerprint import folder_identity, meaning_digest

FORMAT = 2
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,80}")


def key_inputs(name: str, settings: dict, code: Sequence[ModuleType], data: Sequence[str]) -> dict:
    """What decides the weights of ``name``, as plain data (see the module docstring)."""
    try:
        settings = json.loads(json.dumps(settings, sort_keys=True))
    except TypeError as err:
        raise TypeError(f"settings of '{name}' must be plain JSON values: {err}") from err
    memo = store.cache_dir() / "identity"
    return {
        "format": FORMAT,
        "name": name,
        "settings": settings,
        "code": {m.__name__: meaning_digest(inspect.getsource(m)) for m in code},
        "data": {f: folder_identity(store.data_dir() / f, memo) for f in data},
        "profile": profile.current(),
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
    }


def _differences(old: dict, new: dict, path: str = "") -> list[str]:
    """Which values differ, by their dotted names: ``settings.recipe.lr: 0.1 -> 0.2``."""
    if isinstance(old, dict) and isinstance(new, dict):
        found = []
        for k in sorted(set(old) | set(new), key=str):
            found += _differences(old.get(k), new.get(k), f"{path}.{k}" if path else str(k))
        return found
    if old == new:
        return []
    if path.startswith(("code.", "data.")):
        return [f"{path} changed"]  # digests say nothing to a reader
    return [f"{path}: {json.dumps(old)[:40]} -> {json.dumps(new)[:40]}"]


def _weights_digest(state: dict) -> str:
    digest = hashlib.sha256()
    for k in sorted(state):
        digest.update(k.encode())
        flat = state[k].detach().cpu().contiguous().flatten()  # strides of size-1 dims vary
        digest.update(flat.view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def _read(path: Path, key: str) -> tuple[dict | None, str]:
    """The entry if the file is whole and was made for ``key``; else (None, why)."""
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # noqa: BLE001 - any failure to read means: train again
        return None, f"the file is unreadable ({type(err).__name__})"
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        return None, "the file is not a model-cache entry of this format"
    if payload.get("key") != key:
        return None, "the file was made for another key"
    state = payload.get("state_dict")
    if not isinstance(state, dict) or _weights_digest(state) != payload.get("weights_sha256"):
        return None, "the weights do not match their checksum (the file is corrupt)"
    return payload, ""


def _why_missing(folder: Path, name: str, inputs: dict) -> str:
    """What changed since the newest other entry of this name."""
    others = sorted(folder.glob(f"{name}-*.pt"), key=lambda p: p.stat().st_mtime)
    for other in others[-1:]:
        try:
            old = json.loads(torch.load(other, weights_only=True)["inputs"])
        except Exception:  # noqa: BLE001 - an unreadable neighbour explains nothing
            break
        return "its key changed: " + ("; ".join(_differences(old, inputs)[:6]) or "?")
    return "no cached copy yet"


def trained_model(
    name: str,
    build: Callable[[], nn.Module],
    train: Callable[[nn.Module], dict | None],
    *,
    settings: dict,
    code: Sequence[ModuleType],
    data: Sequence[str] = (),
    cache_dir: Path | None = None,
) -> tuple[nn.Module, dict]:
    """Return ``(model, info)``: ``build()``'s model with trained weights, from the cache
    if an entry for this key exists, else after ``train(model)`` (whose return value, for
    example a dict of metrics, is cached with the weights).

    ``info`` holds ``cache_hit``, ``key``, ``path``, ``metrics``, ``train_seconds``, ``created`` and
    ``reason`` (why it trained; None on a hit). The model is returned in eval mode, on the
    device ``build`` (hit) or ``train`` (miss) left it: call ``.to(device)`` on it. A hit
    consumes no random numbers: seed after this call.
    """
    if not _NAME.fullmatch(name):
        raise ValueError(f"name must be letters, digits, '_', '.' or '-', not {name!r}")
    inputs = key_inputs(name, settings, code, data)
    key = hashlib.sha256(json.dumps(inputs, sort_keys=True).encode()).hexdigest()
    folder = Path(cache_dir) if cache_dir is not None else store.cache_dir() / "models"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}-{key[:16]}.pt"

    with FileLock(str(folder / f".{path.stem}.lock")):
        model = build()
        if path.exists():
            payload, problem = _read(path, key)
            if payload is not None:
                model.load_state_dict(payload["state_dict"])
                model.eval()
                print(
                    f"Loaded the trained model '{name}' from the model cache (trained in "
                    f"{payload['train_seconds']:.1f} s on {payload['created']})"
                )
                return model, {
                    "cache_hit": True,
                    "key": key,
                    "path": str(path),
                    "metrics": payload["metrics"],
                    "train_seconds": payload["train_seconds"],
                    "created": payload["created"],
                    "reason": None,
                }
            reason = f"the cached file cannot be used: {problem}"
        else:
            reason = _why_missing(folder, name, inputs)
        print(f"Training '{name}' ({reason}).")

        start = time.perf_counter()
        metrics = json.loads(json.dumps(train(model), default=float))
        seconds = time.perf_counter() - start
        state = {k: v.detach().cpu().clone() for k, v in model.state_dict().items()}
        created = time.strftime("%Y-%m-%d %H:%M")
        payload = {
            "format": FORMAT,
            "key": key,
            "inputs": json.dumps(inputs, sort_keys=True),
            "metrics": metrics,
            "train_seconds": seconds,
            "created": created,
            "state_dict": state,
            "weights_sha256": _weights_digest(state),
        }
        saved = store.write_atomic(path, lambda fh: torch.save(payload, fh))
        model.eval()
        print(f"Trained '{name}' in {seconds:.1f} s" + (" and cached it." if saved else "."))
        return model, {
            "cache_hit": False,
            "key": key,
            "path": str(path),
            "metrics": metrics,
            "train_seconds": seconds,
            "created": created,
            "reason": reason,
        }
