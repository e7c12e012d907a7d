"""Every lesson reads like a lesson of this course (tests/site/test_lessons_run.py runs them)."""

from __future__ import annotations

import re

import pytest

from site_builder import lesson
from site_builder.config import ROOT

LESSONS = lesson.discover(ROOT / "tutorials")


@pytest.mark.parametrize("path", LESSONS, ids=[p.stem for p in LESSONS])
def test_lesson_follows_the_course_format(path):
    les = lesson.load(path)
    # "Day N · English (中文)": the Chinese topic stays beside the English one.
    assert re.match(rf"Day {les.day} · .+\(.*[\u4e00-\u9fff].*\)$", les.title), les.title
    assert "**You will learn:**" in les.header and "**Reading time:**" in les.header
    cells = lesson.code_cells(les)
    solutions = {c.solution for c in cells if c.solution}
    assert 2 <= len(solutions) <= 4, f"{path.name}: 2-4 exercises with solutions"
    text = "\n".join(content for kind, content, _ in les.blocks if kind == "text")
    assert "## " in text and "Summary" in text and "Exercises" in text


def test_lessons_exist_for_week_one():
    days = {lesson.load(p).day for p in LESSONS}
    assert set(range(1, 8)) <= days


def test_what_lessons_need_is_in_the_lessons_extra():
    """The site's environment (the `lessons` extra) has every package a lesson declares."""
    import tomllib

    extra = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"][
        "optional-dependencies"
    ]["lessons"]
    declared = {re.split(r"[<>=!~;\[ ]", r, maxsplit=1)[0].lower() for r in extra}
    for path in LESSONS:
        for requirement in lesson.load(path).requires:
            name = re.split(r"[<>=!~;\[ ]", requirement, maxsplit=1)[0].lower()
            assert name in declared, f"{path.name} needs {name}: add it to the lessons extra"
