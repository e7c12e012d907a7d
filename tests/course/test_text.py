"""course.text (Day 23's data preparation): tokens, vocabulary, padding, packing, split,
and the two project datasets' loaders feeding them (tiny fixture files, no network)."""

from __future__ import annotations

import hashlib
from pathlib import Path

import numpy as np
import pytest
import torch
from conftest import lesson_copy_difference
from PIL import Image
from torch import nn
from torch.nn.utils.rnn import pack_padded_sequence, pad_packed_sequence
from torch.utils.data import DataLoader
from torchvision.transforms import v2

from course import text
from course.data import sst2 as sst2_module
from course.data import store
from course.data.cats_vs_dogs import load_cats_vs_dogs
from course.data.sst2 import load_sst2
from course.text import (
    PAD,
    UNK,
    Vocabulary,
    collate,
    encode_dataset,
    pad_batch,
    stratified_split,
    tokenize,
)

LESSON = Path(__file__).resolve().parents[2] / "tutorials" / "day23_project_data.py"
SHARED = ["tokenize", "Vocabulary", "encode_dataset", "pad_batch", "collate", "stratified_split"]


@pytest.mark.parametrize("name", SHARED)
def test_lesson_defines_the_same_code_as_course_text(name: str) -> None:
    """Day 23 writes these by hand; course.text keeps the copy Day 24 imports."""
    difference = lesson_copy_difference(LESSON, getattr(text, name))
    assert difference is None, difference


# --------------------------------------------------------------------------- tokenize


@pytest.mark.parametrize(
    ("sentence", "tokens"),
    [
        ("Not bad at all!", ["not", "bad", "at", "all", "!"]),
        ("I didn't like it.", ["i", "did", "n't", "like", "it", "."]),
        ("It's a can't-miss", ["it", "'s", "a", "ca", "n't", "-", "miss"]),
        ("a coming-of-age film ...", ["a", "coming-of-age", "film", "..."]),
        ("clichés (really) -- 1930s", ["clichés", "(", "really", ")", "--", "1930s"]),
    ],
)
def test_tokenize_splits_like_sst2(sentence: str, tokens: list[str]) -> None:
    assert tokenize(sentence) == tokens


def test_tokenize_leaves_sst2_text_as_it_is() -> None:
    """SST-2's files are already tokenised: splitting on spaces and tokenize agree."""
    line = "it 's a charming -lrb- and often affecting -rrb- journey , is n't it ? `` yes ''"
    assert tokenize(line) == line.split()
    assert tokenize("") == []


# --------------------------------------------------------------------------- vocabulary


TRAIN = [["a", "good", "film"], ["a", "bad", "film"], ["a", "film"], ["good", "fun"]]


def test_vocabulary_specials_come_first_then_by_frequency() -> None:
    vocab = Vocabulary.build(TRAIN)
    assert vocab.itos[:2] == [PAD, UNK] == ["<pad>", "<unk>"]
    assert (vocab.pad_id, vocab.unk_id) == (0, 1)
    # a: 3, film: 3, good: 2, bad: 1, fun: 1 -- ties alphabetical
    assert vocab.itos[2:] == ["a", "film", "good", "bad", "fun"]
    assert len(vocab) == 7
    assert vocab.stoi["good"] == 4


def test_vocabulary_min_freq_drops_rare_tokens() -> None:
    vocab = Vocabulary.build(TRAIN, min_freq=2)
    assert vocab.itos == [PAD, UNK, "a", "film", "good"]
    assert len(Vocabulary.build(TRAIN, min_freq=4)) == 2  # only the specials
    with pytest.raises(ValueError, match="min_freq"):
        Vocabulary.build(TRAIN, min_freq=0)


def test_unknown_tokens_encode_to_unk_and_decode_back() -> None:
    vocab = Vocabulary.build(TRAIN, min_freq=2)
    ids = vocab.encode(["a", "terrible", "film"])
    assert ids == [2, 1, 3]
    assert vocab.decode(ids) == ["a", UNK, "film"]
    assert vocab.decode(torch.tensor([0, 4])) == [PAD, "good"]
    assert vocab.encode([]) == []


def test_vocabulary_is_built_from_the_training_split_only() -> None:
    """Tokens that appear only in validation stay unknown: no peeking at held-out data."""
    val = [["a", "superb", "film"], ["dull", "film"]]
    vocab = Vocabulary.build(TRAIN)
    assert "superb" not in vocab.stoi and "dull" not in vocab.stoi
    assert vocab.coverage(val) == pytest.approx(3 / 5)
    assert vocab.coverage(TRAIN) == 1.0
    assert vocab.coverage([]) == 0.0


def test_vocabulary_ids_are_deterministic_and_specials_not_duplicated() -> None:
    shuffled = [TRAIN[i] for i in (3, 1, 0, 2)]
    assert Vocabulary.build(shuffled).itos == Vocabulary.build(TRAIN).itos
    assert Vocabulary.build([["<pad>", "<unk>", "x"]]).itos == [PAD, UNK, "x"]
    with pytest.raises(ValueError, match="once"):
        Vocabulary(["x", "x"])


# --------------------------------------------------------------------------- collate


def batch_of(*lengths: int) -> list[tuple[torch.Tensor, int]]:
    return [(torch.arange(2, 2 + n), i % 2) for i, n in enumerate(lengths)]


def test_pad_batch_pads_to_the_longest_with_zeros() -> None:
    padded, lengths = pad_batch([torch.tensor([5, 6]), torch.tensor([7, 8, 9]), torch.tensor([4])])
    assert padded.tolist() == [[5, 6, 0], [7, 8, 9], [4, 0, 0]]
    assert lengths.tolist() == [2, 3, 1]
    assert lengths.dtype == torch.int64 and lengths.device.type == "cpu"
    padded, _ = pad_batch([torch.tensor([5]), torch.tensor([7, 8])], pad_id=-1)
    assert padded.tolist() == [[5, -1], [7, 8]]


def test_pad_batch_refuses_empty_sequences() -> None:
    with pytest.raises(ValueError, match="at least one token"):
        pad_batch([torch.tensor([3]), torch.tensor([], dtype=torch.long)])
    with pytest.raises(ValueError, match="at least one token"):
        pad_batch([])


def test_collate_keeps_order_and_returns_lengths_and_labels() -> None:
    ids, lengths, labels = collate(batch_of(3, 5, 1))
    assert ids.shape == (3, 5) and ids.dtype == torch.int64
    assert lengths.tolist() == [3, 5, 1]
    assert labels.tolist() == [0, 1, 0] and labels.dtype == torch.int64
    assert ids[0].tolist() == [2, 3, 4, 0, 0]
    assert ids[2].tolist() == [2, 0, 0, 0, 0]
    assert ((ids != 0).sum(1) == lengths).all()


def test_collate_in_a_dataloader_pads_each_batch_to_its_own_longest() -> None:
    data = batch_of(2, 2, 6, 1)
    shapes = [ids.shape for ids, _, _ in DataLoader(data, batch_size=2, collate_fn=collate)]
    assert shapes == [(2, 2), (2, 6)]


def test_packing_round_trip_restores_the_batch() -> None:
    """Padded -> packed (unsorted lengths) -> padded gives back the same tensor and lengths."""
    ids, lengths, _ = collate(batch_of(3, 5, 1, 4))
    x = ids.unsqueeze(-1).float()
    packed = pack_padded_sequence(x, lengths, batch_first=True, enforce_sorted=False)
    assert packed.data.shape[0] == int(lengths.sum())  # no padding inside
    back, back_lengths = pad_packed_sequence(packed, batch_first=True)
    assert torch.equal(back, x)
    assert torch.equal(back_lengths, lengths)


def test_a_packed_lstm_ignores_the_padding() -> None:
    """The final state of a sentence does not depend on how much padding its batch has."""
    torch.manual_seed(0)
    embed, lstm = nn.Embedding(10, 4, padding_idx=0), nn.LSTM(4, 3, batch_first=True)
    alone, _, _ = collate(batch_of(2))
    padded, lengths, _ = collate(batch_of(2, 6))
    finals = []
    for ids, lens in ((alone, torch.tensor([2])), (padded, lengths)):
        packed = pack_padded_sequence(embed(ids), lens, batch_first=True, enforce_sorted=False)
        _, (h, _) = lstm(packed)
        finals.append(h[-1, 0])
    torch.testing.assert_close(finals[0], finals[1])


# --------------------------------------------------------------------------- split


def test_stratified_split_keeps_class_shares_and_is_seeded() -> None:
    labels = [0] * 60 + [1] * 40
    train, val = stratified_split(labels, 0.25, seed=3)
    assert len(train) + len(val) == 100
    assert set(train.tolist()).isdisjoint(val.tolist())
    assert torch.bincount(torch.tensor(labels)[val]).tolist() == [15, 10]
    assert train.tolist() == sorted(train.tolist())
    again = stratified_split(labels, 0.25, seed=3)
    assert torch.equal(again[1], val)
    assert not torch.equal(stratified_split(labels, 0.25, seed=4)[1], val)
    with pytest.raises(ValueError, match="val_fraction"):
        stratified_split(labels, 1.0)


# --------------------------------------------------------------------------- the loaders


@pytest.fixture
def data_dir(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A fresh data folder and cache, no network (as in test_data.py)."""
    data = tmp_path / "data"
    data.mkdir()
    monkeypatch.setenv("COURSE_DATA_DIR", str(data))
    monkeypatch.setenv("COURSE_CACHE_DIR", str(tmp_path / "cache"))
    monkeypatch.setenv("COURSE_PROFILE", "full")
    monkeypatch.setattr(store, "network_ok", lambda *a, **k: False)
    return data


def test_sst2_loader_feeds_vocabulary_and_collate(
    data_dir: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    folder = data_dir / "sst2"
    folder.mkdir()
    splits = {
        "train": [(1, "a good film"), (0, "a bad film ."), (1, "good fun"), (0, "bad")],
        "dev": [(1, "a superb film"), (0, "is n't good")],
    }
    for split, rows in splits.items():
        (folder / f"{split}.tsv").write_text("".join(f"{y}\t{s}\n" for y, s in rows))
    monkeypatch.setattr(
        sst2_module,
        "SST2_SHA256",
        {s: hashlib.sha256((folder / f"{s}.tsv").read_bytes()).hexdigest() for s in splits},
    )
    train, dev = load_sst2("train"), load_sst2("dev")
    vocab = Vocabulary.build((tokenize(s) for s in train.sentences), min_freq=1)
    assert vocab.itos[2:4] == ["a", "bad"]  # 2 each, alphabetical
    assert vocab.coverage(tokenize(s) for s in dev.sentences) == pytest.approx(3 / 6)
    encoded = encode_dataset(dev, vocab)
    assert [label for _, label in encoded] == [1, 0]
    assert vocab.decode(encoded[1][0]) == [UNK, UNK, "good"]
    ids, lengths, labels = next(iter(DataLoader(encoded, batch_size=2, collate_fn=collate)))
    assert ids.shape == (2, 3) and lengths.tolist() == [3, 3] and labels.tolist() == [1, 0]


def test_cats_vs_dogs_loader_with_split_and_transforms(data_dir: Path) -> None:
    rng = np.random.default_rng(0)
    for name, n in (("cat", 6), ("dog", 4)):
        folder = data_dir / "cats_vs_dogs" / "train" / name
        folder.mkdir(parents=True)
        for i in range(n):
            pixels = rng.integers(0, 256, (int(rng.integers(30, 60)), 50, 3), dtype=np.uint8)
            Image.fromarray(pixels).save(folder / f"{name}.{i}.jpg")
    size = 24
    evaluation = v2.Compose(
        [v2.Resize(size), v2.CenterCrop(size), v2.ToImage(), v2.ToDtype(torch.float32, True)]
    )
    photos = load_cats_vs_dogs("train", transform=evaluation)
    fit, val = stratified_split(photos.targets, 0.5, seed=0)
    assert torch.bincount(torch.tensor(photos.targets)[val]).tolist() == [3, 2]
    loader = DataLoader(torch.utils.data.Subset(photos, val.tolist()), batch_size=5)
    images, labels = next(iter(loader))
    assert images.shape == (5, 3, size, size) and images.dtype == torch.float32
    assert 0.0 <= images.min() and images.max() <= 1.0
    assert sorted(labels.tolist()) == [0, 0, 0, 1, 1]
