"""Publish a built site to the gh-pages branch of a git remote (with ghp-import)."""

from __future__ import annotations

import os
import subprocess
import sys
from pathlib import Path


def git(repo: Path, *args: str) -> str:
    return subprocess.run(
        ["git", *args], cwd=repo, capture_output=True, text=True, check=False
    ).stdout.strip()


def problem(
    state: dict, site_dir: Path, *, head: str, dirty: bool, allow_smoke: bool
) -> str | None:
    """Why this site must not be published, or None when it may be."""
    if dirty:
        return "the working tree has uncommitted changes; commit them and build again"
    if state.get("status") != "ok":
        return "the last build failed or never ran"
    if Path(state.get("site_dir") or "") != site_dir or not (site_dir / "index.html").is_file():
        return f"{site_dir} is not the output of the last successful build"
    if state.get("commit") != head:
        return "the site was built from another commit than HEAD; build again"
    if state.get("profile") != "full" and not allow_smoke:
        return "this is a smoke-profile build; publish a full build (or pass --allow-smoke)"
    return None


def publish(site_dir: Path, *, repo: Path, remote: str, branch: str, message: str) -> None:
    """Commit ``site_dir`` as the whole tree of ``branch`` and force-push it to ``remote``."""
    env = dict(os.environ)
    if not git(repo, "config", "user.name"):  # a fresh CI machine has no git identity
        env.setdefault("GIT_COMMITTER_NAME", "course-site deploy")
        env.setdefault("GIT_COMMITTER_EMAIL", "deploy@localhost")
    result = subprocess.run(
        [
            sys.executable,
            "-m",
            "ghp_import",
            "--no-jekyll",
            "--push",
            "--force",
            "--remote",
            remote,
            "--branch",
            branch,
            "--message",
            message,
            str(site_dir),
        ],
        cwd=repo,
        env=env,
        capture_output=True,
        text=True,
        check=False,
    )
    if result.returncode != 0:
        raise RuntimeError(f"ghp-import failed: {result.stderr.strip() or result.stdout.strip()}")
