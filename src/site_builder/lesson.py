"""A lesson script and its conversion to a notebook.

The script is parsed with sphinx-gallery's own parser and written out with its
notebook writer, so a lesson reads the same here as in any sphinx-gallery
project. Never let jupytext guess the format of these files: it reads `# %%`
scripts as plain code.
"""

from __future__ import annotations

import copy
import json
import re
import warnings
from dataclasses import dataclass, field
from pathlib import Path

import nbformat

LESSON_GLOB = "day[0-9][0-9]_*.py"
TITLE_RE = re.compile(r"^#\s+(?P<title>\S.*)$", re.M)
DAY_RE = re.compile(r"^day(?P<day>\d\d)_[a-z0-9_]+$")
SOLUTION_RE = re.compile(r"^\s*\*\*Solution\s+(?P<n>[\w.-]+?)\.?\*\*", re.I)
CONFIG_COMMENT_RE = re.compile(r"^[ \t]*#\s*sphinx_gallery_[A-Za-z0-9_]+.*\n?", re.M)


class LessonError(Exception):
    """A lesson file that cannot become a notebook; the message names file and line."""


@dataclass
class CodeCell:
    source: str
    lineno: int  # line of the cell's first non-blank line in the .py
    solution: str | None = None  # exercise number when the cell belongs to a solution


@dataclass
class Lesson:
    path: Path
    title: str
    header: str  # the docstring, Markdown
    blocks: list[tuple[str, str, int]]
    file_conf: dict = field(default_factory=dict)

    @property
    def name(self) -> str:
        return self.path.stem

    @property
    def day(self) -> int:
        return int(self.name[3:5])

    @property
    def promise(self) -> str:
        """The first paragraph after the title."""
        after_title = TITLE_RE.split(self.header, maxsplit=1)[-1]
        paragraphs = [p.strip() for p in after_title.split("\n\n") if p.strip()]
        return " ".join(paragraphs[0].split()) if paragraphs else ""

    @property
    def thumbnail_number(self) -> int:
        return int(self.file_conf.get("thumbnail_number", 1))

    @property
    def requires(self) -> list[str]:
        """What the lesson needs beyond the helper package's own dependencies, declared in
        the lesson as ``# sphinx_gallery_requires = ["onnx>=1.17", "onnxruntime>=1.20"]``
        (requirement strings for pip): its notebook installs them where they are missing,
        the site's environment has them (the ``lessons`` extra), the setup guide lists them.
        """
        value = self.file_conf.get("requires", [])
        if not isinstance(value, list) or not all(isinstance(r, str) for r in value):
            raise LessonError(
                f"{self.path}: sphinx_gallery_requires must be a list of requirement "
                f'strings, e.g. ["onnx>=1.17"], not {value!r}'
            )
        return value


def discover(tutorials_dir: Path) -> list[Path]:
    """Every lesson script in ``tutorials_dir``, in day order."""
    return sorted(tutorials_dir.glob(LESSON_GLOB))


def find(tutorials_dir: Path, name: str) -> Path:
    """Resolve ``day06``, ``6``, ``day06_training_workflow`` or a path to one lesson."""
    paths = discover(tutorials_dir)
    key = name.removesuffix(".py")
    key = Path(key).name
    if key.isdigit():
        key = f"day{int(key):02d}"
    matches = [p for p in paths if p.stem == key or p.stem.startswith(key + "_")]
    if len(matches) == 1:
        return matches[0]
    known = ", ".join(p.stem for p in paths) or "(none)"
    if not matches:
        raise LessonError(
            f"No lesson called {name!r} in {tutorials_dir}. Known lessons: {known}. "
            "Give a day number (6), a prefix (day06) or a full name."
        )
    raise LessonError(f"{name!r} matches several lessons: {', '.join(p.stem for p in matches)}.")


def load(path: Path) -> Lesson:
    """Parse and validate one lesson script."""
    path = Path(path)
    if not DAY_RE.match(path.stem):
        raise LessonError(
            f"{path}: a lesson file is named dayNN_slug.py (two-digit day, lower-case slug)."
        )
    try:
        source = path.read_text(encoding="utf-8")
    except (OSError, UnicodeDecodeError) as err:
        raise LessonError(f"{path}: cannot be read as UTF-8 text: {err}") from err
    try:
        compile(source, str(path), "exec")
    except SyntaxError as err:
        raise LessonError(
            f"{path}:{err.lineno}: this lesson is not valid Python ({err.msg}). "
            "Fix the line and build again; the last good page is kept meanwhile."
        ) from err

    from sphinx_gallery.py_source_parser import split_code_and_text_blocks

    try:
        with warnings.catch_warnings():
            warnings.simplefilter("ignore")
            file_conf, blocks = split_code_and_text_blocks(str(path))
    except Exception as err:  # sphinx-gallery raises several types for a bad header
        raise LessonError(f"{path}:1: sphinx-gallery cannot parse this lesson: {err}") from err

    header = blocks[0][1] if blocks and blocks[0][0] == "text" else ""
    match = TITLE_RE.search(header)
    if not header.strip() or match is None:
        raise LessonError(
            f"{path}:1: the lesson has no title. Start the file with a docstring whose first "
            'line is a Markdown title, e.g. """\\n# Day 6 · The training workflow (訓練流程)'
        )
    return Lesson(path, match.group("title").strip(), header, list(blocks), dict(file_conf))


def code_cells(lesson: Lesson) -> list[CodeCell]:
    """The lesson's code cells with their line numbers and solution membership."""
    cells: list[CodeCell] = []
    solution: str | None = None
    for kind, content, lineno in lesson.blocks:
        if kind == "text":
            m = SOLUTION_RE.match(content)
            solution = m.group("n") if m else None
            continue
        stripped = CONFIG_COMMENT_RE.sub("", content)
        if not stripped.strip():
            continue
        leading = len(content) - len(content.lstrip("\n"))
        first_line = lineno + content[:leading].count("\n")
        cells.append(CodeCell(stripped.strip(), first_line, solution))
    return cells


def install_cell(repo_url: str, requires: list[str] = (), package: str = "pytorch-course") -> str:
    """The first cell of every notebook: get the helper package (and what the lesson needs
    beyond it) where it is missing."""
    lines = [
        "# On Google Colab (or any machine without the course helpers), this installs them.",
        "# torch and torchvision are already on Colab; elsewhere pip brings them too.",
    ]
    if not requires:
        return "\n".join(
            [
                *lines,
                "try:",
                "    import course  # noqa: F401",
                "except ImportError:",
                f'    %pip install -q "{package} @ git+{repo_url.rstrip("/")}"',
            ]
        )
    names = {re.split(r"[<>=!~;\[ ]", r, maxsplit=1)[0].lower().replace("_", "-") for r in requires}
    return "\n".join(
        [
            *lines,
            "from importlib.metadata import distributions",
            "",
            "try:",
            "    import course  # noqa: F401",
            "except ImportError:",
            f'    %pip install -q "{package} @ git+{repo_url.rstrip("/")}"',
            "# This lesson also needs a few packages the course helpers do not.",
            'have = {d.metadata["Name"].lower().replace("_", "-") for d in distributions()}',
            f"if {sorted(names)!r} - have:".replace("[", "{").replace("]", "}"),
            "    %pip install -q " + " ".join(f'"{r}"' for r in requires),
        ]
    )


def to_notebook(lesson: Lesson, repo_url: str) -> nbformat.NotebookNode:
    """Convert with sphinx-gallery's writer, then tag each cell with its origin.

    Code cells carry ``metadata.course.lineno`` (first line in the .py), solution
    cells the tag ``solution`` and a hidden input, and the install cell the tag
    ``install``.
    """
    from sphinx_gallery.gen_gallery import DEFAULT_GALLERY_CONF
    from sphinx_gallery.notebook import jupyter_notebook

    conf = copy.deepcopy(DEFAULT_GALLERY_CONF)
    conf.update(
        first_notebook_cell=install_cell(repo_url, lesson.requires),
        last_notebook_cell=None,
        notebook_images=False,
        pypandoc=False,
        promote_jupyter_magic=False,
        src_dir=str(lesson.path.parent),
    )
    blocks = []
    for kind, content, lineno in lesson.blocks:
        if kind == "code":
            content = CONFIG_COMMENT_RE.sub("", content)
            if not content.strip():
                continue
        blocks.append((kind, content, lineno))
    raw = jupyter_notebook(blocks, conf, str(lesson.path.parent))
    nb = nbformat.reads(json.dumps(raw), as_version=4)

    expected = code_cells(lesson)
    code = [c for c in nb.cells if c.cell_type == "code"]
    install, lesson_code = code[0], code[1:]
    if len(lesson_code) != len(expected):  # pragma: no cover - guards a sphinx-gallery change
        raise LessonError(
            f"{lesson.path}: sphinx-gallery produced {len(lesson_code)} code cells, "
            f"expected {len(expected)}"
        )
    install.metadata = {"tags": ["install"], "course": {"lineno": 0}}
    for cell, info in zip(lesson_code, expected, strict=True):
        cell.metadata = {"course": {"lineno": info.lineno}}
        if info.solution is not None:
            cell.metadata["tags"] = ["solution"]
            cell.metadata["jupyter"] = {"source_hidden": True}
            cell.metadata["course"]["solution"] = info.solution
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            m = SOLUTION_RE.match(cell.source)
            if m:
                cell.metadata = {"tags": ["solution"], "course": {"solution": m.group("n")}}
    nb.metadata["kernelspec"] = {
        "name": "python3",
        "display_name": "Python 3",
        "language": "python",
    }
    nb.metadata["language_info"] = {"name": "python"}
    nb.metadata["course"] = {"lesson": lesson.name, "title": lesson.title}
    nb.metadata["colab"] = {"provenance": []}
    # Unique, stable cell ids (nbformat 4.5) keep the notebook diff-friendly.
    nb.nbformat_minor = max(nb.nbformat_minor, 5)
    for i, cell in enumerate(nb.cells):
        cell["id"] = f"{lesson.name[:5]}-{i:03d}"
    nbformat.validate(nb)
    return nb
