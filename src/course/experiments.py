"""Fair comparisons of training runs: re-seed, time, tabulate, plot (taught in Day 12).

A *variant* is a function without arguments that trains one model and returns a dict of
what it measured: scalars such as ``"test_acc"``, and optionally ``"history"``, the
per-epoch lists that :func:`course.fit.fit` returns. :func:`compare` runs every variant
under the same seed(s), so that the variants differ only in what their functions change,
and returns one row (a plain dict) per run. :func:`format_table` renders rows as an
aligned text table and :func:`plot_runs` draws one curve per run.
"""

from __future__ import annotations

import contextlib
import io
import numbers
import time
from collections.abc import Callable, Mapping, Sequence
from typing import Any

import matplotlib.pyplot as plt
import numpy as np
from matplotlib.axes import Axes

from course.seed import seed_everything

Variant = Callable[[], Mapping[str, Any]]
Row = dict[str, Any]
Column = tuple[str, str] | tuple[str, str, str]

RESERVED = ("variant", "seed", "time_s", "log")


def _summary(name: str, seed: int, seconds: float, result: Mapping[str, Any]) -> str:
    """One line: the run's name, seed, time and its scalar results."""
    scalars = [
        f"{key} {value:.4g}"
        for key, value in result.items()
        if isinstance(value, numbers.Real) and not isinstance(value, bool)
    ]
    return f"{name} (seed {seed}): {seconds:.1f} s" + (f", {', '.join(scalars)}" if scalars else "")


def compare(
    variants: Mapping[str, Variant], *, seeds: Sequence[int] = (0,), quiet: bool = True
) -> list[Row]:
    """Run every variant once per seed, re-seeding before each run; return one row per run.

    Before each run, :func:`course.seed.seed_everything` seeds every generator with the
    run's seed, so variants that build the same model get the same initial weights. A
    row holds ``"variant"`` (the name), ``"seed"``, ``"time_s"`` (wall-clock seconds of
    the whole run) and everything the variant returned. With ``quiet=True`` whatever the
    run prints (for instance ``fit``'s line per epoch) is kept in the row's ``"log"``
    instead of being shown, and one summary line per run is printed instead.

    Rows come variant by variant, each with its seeds in the order given.

    Defined in Day 12.
    """
    if not variants:
        raise ValueError("compare needs at least one variant")
    if not seeds:
        raise ValueError("compare needs at least one seed")
    rows: list[Row] = []
    for name, run in variants.items():
        for seed in seeds:
            seed_everything(seed)
            log = io.StringIO()
            start = time.perf_counter()
            with contextlib.redirect_stdout(log) if quiet else contextlib.nullcontext():
                result = dict(run())
            seconds = time.perf_counter() - start
            clashes = [key for key in RESERVED if key in result]
            if clashes:
                raise ValueError(
                    f"variant {name!r} returned {clashes}, names that compare sets itself; "
                    "rename them"
                )
            rows.append(
                {"variant": name, "seed": seed, "time_s": seconds, **result, "log": log.getvalue()}
            )
            print(_summary(name, seed, seconds, result), flush=True)
    return rows


def _cell(value: Any, fmt: str) -> str:
    if value is None:
        return "-"
    return format(value, fmt)


def format_table(rows: Sequence[Mapping[str, Any]], columns: Sequence[Column]) -> str:
    """Render ``rows`` as an aligned plain-text table, one line per row.

    Each column is ``(key, header)`` or ``(key, header, format_spec)``, e.g.
    ``("test_acc", "test acc", ".1%")``. Numbers are right-aligned, text left-aligned; a
    row without the key shows ``-``. A key that no row has raises ``KeyError`` (a typo,
    most likely).

    Defined in Day 12.
    """
    if not columns:
        raise ValueError("format_table needs at least one column")
    specs = [(column[0], column[1], column[2] if len(column) > 2 else "") for column in columns]
    for key, _, _ in specs:
        if not any(key in row for row in rows):
            raise KeyError(f"no row has the column {key!r}")
    cells = [[_cell(row.get(key), fmt) for key, _, fmt in specs] for row in rows]
    widths = [
        max([len(header)] + [len(line[i]) for line in cells])
        for i, (_, header, _) in enumerate(specs)
    ]
    numeric = [
        all(isinstance(row.get(key), numbers.Number | type(None)) for row in rows)
        for key, _, _ in specs
    ]

    def line(values: Sequence[str]) -> str:
        parts = [
            value.rjust(width) if right else value.ljust(width)
            for value, width, right in zip(values, widths, numeric, strict=True)
        ]
        return "  ".join(parts).rstrip()

    header = line([header for _, header, _ in specs])
    rule = "  ".join("-" * width for width in widths)
    return "\n".join([header, rule] + [line(values) for values in cells])


def _label(row: Mapping[str, Any], several_seeds: bool) -> str:
    return f"{row['variant']} (seed {row['seed']})" if several_seeds else str(row["variant"])


def plot_runs(
    rows: Sequence[Mapping[str, Any]],
    metric: str,
    *,
    title: str,
    ylabel: str,
    ax: Axes | None = None,
    scale: float = 1.0,
) -> Axes:
    """Plot ``row["history"][metric]`` of every run against the epoch, one labelled line each.

    Lines are labelled by variant, and by seed too when a variant appears with several
    seeds. ``scale`` multiplies the values (``scale=100`` shows fractions as percent). A
    legend is drawn when there is more than one line. Returns the ``Axes``.

    Defined in Day 12.
    """
    if not rows:
        raise ValueError("plot_runs needs at least one row")
    if ax is None:
        _, ax = plt.subplots(figsize=(7, 4.5))
    names = [row["variant"] for row in rows]
    several_seeds = len(set(names)) < len(names)
    for row in rows:
        values = np.asarray(row["history"][metric], dtype=float) * scale
        ax.plot(np.arange(1, len(values) + 1), values, label=_label(row, several_seeds))
    ax.set_title(title)
    ax.set_xlabel("epoch")
    ax.set_ylabel(ylabel)
    if len(rows) > 1:
        ax.legend(fontsize="small")
    ax.grid(True, alpha=0.3)
    return ax
