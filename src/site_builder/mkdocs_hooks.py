"""MkDocs hooks: lessons become pages without a generated file ever entering docs/.

Loaded through ``hooks:`` in mkdocs.yml. The hooks execute nothing: the site builder's
``build`` (or ``assemble``, or ``serve``) runs the lessons first and writes a build
summary; on every build and live-preview rebuild the hooks read that summary, add each
lesson's executed notebook (as the page), figures and downloads as generated files,
build the navigation from the lessons, and post-process the rendered HTML.
"""

from __future__ import annotations

import logging
from pathlib import Path

from mkdocs.exceptions import PluginError
from mkdocs.plugins import event_priority
from mkdocs.structure.files import File, Files
from mkdocs.structure.toc import get_toc

from site_builder import build, cache, htmlpost, lesson, pages
from site_builder.config import Config

log = logging.getLogger("mkdocs.hooks.course")
_state: dict = {"command": "build"}


def on_startup(command: str, dirty: bool) -> None:
    _state["command"] = command


def on_config(config):
    course = Config.from_env(repo_url=config.extra.get("repository"))
    try:
        lessons = [lesson.load(p) for p in lesson.discover(course.tutorials_dir)]
    except lesson.LessonError as err:
        raise PluginError(str(err)) from err
    _state.update(course=course, lessons=lessons, header=None, css=None, js=None)

    weeks: dict[int, list] = {}
    for les in lessons:
        weeks.setdefault(pages.week_of(les.day), []).append(
            {les.title: f"lessons/{les.name}.ipynb"}
        )
    nav: list = [{"Home": "index.md"}, {"Lesson gallery": "gallery.md"}, {"Setting up": "setup.md"}]
    nav += [{pages.WEEKS[w]: items} for w, items in sorted(weeks.items())]
    nav += [{"Course results": "results.md"}, {"Run report": "runs.md"}]
    nav += [{"Writing a lesson": "authoring.md"}]
    config["nav"] = nav
    return config


@event_priority(100)  # before mkdocs-jupyter wraps notebook files
def on_files(files: Files, config) -> Files:
    course: Config = _state["course"]
    lessons = _state["lessons"]
    try:
        summary = build.read_summary(course)
    except ValueError as err:
        raise PluginError(str(err)) from err
    ran = {row["name"]: row for row in summary["lessons"]}
    failed = [row for row in summary["lessons"] if row["status"] != "ok"]
    if failed and _state["command"] != "serve":
        names = ", ".join(row["name"] for row in failed)
        raise PluginError(f"The last build failed ({names}); fix it and build again.")
    for row in failed:
        log.error("%s", row["error"])

    rows, cards, results, known = [], [], [], {les.name for les in lessons}
    notebooks, scripts = [], []
    for les in lessons:
        row = ran.get(les.name)
        entry = cache.Entry(course, les.name)
        record = (row or {}).get("record")
        good = entry.load(record["key"]) if row and row["status"] == "ok" and record else None
        current = good is not None
        good = good or entry.load_any()  # failed or not in this build: its last good run
        if good is None:
            log.error("%s has never run successfully; it has no page yet.", les.name)
            continue
        nb, record = good
        bundle = pages.page_files(
            course,
            les.name,
            nb,
            record,
            (entry.notebook_path(record["key"]), les.path),
            stale=not current,
            gpu_lesson=bool(les.file_conf.get("needs_gpu")),
        )
        for path in [bundle.notebook, *bundle.images, *bundle.downloads]:
            _add(files, config, course.pages_dir, path)
        notebooks.append(bundle.downloads[0])
        scripts.append(bundle.downloads[1])
        card = {
            "name": les.name,
            "title": les.title,
            "promise": les.promise,
            "duration_s": record["duration_s"],
            "thumbnail": None,
            "alt": "",
        }
        image = pages.thumbnail(bundle, les.thumbnail_number)
        if image is not None:
            card["thumbnail"] = pages.write_thumbnail(course, les.name, image)
            card["alt"] = f"A plot from {les.title}"
            _add(files, config, course.pages_dir, card["thumbnail"])
        cards.append(card)
        status = row["status"] if row else "not in this build"
        hit = bool(row and row["cache_hit"])
        rows.append({"name": les.name, "status": status, "cache_hit": hit, "record": record})
        results.append(
            {
                "name": les.name,
                "title": les.title,
                "record": record,
                "headlines": pages.headlines(nb),
            }
        )
    _state["known"] = known
    _state["published"] = {
        les.day: les.name for les in lessons if les.name in {r["name"] for r in rows}
    }
    for label, members in (("notebooks", notebooks), ("scripts", scripts)):
        target = course.pages_dir / "downloads" / f"pytorch-course-{label}.zip"
        _add(files, config, course.pages_dir, pages.write_zip(target, members))
    files.append(File.generated(config, "runs.md", content=pages.runs_page(course.profile, rows)))
    files.append(
        File.generated(config, "results.md", content=pages.results_page(course.profile, results))
    )
    files.append(File.generated(config, "gallery.md", content=pages.gallery_markdown(cards)))
    return files


def on_page_markdown(markdown: str, page, config, files) -> str:
    """The home page's curriculum is generated: written lessons linked, the rest coming."""
    if "<!-- curriculum -->" in markdown:
        markdown = markdown.replace(
            "<!-- curriculum -->", pages.curriculum_markdown(_state.get("published", {}))
        )
    if "<!-- lesson-requirements -->" in markdown:
        markdown = markdown.replace(
            "<!-- lesson-requirements -->", pages.requirements_markdown(_state["lessons"])
        )
    return markdown


def _add(files: Files, config, root: Path, path: Path) -> None:
    """Add a file of the generated tree. Real files (src_dir set), not File.generated:
    mkdocs-jupyter's wrapper loses the source path of generated files."""
    src_uri = path.relative_to(root).as_posix()
    existing = files.get_file_from_path(src_uri)
    if existing is not None:
        files.remove(existing)
    files.append(File(src_uri, str(root), config.site_dir, config.use_directory_urls))


@event_priority(50)  # before the search plugin indexes the page
def on_page_content(html: str, page, config, files) -> str:
    if page.file.src_uri.startswith("lessons/") and htmlpost.WRAPPER in html:
        header, body = htmlpost.split_notebook_header(html)
        body, trailing_css = htmlpost.split_trailing_styles(body)
        if _state["header"] is None:
            _state["header"] = (header, trailing_css)
            css, _state["js"] = htmlpost.header_assets(header)
            _state["css"] = css if trailing_css in css else css + "\n" + trailing_css
        if (header, trailing_css) == _state["header"]:
            up = "../" * page.url.count("/")
            html = (
                f'<link rel="stylesheet" href="{up}assets/notebook.css">'
                f'<script src="{up}assets/notebook.js" defer></script>{body}'
            )
        else:  # a page styled differently keeps its own styles, minus CDN scripts
            log.warning("%s: notebook styles differ; kept inline", page.file.src_uri)
            html = htmlpost.strip_remote_scripts(header) + body + f"<style>{trailing_css}</style>"
        html = htmlpost.slim_copy_buttons(htmlpost.exclude_outputs_from_search(html))
        html = htmlpost.drop_cell_toolbars(html)
        html = htmlpost.solutions(htmlpost.admonitions(html))
        html = htmlpost.lesson_links(html, _state.get("known", set()))
        page.toc = get_toc(htmlpost.toc_tokens(body))
    return htmlpost.focusable_scrollers(htmlpost.render_math(html))


def on_post_build(config) -> None:
    if _state.get("css") is None:
        return
    site = Path(config.site_dir)
    assets = site / "assets"
    assets.mkdir(parents=True, exist_ok=True)
    pages_html = [p.read_text(encoding="utf-8") for p in (site / "lessons").glob("*/index.html")]
    css = htmlpost.purge_css(_state["css"], htmlpost.used_classes(pages_html))
    (assets / "notebook.css").write_text(css, encoding="utf-8")
    (assets / "notebook.js").write_text(_state["js"], encoding="utf-8")
