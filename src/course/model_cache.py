"""Reusing trained models across lessons (Day 14's CIFAR-10 network in Days 16, 19 and 21).

:func:`trained_model` returns a trained model from a cache, training it only when its key
changed. The key hashes everything that determines the weights:

* the ``key`` dict the lesson passes (data identity such as ``train_set.identity``,
  hyperparameters, seeds): plain values only;
* the code of ``build`` and ``train``: their source (``inspect.getsource``; a lambda's
  bytecode instead, so the line it sits on does not matter), plus the code of the
  classes and functions they use from the lesson or the ``course`` package, and the
  simple values (numbers, strings) of the globals and closure variables they read;
* the run profile and the torch / torchvision versions.

Tensors and datasets that ``train`` reads are *not* hashed: describe them in ``key``.
So that Day 16 gets the model Day 14 cached, both must pass the same ``key`` and the same
code (best: import ``build`` and ``train`` from one place).

Each entry is one file ``<name>-<key>.pt`` in ``course.store.cache_dir() / "models"``
(inside a checkout: ``build/cache/data/models``), written atomically and loaded with
``torch.load(weights_only=True)``. A damaged file, or one whose weights checksum or key
does not match, is trained again, with a line saying why.
"""

from __future__ import annotations

import contextlib
import functools
import hashlib
import inspect
import json
import os
import re
import sys
import sysconfig
import textwrap
import time
import types
from collections.abc import Callable, Iterator
from pathlib import Path
from typing import Any

import torch
import torchvision
from torch import nn

from course import profile
from course.data import store

FORMAT = 1
_NAME = re.compile(r"[A-Za-z0-9][A-Za-z0-9_.-]{0,80}")
_MAX_CODE_OBJECTS = 300
_MAX_VALUE_CHARS = 10_000


# --------------------------------------------------------------------------- the key


def _canonical(value: Any) -> Any:
    """``value`` as plain JSON data, or TypeError for things without a stable description."""
    if value is None or isinstance(value, (bool, str)):
        return value
    if isinstance(value, int):
        return int(value)
    if isinstance(value, float):
        return float(value) if value == value else "nan"
    if isinstance(value, (Path, torch.device, torch.dtype)):
        return str(value)
    if hasattr(value, "item") and hasattr(value, "shape") and tuple(value.shape) == ():
        return _canonical(value.item())  # NumPy / torch scalars
    if isinstance(value, (list, tuple)):
        return [_canonical(v) for v in value]
    if isinstance(value, dict):
        return {str(k): _canonical(v) for k, v in sorted(value.items(), key=lambda kv: str(kv[0]))}
    raise TypeError(
        f"A model-cache key can hold only plain values (numbers, strings, lists, dicts), not "
        f"{type(value).__name__}; describe it instead, e.g. by a name or a dataset's .identity."
    )


def _immutable(value: Any) -> bool:
    if value is None or isinstance(value, (bool, int, float, str, Path, torch.device, torch.dtype)):
        return True
    if isinstance(value, tuple):
        return all(_immutable(v) for v in value)
    return type(value).__module__ == "numpy" and getattr(value, "shape", None) == ()


def _simple_value(value: Any) -> str | None:
    """A short JSON text for an immutable plain value (an ``EPOCHS = 20`` constant), else None.

    Lists, dicts and objects are left out on purpose: a global list that ``train`` appends
    to is state, not configuration, and must not change the key.
    """
    if not _immutable(value):
        return None
    text = json.dumps(_canonical(value), sort_keys=True)
    return text if len(text) <= _MAX_VALUE_CHARS else None


@functools.lru_cache(maxsize=1)
def _library_dirs() -> tuple[str, ...]:
    paths = sysconfig.get_paths()
    dirs = {os.path.realpath(paths[k]) for k in ("stdlib", "platstdlib", "purelib", "platlib")}
    dirs.update(
        os.path.realpath(p) for p in sys.path if "site-packages" in p or "dist-packages" in p
    )
    return tuple(sorted(d + os.sep for d in dirs))


def _is_user_code(obj: Any) -> bool:
    """Code of the lesson or the course package, not of a library (whose version is keyed)."""
    module_name = getattr(obj, "__module__", None) or ""
    if module_name == "__main__" or module_name == "course" or module_name.startswith("course."):
        return True
    module = sys.modules.get(module_name)
    file = getattr(module, "__file__", None)
    if not file:
        return False
    return not os.path.realpath(file).startswith(_library_dirs())


def _code_bytes(code: types.CodeType) -> bytes:
    """Bytecode, names and constants (nested code included): the fallback without source."""
    parts = [code.co_code, repr(code.co_names).encode(), repr(code.co_varnames).encode()]
    for const in code.co_consts:
        parts.append(
            _code_bytes(const) if isinstance(const, types.CodeType) else repr(const).encode()
        )
    return b"\0".join(parts)


def _function_text(fn: types.FunctionType) -> bytes:
    kwdefaults = tuple(sorted((fn.__kwdefaults__ or {}).items()))
    defaults = _simple_value((fn.__defaults__ or (), kwdefaults)) or "?"
    if fn.__name__ != "<lambda>":
        with contextlib.suppress(OSError, TypeError):
            return textwrap.dedent(inspect.getsource(fn)).encode() + defaults.encode()
    return _code_bytes(fn.__code__) + defaults.encode()


def _all_names(code: types.CodeType) -> list[str]:
    names = list(code.co_names)
    for const in code.co_consts:
        if isinstance(const, types.CodeType):
            names.extend(_all_names(const))
    return names


def _dependencies(fn: types.FunctionType) -> Iterator[tuple[str, Any]]:
    """(name, object) for each global and closure variable the function reads."""
    for name in dict.fromkeys(_all_names(fn.__code__)):
        if name in fn.__globals__:
            yield name, fn.__globals__[name]
    for name, cell in zip(fn.__code__.co_freevars, fn.__closure__ or (), strict=True):
        with contextlib.suppress(ValueError):  # an empty cell
            yield name, cell.cell_contents


def _code_digest(root: Callable) -> str:
    """A hash of ``root``'s code and of the user code and plain values it depends on."""
    pieces: list[tuple[str, bytes]] = []
    seen: set[int] = set()
    stack: list[Any] = [root]
    while stack and len(seen) < _MAX_CODE_OBJECTS:
        obj = stack.pop()
        if id(obj) in seen:
            continue
        seen.add(id(obj))
        if isinstance(obj, functools.partial):
            args = _simple_value((tuple(obj.args), tuple(sorted(obj.keywords.items())))) or "?"
            pieces.append(("partial", args.encode()))
            stack.append(obj.func)
        elif inspect.ismethod(obj):
            stack.append(obj.__func__)
        elif inspect.isfunction(obj):
            label = f"{obj.__module__}.{obj.__qualname__}"
            pieces.append((label, _function_text(obj)))
            for name, value in _dependencies(obj):
                text = _simple_value(value)
                if text is not None:
                    pieces.append((f"{label}:{name}", text.encode()))
                elif (inspect.isfunction(value) or inspect.isclass(value)) and _is_user_code(value):
                    stack.append(value)
        elif inspect.isclass(obj):
            label = f"{obj.__module__}.{obj.__qualname__}"
            try:
                text = textwrap.dedent(inspect.getsource(obj)).encode()
            except (OSError, TypeError):  # e.g. a class defined in a notebook cell
                text = repr([b.__qualname__ for b in obj.__bases__]).encode()
            pieces.append((label, text))
            for member_name, member in sorted(vars(obj).items()):
                member = getattr(member, "__func__", member)  # staticmethod / classmethod
                if isinstance(member, property):
                    member = member.fget
                if inspect.isfunction(member):
                    stack.append(member)
                elif (text := _simple_value(member)) is not None and not member_name.startswith(
                    "__"
                ):
                    pieces.append((f"{label}.{member_name}", text.encode()))
            stack.extend(b for b in obj.__bases__ if _is_user_code(b))
        elif callable(obj):  # an instance with __call__
            stack.append(type(obj))
    digest = hashlib.sha256()
    for label, text in sorted(pieces):
        digest.update(label.encode() + b"\0" + hashlib.sha256(text).digest())
    return digest.hexdigest()


def _key_parts(name: str, build: Callable, train: Callable, key: dict) -> dict:
    if not isinstance(key, dict):
        raise TypeError(f"key must be a dict of plain values, not {type(key).__name__}")
    return {
        "format": FORMAT,
        "name": name,
        "key": _canonical(key),
        "build": _code_digest(build),
        "train": _code_digest(train),
        "profile": profile.current(),
        "torch": torch.__version__,
        "torchvision": torchvision.__version__,
    }


def _key_digest(parts: dict) -> str:
    return hashlib.sha256(json.dumps(parts, sort_keys=True).encode()).hexdigest()


def _changed_values(old: Any, new: Any, path: str) -> Iterator[str]:
    """``path old -> new`` for each value that differs, descending into dicts."""
    if isinstance(old, dict) and isinstance(new, dict):
        for k in sorted(set(old) | set(new), key=str):
            yield from _changed_values(
                old.get(k, "<unset>"), new.get(k, "<unset>"), f"{path}[{k!r}]"
            )
    elif old != new:
        yield f"{path} {_short(old)} -> {_short(new)}"


def _short(value: Any, limit: int = 60) -> str:
    text = str(value)
    return text if len(text) <= limit else text[: limit - 3] + "..."


def _differences(old: dict, new: dict, most: int = 6) -> list[str]:
    """What changed between two key-part dicts, in words (at most ``most`` key values)."""
    words = {"build": "the model code (build)", "train": "the training code (train)"}
    changes = list(_changed_values(old.get("key") or {}, new.get("key") or {}, "key"))
    if len(changes) > most:
        changes[most:] = [f"{len(changes) - most} more key values"]
    for part in ("build", "train"):
        if old.get(part) != new.get(part):
            changes.append(words[part])
    for part in ("profile", "torch", "torchvision", "format"):
        if old.get(part) != new.get(part):
            changes.append(f"{part} {old.get(part)} -> {new.get(part)}")
    return changes


# --------------------------------------------------------------------------- the file


def _weights_digest(state: dict) -> str:
    digest = hashlib.sha256()
    for name in sorted(state):
        tensor = state[name].detach().cpu().contiguous()
        digest.update(f"{name}\0{tensor.dtype}\0{tuple(tensor.shape)}\0".encode())
        digest.update(tensor.reshape(-1).view(torch.uint8).numpy().tobytes())
    return digest.hexdigest()


def _plain(value: Any) -> Any:
    """Metrics as values ``torch.load(weights_only=True)`` accepts (numbers, lists, dicts)."""
    if value is None or type(value) in (bool, int, float, str):  # not NumPy's float64
        return value
    if isinstance(value, torch.Tensor):
        return value.item() if value.numel() == 1 else value.detach().cpu().tolist()
    if hasattr(value, "tolist") and hasattr(value, "dtype"):  # NumPy arrays and scalars
        return value.tolist()
    if isinstance(value, dict):
        return {str(k): _plain(v) for k, v in value.items()}
    if isinstance(value, (list, tuple)):
        return [_plain(v) for v in value]
    return str(value)


def _read_entry(path: Path, digest: str) -> tuple[dict | None, str]:
    """The payload if the file is whole and was made for ``digest``; else (None, why)."""
    try:
        payload = torch.load(path, map_location="cpu", weights_only=True)
    except Exception as err:  # noqa: BLE001 - any failure to read means: train again
        first_line = str(err).strip().splitlines()[0] if str(err).strip() else ""
        return None, f"the file is unreadable ({type(err).__name__}: {first_line[:120]})"
    if not isinstance(payload, dict) or payload.get("format") != FORMAT:
        return None, "the file is not a model-cache entry of this format"
    if payload.get("key") != digest:
        return None, "the file was made for another key"
    state = payload.get("state_dict")
    if not isinstance(state, dict) or not all(isinstance(t, torch.Tensor) for t in state.values()):
        return None, "the file holds no state_dict"
    if _weights_digest(state) != payload.get("weights_sha256"):
        return None, "the weights do not match their checksum (the file is corrupt)"
    return payload, ""


def _why_missing(folder: Path, name: str, parts: dict) -> str:
    """Compare with the newest other entry of this name, to say what changed."""
    pattern = re.compile(re.escape(name) + r"-[0-9a-f]{16}\.pt")
    others = [p for p in folder.glob(f"{name}-*.pt") if pattern.fullmatch(p.name)]
    others.sort(key=lambda p: p.stat().st_mtime, reverse=True)
    for other in others[:1]:
        try:
            payload = torch.load(other, map_location="cpu", weights_only=True)
            old_parts = json.loads(payload["key_parts"])
        except Exception:  # noqa: BLE001 - an unreadable neighbour explains nothing
            return "no cached copy for this key"
        changes = _differences(old_parts, parts)
        return "the key changed since the last cached copy: " + (
            "; ".join(changes) or "details unknown"
        )
    return ""


@contextlib.contextmanager
def _exclusive(lock_path: Path, name: str) -> Iterator[None]:
    """One process trains a given entry at a time; the others wait, then load it."""
    try:
        import fcntl
    except ImportError:  # Windows: no lock, at worst two processes train the same model
        yield
        return
    with open(lock_path, "a+b") as fh:
        try:
            fcntl.flock(fh, fcntl.LOCK_EX | fcntl.LOCK_NB)
        except BlockingIOError:
            print(f"Waiting for another process that is training '{name}'...")
            fcntl.flock(fh, fcntl.LOCK_EX)
        try:
            yield
        finally:
            fcntl.flock(fh, fcntl.LOCK_UN)


def _save_atomic(payload: dict, path: Path) -> bool:
    """torch.save through the data layer's atomic writer; False if it could not be written."""
    return store.write_atomic(path, lambda fh: torch.save(payload, fh))


# --------------------------------------------------------------------------- the helper


def trained_model(
    name: str,
    build: Callable[[], nn.Module],
    train: Callable[[nn.Module], dict | None],
    *,
    key: dict,
    cache_dir: Path | None = None,
) -> tuple[nn.Module, dict]:
    """Return ``(model, info)``: ``build()``'s model with trained weights, from the cache if
    an entry for this key exists, else after ``train(model)`` (whose return value, e.g. a
    dict of metrics, is cached with the weights).

    ``info`` holds ``cache_hit``, ``key`` (the hash), ``path``, ``metrics``,
    ``train_seconds``, ``created`` and ``reason`` (why it trained; None on a hit). The model
    is returned in eval mode, on the device ``build`` (hit) or ``train`` (miss) left it:
    call ``.to(device)`` on it. A hit does not consume random numbers: seed after this call.
    """
    if not _NAME.fullmatch(name):
        raise ValueError(f"name must be letters, digits, '_', '.' or '-', not {name!r}")
    parts = _key_parts(name, build, train, key)
    digest = _key_digest(parts)
    folder = Path(cache_dir) if cache_dir is not None else store.cache_dir() / "models"
    folder.mkdir(parents=True, exist_ok=True)
    path = folder / f"{name}-{digest[:16]}.pt"

    with _exclusive(folder / f".{path.stem}.lock", name):
        model = build()
        reason = ""
        if path.exists():
            payload, problem = _read_entry(path, digest)
            if payload is not None:
                try:
                    model.load_state_dict(payload["state_dict"])
                except (RuntimeError, KeyError, ValueError) as err:
                    problem = f"its weights do not fit build()'s model ({str(err)[:120]})"
                else:
                    model.eval()
                    info = {
                        "cache_hit": True,
                        "key": digest,
                        "path": str(path),
                        "metrics": payload.get("metrics"),
                        "train_seconds": payload.get("train_seconds"),
                        "created": payload.get("created"),
                        "reason": None,
                    }
                    print(
                        f"Loaded trained model '{name}' from cache ({path}; trained in "
                        f"{payload.get('train_seconds', 0.0):.1f} s on {payload.get('created')})"
                    )
                    return model, info
            reason = f"the cached file {path} cannot be used: {problem}"
            model = build()  # a failed load_state_dict may have left it half-loaded
        else:
            reason = _why_missing(folder, name, parts)
        if reason:
            print(f"Training '{name}' again: {reason}.")

        start = time.perf_counter()
        metrics = _plain(train(model))
        seconds = time.perf_counter() - start
        state = model.state_dict()
        odd = [k for k, v in state.items() if not isinstance(v, torch.Tensor)]
        if odd:
            raise TypeError(f"the state_dict of '{name}' holds non-tensor entries {odd}")
        state = {k: v.detach().cpu().clone() for k, v in state.items()}
        created = time.strftime("%Y-%m-%d %H:%M:%S")
        payload = {
            "format": FORMAT,
            "name": name,
            "key": digest,
            "key_parts": json.dumps(parts, sort_keys=True),
            "metrics": metrics,
            "train_seconds": seconds,
            "created": created,
            "state_dict": state,
            "weights_sha256": _weights_digest(state),
        }
        saved = _save_atomic(payload, path)
        model.eval()
        if saved:
            print(f"Trained '{name}' in {seconds:.1f} s and cached it at {path}")
        else:
            print(f"Trained '{name}' in {seconds:.1f} s (not cached)")
        info = {
            "cache_hit": False,
            "key": digest,
            "path": str(path),
            "metrics": metrics,
            "train_seconds": seconds,
            "created": created,
            "reason": reason or "no cached copy yet",
        }
        return model, info
