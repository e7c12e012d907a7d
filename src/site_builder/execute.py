"""Run one lesson notebook in its own Jupyter kernel.

Cells run one at a time under a deadline for the whole lesson; a cell that
raises stops the run, and the error names the lesson, the cell (its first line
and its line number in the .py) and shows the traceback. Errors are never
allowed through (no ``allow_errors``).
"""

from __future__ import annotations

import json
import os
import re
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path

import nbformat

ANSI_RE = re.compile(r"\x1b\[[0-9;]*[A-Za-z]")

# Printed by a cell the build runs after the lesson (and removes again): what the
# lesson actually ran on, for the run record.
PROBE = """
import json as _j, os as _o, platform as _p, sys as _s
try:
    import torch as _t
    _cuda = _t.cuda.is_available()
    _mps = bool(getattr(_t.backends, "mps", None) and _t.backends.mps.is_available())
    _dev = "cuda" if _cuda else ("mps" if _mps else "cpu")
    _name = _t.cuda.get_device_name(0) if _cuda else (_p.processor() or _p.machine())
    _ver = {"torch": _t.__version__}
    try:
        import torchvision as _tv
        _ver["torchvision"] = _tv.__version__
    except ImportError:
        pass
    _threads = _t.get_num_threads()
except ImportError:
    _dev, _name, _ver, _threads = "cpu", _p.machine(), {}, _o.cpu_count()
print(_j.dumps({"device": _dev, "device_name": _name, "threads": _threads,
                "python": _p.python_version(), "versions": _ver}))
"""


# Run (hidden) before the lesson: each figure's PNG output is tagged with what the figure
# shows (its titles and axis labels), in the output's metadata. Pages use it as alt text.
FIGURE_NOTES = """
def _course_setup_figure_notes():
    import matplotlib.pyplot as plt
    from matplotlib.figure import Figure

    plt.close(plt.figure())  # the backend (and its PNG formatter) loads with a first figure

    def describe(fig):
        parts = []
        if fig._suptitle is not None and fig._suptitle.get_text():
            parts.append(fig._suptitle.get_text())
        for ax in fig.axes:
            label = ax.get_title()
            if ax.get_xlabel() and ax.get_ylabel():
                label += f" ({ax.get_ylabel()} against {ax.get_xlabel()})"
            if label.strip():
                parts.append(label.strip())
        return "; ".join(parts)

    png = get_ipython().display_formatter.formatters["image/png"]
    draw = png.lookup_by_type(Figure)

    def png_with_note(fig):
        data = draw(fig)
        return None if data is None else (data, {"course_alt": describe(fig)})

    png.for_type(Figure, png_with_note)

try:
    _course_setup_figure_notes()
except Exception:  # no matplotlib: nothing to describe
    pass
del _course_setup_figure_notes
"""


class LessonFailed(Exception):
    """A lesson whose run failed; ``str()`` is the paragraph shown to the maintainer."""


@dataclass
class RunResult:
    notebook: nbformat.NotebookNode
    duration_s: float
    environment: dict


def _describe_cell(lesson_path: Path, cell) -> str:
    lineno = cell.metadata.get("course", {}).get("lineno", 0)
    first = next((ln for ln in cell.source.splitlines() if ln.strip()), "")
    where = f"line {lineno}" if lineno else "the notebook's install cell"
    return f"{lesson_path.name}, cell at {where}: {first.strip()[:80]!r}"


def _error_text(cell) -> str:
    for out in cell.get("outputs", []):
        if out.get("output_type") == "error":
            tb = "\n".join(out.get("traceback", [])) or f"{out.get('ename')}: {out.get('evalue')}"
            return ANSI_RE.sub("", tb)
    return ""


def run(
    nb: nbformat.NotebookNode,
    lesson_path: Path,
    workdir: Path,
    *,
    timeout_s: float,
    env: dict[str, str],
) -> RunResult:
    """Execute ``nb`` with ``workdir`` as the working directory; raise LessonFailed."""
    from nbclient import NotebookClient
    from nbclient.exceptions import CellExecutionError, CellTimeoutError, DeadKernelError
    from traitlets.config import Config as TraitletsConfig

    workdir.mkdir(parents=True, exist_ok=True)
    # IPC sockets, not TCP ports (none to find free, no firewall prompt), in a short-named
    # temporary folder: a socket's path may hold at most 107 bytes, which a lesson's
    # folder in a deep checkout exceeds. Windows has no IPC sockets: TCP there.
    sockets = tempfile.TemporaryDirectory(prefix="course-kernel-")
    transport = {"transport": "ipc", "ip": str(Path(sockets.name) / "k")}
    if os.name != "posix":
        transport = {"transport": "tcp"}
    client = NotebookClient(
        nb,
        config=TraitletsConfig({"KernelManager": transport}),
        kernel_name="python3",
        timeout=timeout_s,
        allow_errors=False,
        record_timing=False,
        resources={"metadata": {"path": str(workdir)}},
    )
    # The kernel draws with its inline backend, whatever the builder's shell says.
    kernel_env = {k: v for k, v in os.environ.items() if k != "MPLBACKEND"}
    kernel_env.update(env)
    start = time.perf_counter()
    deadline = start + timeout_s
    environment: dict = {}
    kernel_log = open(workdir / "kernel.log", "w")  # the kernel's own stderr, for crashes
    with (
        sockets,
        kernel_log,
        client.setup_kernel(env=kernel_env, cwd=str(workdir), stderr=kernel_log),
    ):
        _run_hidden(client, nb, FIGURE_NOTES)
        for index, cell in enumerate(nb.cells):
            if cell.cell_type != "code":
                continue
            remaining = deadline - time.perf_counter()
            if remaining <= 0:
                raise LessonFailed(
                    f"{lesson_path.name} ran past its {timeout_s:.0f} s timeout before "
                    f"{_describe_cell(lesson_path, cell)}. Make the lesson faster in this "
                    "profile (course.pick) or raise its budget with a "
                    "'# sphinx_gallery_timeout = SECONDS' line."
                )
            client.timeout = max(1, int(remaining + 0.999))
            try:
                client.execute_cell(cell, index)
            except CellTimeoutError as err:
                raise LessonFailed(
                    f"{lesson_path.name} ran past its {timeout_s:.0f} s timeout in "
                    f"{_describe_cell(lesson_path, cell)} and was stopped. Make the lesson "
                    "faster in this profile (course.pick) or raise its budget with a "
                    "'# sphinx_gallery_timeout = SECONDS' line."
                ) from err
            except CellExecutionError as err:
                tb = _error_text(cell) or ANSI_RE.sub("", str(err))
                raise LessonFailed(
                    f"{lesson_path.name} failed in {_describe_cell(lesson_path, cell)}.\n\n"
                    f"{tb}\n\nFix the cell and build again; the last good page is kept."
                ) from err
            except DeadKernelError as err:
                raise LessonFailed(
                    f"{lesson_path.name}: the kernel died in "
                    f"{_describe_cell(lesson_path, cell)} (out of memory, or a crash in "
                    f"native code): {err}"
                ) from err
        duration = time.perf_counter() - start
        client.timeout = 60
        lines = [ln for ln in _run_hidden(client, nb, PROBE).splitlines() if ln.startswith("{")]
        if lines:
            environment = json.loads(lines[-1])
    return RunResult(nb, duration, environment)


def _run_hidden(client, nb: nbformat.NotebookNode, code: str) -> str:
    """Run code in the lesson's kernel without it becoming part of the notebook."""
    cell = nbformat.v4.new_code_cell(code)
    nb.cells.append(cell)
    try:
        client.execute_cell(cell, len(nb.cells) - 1, store_history=False)
    finally:
        nb.cells.pop()
    return "".join(
        out.get("text", "")
        for out in cell.outputs
        if out.get("output_type") == "stream" and out.get("name") == "stdout"
    )
