"""What a page must never show, checked on every lesson before its run is cached.

* **The build machine**: absolute paths of this build (the repository, the data
  directory, the caches, the home and temporary folders) in any output. They teach a
  reader nothing, differ between machines and publish the builder's folder layout.
* **Accidental reprs**: ``<... object at 0x7f...>`` in an output, typically the value of a
  cell's last line that nobody meant to show (``torch.manual_seed(0)``, ``plt.plot(...)``).
* **LaTeX that lost a backslash**: ``"$\\text{x}$"`` in a non-raw string holds a tab, not
  ``\\t``; found in the lesson's source before it runs.

Each problem names the lesson, the cell (its first line and line number) and the text.
"""

from __future__ import annotations

import ast
import os
import re
import tempfile
from pathlib import Path

import nbformat

from site_builder.config import ROOT, Config

_ADDRESS_RE = re.compile(r"<[^<>\n]*\bat 0x[0-9a-fA-F]{6,}>")
_MATH_SPAN_RE = re.compile(r"\$[^$\n]*\$")
_ESCAPED = {"\t": "\\t", "\b": "\\b", "\f": "\\f", "\v": "\\v", "\a": "\\a", "\r": "\\r"}


def machine_paths(config: Config) -> dict[str, str]:
    """This build's absolute folders, each with what it is, longest first."""
    found = {
        str(ROOT): "the repository",
        str(config.build_dir): "the build folder",
        str(Path.home()): "the home folder",
        tempfile.gettempdir(): "the temporary folder",
    }
    for variable, label in (("COURSE_DATA_DIR", "data"), ("COURSE_CACHE_DIR", "cache")):
        value = os.environ.get(variable, "").strip()
        if value:
            found[str(Path(value).expanduser())] = f"the {label} directory"
            found[str(Path(value).expanduser().resolve())] = f"the {label} directory"
    found = {p.rstrip("/") + "/": what for p, what in found.items() if p.strip("/")}
    return dict(sorted(found.items(), key=lambda item: -len(item[0])))


def _output_text(output: dict) -> str:
    if output.get("output_type") == "stream":
        return output.get("text", "")
    if output.get("output_type") == "error":
        return "\n".join(output.get("traceback", []))
    data = output.get("data", {})
    return "\n".join(str(data.get(kind, "")) for kind in ("text/plain", "text/html"))


def output_problems(nb: nbformat.NotebookNode, lesson_name: str, config: Config) -> list[str]:
    """Machine paths and object reprs with addresses in the outputs of ``nb``."""
    paths = machine_paths(config)
    problems = []
    for cell in nb.cells:
        if cell.cell_type != "code":
            continue
        lineno = cell.metadata.get("course", {}).get("lineno", 0)
        first = next((ln.strip() for ln in cell.source.splitlines() if ln.strip()), "")
        where = f"{lesson_name}.py, cell at line {lineno} ({first[:60]!r})"
        for output in cell.get("outputs", []):
            for line in _output_text(output).splitlines():
                # Paths are matched with their trailing "/" or at the end of a word.
                padded = line + "/"
                hit = next((p for p in paths if p in padded), None)
                if hit:
                    problems.append(
                        f"{where} prints a path of the build machine ({paths[hit]}): "
                        f"{line.strip()[:120]!r}. Print what a reader can use: a path relative "
                        "to the data or working directory, or just the file's name."
                    )
                if _ADDRESS_RE.search(line):
                    problems.append(
                        f"{where} shows an object's repr with a memory address: "
                        f"{line.strip()[:120]!r}. End the line with `;`, assign it, or print "
                        "what matters (e.g. type(x).__name__)."
                    )
    return problems


def source_problems(path: Path) -> list[str]:
    """LaTeX in non-raw strings whose backslash became a control character."""
    tree = ast.parse(path.read_text(encoding="utf-8"), filename=str(path))
    problems = []
    for node in ast.walk(tree):
        if isinstance(node, ast.Constant) and isinstance(node.value, str):
            for span in _MATH_SPAN_RE.findall(node.value):
                bad = sorted({_ESCAPED[c] for c in span if c in _ESCAPED})
                if bad:
                    problems.append(
                        f"{path.name}:{node.lineno}: the math {span[:50]!r} holds "
                        f"{' and '.join(bad)} as a control character: a LaTeX command lost its "
                        'backslash. Make the string raw (r"...") or double the backslash.'
                    )
    return problems
