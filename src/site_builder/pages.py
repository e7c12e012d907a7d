"""Executed notebook -> the notebook a page renders, its image files, and report pages.

The downloadable notebook is the executed one, untouched (images inline, so it
stands alone). The page notebook differs: the Colab install cell is dropped,
a lesson bar (downloads, Colab, what it ran on) follows the title, a smoke
build says so, and plots become image files instead of base64 text.

Every fixed string a generated page shows is written in English and passed through an
:class:`Edition`'s ``tr`` (``N_`` marks strings defined ahead of use): the English edition
leaves it as it is, the zh-TW edition looks it up in ``locale/zh_TW/pages/generated.po``
(see :mod:`site_builder.translate`, which finds these strings by reading this file).
"""

from __future__ import annotations

import base64
import copy
import html
import re
import struct
from collections.abc import Callable
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import nbformat

from site_builder.config import Config


def N_(text: str) -> str:
    """Mark a string for the translation catalog of generated text without translating it
    here (gettext's convention): it is translated where it is used, with ``tr``."""
    return text


def same(text: str) -> str:
    """The English edition's ``tr``: every string as written."""
    return text


@dataclass(frozen=True)
class Edition:
    """The language a page is written in and where that edition lives in the site."""

    lang: str = "en"
    folder: str = ""  # the edition's folder in the site, "" (English, at /) or "zh-TW/"
    tr: Callable[[str], str] = same  # an English string (a format template) -> this language
    shared_figures: bool = False  # figures are the English edition's files, not copies


ENGLISH = Edition()

WEEKS = {
    1: N_("Week 1 · PyTorch basics and tensors (PyTorch 基礎與張量操作)"),
    2: N_("Week 2 · Training in practice and CNNs (實戰訓練流程 & CNN 模型)"),
    3: N_("Week 3 · Advanced models and techniques (進階模型與技巧)"),
    4: N_("Week 4 · Tools and a small project (工具整合與小專題)"),
}
COLAB_BRANCH = "gh-pages"  # deploy publishes downloads/ there, where Colab can open them


def week_of(day: int) -> int:
    return min(4, (day - 1) // 7 + 1)


def colab_url(repo_url: str, lesson_name: str, branch: str = COLAB_BRANCH, folder: str = "") -> str:
    """Open the published notebook of a lesson in Colab, from the repository's pages branch
    (``folder``: an edition's folder in the site, "zh-TW/" for the Chinese notebooks)."""
    path = urlparse(repo_url).path.strip("/")
    return (
        f"https://colab.research.google.com/github/{path}/blob/{branch}/"
        f"{folder}downloads/{lesson_name}.ipynb"
    )


@dataclass
class PageBundle:
    """A lesson's files under ``config.pages_dir``, laid out as the site has them."""

    notebook: Path  # lessons/<name>.ipynb: the page notebook, rendered by mkdocs-jupyter
    images: list[Path] = field(default_factory=list)  # lessons/<name>/fig-NN.png
    downloads: list[Path] = field(default_factory=list)  # downloads/<name>.ipynb and .py


def _png_size(data: bytes) -> tuple[int, int] | None:
    if data[:8] == b"\x89PNG\r\n\x1a\n" and data[12:16] == b"IHDR":
        return struct.unpack(">II", data[16:24])
    return None


def _threads(record: dict, tr: Callable[[str], str] = same) -> str:
    threads = record.get("threads", "?")
    return (tr("{n} thread") if threads == 1 else tr("{n} threads")).format(n=threads)


def run_summary(record: dict, tr: Callable[[str], str] = same) -> str:
    device = {"cuda": "GPU", "mps": "Apple GPU"}.get(record.get("device", "cpu"), "CPU")
    name = record.get("device_name")
    detail = _threads(record, tr) if device == "CPU" else (name or "")
    return tr(
        "Ran on {device} ({detail}) in {seconds} s with torch {torch} and Python {python}, "
        "on {date}, profile <code>{profile}</code>."
    ).format(
        device=device,
        detail=detail,
        seconds=f"{record['duration_s']:.1f}",
        torch=record.get("versions", {}).get("torch", "?"),
        python=record.get("python", "?"),
        date=record["date"][:10],
        profile=record["profile"],
    )


def _lesson_bar(name: str, record: dict, repo_url: str, edition: Edition = ENGLISH) -> str:
    tr = edition.tr
    colab = colab_url(repo_url, name, folder=edition.folder)
    return (
        '<div class="lesson-bar">'
        f'<a class="md-button md-button--primary" href="../../downloads/{name}.ipynb" download>'
        f"{tr('Download notebook (.ipynb)')}</a> "
        f'<a class="md-button" href="../../downloads/{name}.py" download>'
        f"{tr('Download script (.py)')}</a> "
        f'<a class="md-button" href="{html.escape(colab)}" '
        f'target="_blank" rel="noopener">{tr("Open in Colab")}</a>'
        f'<p class="lesson-run">{run_summary(record, tr)}</p>'
        "</div>"
    )


SMOKE_BANNER = N_(
    '<div class="admonition warning smoke-banner"><p class="admonition-title">'
    "Smoke build</p><p>This page was built in the <code>smoke</code> profile: tiny data and "
    "budgets so every code path runs in seconds. Its numbers and plots are not meaningful; "
    "the published course is built with the <code>full</code> profile.</p></div>"
)

NO_GPU_BANNER = N_(
    '<div class="admonition info"><p class="admonition-title">This page was built on a '
    "machine without a GPU</p><p>Its GPU demonstrations say so and are skipped: every "
    "number below was measured on the CPU. On Google Colab, choose <em>Runtime &gt; Change "
    "runtime type &gt; T4 GPU</em> and run the notebook: the same cells then move tensors "
    "to <code>cuda</code>, time the GPU against the CPU and print its memory statistics. "
    "On an Apple-silicon Mac the <code>mps</code> paths run instead.</p></div>"
)

STALE_BANNER = N_(
    '<div class="admonition failure"><p class="admonition-title">This page is out of date'
    "</p><p>The latest run of this lesson failed; this is its last good run. The build log "
    "names the failing cell.</p></div>"
)


def collapse_carriage_returns(text: str) -> str:
    """Show a stream as a terminal would: each line keeps what followed its last ``\\r``.

    Progress bars (tqdm) redraw themselves with ``\\r``; the page shows their final state.
    """
    lines = []
    for line in text.split("\n"):
        parts = line.rstrip("\r").split("\r")
        lines.append(parts[-1])
    return "\n".join(lines)


def _merge_streams(outputs: list) -> list:
    """Join consecutive stream outputs of one stream, then resolve carriage returns, so a
    progress bar flushed in many pieces shows once, in its final state."""
    merged: list = []
    for output in outputs:
        previous = merged[-1] if merged else None
        if (
            output.get("output_type") == "stream"
            and previous is not None
            and previous.get("output_type") == "stream"
            and previous.get("name") == output.get("name")
        ):
            previous["text"] += output["text"]
        else:
            merged.append(output)
    for output in merged:
        if output.get("output_type") == "stream" and "\r" in output.get("text", ""):
            output["text"] = collapse_carriage_returns(output["text"])
    return merged


def _section_titles(nb: nbformat.NotebookNode) -> list[str]:
    """For each cell, the last ## heading above it (for image alt text)."""
    titles, current = [], ""
    for cell in nb.cells:
        if cell.cell_type == "markdown":
            for line in cell.source.splitlines():
                if line.startswith("## "):
                    current = line[3:].strip()
        titles.append(current)
    return titles


def _write_if_changed(path: Path, data: bytes) -> None:
    """Unchanged bytes keep their file (and mkdocs-jupyter's render cache) as they are."""
    if not path.exists() or path.read_bytes() != data:
        path.parent.mkdir(parents=True, exist_ok=True)
        tmp = path.with_name(path.name + ".tmp")
        tmp.write_bytes(data)
        tmp.replace(path)


def page_files(
    config: Config,
    name: str,
    nb: nbformat.NotebookNode,
    record: dict,
    sources: tuple[Path | bytes, Path | bytes],
    *,
    stale: bool = False,
    gpu_lesson: bool = False,
    edition: Edition = ENGLISH,
    root: Path | None = None,
) -> PageBundle:
    """Write a lesson's page notebook, figures and downloads under ``root`` (default
    ``config.pages_dir``).

    ``sources`` are the executed notebook and the lesson script (files, or their bytes),
    offered as downloads. ``gpu_lesson`` (a lesson with ``# sphinx_gallery_needs_gpu =
    True``) puts a box at the top of the page when the run had no GPU, saying what a GPU
    runtime shows instead. An ``edition`` with ``shared_figures`` writes no figure files:
    its pages show the English edition's (the same run's plots), one folder up.
    """
    tr = edition.tr
    root = config.pages_dir if root is None else root
    out_dir = root / "lessons" / name
    out_dir.mkdir(parents=True, exist_ok=True)
    for old in out_dir.glob("fig-*.png"):
        old.unlink()
    figure_url = f"../../{'../' * edition.folder.count('/')}lessons/{name}/"
    page = copy.deepcopy(nb)
    titles = _section_titles(page)
    bundle_images: list[Path] = []
    figure = 0
    for cell, section in zip(page.cells, titles, strict=True):
        if cell.cell_type != "code":
            continue
        cell.outputs = _merge_streams(cell.get("outputs", []))
        for output in cell.outputs:
            data = output.get("data", {})
            if "image/png" not in data:
                continue
            figure += 1
            raw = base64.b64decode(data["image/png"])
            path = out_dir / f"fig-{figure:02d}.png"
            src = path.name
            if edition.shared_figures:
                src = figure_url + path.name
            else:
                path.write_bytes(raw)
                bundle_images.append(path)
            size = _png_size(raw)
            dims = f' width="{size[0]}" height="{size[1]}"' if size else ""
            # What the figure shows, noted in the kernel from its titles and axis labels.
            described = output.get("metadata", {}).get("image/png", {}).get("course_alt", "")
            alt = (tr("Figure {n}: {what}") if described else tr("Figure {n}")).format(
                n=figure, what=described
            )
            if section:
                alt += tr(" (section {section})").format(section=section)
            output["data"] = {
                "text/html": f'<img src="{src}" alt="{html.escape(alt)}"{dims} '
                'class="lesson-figure" loading="lazy">'
            }
    page.cells = [c for c in page.cells if "install" not in c.metadata.get("tags", [])]
    header = [_lesson_bar(name, record, config.repo_url, edition)]
    if config.profile == "smoke":
        header.append(tr(SMOKE_BANNER))
    if stale:
        header.append(tr(STALE_BANNER))
    if gpu_lesson and record.get("device") == "cpu":
        header.append(tr(NO_GPU_BANNER))
    first_md = next(i for i, c in enumerate(page.cells) if c.cell_type == "markdown")
    page.cells.insert(first_md + 1, nbformat.v4.new_markdown_cell("\n\n".join(header)))
    for cell in page.cells:
        cell.pop("id", None)
    page.nbformat_minor = 4
    target = root / "lessons" / f"{name}.ipynb"
    _write_if_changed(target, nbformat.writes(page).encode("utf-8"))
    downloads = []
    for source, suffix in zip(sources, (".ipynb", ".py"), strict=True):
        path = root / "downloads" / f"{name}{suffix}"
        _write_if_changed(path, source if isinstance(source, bytes) else source.read_bytes())
        downloads.append(path)
    return PageBundle(target, bundle_images, downloads)


def thumbnail(bundle: PageBundle, number: int) -> Path | None:
    if not bundle.images:
        return None
    return bundle.images[min(max(number, 1), len(bundle.images)) - 1]


def runs_page(profile: str, rows: list[dict], edition: Edition = ENGLISH) -> str:
    """Markdown for the run report: every lesson's status, time and environment
    (a row's ``title``, when given, names the lesson; else its run record's title)."""
    tr = edition.tr
    total = sum(r["record"]["duration_s"] for r in rows if r.get("record"))
    lines = [
        tr("# Run report"),
        "",
        tr(
            "Every lesson is executed when the site is built. This build used the "
            "`{profile}` profile; the lessons' run times add up to {total} s. "
            "A cached lesson shows the record of the run that produced its page."
        ).format(profile=profile, total=f"{total:.0f}"),
        "",
        tr("| Lesson | Status | Run time | Ran on | torch | Python | Date | This build |"),
        "| --- | --- | ---: | --- | --- | --- | --- | --- |",
    ]
    status = {"ok": N_("ok"), "failed": N_("failed"), "not in this build": N_("not in this build")}
    for row in rows:
        rec = row.get("record") or {}
        device = rec.get("device", "?").upper()
        if rec.get("device") == "cpu":
            device = f"CPU, {_threads(rec, tr)}"
        title = row.get("title") or rec.get("title", row["name"])
        lines.append(
            f"| [{html.escape(title)}](lessons/{row['name']}.ipynb) "
            f"| {tr(status.get(row['status'], row['status']))} "
            f"| {rec.get('duration_s', 0):.1f} s | {device} "
            f"| {rec.get('versions', {}).get('torch', '?')} | {rec.get('python', '?')} "
            f"| {rec.get('date', '?')[:10]} "
            f"| {tr('cached') if row['cache_hit'] else tr('executed')} |"
        )
    return "\n".join(lines) + "\n"


def curriculum_markdown(published: dict[int, str], edition: Edition = ENGLISH) -> str:
    """The 4-week plan as tables; ``published`` maps day -> lesson name for written lessons.
    The English edition links the English topic; another edition links the plan's Chinese
    title and shows the English one beside it."""
    from site_builder.curriculum import DAYS

    tr = edition.tr
    if len(published) == len(DAYS):
        status = tr("**All {total} lessons are published.**")
    else:
        status = tr(
            "**{published} of the {total} lessons are published today**; the others "
            "are marked *coming soon* below."
        )
    out = [status.format(published=len(published), total=len(DAYS)), ""]
    coming = tr("coming soon")
    for week, title in WEEKS.items():
        out += [f"### {tr(title)}", "", tr("| Day | Topic | 主題 |"), "| ---: | --- | --- |"]
        for day, (english, chinese) in DAYS.items():
            if week_of(day) != week:
                continue
            first, second = (english, chinese) if edition.lang == "en" else (chinese, english)
            if day in published:
                topic = f"[{first}](lessons/{published[day]}.ipynb)"
            else:
                topic = f'{first} <span class="coming-soon-tag">{coming}</span>'
            out.append(f"| {day} | {topic} | {second} |")
        out.append("")
    return "\n".join(out)


def plain_text(markdown: str) -> str:
    """Markdown emphasis, code and links reduced to their text (for cards and alt text)."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", markdown)
    return re.sub(r"(\*\*|\*|`|__)", "", text)


def gallery_markdown(cards: list[dict], edition: Edition = ENGLISH) -> str:
    """A card per lesson: thumbnail (one of its own plots), title, promise, run time."""
    tr = edition.tr
    up = "../" * edition.folder.count("/")  # another edition shows the English thumbnails
    items = []
    for card in cards:
        thumb = (
            f'<img src="../{up}gallery/{card["name"]}.png" alt="{html.escape(card["alt"])}" '
            'loading="lazy">'
            if card.get("thumbnail")
            else '<div class="lesson-card__placeholder" aria-hidden="true"></div>'
        )
        ran = tr("Ran in {seconds} s").format(seconds=f"{card['duration_s']:.0f}")
        items.append(
            f'<a class="lesson-card" href="../lessons/{card["name"]}/">{thumb}'
            f'<span class="lesson-card__title">{html.escape(card["title"])}</span>'
            f'<span class="lesson-card__promise">{html.escape(plain_text(card["promise"]))}</span>'
            f'<span class="lesson-card__time">{ran}</span></a>'
        )
    intro = tr(
        "# Lesson gallery\n\nEvery published lesson, with one of the plots its own run produced."
    )
    return intro + '\n\n<div class="lesson-gallery">\n' + "\n".join(items) + "\n</div>\n"


def write_thumbnail(config: Config, name: str, image: Path, width: int = 480) -> Path:
    """A small copy of one of the lesson's figures for the gallery."""
    from io import BytesIO

    from PIL import Image

    with Image.open(image) as im:
        im = im.convert("RGB")
        if im.width > width:
            im = im.resize((width, round(im.height * width / im.width)), Image.LANCZOS)
        buffer = BytesIO()
        im.save(buffer, format="PNG", optimize=True)
    target = config.pages_dir / "gallery" / f"{name}.png"
    _write_if_changed(target, buffer.getvalue())
    return target


def write_zip(target: Path, members: list[Path]) -> Path:
    """A zip with fixed timestamps, so unchanged contents give unchanged bytes."""
    import io
    import zipfile

    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w", zipfile.ZIP_DEFLATED) as zf:
        for path in sorted(members):
            info = zipfile.ZipInfo(f"pytorch-course/{path.name}", date_time=(2024, 1, 1, 0, 0, 0))
            info.compress_type = zipfile.ZIP_DEFLATED
            zf.writestr(info, path.read_bytes())
    _write_if_changed(target, buffer.getvalue())
    return target


def requirements_markdown(lessons, edition: Edition = ENGLISH, titles: dict | None = None) -> str:
    """The setup guide's table: each lesson that needs packages beyond the base install
    (``titles``: lesson name -> the title to show, default the lesson's own)."""
    tr = edition.tr
    titles = titles or {}
    rows = [
        f"| [{titles.get(les.name, les.title)}](lessons/{les.name}.ipynb) | "
        + ", ".join(f"`{r}`" for r in les.requires)
        + " |"
        for les in lessons
        if les.requires
    ]
    if not rows:
        return tr("Every published lesson runs on the base install.")
    return "\n".join([tr("| Lesson | Also needs |"), "| --- | --- |", *rows])


HEADLINE_PREFIX = "Headline result:"  # printed by course.report.headline


def headlines(nb) -> list[str]:
    """The headline lines a lesson printed (``course.report.headline``), in order."""
    found = []
    for cell in nb.cells:
        for output in cell.get("outputs", []) if cell.cell_type == "code" else []:
            if output.get("output_type") == "stream":
                for line in output.get("text", "").splitlines():
                    if line.startswith(HEADLINE_PREFIX):
                        found.append(line[len(HEADLINE_PREFIX) :].strip())
    return found


def results_page(profile: str, rows: list[dict], edition: Edition = ENGLISH) -> str:
    """Markdown for the course results: each lesson's run time and headline results, as
    its executed notebook printed them (``rows``: title, name, record, headlines)."""
    tr = edition.tr
    lines = [
        tr("# Course results"),
        "",
        tr(
            "What every lesson's own run produced, collected from the executed notebooks when "
            "the site was built (profile `{profile}`): nothing here is typed by hand. A lesson "
            "prints its headline with `course.report.headline(...)`; the numbers change when "
            "a lesson's run changes them."
        ).format(profile=profile),
        "",
        tr("| Lesson | Run time | Headline results |"),
        "| --- | ---: | --- |",
    ]
    for row in rows:
        results = "<br>".join(html.escape(h) for h in row["headlines"]) or "—"
        lines.append(
            f"| [{html.escape(row['title'])}](lessons/{row['name']}.ipynb) "
            f"| {row['record']['duration_s']:.0f} s | {results} |"
        )
    return "\n".join(lines) + "\n"
