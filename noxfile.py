"""Maintainer sessions: build, assemble, serve, lesson, tests, lint, bench, deploy.

Every session except ``lint`` runs in one shared environment, ``.venv`` (or
``$COURSE_VENV``): torch (several GB) is installed there once, not once per
session. It is (re)installed only when ``pyproject.toml`` changes.

    nox -s build                 # execute stale lessons, build the site into site/
    nox -s build -- --jobs 2     # ... two lessons at a time
    nox -s build -- --no-site --shard 1/2   # one shard of the lessons (CI's matrix)
    nox -s assemble -- --shards 2           # ... then the site from all shards
    nox -s serve                 # live preview on http://127.0.0.1:8000
    nox -s lesson -- day06       # run one lesson, print where its notebook went
    nox -s tests                 # the test suite (smoke profile)
    nox -s lint                  # ruff
    nox -s bench                 # cold vs warm build timings and page weight
    nox -s deploy -- --remote origin
"""

from __future__ import annotations

import hashlib
import os
import sys
from pathlib import Path

import nox

ROOT = Path(__file__).parent
VENV = Path(os.environ.get("COURSE_VENV", ROOT / ".venv"))
PYTHON = VENV / ("Scripts/python.exe" if sys.platform == "win32" else "bin/python")

nox.options.sessions = ["lint", "tests"]
nox.options.reuse_venv = "yes"


def course_env(session: nox.Session) -> str:
    """Create or update the shared environment; return its Python."""
    stamp = VENV / ".course-installed"
    wanted = hashlib.sha256((ROOT / "pyproject.toml").read_bytes()).hexdigest()
    if PYTHON.exists() and stamp.exists() and stamp.read_text() == wanted:
        return str(PYTHON)
    if not PYTHON.exists():
        session.run(sys.executable, "-m", "venv", str(VENV), external=True)
    pip = [str(PYTHON), "-m", "pip", "install", "--quiet", "--disable-pip-version-check"]
    session.run(*pip, "--upgrade", "pip", external=True)
    # torch and torchvision come in with the project's own dependency ranges.
    session.run(*pip, "-e", f"{ROOT}[test,lint]", external=True)
    stamp.write_text(wanted)
    return str(PYTHON)


def site_builder(session: nox.Session, *args: str) -> None:
    python = course_env(session)
    session.run(python, "-m", "site_builder", *args, external=True)


@nox.session(venv_backend="none")
def build(session: nox.Session) -> None:
    """Execute stale lessons (cached by content hash) and build the site into site/."""
    site_builder(session, "build", *session.posargs)


@nox.session(venv_backend="none")
def assemble(session: nox.Session) -> None:
    """Build the site from N shard builds (nox -s assemble -- --shards N)."""
    site_builder(session, "assemble", *session.posargs)


@nox.session(venv_backend="none")
def serve(session: nox.Session) -> None:
    """Live preview: saving a lesson re-runs it and reloads the page."""
    site_builder(session, "serve", *session.posargs)


@nox.session(venv_backend="none")
def lesson(session: nox.Session) -> None:
    """Run one lesson by name (nox -s lesson -- day06) and print where its notebook went."""
    if not session.posargs:
        session.error("Name a lesson: nox -s lesson -- day06 (or a day number, or a full name)")
    site_builder(session, "lesson", *session.posargs)


@nox.session(venv_backend="none")
def tests(session: nox.Session) -> None:
    """The test suite: pipeline, helpers, every lesson in smoke, the site, a real browser.

    Runs on up to four workers (pytest-xdist): the tests of the smoke-built site on one,
    the rest beside it (tests/conftest.py; ``-- -n 0`` runs everything in one process)."""
    python = course_env(session)
    workers = ["-n", "auto", "--maxprocesses", "4"]
    session.run(python, "-m", "pytest", *workers, *session.posargs, external=True)


@nox.session
def lint(session: nox.Session) -> None:
    """ruff: lint and formatting check (a small environment of its own, no torch)."""
    session.install("ruff>=0.6")
    session.run("ruff", "check", ".")
    session.run("ruff", "format", "--check", "src", "tests", "noxfile.py", "benchmarks")


@nox.session(venv_backend="none")
def bench(session: nox.Session) -> None:
    """Cold build vs warm rebuild, a one-lesson edit, and the lesson page's weight."""
    python = course_env(session)
    session.run(python, "benchmarks/build_times.py", *session.posargs, external=True)


@nox.session(venv_backend="none")
def deploy(session: nox.Session) -> None:
    """Publish site/ to gh-pages (nox -s deploy -- --remote URL); refuses failed or dirty builds."""
    site_builder(session, "deploy", *session.posargs)
