"""Every lesson runs in the smoke profile (in the build of the site this folder tests)."""

from __future__ import annotations

import pytest

from site_builder import lesson
from site_builder.config import ROOT

LESSONS = lesson.discover(ROOT / "tutorials")


@pytest.mark.lessons
@pytest.mark.parametrize("path", LESSONS, ids=[p.stem for p in LESSONS])
def test_lesson_runs_in_smoke(smoke_site, path):
    outcome = smoke_site["outcomes"][path.stem]
    assert outcome.status == "ok", outcome.error
    assert outcome.record["profile"] == "smoke"
    assert outcome.record["duration_s"] > 0
