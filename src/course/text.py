"""Preparing the project's data (Days 23-24): tokens, a vocabulary, padded batches, a split.

Defined in Day 23, which writes each of these by hand in the cell that explains it; the
lesson's copies are checked against these by ``tests/course/test_text.py`` (same syntax
tree, docstrings and type annotations aside). Day 24 imports them from here.

* :func:`tokenize`: lower-case, then one documented regular expression that splits text the
  way SST-2's own files are split (``"doesn't"`` -> ``does``, ``n't``);
* :class:`Vocabulary`: token <-> id, built from the **training** sentences only, with
  ``<pad>`` = 0, ``<unk>`` = 1 and a minimum frequency; ``encode``, ``decode``, ``coverage``;
* :func:`encode_dataset`: ``(sentence, label)`` pairs -> ``(ids tensor, label)`` pairs;
* :func:`pad_batch` and :func:`collate`: a ``DataLoader``'s ``collate_fn`` that pads each
  batch to its longest sentence and returns the lengths that
  ``pack_padded_sequence(..., enforce_sorted=False)`` needs;
* :func:`stratified_split`: seeded train/validation indices with each class in the same
  proportion (used for the cats-vs-dogs photos, which have no validation split).

Why plain Python rather than torchtext: torchtext's development stopped with release 0.18
(April 2024), which was built for torch 2.3; its compiled parts do not follow newer torch
releases. What it offered for this job (a basic English tokenizer, ``build_vocab_from_iterator``
and padding) is a few lines of Python and ``torch.nn.utils.rnn.pad_sequence``.
"""

from __future__ import annotations

import re
from collections import Counter
from collections.abc import Iterable, Sequence

import torch
from torch.nn.utils.rnn import pad_sequence

__all__ = [
    "PAD",
    "UNK",
    "Vocabulary",
    "collate",
    "encode_dataset",
    "pad_batch",
    "stratified_split",
    "tokenize",
]

PAD, UNK = "<pad>", "<unk>"  # ids 0 and 1 in every Vocabulary


def tokenize(text: str) -> list[str]:
    """Lower-cased tokens of ``text``, split as SST-2's files are (Penn Treebank style).

    Defined in Day 23.
    """
    return re.findall(
        r"""
          \w+(?=n't)        # "does" of "doesn't": SST-2 writes "does n't"
        | n't               # the negation, a token of its own
        | '\w+              # clitics: 's 're 've 'll 'd 'm
        | \w+(?:-\w+)*      # words and numbers; hyphenated words stay whole
        | -lrb- | -rrb-     # brackets, as SST-2 writes them
        | \.\.\. | -- | `` | ''
        | [^\w\s]           # any other symbol on its own: . , ! ? ( ) "
        """,
        text.lower(),
        flags=re.VERBOSE,
    )


class Vocabulary:
    """Token <-> id. Ids 0 and 1 are ``<pad>`` and ``<unk>``; the other tokens follow by
    falling frequency (ties alphabetically), so the same sentences give the same ids.

    Build it with :meth:`build` from the training sentences only. Defined in Day 23.
    """

    pad_id, unk_id = 0, 1

    def __init__(self, tokens: Sequence[str]) -> None:
        self.itos = [PAD, UNK, *tokens]
        self.stoi = {token: i for i, token in enumerate(self.itos)}
        if len(self.stoi) != len(self.itos):
            raise ValueError("a vocabulary lists each token once, <pad> and <unk> included")

    @classmethod
    def build(cls, sentences: Iterable[Sequence[str]], min_freq: int = 1) -> Vocabulary:
        """The tokens seen at least ``min_freq`` times in ``sentences`` (lists of tokens)."""
        if min_freq < 1:
            raise ValueError(f"min_freq must be at least 1, not {min_freq}")
        counts = Counter(token for sentence in sentences for token in sentence)
        counts.pop(PAD, None)
        counts.pop(UNK, None)
        kept = [token for token, n in counts.items() if n >= min_freq]
        return cls(sorted(kept, key=lambda token: (-counts[token], token)))

    def __len__(self) -> int:
        return len(self.itos)

    def encode(self, tokens: Sequence[str]) -> list[int]:
        """Ids of ``tokens``; a token not in the vocabulary becomes ``<unk>`` (1)."""
        return [self.stoi.get(token, self.unk_id) for token in tokens]

    def decode(self, ids: Iterable[int]) -> list[str]:
        """Tokens of ``ids`` (a list or a 1-D tensor), ``<pad>`` included."""
        return [self.itos[int(i)] for i in ids]

    def coverage(self, sentences: Iterable[Sequence[str]]) -> float:
        """The share of the tokens of ``sentences`` that the vocabulary knows (not ``<unk>``)."""
        total = known = 0
        for sentence in sentences:
            total += len(sentence)
            known += sum(token in self.stoi for token in sentence)
        return known / total if total else 0.0


def encode_dataset(
    pairs: Iterable[tuple[str, int]], vocab: Vocabulary
) -> list[tuple[torch.Tensor, int]]:
    """``(sentence, label)`` pairs -> ``(int64 ids, label)`` pairs: a map-style dataset.

    Defined in Day 23.
    """
    return [
        (torch.tensor(vocab.encode(tokenize(sentence)), dtype=torch.long), label)
        for sentence, label in pairs
    ]


def pad_batch(
    sequences: Sequence[torch.Tensor], pad_id: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    """``(padded, lengths)``: a batch × longest tensor filled with ``pad_id`` after each
    sequence, and each sequence's length (int64, on the CPU, as packing wants them).

    Defined in Day 23.
    """
    lengths = torch.tensor([len(s) for s in sequences], dtype=torch.long)
    if len(sequences) == 0 or lengths.min() == 0:
        raise ValueError(
            "every sequence needs at least one token: an empty one cannot be packed "
            "(encode an empty sentence as [<unk>] or drop it)"
        )
    return pad_sequence(list(sequences), batch_first=True, padding_value=pad_id), lengths


def collate(
    batch: Sequence[tuple[torch.Tensor, int]],
) -> tuple[torch.Tensor, torch.Tensor, torch.Tensor]:
    """A ``collate_fn``: ``(ids, label)`` pairs -> ``(padded ids, lengths, labels)``, the
    batch padded to its own longest sentence, in the order it came.

    Defined in Day 23.
    """
    sequences, labels = zip(*batch, strict=True)
    padded, lengths = pad_batch(sequences)
    return padded, lengths, torch.tensor(labels, dtype=torch.long)


def stratified_split(
    labels: Sequence[int], val_fraction: float, seed: int = 0
) -> tuple[torch.Tensor, torch.Tensor]:
    """Indices ``(train, validation)``, sorted: ``val_fraction`` of each class, chosen at
    random with ``seed``, goes to validation, so both parts keep the class proportions.

    Defined in Day 23.
    """
    if not 0 < val_fraction < 1:
        raise ValueError(f"val_fraction must be between 0 and 1, not {val_fraction}")
    labels = torch.as_tensor(labels)
    generator = torch.Generator().manual_seed(seed)
    train, val = [], []
    for c in labels.unique().tolist():
        members = (labels == c).nonzero().flatten()
        members = members[torch.randperm(len(members), generator=generator)]
        n_val = round(len(members) * val_fraction)
        val.append(members[:n_val])
        train.append(members[n_val:])
    return torch.cat(train).sort().values, torch.cat(val).sort().values
