"""SST-2 sentence-level sentiment (Days 23-24): ``label<TAB>sentence`` files.

See :mod:`course.data.store` for where data is looked for.
"""

from __future__ import annotations

import hashlib

from torch.utils.data import Dataset

from course.data import store
from course.data.store import DATA_ENV, DataError

# The data-directory folder this module reads: the build keys its lessons on its content.
DATA_FOLDERS = ("sst2",)
SST2_CLASSES = ["negative", "positive"]


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


# --------------------------------------------------------------------------- stand-ins


def load_sst2(split: str = "train", *, limit: int | None = None) -> SST2Dataset:
    """SST-2 sentences from ``<data_dir>/sst2/<split>.tsv`` (``label<TAB>sentence``)."""
    if split not in ("train", "dev", "test"):
        raise ValueError(f"split must be 'train', 'dev' or 'test', not {split!r}")
    store.check_limit(limit)
    root = store.data_dir()
    path = root / "sst2" / f"{split}.tsv"
    if not path.is_file():
        raise DataError(
            f"SST-2 {split} not found: {path} does not exist. Put the SST-2 sentence files "
            f"(one 'label<TAB>sentence' a line, 1 = positive, 0 = negative) at "
            f"{root / 'sst2'}/{{train,dev,test}}.tsv, or set {DATA_ENV} to a folder that holds "
            "sst2/ (for example ../shared/data). There is no automatic download for this layout."
        )
    content = path.read_bytes()
    try:
        text = content.decode("utf-8")
    except UnicodeDecodeError as err:
        raise DataError(f"{path} is not UTF-8 text ({err}); replace it with a good copy.") from err
    sentences: list[str] = []
    labels: list[int] = []
    for number, line in enumerate(text.splitlines(), start=1):
        if not line.strip():
            continue
        label, tab, sentence = line.partition("\t")
        if not tab or label.strip() not in ("0", "1") or not sentence.strip():
            raise DataError(
                f"{path}, line {number}: expected 'label<TAB>sentence' with label 0 or 1, got "
                f"{line[:60]!r}. The file is damaged or in another format."
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
        "sha256": hashlib.sha256(content).hexdigest(),
    }
    positive = sum(labels)
    how = f"label<TAB>sentence, {positive:,} positive, {len(labels) - positive:,} negative"
    store.announce(f"SST-2 {split}", len(labels), total, path, how)
    return SST2Dataset(sentences, labels, split=split, source=str(path), identity=identity)
