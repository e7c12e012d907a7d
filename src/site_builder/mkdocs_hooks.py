"""MkDocs hooks: lessons become pages without a generated file ever entering docs/.

Loaded through ``hooks:`` in mkdocs.yml. The hooks execute nothing: the site builder's
``build`` (or ``assemble``, or ``serve``) runs the lessons first and writes a build
summary; on every build and live-preview rebuild the hooks read that summary, add each
lesson's executed notebook (as the page), figures and downloads as generated files,
build the navigation from the lessons, and post-process the rendered HTML.

The same hooks build both editions: ``mkdocs.yml`` (English, at ``/``) and
``mkdocs.zh-TW.yml`` (Traditional Chinese, at ``/zh-TW/``; see
:mod:`site_builder.translate`). The English build's last step builds the Chinese one, so
every command that builds the site makes both. MkDocs loads this module once for both
configurations, so what each build found is kept per language (:func:`_edition`).
"""

from __future__ import annotations

import logging
import time
from pathlib import Path

import nbformat
from mkdocs.exceptions import PluginError
from mkdocs.plugins import event_priority
from mkdocs.structure.files import File, Files
from mkdocs.structure.toc import get_toc

from site_builder import build, cache, htmlpost, i18n, lesson, pages, translate
from site_builder.config import Config

log = logging.getLogger("mkdocs.hooks.course")
_state: dict = {"command": "build"}
_editions: dict[str, dict] = {}  # language -> what this build of that edition found


def _lang(config) -> str:
    return str(config.theme.get("language") or "en")


def _edition(config) -> dict:
    return _editions.setdefault(_lang(config), {})


def on_startup(command: str, dirty: bool) -> None:
    _state["command"] = command


def on_config(config):
    lang = _lang(config)
    course = Config.from_env(repo_url=config.extra.get("repository"))
    english = _editions.get("en", {})
    chinese = lang == translate.LANG
    if chinese and english.get("course") == course:  # the English build parsed them just now
        lessons = english["lessons"]
    else:
        try:
            lessons = [lesson.load(p) for p in lesson.discover(course.tutorials_dir)]
        except lesson.LessonError as err:
            raise PluginError(str(err)) from err
    if chinese:
        edition = translate.edition()
        titles = {les.name: translate.lesson_title(les) for les in lessons}
        translate.teach_segmenter()
    else:
        edition, titles = pages.ENGLISH, {les.name: les.title for les in lessons}
    # mkdocs-jupyter's render cache evicts what a build did not use: one folder per build
    # folder (a test's build does not evict the developer's) and per edition.
    jupyter = config.plugins.get("mkdocs-jupyter")
    if jupyter is not None:
        folder = course.build_dir / "mkdocs-jupyter-cache"
        jupyter.config["cache_dir"] = str(folder / translate.LANG if chinese else folder)
    _editions[lang] = dict(
        course=course,
        lessons=lessons,
        edition=edition,
        titles=titles,
        header=None,
        css=None,
        js=None,
    )
    tr = edition.tr
    weeks: dict[int, list] = {}
    for les in lessons:
        weeks.setdefault(pages.week_of(les.day), []).append(
            {titles[les.name]: f"lessons/{les.name}.ipynb"}
        )
    nav: list = [
        {tr("Home"): "index.md"},
        {tr("Lesson gallery"): "gallery.md"},
        {tr("Setting up"): "setup.md"},
    ]
    nav += [{tr(pages.WEEKS[w]): items} for w, items in sorted(weeks.items())]
    nav += [{tr("Course results"): "results.md"}, {tr("Run report"): "runs.md"}]
    if chinese:
        nav += [{translate.NAV_STATUS: "status.md"}, {translate.NAV_GLOSSARY: "glossary.md"}]
    nav += [{tr("Writing a lesson"): "authoring.md"}]
    config["nav"] = nav
    if translate.enabled():  # Material's language switch, in the header of every page
        config.extra["alternate"] = [
            {
                "name": translate.LANGUAGE_NAMES[other],
                "lang": other,
                "link": _root_link(lang, other),
            }
            for other in ("en", translate.LANG)
        ]
    return config


def _root_link(lang: str, other: str) -> str:
    """From an edition's root to another edition's root."""
    if lang == other:
        return "./"
    return translate.FOLDER if lang == "en" else "../"


@event_priority(100)  # before mkdocs-jupyter wraps notebook files
def on_files(files: Files, config) -> Files:
    state = _edition(config)
    if _lang(config) == translate.LANG:
        return _chinese_files(files, config, state)
    course: Config = state["course"]
    lessons = state["lessons"]
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
        good, current = _good_run(course, les, row)  # not current: its last good run
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
            card["alt"] = state["edition"].tr("A plot from {title}").format(title=les.title)
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
    state["known"] = known
    state["published"] = {
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


def _good_run(course: Config, les, row: dict | None):
    """The executed notebook and record a lesson's page shows, and whether it is this
    build's (else the last good run, or None when it never ran)."""
    entry = cache.Entry(course, les.name)
    record = (row or {}).get("record")
    good = entry.load(record["key"]) if row and row["status"] == "ok" and record else None
    current = good is not None
    good = good or entry.load_any()
    return good, current


def _chinese_files(files: Files, config, state: dict) -> Files:
    """The zh-TW edition's lessons, downloads and generated pages, from the English run:
    each lesson's executed notebook with its text translated (nothing runs again)."""
    course: Config = state["course"]
    edition: pages.Edition = state["edition"]
    tr = edition.tr
    root = translate.pages_root(course)
    try:
        summary = build.read_summary(course)
    except ValueError as err:
        raise PluginError(str(err)) from err
    ran = {row["name"]: row for row in summary["lessons"]}
    rows, cards, results, status = [], [], [], []
    notebooks, scripts = [], []
    for les in state["lessons"]:
        row = ran.get(les.name)
        good, current = _good_run(course, les, row)
        title = state["titles"][les.name]
        if good is None:  # no page in English either; the English build said so
            matches = translate.matches(
                i18n.lesson_units(les.path), translate.catalog_file(les.name)
            )
            status.append(_status_row(les.name, title, None, matches))
            continue
        nb, record = good
        try:
            zh, matches = translate.translate_notebook(nb, les.name, tr)
        except i18n.TranslationError as err:
            raise PluginError(f"zh-TW edition: {err}") from err
        counted = translate.counts(matches)
        log.info(
            "zh-TW %s: %d/%d translated, %d stale, %d missing",
            les.name,
            counted["translated"],
            counted["total"],
            counted["stale"],
            counted["missing"],
        )
        status.append(_status_row(les.name, title, f"lessons/{les.name}.ipynb", matches))
        script = translate.notebook_to_script(zh).encode("utf-8")
        bundle = pages.page_files(
            course,
            les.name,
            zh,
            record,
            (nbformat.writes(zh).encode("utf-8"), script),
            stale=not current,
            gpu_lesson=bool(les.file_conf.get("needs_gpu")),
            edition=edition,
            root=root,
        )
        for path in [bundle.notebook, *bundle.downloads]:
            _add(files, config, root, path)
        notebooks.append(bundle.downloads[0])
        scripts.append(bundle.downloads[1])
        header = zh.cells[0].source if zh.cells and zh.cells[0].cell_type == "markdown" else ""
        translated_header = bool(matches) and matches[0].state == "translated"
        card = {
            "name": les.name,
            "title": title,
            "promise": translate.promise(header) if translated_header else les.promise,
            "duration_s": record["duration_s"],
            "thumbnail": _has_figure(nb) or None,  # the English edition's thumbnail
            "alt": tr("A plot from {title}").format(title=title),
        }
        cards.append(card)
        hit = bool(row and row["cache_hit"])
        rows.append(
            {
                "name": les.name,
                "title": title,
                "status": row["status"] if row else "not in this build",
                "cache_hit": hit,
                "record": record,
            }
        )
        results.append(
            {"name": les.name, "title": title, "record": record, "headlines": pages.headlines(nb)}
        )
    state["known"] = {les.name for les in state["lessons"]}
    state["published"] = {
        les.day: les.name for les in state["lessons"] if les.name in {r["name"] for r in rows}
    }
    for name in i18n.PAGES:
        path = Path(config.docs_dir) / name
        if path.exists():
            found = translate.page_matches(name, path.read_text(encoding="utf-8"))
            title = {"index.md": tr("Home"), "setup.md": tr("Setting up")}.get(name)
            title = title or tr("Writing a lesson")
            status.append(_status_row(Path(name).stem, title, name, found))
    status.append(
        _status_row(translate.GENERATED, "自動產生的頁面（課程總覽、執行報告…）", None, tr.found)
    )
    state["status"] = status
    for label, members in (("notebooks", notebooks), ("scripts", scripts)):
        target = root / "downloads" / f"pytorch-course-{label}.zip"
        _add(files, config, root, pages.write_zip(target, members))
    generated = {
        "runs.md": pages.runs_page(course.profile, rows, edition),
        "results.md": pages.results_page(course.profile, results, edition),
        "gallery.md": pages.gallery_markdown(cards, edition),
        "status.md": translate.status_markdown(status),
        "glossary.md": translate.glossary_markdown(),
    }
    for name, content in generated.items():
        files.append(File.generated(config, name, content=content))
    return files


def _has_figure(nb) -> bool:
    """Whether a lesson's run drew a plot (then the English edition made its thumbnail)."""
    return any(
        "image/png" in output.get("data", {})
        for cell in nb.cells
        if cell.cell_type == "code"
        for output in cell.get("outputs", [])
    )


def _status_row(name: str, title: str, link: str | None, matches: list) -> dict:
    return {
        "name": name,
        "title": title,
        "link": link,
        **translate.counts(matches),
        "stale_units": translate.stale_units(matches),
    }


def on_page_markdown(markdown: str, page, config, files) -> str:
    """The home page's curriculum is generated: written lessons linked, the rest coming.
    In the zh-TW edition, a hand-written page is first put in Chinese from its catalog."""
    state = _edition(config)
    edition: pages.Edition = state["edition"]
    if edition.lang != "en" and page.file.src_uri in i18n.PAGES:
        markdown, _ = translate.translate_page(page.file.src_uri, markdown)
        if page.is_homepage:
            first = markdown.find("\n\n") + 2
            markdown = markdown[:first] + translate.HOME_NOTE + "\n" + markdown[first:]
    if "<!-- curriculum -->" in markdown:
        markdown = markdown.replace(
            "<!-- curriculum -->", pages.curriculum_markdown(state.get("published", {}), edition)
        )
    if "<!-- lesson-requirements -->" in markdown:
        markdown = markdown.replace(
            "<!-- lesson-requirements -->",
            pages.requirements_markdown(state["lessons"], edition, state["titles"]),
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
    state = _edition(config)
    if page.file.src_uri.startswith("lessons/") and htmlpost.WRAPPER in html:
        header, body = htmlpost.split_notebook_header(html)
        body, trailing_css = htmlpost.split_trailing_styles(body)
        up = "../" * page.url.count("/")
        english = _editions.get("en", {})
        if state["edition"].lang != "en" and english.get("header") == (header, trailing_css):
            up += "../"  # the same notebook styles as the English pages: theirs, one folder up
        elif state["header"] is None:
            state["header"] = (header, trailing_css)
            css, state["js"] = htmlpost.header_assets(header)
            state["css"] = css if trailing_css in css else css + "\n" + trailing_css
        if (header, trailing_css) in (state["header"], english.get("header")):
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
        if state["edition"].lang == "en":
            html = htmlpost.lesson_links(html, state.get("known", set()))
        else:
            html = htmlpost.lesson_links(html, state.get("known", set()), translate.NOT_YET)
        page.toc = get_toc(htmlpost.toc_tokens(body))
    if state["edition"].lang != "en" and translate.NOTE_CLASS in html:
        up = "../" * page.url.count("/")
        name = Path(page.file.src_uri).stem
        html = translate.add_status_links(html, f"{up}status/#{name}")
    return htmlpost.focusable_scrollers(htmlpost.render_math(html))


ONLY_IN = {translate.LANG: {"status/", "glossary/"}}  # pages one edition has and not the other


def on_page_context(context, page, config, nav):
    """The language switch leads to the same page in the other language (read by the
    theme override ``partials/alternate.html``); a page only one edition has leads to the
    other edition's home page."""
    lang = _lang(config)
    if not translate.enabled():
        return context
    up = "../" * page.url.count("/")
    urls = {lang: "./" if not page.url else up + page.url}
    for other in ("en", translate.LANG):
        if other != lang:
            same = page.url if page.url not in ONLY_IN.get(lang, ()) else ""
            urls[other] = (up + _root_link(lang, other) + same) or "./"
    page.alternate_urls = urls
    return context


def on_post_build(config) -> None:
    state = _edition(config)
    if state.get("css") is not None:
        site = Path(config.site_dir)
        assets = site / "assets"
        assets.mkdir(parents=True, exist_ok=True)
        pages_html = [
            p.read_text(encoding="utf-8") for p in (site / "lessons").glob("*/index.html")
        ]
        css = htmlpost.purge_css(state["css"], htmlpost.used_classes(pages_html))
        (assets / "notebook.css").write_text(css, encoding="utf-8")
        (assets / "notebook.js").write_text(state["js"], encoding="utf-8")
    if _lang(config) == "en" and translate.enabled():
        _build_chinese_edition(config)


def _build_chinese_edition(config) -> None:
    """The zh-TW edition into ``<site>/zh-TW``: a second MkDocs build of the same lessons'
    runs, in this process, so it adds seconds (no lesson runs again)."""
    from mkdocs.commands.build import build as mkdocs_build
    from mkdocs.config import load_config

    start = time.perf_counter()
    site_dir = Path(config.site_dir) / translate.FOLDER
    chinese = load_config(
        config_file=str(translate.CONFIG_FILE), site_dir=str(site_dir), strict=config.strict
    )
    chinese.plugins.on_startup(command=_state["command"], dirty=False)
    try:
        mkdocs_build(chinese)
    finally:
        chinese.plugins.on_shutdown()
    # A static host serves the site's one 404.html for every missing path; a second one,
    # written for /zh-TW/ as if it were the root (links from "/"), would only mislead.
    (site_dir / "404.html").unlink(missing_ok=True)
    log.info("zh-TW edition built in %.1f s into %s", time.perf_counter() - start, site_dir.name)
