"""What a dataset *is*, independent of where it lies: a digest of its files' content.

The site builder keys each lesson on the datasets it reads, and the trained-model cache
keys each model on the data it was trained on, both through :func:`folder_identity`:
moving or re-linking the data directory changes nothing, while changing, adding or
removing one file of a dataset changes its identity.

Hashing a dataset's content (MNIST 55 MB, CIFAR-10 60,000 small files) takes a few
seconds, so the digest is remembered in ``<memo_dir>`` under the folder's location and a
signature of its listing (names, sizes, modification times): an untouched folder costs
one directory walk; a moved or touched one is hashed again (and keeps its identity when
the content is the same).
"""

from __future__ import annotations

import contextlib
import hashlib
import json
import os
from pathlib import Path


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
