"""Shared fixtures: tiny lessons for the pipeline tests, one smoke build of the real site (for
the tests in tests/site/), and how pytest-xdist shares the tests out."""

from __future__ import annotations

import ast
import json
import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from site_builder import build
from site_builder.config import ROOT, Config

TINY_LESSON = '''\
"""
# Day {day} · Tiny lesson {day} (小課 {day})

A promise for lesson {day}.

**You will learn:** nothing much
"""

# %%
# ## 1. A section
#
# Some *Markdown* with $a^2 + b^2 = c^2$.

import os

print("profile", os.environ["COURSE_PROFILE"])
value = {day} * 7
print("value", value)
'''


def write_lesson(folder: Path, name: str, body: str) -> Path:
    path = folder / f"{name}.py"
    path.write_text(textwrap.dedent(body), encoding="utf-8")
    return path


@pytest.fixture
def tiny(tmp_path: Path, monkeypatch: pytest.MonkeyPatch):
    """A tutorials folder with two tiny lessons, a helper package and a fresh build folder.

    The helper package ``helpers`` (importable by the lessons' kernels) has ``util`` and
    ``other``; only Day 1 imports a helper (``from helpers.util import X``).
    """
    tutorials = tmp_path / "tutorials"
    tutorials.mkdir()
    for day in (1, 2):
        write_lesson(tutorials, f"day0{day}_tiny", TINY_LESSON.format(day=day))
    day1 = tutorials / "day01_tiny.py"
    day1.write_text(day1.read_text() + "\nfrom helpers.util import X\nprint('X', X)\n")
    helpers = tmp_path / "src" / "helpers"
    helpers.mkdir(parents=True)
    (helpers / "__init__.py").write_text('"""Tiny helpers."""\n', encoding="utf-8")
    (helpers / "util.py").write_text("X = 1\n", encoding="utf-8")
    (helpers / "other.py").write_text("Y = 1\n", encoding="utf-8")
    monkeypatch.setenv("PYTHONPATH", str(helpers.parent))
    config = Config(
        tutorials_dir=tutorials,
        helpers_dir=helpers,
        build_dir=tmp_path / "build",
        profile="smoke",
        timeout_s=60,
    )
    return config


def quiet(_msg: str) -> None:
    pass


def newest_notebook(config: Config, name: str):
    """The executed notebook of a lesson's newest good cache entry."""
    from site_builder import cache

    found = cache.Entry(config, name).load_any()
    assert found is not None, f"{name} has no good cache entry"
    return found[0]


SITE_TESTS = "tests/site/"  # the tests of the smoke-built site, and only they, live here


def pytest_xdist_make_scheduler(config, log):
    """``nox -s tests`` runs the suite on several workers (pytest-xdist): the tests of the
    smoke-built site (tests/site/) go to one worker as one unit, so the site is built once,
    while the other workers take the rest test by test."""
    if config.getvalue("dist") != "load":
        return None
    from xdist.scheduler import LoadScopeScheduling

    class SiteTestsTogether(LoadScopeScheduling):
        def _split_scope(self, nodeid: str) -> str:
            return SITE_TESTS if nodeid.startswith(SITE_TESTS) else nodeid

    return SiteTestsTogether(config, log)


def pytest_collection_modifyitems(items) -> None:
    """The tests that use the smoke-built site live in tests/site/, which the scheduler
    above keeps on one worker."""
    outside = [
        item.nodeid
        for item in items
        if "smoke_site" in item.fixturenames and not item.nodeid.startswith(SITE_TESTS)
    ]
    if outside:
        raise pytest.UsageError(
            "tests that use smoke_site belong in tests/site/ (run there on one pytest-xdist "
            "worker, which builds the site once): " + ", ".join(outside)
        )


@pytest.fixture(scope="session")
def smoke_site(tmp_path_factory) -> dict:
    """Every real lesson executed in the smoke profile, then the site built from them."""
    base = tmp_path_factory.mktemp("smoke")
    before = subprocess.run(
        ["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True
    ).stdout
    config = Config.from_env(profile="smoke", build_dir=base / "build")
    outcomes = build.build_lessons(config, jobs=2, log=quiet)
    site = base / "site"
    env = {
        **os.environ,
        "COURSE_PROFILE": "smoke",
        "COURSE_BUILD_DIR": str(config.build_dir),
        "NO_MKDOCS_2_WARNING": "1",
    }
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site)],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    after = subprocess.run(
        ["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True
    ).stdout
    return {
        "config": config,
        "outcomes": {o.name: o for o in outcomes},
        "site": site,
        "mkdocs": result,
        "git_before": before,
        "git_after": after,
        "summary": json.loads(build.summary_path(config).read_text()),
    }


def without_docstrings(node: ast.AST) -> str:
    """A definition's code without docstrings and type annotations, for checking that a
    lesson and the helper package define the same thing (the lesson may write
    ``course.cifar.Recipe`` where the module writes ``Recipe``)."""
    for item in ast.walk(node):
        if isinstance(item, ast.arg):
            item.annotation = None
        if isinstance(item, (ast.FunctionDef, ast.AsyncFunctionDef)):
            item.returns = None
        body = getattr(item, "body", None)
        if (
            isinstance(item, (ast.FunctionDef, ast.ClassDef, ast.AsyncFunctionDef))
            and body
            and isinstance(body[0], ast.Expr)
            and isinstance(body[0].value, ast.Constant)
            and isinstance(body[0].value.value, str)
        ):
            item.body = body[1:]
    return ast.dump(node, include_attributes=False)


def lesson_copy_difference(lesson: Path, obj) -> str | None:
    """None when the lesson file defines ``obj`` (a package function or class) with the
    same code, docstrings and annotations aside; else what differs, in words."""
    import inspect

    defined = {
        node.name: node
        for node in ast.parse(lesson.read_text(encoding="utf-8")).body
        if isinstance(node, ast.FunctionDef | ast.ClassDef)
    }
    name = obj.__name__
    if name not in defined:
        return f"{lesson.name} no longer defines {name}"
    package = ast.parse(inspect.getsource(obj)).body[0]
    if without_docstrings(defined[name]) != without_docstrings(package):
        return f"{name} in {lesson.name} differs from {obj.__module__}.{name}: change both"
    return None
