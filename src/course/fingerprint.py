"""Fingerprints for cache keys: what code *means* and what a dataset *is*.

Standard library only. The site builder keys each lesson on the helper code it imports
and the datasets it reads; the trained-model cache keys each model on the code that
trains it and the data it was trained on; both through these two functions.

:func:`meaning_digest` hashes Python source by its syntax tree without docstrings, so a
comment, a docstring or a re-formatting changes nothing. :func:`folder_identity` hashes
a dataset folder's content:
moving or re-linking the data directory changes nothing, while changing, adding or
removing one file of a dataset changes its identity.

Hashing a dataset's content (MNIST 55 MB, CIFAR-10 60,000 small files) takes a few
seconds, so the digest is remembered in ``<memo_dir>`` under the folder's location and a
signature of its listing (names, sizes, modification times): an untouched folder costs
one directory walk; a moved or touched one is hashed again (and keeps its identity when
the content is the same).
"""

from __future__ import annotations

import ast
import contextlib
import hashlib
import json
import os
from pathlib import Path


def meaning_digest(source: str, filename: str = "<source>") -> str:
    """sha256 of the syntax tree without docstrings: comments and layout do not count.

    (A docstring that code prints through ``help()`` is the one thing this misses.)
    """
    tree = ast.parse(source, filename=filename)
    for node in ast.walk(tree):
        if isinstance(node, ast.Module | ast.ClassDef | ast.FunctionDef | ast.AsyncFunctionDef):
            body = node.body
            if body and isinstance(body[0], ast.Expr) and isinstance(body[0].value, ast.Constant):
                if isinstance(body[0].value.value, str):
                    node.body = body[1:] or [ast.Pass()]
    return hashlib.sha256(ast.dump(tree, include_attributes=False).encode()).hexdigest()


def _listing(folder: Path) -> list[tuple[str, os.stat_result]]:
    files = []
    for dirpath, dirnames, filenames in os.walk(folder):
        dirnames.sort()
        for name in sorted(filenames):
            if name.startswith("."):
                continue
            path = Path(dirpath, name)
            files.append((path.relative_to(folder).as_posix(), path.stat()))
    return files


def folder_identity(folder: Path, memo_dir: Path) -> str | None:
    """sha256 over every file's relative path and content; None if ``folder`` is absent."""
    folder = Path(folder)
    if not folder.is_dir():
        return None
    listing = _listing(folder)
    signature = hashlib.sha256()
    for rel, stat in listing:
        signature.update(f"{rel}\t{stat.st_size}\t{stat.st_mtime_ns}\n".encode())
    where = hashlib.sha256(str(folder.resolve()).encode()).hexdigest()[:16]
    memo = Path(memo_dir) / f"{folder.name}-{where}.json"
    with contextlib.suppress(OSError, ValueError, KeyError, TypeError):
        saved = json.loads(memo.read_text(encoding="utf-8"))
        if saved["signature"] == signature.hexdigest():
            return str(saved["identity"])
    content = hashlib.sha256()
    for rel, _ in listing:
        content.update(rel.encode() + b"\0")
        content.update(hashlib.sha256((folder / rel).read_bytes()).digest())
    identity = content.hexdigest()
    with contextlib.suppress(OSError):  # a read-only cache only costs the next hash
        memo.parent.mkdir(parents=True, exist_ok=True)
        tmp = memo.with_suffix(f".tmp-{os.getpid()}")
        tmp.write_text(json.dumps({"signature": signature.hexdigest(), "identity": identity}))
        os.replace(tmp, memo)
    return identity
