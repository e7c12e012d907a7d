"""The real site, built once for every test in this folder: each lesson executed in the
smoke profile, then both editions built by MkDocs."""

from __future__ import annotations

import json
import os
import subprocess
import sys

import pytest

from site_builder import build
from site_builder.config import ROOT, Config


@pytest.fixture(scope="session")
def smoke_site(tmp_path_factory) -> dict:
    """Every real lesson executed in the smoke profile, then the site built from them."""
    base = tmp_path_factory.mktemp("smoke")
    before = subprocess.run(
        ["git", "status", "--porcelain"], cwd=ROOT, capture_output=True, text=True
    ).stdout
    config = Config.from_env(profile="smoke", build_dir=base / "build")
    outcomes = build.build_lessons(config, jobs=2, log=lambda _msg: None)
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
