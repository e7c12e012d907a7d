"""Tests for course.experiments: fair comparisons, their table and their curves."""

from __future__ import annotations

import matplotlib

matplotlib.use("Agg")

import matplotlib.pyplot as plt  # noqa: E402
import numpy as np  # noqa: E402
import pytest  # noqa: E402
import torch  # noqa: E402
from torch import nn  # noqa: E402
from torch.utils.data import DataLoader, TensorDataset  # noqa: E402

from course.experiments import compare, format_table, plot_runs  # noqa: E402
from course.fit import fit  # noqa: E402


@pytest.fixture(autouse=True)
def _close_figures():
    yield
    plt.close("all")


def _train(dropout: float = 0.0, epochs: int = 3) -> dict:
    """A tiny model on random data: its result depends on every random number drawn."""
    X = torch.randn(64, 4)
    y = (X.sum(dim=1) > 0).long()
    loader = DataLoader(TensorDataset(X, y), batch_size=16, shuffle=True)
    model = nn.Sequential(nn.Linear(4, 8), nn.ReLU(), nn.Dropout(dropout), nn.Linear(8, 2))
    optimizer = torch.optim.SGD(model.parameters(), lr=0.1)
    history = fit(model, loader, loader, nn.CrossEntropyLoss(), optimizer, epochs=epochs)
    return {"history": history, "weight": model[0].weight.detach().clone()}


def test_same_seed_gives_identical_runs_for_identical_variants() -> None:
    rows = compare({"a": _train, "b": _train}, seeds=(0,))
    assert [row["variant"] for row in rows] == ["a", "b"]
    assert torch.equal(rows[0]["weight"], rows[1]["weight"])
    assert rows[0]["history"]["train_loss"] == rows[1]["history"]["train_loss"]


def test_reseeding_undoes_random_numbers_drawn_between_runs() -> None:
    def noisy() -> dict:
        torch.rand(1000)  # draws that would shift every later run without re-seeding
        return _train()

    rows = compare({"plain": _train, "after draws": noisy, "plain again": _train})
    assert torch.equal(rows[0]["weight"], rows[2]["weight"])
    assert not torch.equal(rows[0]["weight"], rows[1]["weight"])


def test_different_seeds_give_different_runs_in_order() -> None:
    rows = compare({"a": _train, "b": _train}, seeds=(0, 1))
    assert [(row["variant"], row["seed"]) for row in rows] == [
        ("a", 0),
        ("a", 1),
        ("b", 0),
        ("b", 1),
    ]
    assert not torch.equal(rows[0]["weight"], rows[1]["weight"])
    assert torch.equal(rows[1]["weight"], rows[3]["weight"])


def test_rows_have_time_and_log_and_quiet_keeps_the_output(capsys) -> None:
    rows = compare({"loud": lambda: _train(epochs=2)}, quiet=True)
    shown = capsys.readouterr().out
    assert "epoch 1/2" in rows[0]["log"] and "epoch 2/2" in rows[0]["log"]
    assert "epoch 1/2" not in shown
    assert shown.startswith("loud (seed 0):")
    assert rows[0]["time_s"] > 0

    compare({"loud": lambda: _train(epochs=2)}, quiet=False)
    assert "epoch 2/2" in capsys.readouterr().out


def test_summary_line_lists_scalar_results(capsys) -> None:
    compare({"v": lambda: {"acc": 0.5, "flag": True, "name": "x"}})
    line = capsys.readouterr().out.strip()
    assert line.startswith("v (seed 0): ")
    assert "acc 0.5" in line
    assert "flag" not in line and "name" not in line


def test_compare_refuses_reserved_keys_and_empty_input() -> None:
    with pytest.raises(ValueError, match="seed"):
        compare({"bad": lambda: {"seed": 3}})
    with pytest.raises(ValueError):
        compare({})
    with pytest.raises(ValueError):
        compare({"a": _train}, seeds=())


ROWS = [
    {"variant": "baseline", "test_acc": 0.5612, "best_epoch": 23, "time_s": 21.04},
    {"variant": "+ augmentation", "test_acc": 0.6004, "best_epoch": 7, "time_s": 25.4},
    {"variant": "no time", "test_acc": 0.048, "best_epoch": 3},
]
COLUMNS = [
    ("variant", "variant"),
    ("test_acc", "test acc", ".1%"),
    ("best_epoch", "best epoch", "d"),
    ("time_s", "time (s)", ".0f"),
]


def test_table_has_every_row_and_column_aligned() -> None:
    table = format_table(ROWS, COLUMNS)
    lines = table.splitlines()
    assert len(lines) == 2 + len(ROWS)  # header, rule, one line per row
    assert lines[0].split() == ["variant", "test", "acc", "best", "epoch", "time", "(s)"]
    assert set(lines[1]) == {"-", " "}
    assert lines[2].split() == ["baseline", "56.1%", "23", "21"]
    assert lines[3].split() == ["+", "augmentation", "60.0%", "7", "25"]
    assert lines[4].split() == ["no", "time", "4.8%", "3", "-"]
    # numbers are right-aligned: every "acc" cell ends in the same column
    ends = {line.index("%") for line in lines[2:]}
    assert len(ends) == 1
    # text is left-aligned: every name starts in the first column
    assert all(not line.startswith(" ") for line in lines)


def test_table_refuses_unknown_columns() -> None:
    with pytest.raises(KeyError, match="test_accuracy"):
        format_table(ROWS, [("test_accuracy", "test acc", ".1%")])
    with pytest.raises(ValueError):
        format_table(ROWS, [])


def _history_rows(seeds_per_variant: int = 1) -> list[dict]:
    rows = []
    for k, name in enumerate(["baseline", "+ dropout", "+ augmentation"]):
        for seed in range(seeds_per_variant):
            values = [0.1 * (k + 1) + 0.01 * seed + 0.02 * e for e in range(5)]
            rows.append({"variant": name, "seed": seed, "history": {"val_acc": values}})
    return rows


def test_plot_runs_draws_one_labelled_line_per_run_with_a_legend() -> None:
    rows = _history_rows()
    ax = plot_runs(rows, "val_acc", title="Validation", ylabel="accuracy (%)", scale=100)
    lines = ax.get_lines()
    assert [line.get_label() for line in lines] == ["baseline", "+ dropout", "+ augmentation"]
    np.testing.assert_array_equal(lines[0].get_xdata(), [1, 2, 3, 4, 5])
    np.testing.assert_allclose(lines[1].get_ydata(), [20, 22, 24, 26, 28])
    legend = ax.get_legend()
    assert legend is not None
    assert [t.get_text() for t in legend.get_texts()] == [line.get_label() for line in lines]
    assert ax.get_title() == "Validation"
    assert ax.get_xlabel() == "epoch" and ax.get_ylabel() == "accuracy (%)"


def test_plot_runs_names_seeds_when_a_variant_repeats_and_uses_given_axes() -> None:
    _, axes = plt.subplots(1, 2)
    ax = plot_runs(_history_rows(2), "val_acc", title="t", ylabel="y", ax=axes[1])
    assert ax is axes[1]
    assert len(axes[0].get_lines()) == 0
    labels = [line.get_label() for line in ax.get_lines()]
    assert labels[:2] == ["baseline (seed 0)", "baseline (seed 1)"]
    assert len(labels) == 6


def test_plot_runs_single_line_has_no_legend_and_refuses_no_rows() -> None:
    ax = plot_runs(_history_rows()[:1], "val_acc", title="t", ylabel="y")
    assert ax.get_legend() is None
    with pytest.raises(ValueError):
        plot_runs([], "val_acc", title="t", ylabel="y")
