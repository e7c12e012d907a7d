"""Executed notebook -> the notebook a page renders, its image files, and report pages.

The downloadable notebook is the executed one, untouched (images inline, so it
stands alone). The page notebook differs: the Colab install cell is dropped,
a lesson bar (downloads, Colab, what it ran on) follows the title, a smoke
build says so, and plots become image files instead of base64 text.
"""

from __future__ import annotations

import base64
import copy
import html
import re
import struct
from dataclasses import dataclass, field
from pathlib import Path
from urllib.parse import urlparse

import nbformat

from site_builder.config import Config

WEEKS = {
    1: "Week 1 · PyTorch basics and tensors (PyTorch 基礎與張量操作)",
    2: "Week 2 · Training in practice and CNNs (實戰訓練流程 & CNN 模型)",
    3: "Week 3 · Advanced models and techniques (進階模型與技巧)",
    4: "Week 4 · Tools and a small project (工具整合與小專題)",
}
COLAB_BRANCH = "gh-pages"  # deploy publishes downloads/ there, where Colab can open them


def week_of(day: int) -> int:
    return min(4, (day - 1) // 7 + 1)


def colab_url(repo_url: str, lesson_name: str, branch: str = COLAB_BRANCH) -> str:
    """Open the published notebook of a lesson in Colab, from the repository's pages branch."""
    path = urlparse(repo_url).path.strip("/")
    return f"https://colab.research.google.com/github/{path}/blob/{branch}/downloads/{lesson_name}.ipynb"


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


def _threads(record: dict) -> str:
    threads = record.get("threads", "?")
    return f"{threads} thread" + ("" if threads == 1 else "s")


def run_summary(record: dict) -> str:
    device = {"cuda": "GPU", "mps": "Apple GPU"}.get(record.get("device", "cpu"), "CPU")
    name = record.get("device_name")
    detail = _threads(record) if device == "CPU" else (name or "")
    torch_version = record.get("versions", {}).get("torch", "?")
    return (
        f"Ran on {device} ({detail}) in {record['duration_s']:.1f} s with torch {torch_version} "
        f"and Python {record.get('python', '?')}, on {record['date'][:10]}, "
        f"profile <code>{record['profile']}</code>."
    )


def _lesson_bar(name: str, record: dict, repo_url: str) -> str:
    return (
        '<div class="lesson-bar">'
        f'<a class="md-button md-button--primary" href="../../downloads/{name}.ipynb" download>'
        "Download notebook (.ipynb)</a> "
        f'<a class="md-button" href="../../downloads/{name}.py" download>Download script (.py)</a> '
        f'<a class="md-button" href="{html.escape(colab_url(repo_url, name))}" '
        'target="_blank" rel="noopener">Open in Colab</a>'
        f'<p class="lesson-run">{run_summary(record)}</p>'
        "</div>"
    )


SMOKE_BANNER = (
    '<div class="admonition warning smoke-banner"><p class="admonition-title">'
    "Smoke build</p><p>This page was built in the <code>smoke</code> profile: tiny data and "
    "budgets so every code path runs in seconds. Its numbers and plots are not meaningful; "
    "the published course is built with the <code>full</code> profile.</p></div>"
)

NO_GPU_BANNER = (
    '<div class="admonition info"><p class="admonition-title">This page was built on a '
    "machine without a GPU</p><p>Its GPU demonstrations say so and are skipped: every "
    "number below was measured on the CPU. On Google Colab, choose <em>Runtime &gt; Change "
    "runtime type &gt; T4 GPU</em> and run the notebook: the same cells then move tensors "
    "to <code>cuda</code>, time the GPU against the CPU and print its memory statistics. "
    "On an Apple-silicon Mac the <code>mps</code> paths run instead.</p></div>"
)

STALE_BANNER = (
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
    sources: tuple[Path, Path],
    *,
    stale: bool = False,
    gpu_lesson: bool = False,
) -> PageBundle:
    """Write a lesson's page notebook, figures and downloads under ``config.pages_dir``.

    ``sources`` are the executed notebook and the lesson script, offered as downloads.
    ``gpu_lesson`` (a lesson with ``# sphinx_gallery_needs_gpu = True``) puts a box at the
    top of the page when the run had no GPU, saying what a GPU runtime shows instead.
    """
    out_dir = config.pages_dir / "lessons" / name
    out_dir.mkdir(parents=True, exist_ok=True)
    for old in out_dir.glob("fig-*.png"):
        old.unlink()
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
            path.write_bytes(raw)
            bundle_images.append(path)
            size = _png_size(raw)
            dims = f' width="{size[0]}" height="{size[1]}"' if size else ""
            # What the figure shows, noted in the kernel from its titles and axis labels.
            described = output.get("metadata", {}).get("image/png", {}).get("course_alt", "")
            alt = f"Figure {figure}: {described}" if described else f"Figure {figure}"
            if section:
                alt += f" (section {section})"
            output["data"] = {
                "text/html": f'<img src="{path.name}" alt="{html.escape(alt)}"{dims} '
                'class="lesson-figure" loading="lazy">'
            }
    page.cells = [c for c in page.cells if "install" not in c.metadata.get("tags", [])]
    header = [_lesson_bar(name, record, config.repo_url)]
    if config.profile == "smoke":
        header.append(SMOKE_BANNER)
    if stale:
        header.append(STALE_BANNER)
    if gpu_lesson and record.get("device") == "cpu":
        header.append(NO_GPU_BANNER)
    first_md = next(i for i, c in enumerate(page.cells) if c.cell_type == "markdown")
    page.cells.insert(first_md + 1, nbformat.v4.new_markdown_cell("\n\n".join(header)))
    for cell in page.cells:
        cell.pop("id", None)
    page.nbformat_minor = 4
    target = config.pages_dir / "lessons" / f"{name}.ipynb"
    _write_if_changed(target, nbformat.writes(page).encode("utf-8"))
    downloads = []
    for source, suffix in zip(sources, (".ipynb", ".py"), strict=True):
        path = config.pages_dir / "downloads" / f"{name}{suffix}"
        _write_if_changed(path, source.read_bytes())
        downloads.append(path)
    return PageBundle(target, bundle_images, downloads)


def thumbnail(bundle: PageBundle, number: int) -> Path | None:
    if not bundle.images:
        return None
    return bundle.images[min(max(number, 1), len(bundle.images)) - 1]


def runs_page(profile: str, rows: list[dict]) -> str:
    """Markdown for the run report: every lesson's status, time and environment."""
    total = sum(r["record"]["duration_s"] for r in rows if r.get("record"))
    lines = [
        "# Run report",
        "",
        f"Every lesson is executed when the site is built. This build used the "
        f"`{profile}` profile; the lessons' run times add up to {total:.0f} s. "
        "A cached lesson shows the record of the run that produced its page.",
        "",
        "| Lesson | Status | Run time | Ran on | torch | Python | Date | This build |",
        "| --- | --- | ---: | --- | --- | --- | --- | --- |",
    ]
    for row in rows:
        rec = row.get("record") or {}
        device = rec.get("device", "?").upper()
        if rec.get("device") == "cpu":
            device = f"CPU, {_threads(rec)}"
        lines.append(
            f"| [{html.escape(rec.get('title', row['name']))}](lessons/{row['name']}.ipynb) "
            f"| {row['status']} | {rec.get('duration_s', 0):.1f} s | {device} "
            f"| {rec.get('versions', {}).get('torch', '?')} | {rec.get('python', '?')} "
            f"| {rec.get('date', '?')[:10]} | {'cached' if row['cache_hit'] else 'executed'} |"
        )
    return "\n".join(lines) + "\n"


def curriculum_markdown(published: dict[int, str]) -> str:
    """The 4-week plan as tables; ``published`` maps day -> lesson name for written lessons."""
    from site_builder.curriculum import DAYS

    out = [
        f"**{len(published)} of the {len(DAYS)} lessons are published today**; the others "
        "are marked *coming soon* below.",
        "",
    ]
    for week, title in WEEKS.items():
        out += [f"### {title}", "", "| Day | Topic | 主題 |", "| ---: | --- | --- |"]
        for day, (english, chinese) in DAYS.items():
            if week_of(day) != week:
                continue
            if day in published:
                topic = f"[{english}](lessons/{published[day]}.ipynb)"
            else:
                topic = f'{english} <span class="coming-soon-tag">coming soon</span>'
            out.append(f"| {day} | {topic} | {chinese} |")
        out.append("")
    return "\n".join(out)


def plain_text(markdown: str) -> str:
    """Markdown emphasis, code and links reduced to their text (for cards and alt text)."""
    text = re.sub(r"\[([^\]]*)\]\([^)]*\)", r"\1", markdown)
    return re.sub(r"(\*\*|\*|`|__)", "", text)


def gallery_markdown(cards: list[dict]) -> str:
    """A card per lesson: thumbnail (one of its own plots), title, promise, run time."""
    items = []
    for card in cards:
        thumb = (
            f'<img src="../gallery/{card["name"]}.png" alt="{html.escape(card["alt"])}" '
            'loading="lazy">'
            if card.get("thumbnail")
            else '<div class="lesson-card__placeholder" aria-hidden="true"></div>'
        )
        items.append(
            f'<a class="lesson-card" href="../lessons/{card["name"]}/">{thumb}'
            f'<span class="lesson-card__title">{html.escape(card["title"])}</span>'
            f'<span class="lesson-card__promise">{html.escape(plain_text(card["promise"]))}</span>'
            f'<span class="lesson-card__time">Ran in {card["duration_s"]:.0f} s</span></a>'
        )
    return (
        "# Lesson gallery\n\nEvery published lesson, with one of the plots its own run "
        'produced.\n\n<div class="lesson-gallery">\n' + "\n".join(items) + "\n</div>\n"
    )


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


def requirements_markdown(lessons) -> str:
    """The setup guide's table: each lesson that needs packages beyond the base install."""
    rows = [
        f"| [{les.title}](lessons/{les.name}.ipynb) | "
        + ", ".join(f"`{r}`" for r in les.requires)
        + " |"
        for les in lessons
        if les.requires
    ]
    if not rows:
        return "Every published lesson runs on the base install."
    return "\n".join(["| Lesson | Also needs |", "| --- | --- |", *rows])


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


def results_page(profile: str, rows: list[dict]) -> str:
    """Markdown for the course results: each lesson's run time and headline results, as
    its executed notebook printed them (``rows``: title, name, record, headlines)."""
    lines = [
        "# Course results",
        "",
        "What every lesson's own run produced, collected from the executed notebooks when "
        f"the site was built (profile `{profile}`): nothing here is typed by hand. A lesson "
        "prints its headline with `course.report.headline(...)`; the numbers change when "
        "a lesson's run changes them.",
        "",
        "| Lesson | Run time | Headline results |",
        "| --- | ---: | --- |",
    ]
    for row in rows:
        results = "<br>".join(html.escape(h) for h in row["headlines"]) or "—"
        lines.append(
            f"| [{html.escape(row['title'])}](lessons/{row['name']}.ipynb) "
            f"| {row['record']['duration_s']:.0f} s | {results} |"
        )
    return "\n".join(lines) + "\n"
