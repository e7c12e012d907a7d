"""SST-2 sentence-level sentiment (Days 23-24): ``label<TAB>sentence`` files.

Read from ``<data_dir>/sst2/{train,dev,test}.tsv``; each file is checked once against its
known sha256 (then remembered). Missing files are downloaded, when there is a network,
from a pinned commit of ``YJiangcm/SST-2-sentiment-analysis`` on GitHub (the same bytes as
the shared copy) and verified before they are renamed into place. See
:mod:`course.data.store` for where data is looked for.
"""

from __future__ import annotations

import contextlib
import hashlib
from pathlib import Path

from torch.utils.data import Dataset

from course.data import store
from course.data.store import DATA_ENV, DataError

# The data-directory folder this module reads: the build keys its lessons on its content.
DATA_FOLDERS = ("sst2",)
SST2_CLASSES = ["negative", "positive"]
SPLITS = ("train", "dev", "test")
# The files, pinned to one commit (raw.githubusercontent.com serves them byte for byte).
SST2_URL = (
    "https://raw.githubusercontent.com/YJiangcm/SST-2-sentiment-analysis/"
    "e22153cadcaf08fd6f60410453990ff073adf4ef/data/{split}.tsv"
)
SST2_SHA256 = {
    "train": "5b56af66a194e685c0fbde5f58c4355ab00f5485a29bfcae1085b4b9f8b1a6c3",
    "dev": "c9ddb67ce3068540c5bb6562e1f34788302dd06d570e6ca0d5e61f7d5ef2bfad",
    "test": "5e133ae65857bb44629508a8924531a1e4dd2d64f2a831507803512b4bb49043",
}
SST2_MAX_BYTES = 10_000_000  # the largest file (train) has 739,272 bytes


class SST2Dataset(Dataset):
    """SST-2 sentences: ``ds[i]`` is ``(sentence: str, label: int)``, 1 = positive."""

    classes = SST2_CLASSES

    def __init__(
        self, sentences: list[str], labels: list[int], *, split: str, source: str, identity: dict
    ) -> None:
        self.sentences = sentences
        self.labels = labels
        self.split = split
        self.source = source
        self.identity = identity

    @property
    def targets(self) -> list[int]:
        return self.labels

    def __len__(self) -> int:
        return len(self.sentences)

    def __getitem__(self, index: int) -> tuple[str, int]:
        return self.sentences[index], self.labels[index]

    def __repr__(self) -> str:
        return f"SST2Dataset(split={self.split!r}, sentences={len(self)}, source={self.source!r})"


# --------------------------------------------------------------------------- download


def _download_sst2(folder: Path) -> None:
    """Every missing ``<split>.tsv`` of ``folder``, each verified, then renamed into place.

    A failure keeps nothing of the failed file (nor ``folder``, when it made it and it is
    still empty); files already completed stay, they are whole and verified.
    """
    made = not folder.exists()
    hint = (
        f"Try again later, or set {DATA_ENV} to a folder that holds sst2/{{train,dev,test}}.tsv "
        "(for example ../shared/data)."
    )
    try:
        for split in SPLITS:
            path = folder / f"{split}.tsv"
            if path.is_file():
                continue
            expected = SST2_SHA256.get(split)
            store.download(
                SST2_URL.format(split=split),
                path,
                sha256=expected,
                min_bytes=1,
                max_bytes=SST2_MAX_BYTES,
                hint=hint,
            )
            print(f"SST-2: downloaded {store.shown(path)}" + (" (sha256 ok)" if expected else ""))
    finally:
        if made:
            with contextlib.suppress(OSError):
                folder.rmdir()  # only when nothing was downloaded into it


def load_sst2(split: str = "train", *, limit: int | None = None) -> SST2Dataset:
    """SST-2 sentences from ``<data_dir>/sst2/<split>.tsv`` (``label<TAB>sentence``).

    The file is checked against its known sha256 once (then remembered). When it is missing
    and there is a network, the missing SST-2 files are downloaded first; otherwise
    :class:`DataError` says what to do.
    """
    if split not in SPLITS:
        raise ValueError(f"split must be 'train', 'dev' or 'test', not {split!r}")
    store.check_limit(limit)
    root = store.data_dir()
    folder = root / "sst2"
    path = folder / f"{split}.tsv"
    downloaded = False
    if not path.is_file():
        url = SST2_URL.format(split=split)
        if not store.network_ok(url):
            raise DataError(
                f"SST-2 {split} not found: {path} does not exist, and it could not be "
                f"downloaded because {store.no_network_reason(url)}. Set {DATA_ENV} to a "
                "folder that holds sst2/{train,dev,test}.tsv (for example ../shared/data), put "
                f"the SST-2 sentence files (one 'label<TAB>sentence' a line, 1 = positive, "
                f"0 = negative) at {folder}/{{train,dev,test}}.tsv, or run once on a machine "
                f"with internet and they will be downloaded to {folder}."
            )
        _download_sst2(folder)
        downloaded = True
    known = store.verify_sha256(path, SST2_SHA256.get(split))
    content = path.read_bytes()
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError as err:
        raise DataError(
            f"{store.shown(path)} is not UTF-8 text ({err}); replace it with a good copy."
        ) from err
    sentences: list[str] = []
    labels: list[int] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        label, tab, sentence = line.partition("\t")
        if not tab or label.strip() not in ("0", "1") or not sentence.strip():
            raise DataError(
                f"{store.shown(path)}, line {number}: expected 'label<TAB>sentence' with "
                f"label 0 or 1, got {line[:60]!r}. The file is damaged or in another format."
            )
        sentences.append(sentence.strip())
        labels.append(int(label))
    total = len(labels)
    chosen = store.subset_indices(labels, limit)
    if chosen is not None:
        sentences = [sentences[i] for i in chosen]
        labels = [labels[i] for i in chosen]
    identity = {
        "dataset": "SST-2",
        "split": split,
        "samples": len(labels),
        "of": total,
        "sha256": SST2_SHA256[split] if known else hashlib.sha256(content).hexdigest(),
    }
    positive = sum(labels)
    how = f"label<TAB>sentence, {positive:,} positive, {len(labels) - positive:,} negative"
    how += ", downloaded, checksum ok" if downloaded else ", checksum ok" if known else ""
    store.announce(f"SST-2 {split}", len(labels), total, path, how)
    return SST2Dataset(
        sentences, labels, split=split, source=f"{store.shown(path)} ({how})", identity=identity
    )
