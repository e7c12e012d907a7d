"""The zh-TW edition: one run, rendered in two languages, and it cannot drift.

Small fixture lessons and catalogs written here, so nothing depends on how far the
translators are: a changed English paragraph marks exactly its entry stale and the
Chinese page shows the English with a note; a translated code cell whose code differs
from the English fails the build naming the lesson and the cell; the Chinese notebooks
are the English run's, outputs included; the cache keys do not see translations.
"""

from __future__ import annotations

import json
import os
import re
import shutil
import subprocess
import sys
import zipfile
from pathlib import Path

import nbformat
import pytest
from conftest import quiet

from site_builder import build, cache, i18n, lesson, translate
from site_builder.config import ROOT, Config
from site_builder.i18n import TranslationError

LESSON = '''\
"""
# Day {day} · Tiny lesson {day} (小課 {day})

A promise for lesson {day}.
"""

# %%
# ## 1. A section
#
# The first paragraph explains the code below.

value = {day} * 7  # seven times the day
print("value", value)

# %%
# ## 2. Another section
#
# {second}

print("done")

# %%
# **Solution 1.** The worked answer.

answer = value + 1  # the answer
print("answer", answer)
'''
SECOND = "The second paragraph, which an author will edit."


def chinese(unit: i18n.Unit) -> str:
    """A stand-in translation: code keeps its code (comments in Chinese), text in Chinese."""
    text = unit.text
    if unit.kind == "code":
        return text.replace("# seven times the day", "# 日數的七倍").replace(
            "# the answer", "# 答案"
        )
    if text.startswith("# Day"):
        day = re.search(r"Day (\d+)", text).group(1)
        return f"# 第 {day} 天 · 小課（Tiny lesson）\n\n第 {day} 課的承諾。"
    if text.startswith("**Solution 1.**"):
        return "**解答 1.** 解題過程。"
    heading = text.split("\n", 1)[0]
    return f"{heading}（中文）\n\n中文段落：{len(text)} 個字元的英文。"


def write_catalog(locale: Path, name: str, units, translate_unit=chinese) -> Path:
    catalog = i18n.updated_catalog(units, i18n.load_catalog(locale / "none.po"))
    by_text = {unit.text: unit for unit in units}
    for entry in catalog:
        entry.msgstr = translate_unit(by_text[entry.msgid]) or ""
    path = locale / "lessons" / f"{name}.po"
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(catalog.__unicode__(), encoding="utf-8")
    return path


def notebook_of(path: Path) -> nbformat.NotebookNode:
    return lesson.to_notebook(lesson.load(path), "https://example.org/course")


@pytest.fixture
def locale(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    folder = tmp_path / "locale"
    (folder / "pages").mkdir(parents=True)
    shutil.copy(i18n.PAGE_CATALOGS / "generated.po", folder / "pages")
    shutil.copy(i18n.LOCALE_DIR / "glossary.md", folder)
    monkeypatch.setenv("COURSE_LOCALE_DIR", str(folder))
    return folder


def markdown_sources(nb) -> list[str]:
    return [c.source for c in nb.cells if c.cell_type == "markdown"]


def test_a_changed_english_paragraph_marks_exactly_its_entry_stale(tmp_path, locale):
    script = tmp_path / "day03_tinyzh.py"
    script.write_text(LESSON.format(day=3, second=SECOND), encoding="utf-8")
    write_catalog(locale, "day03_tinyzh", i18n.lesson_units(script))

    zh, found = translate.translate_notebook(notebook_of(script), "day03_tinyzh")
    assert {m.state for m in found} == {"translated"}
    assert not any(translate.NOTE_CLASS in s for s in markdown_sources(zh))

    edited = "The second paragraph, which an author has now edited."
    script.write_text(LESSON.format(day=3, second=edited), encoding="utf-8")
    zh, found = translate.translate_notebook(notebook_of(script), "day03_tinyzh")
    stale = [m for m in found if m.state != "translated"]
    assert [m.state for m in stale] == ["stale"]
    assert edited in stale[0].unit.text and SECOND in stale[0].previous
    [shown] = [s for s in markdown_sources(zh) if translate.NOTE_CLASS in s]
    assert shown.startswith(translate.STALE_NOTE)
    assert edited in shown and '<div lang="en">' in shown  # the English, marked as English
    others = [s for s in markdown_sources(zh) if s != shown]
    assert all(re.search(r"[\u4e00-\u9fff]", s) for s in others)
    # The catalog tool agrees: `update` keeps the old translation, flagged fuzzy.
    catalog = i18n.updated_catalog(
        i18n.lesson_units(script), i18n.load_catalog(locale / "lessons" / "day03_tinyzh.po")
    )
    fuzzy = [e for e in catalog if "fuzzy" in e.flags]
    assert [e.msgid for e in fuzzy] == [stale[0].unit.text]


def test_a_new_paragraph_is_missing_and_shown_in_english(tmp_path, locale):
    script = tmp_path / "day03_tinyzh.py"
    script.write_text(LESSON.format(day=3, second=SECOND), encoding="utf-8")
    write_catalog(locale, "day03_tinyzh", i18n.lesson_units(script))
    added = "\n# %%\n# A paragraph nobody has translated yet, about something else.\n"
    script.write_text(script.read_text(encoding="utf-8") + added, encoding="utf-8")
    zh, found = translate.translate_notebook(notebook_of(script), "day03_tinyzh")
    assert translate.counts(found) == {"translated": 6, "stale": 0, "missing": 1, "total": 7}
    assert markdown_sources(zh)[-1].startswith(translate.MISSING_NOTE)


def test_an_untranslated_lesson_says_so_once(tmp_path, locale):
    script = tmp_path / "day03_tinyzh.py"
    script.write_text(LESSON.format(day=3, second=SECOND), encoding="utf-8")
    zh, found = translate.translate_notebook(notebook_of(script), "day03_tinyzh")
    assert {m.state for m in found} == {"missing"}
    notes = sum(s.count(f'class="{translate.NOTE_CLASS}') for s in markdown_sources(zh))
    assert notes == 1 and markdown_sources(zh)[0].startswith(translate.UNTRANSLATED_LESSON)


def test_a_translated_code_cell_with_other_code_fails_naming_lesson_and_cell(tmp_path, locale):
    script = tmp_path / "day03_tinyzh.py"
    script.write_text(LESSON.format(day=3, second=SECOND), encoding="utf-8")

    def wrong(unit):
        text = chinese(unit)
        return text.replace("* 7", "* 8") if unit.kind == "code" else text

    write_catalog(locale, "day03_tinyzh", i18n.lesson_units(script), wrong)
    with pytest.raises(TranslationError) as err:
        translate.translate_notebook(notebook_of(script), "day03_tinyzh")
    line = next(c.lineno for c in lesson.code_cells(lesson.load(script)) if "* 7" in c.source)
    assert "day03_tinyzh" in str(err.value) and f"day03_tinyzh.py:{line}" in str(err.value)
    assert "differs from the English one in its code" in str(err.value)


def test_the_chinese_script_is_a_lesson_with_the_same_code(tmp_path, locale):
    script = tmp_path / "day03_tinyzh.py"
    script.write_text(LESSON.format(day=3, second=SECOND), encoding="utf-8")
    write_catalog(locale, "day03_tinyzh", i18n.lesson_units(script))
    zh, _ = translate.translate_notebook(notebook_of(script), "day03_tinyzh")
    out = tmp_path / "zh" / "day03_tinyzh.py"
    out.parent.mkdir()
    out.write_text(translate.notebook_to_script(zh), encoding="utf-8")
    parsed = lesson.load(out)
    assert parsed.title.startswith("第 3 天")
    english = lesson.code_cells(lesson.load(script))
    chinese_cells = lesson.code_cells(parsed)
    assert [i18n.code_meaning(c.source) for c in chinese_cells] == [
        i18n.code_meaning(c.source) for c in english
    ]
    assert "# 日數的七倍" in out.read_text(encoding="utf-8")


def test_a_page_block_falls_back_with_a_note_and_headings_keep_their_anchors(locale):
    page = "# Setting up\n\nIntro text.\n\n## Installing locally with pip\n\nRun pip.\n"
    units = [
        i18n.Unit(body, "block", f"setup.md:{line}")
        for body, line, keep in i18n.markdown_blocks(page)
        if keep
    ]
    catalog = i18n.updated_catalog(units, i18n.load_catalog(locale / "none.po"))
    zh = {
        "# Setting up": "# 環境設定",
        "Intro text.": "介紹文字。",
        "## Installing locally with pip": "## 以 pip 在本機安裝",
        "Run pip.": "執行\npip。",
    }
    for entry in catalog:
        entry.msgstr = zh[entry.msgid]
    (locale / "pages" / "setup.po").write_text(catalog.__unicode__(), encoding="utf-8")
    text, found = translate.translate_page("setup.md", page)
    assert {m.state for m in found} == {"translated"}
    assert "## 以 pip 在本機安裝 { #installing-locally-with-pip }" in text
    assert "執行pip。" not in text and "執行\npip。" in text  # only CJK-CJK breaks are joined
    edited = page.replace("Intro text.", "Intro text, edited.")
    text, found = translate.translate_page("setup.md", edited)
    assert [m.state for m in found] == ["translated", "stale", "translated", "translated"]
    assert f"{translate.STALE_NOTE}\n\nIntro text, edited." in text
    untranslated, _ = translate.translate_page("index.md", page)
    assert untranslated.count(f'class="{translate.NOTE_CLASS}') == 1


def test_chinese_lines_are_joined_outside_code():
    text = "第一行\n第二行\n- 清單\n```\n程式\n碼\n```\nend\n中文"
    assert translate.join_cjk_lines(text) == "第一行第二行\n- 清單\n```\n程式\n碼\n```\nend\n中文"


def test_generated_strings_keep_their_placeholders():
    """A translated template of generated text has the English template's {fields} (else
    the page would show the English: see translate.Translator)."""
    tr = translate.translator()
    units = {u.text for u in translate.generated_units()}
    assert "Download notebook (.ipynb)" in units and "Open in Colab" in units
    for m in tr.found:
        if m.state == "translated":
            assert translate._fields(m.unit.text) == translate._fields(m.translation), m.unit
    assert tr("Open in Colab") != "Open in Colab"  # the catalog is in use
    assert tr("a string nobody marked") == "a string nobody marked"


def test_cache_keys_do_not_see_translations(tiny, locale):
    from conftest import write_lesson

    write_lesson(tiny.tutorials_dir, "day03_tinyzh", LESSON.format(day=3, second=SECOND))
    path = tiny.tutorials_dir / "day03_tinyzh.py"
    before = cache.key_of(cache.Keys(tiny).inputs(path))
    write_catalog(locale, "day03_tinyzh", i18n.lesson_units(path))
    assert cache.key_of(cache.Keys(tiny).inputs(path)) == before


# ---------------------------------------------------------------- a small site, both editions


def docs_lessons() -> list[str]:
    """The lessons the hand-written pages link to (the small site must have them)."""
    names = set()
    for page in i18n.PAGES:
        text = (ROOT / "docs" / page).read_text(encoding="utf-8")
        names.update(re.findall(r"lessons/(day\d\d_[a-z0-9_]+)\.ipynb", text))
    return sorted(names)


def mkdocs(config: Config, site: Path, locale: Path) -> subprocess.CompletedProcess:
    env = {
        **os.environ,
        "COURSE_PROFILE": config.profile,
        "COURSE_BUILD_DIR": str(config.build_dir),
        "COURSE_TUTORIALS_DIR": str(config.tutorials_dir),
        "COURSE_LOCALE_DIR": str(locale),
        "NO_MKDOCS_2_WARNING": "1",
    }
    return subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )


@pytest.fixture(scope="module")
def small_site(tmp_path_factory) -> dict:
    """Tiny lessons under the names the hand-written pages link to, executed once, and
    both editions built from them; the first lesson's catalog is translated and then one
    of its paragraphs edited (a rebuild of the page only, from the cache)."""
    base = tmp_path_factory.mktemp("zh-site")
    tutorials = base / "tutorials"
    tutorials.mkdir()
    names = docs_lessons()
    for name in names:
        day = int(name[3:5])
        (tutorials / f"{name}.py").write_text(
            LESSON.format(day=day, second=SECOND), encoding="utf-8"
        )
    locale = base / "locale"
    (locale / "pages").mkdir(parents=True)
    shutil.copy(i18n.PAGE_CATALOGS / "generated.po", locale / "pages")
    shutil.copy(i18n.LOCALE_DIR / "glossary.md", locale)
    first = tutorials / f"{names[0]}.py"
    write_catalog(locale, names[0], i18n.lesson_units(first))
    config = Config(
        tutorials_dir=tutorials,
        build_dir=base / "build",
        profile="smoke",
        timeout_s=60,
        repo_url="https://github.com/pytorch-course/pytorch-course",
    )
    outcomes = build.build_lessons(config, jobs=2, log=quiet)
    assert all(o.status == "ok" for o in outcomes), [o.error for o in outcomes]
    entries = {n: sorted((config.cache_dir / n).iterdir()) for n in names}
    # The author edits a paragraph of the translated lesson; the page is rebuilt from a
    # fresh run (the edit changes the lesson), the catalog is left as the translator left it.
    edited = "The second paragraph, which an author has now edited."
    first.write_text(LESSON.format(day=int(names[0][3:5]), second=edited), encoding="utf-8")
    build.build_lessons(config, jobs=2, log=quiet)  # runs the edited lesson only
    site = base / "site"
    result = mkdocs(config, site, locale)
    return {
        "config": config,
        "names": names,
        "site": site,
        "result": result,
        "locale": locale,
        "entries": entries,
        "edited": edited,
    }


def test_both_editions_build_and_no_lesson_runs_twice(small_site):
    result = small_site["result"]
    assert result.returncode == 0, result.stderr[-3000:]
    site, config = small_site["site"], small_site["config"]
    for name in small_site["names"]:
        assert (site / "lessons" / name / "index.html").is_file()
        assert (site / translate.LANG / "lessons" / name / "index.html").is_file()
        if name != small_site["names"][0]:  # rendering both editions ran nothing again
            assert sorted((config.cache_dir / name).iterdir()) == small_site["entries"][name]
    assert re.search(r"zh-TW edition built in [\d.]+ s", result.stderr)
    first = small_site["names"][0]
    assert re.search(rf"zh-TW {first}: 5/6 translated, 1 stale, 0 missing", result.stderr)


def test_the_chinese_page_shows_the_stale_paragraph_in_english_with_a_note(small_site):
    name = small_site["names"][0]
    page = (small_site["site"] / "zh-TW" / "lessons" / name / "index.html").read_text()
    assert '<html lang="zh-TW"' in page
    assert "中文段落" in page and "小課" in page
    note = re.search(r'<p class="translation-note translation-note--stale">(.*?)</p>', page)
    assert note and "此段翻譯已過期" in note.group(1)
    assert f'href="../../status/#{name}"' in note.group(1)
    assert small_site["edited"] in page
    assert "<summary>解答 1</summary>" in page
    status = (small_site["site"] / "zh-TW" / "status" / "index.html").read_text()
    assert f'id="{name}"' in status and "5 / 6" in status
    assert "已過期的段落" in status
    # An untranslated lesson says so once; the English page shows no note at all.
    other = small_site["names"][1]
    untranslated = (small_site["site"] / "zh-TW" / "lessons" / other / "index.html").read_text()
    assert untranslated.count('class="translation-note') == 1
    english = (small_site["site"] / "lessons" / name / "index.html").read_text()
    assert "translation-note" not in english


def test_the_language_switch_leads_to_the_same_page(small_site):
    site, name = small_site["site"], small_site["names"][0]
    english = (site / "lessons" / name / "index.html").read_text()
    assert f'href="../../zh-TW/lessons/{name}/" hreflang="zh-TW"' in english
    chinese = (site / "zh-TW" / "lessons" / name / "index.html").read_text()
    assert f'href="../../../lessons/{name}/" hreflang="en"' in chinese
    home = (site / "zh-TW" / "index.html").read_text()
    assert "印出的文字與圖表上的標籤來自英文版的執行" in home  # said once, on the home page
    assert home.count("來自英文版的執行") == 1


def test_chinese_downloads_hold_the_english_run(small_site):
    site, name = small_site["site"], small_site["names"][0]
    zh = nbformat.read(site / "zh-TW" / "downloads" / f"{name}.ipynb", as_version=4)
    nbformat.validate(zh)
    en = nbformat.read(site / "downloads" / f"{name}.ipynb", as_version=4)
    assert [c.get("outputs") for c in zh.cells] == [c.get("outputs") for c in en.cells]
    assert [c.cell_type for c in zh.cells] == [c.cell_type for c in en.cells]
    assert any("# 日數的七倍" in c.source for c in zh.cells if c.cell_type == "code")
    assert f"value {int(name[3:5]) * 7}" in json.dumps([c.get("outputs") for c in zh.cells])
    script = (site / "zh-TW" / "downloads" / f"{name}.py").read_text(encoding="utf-8")
    compile(script, f"{name}.py", "exec")
    page = (site / "zh-TW" / "lessons" / name / "index.html").read_text()
    assert f"blob/gh-pages/zh-TW/downloads/{name}.ipynb" in page
    with zipfile.ZipFile(site / "zh-TW" / "downloads" / "pytorch-course-notebooks.zip") as zf:
        assert {Path(n).name for n in zf.namelist()} == {f"{n}.ipynb" for n in small_site["names"]}


def test_a_bad_code_translation_fails_the_build_naming_lesson_and_cell(small_site, tmp_path):
    config, name = small_site["config"], small_site["names"][1]
    locale = tmp_path / "locale"
    shutil.copytree(small_site["locale"], locale)
    path = config.tutorials_dir / f"{name}.py"

    def wrong(unit):
        return chinese(unit).replace("+ 1", "+ 2") if unit.kind == "code" else chinese(unit)

    write_catalog(locale, name, i18n.lesson_units(path), wrong)
    result = mkdocs(config, tmp_path / "site", locale)
    assert result.returncode != 0
    line = next(c.lineno for c in lesson.code_cells(lesson.load(path)) if "+ 1" in c.source)
    assert f"{name}.py:{line}" in result.stderr and "differs from the English" in result.stderr
