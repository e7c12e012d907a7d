"""The built site: pages, downloads, run report, page weight, clean tree, deploy."""

from __future__ import annotations

import json
import re
import subprocess

from site_builder import deploy
from site_builder.config import ROOT


def test_site_builds(smoke_site):
    result = smoke_site["mkdocs"]
    assert result.returncode == 0, result.stderr[-3000:]
    site = smoke_site["site"]
    for name in smoke_site["outcomes"]:
        assert (site / "lessons" / name / "index.html").is_file()
        assert (site / "downloads" / f"{name}.ipynb").is_file()
        assert (site / "downloads" / f"{name}.py").read_bytes() == (
            ROOT / "tutorials" / f"{name}.py"
        ).read_bytes()


def test_build_leaves_the_source_tree_clean(smoke_site):
    assert smoke_site["git_after"] == smoke_site["git_before"]
    assert not list((ROOT / "docs").rglob("*.ipynb"))


def test_lesson_page_shows_outputs_downloads_and_what_it_ran_on(smoke_site):
    page = (smoke_site["site"] / "lessons" / "day01_getting_started" / "index.html").read_text()
    assert 'href="../../downloads/day01_getting_started.ipynb"' in page
    assert 'href="../../downloads/day01_getting_started.py"' in page
    assert "colab.research.google.com/github/" in page
    assert "Ran on CPU" in page or "Ran on GPU" in page
    assert "Smoke build" in page  # a smoke page says so
    assert 'src="fig-01.png"' in page and "data:image/png;base64" not in page
    # Alt text says what each plot shows, from the figure's own titles and axis labels.
    assert re.search(r'<img alt="Figure 1: [^"]*\w[^"]*" class="lesson-figure"', page)
    assert "<math" in page  # math typeset at build time
    assert '<details class="solution">' in page
    assert "<style" not in page  # notebook styles are served once, not inlined


def test_one_setting_drives_colab_links_and_the_install_cell(smoke_site):
    from urllib.parse import urlparse

    from site_builder.config import repository_url

    repo = repository_url()
    notebook = json.loads(
        (smoke_site["site"] / "downloads" / "day01_getting_started.ipynb").read_text()
    )
    assert f"git+{repo}" in "".join(notebook["cells"][0]["source"])
    page = (smoke_site["site"] / "lessons" / "day01_getting_started" / "index.html").read_text()
    path = urlparse(repo).path.strip("/")
    assert f"colab.research.google.com/github/{path}/blob/gh-pages/downloads/" in page


def test_page_weight(smoke_site):
    """mkdocs-jupyter inlines ~600 KB of CSS per page by default; ours is served once.
    The Chinese pages are as light, and share the English edition's figures and styles."""
    for root in (smoke_site["site"], smoke_site["site"] / "zh-TW"):
        pages = list((root / "lessons").glob("*/index.html"))
        assert pages
        for page in pages:
            assert page.stat().st_size < 400_000, (page, page.stat().st_size)
    # JupyterLab's 590 KB stylesheet, trimmed to the rules the pages use, served once.
    assert 10_000 < (smoke_site["site"] / "assets" / "notebook.css").stat().st_size < 250_000
    zh = smoke_site["site"] / "zh-TW"
    assert not list((zh / "lessons").glob("*/fig-*.png"))
    page = (zh / "lessons" / "day01_getting_started" / "index.html").read_text()
    assert 'href="../../../assets/notebook.css"' in page
    assert 'src="../../../lessons/day01_getting_started/fig-01.png"' in page


def test_no_reference_to_another_host_is_loaded(smoke_site):
    for page in smoke_site["site"].rglob("*.html"):
        html = page.read_text()
        loaded = re.findall(
            r'<(?:script|link|img|iframe)[^>]+(?:src|href)="(https?://[^"]+)"', html
        )
        assert loaded == [], (page, loaded)


def test_run_report_lists_every_lesson(smoke_site):
    report = (smoke_site["site"] / "runs" / "index.html").read_text()
    for name in smoke_site["outcomes"]:
        assert f"lessons/{name}/" in report
    summary = smoke_site["summary"]
    assert summary["status"] == "ok" and summary["profile"] == "smoke"
    assert {row["name"] for row in summary["lessons"]} == set(smoke_site["outcomes"])


def test_deploy_pushes_the_site_to_a_bare_repository(smoke_site, tmp_path):
    remote = tmp_path / "remote.git"
    subprocess.run(["git", "init", "-q", "--bare", str(remote)], check=True)
    repo = tmp_path / "checkout"
    subprocess.run(["git", "init", "-q", str(repo)], check=True)
    env_cfg = ["-c", "user.name=Test", "-c", "user.email=test@example.invalid"]
    (repo / "README.md").write_text("course\n")
    subprocess.run(["git", "-C", str(repo), "add", "."], check=True)
    subprocess.run(["git", "-C", str(repo), *env_cfg, "commit", "-qm", "init"], check=True)
    head = deploy.git(repo, "rev-parse", "HEAD")
    site = smoke_site["site"]
    state = {"status": "ok", "site_dir": str(site), "commit": head, "profile": "smoke"}

    assert "smoke" in deploy.problem(state, site, head=head, dirty=False, allow_smoke=False)
    assert "uncommitted" in deploy.problem(state, site, head=head, dirty=True, allow_smoke=True)
    failed = {**state, "status": "failed"}
    assert "failed" in deploy.problem(failed, site, head=head, dirty=False, allow_smoke=True)
    assert deploy.problem(state, site, head=head, dirty=False, allow_smoke=True) is None

    deploy.publish(site, repo=repo, remote=str(remote), branch="gh-pages", message="Deploy test")
    files = subprocess.run(
        ["git", "-C", str(remote), "ls-tree", "-r", "--name-only", "gh-pages"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout.split()
    assert "lessons/day01_getting_started/index.html" in files
    assert "downloads/day01_getting_started.ipynb" in files
    assert ".nojekyll" in files
    page = subprocess.run(
        ["git", "-C", str(remote), "show", "gh-pages:lessons/day01_getting_started/index.html"],
        capture_output=True,
        text=True,
        check=True,
    ).stdout
    assert "Day 1 · " in page
    assert json.loads(json.dumps(state))  # state stays serialisable for the CLI


def test_no_page_or_notebook_shows_the_build_machine(smoke_site):
    """No absolute path of this build, no object repr with an address, no math rendered
    inside a copy button's text, in any page or downloadable notebook."""
    import tempfile
    from pathlib import Path

    needles = [str(ROOT) + "/", str(Path.home()) + "/", tempfile.gettempdir() + "/"]
    site = smoke_site["site"]
    for path in [*site.rglob("*.html"), *site.rglob("*.ipynb")]:
        text = path.read_text(encoding="utf-8", errors="ignore")
        assert not [n for n in needles if n in text], path
        assert not re.search(r"(object|Generator) at 0x[0-9a-f]{6,}", text), path
        assert not re.search(r'class="clipboard-copy-txt"[^>]*>[^<]*<math', text), path


def test_a_gpu_lesson_built_without_a_gpu_says_so_in_one_box(smoke_site):
    page = (smoke_site["site"] / "lessons" / "day04_gpu" / "index.html").read_text()
    record = smoke_site["outcomes"]["day04_gpu"].record
    box = "This page was built on a machine without a GPU"
    assert (box in page) == (record["device"] == "cpu")
    other = (smoke_site["site"] / "lessons" / "day02_tensors" / "index.html").read_text()
    assert box not in other


def test_course_results_page_lists_every_lesson_and_its_headline(smoke_site):
    results = (smoke_site["site"] / "results" / "index.html").read_text()
    for name in smoke_site["outcomes"]:
        assert f"lessons/{name}/" in results
    assert "CIFAR-10 test accuracy:" in results


def test_the_chinese_edition_has_every_lesson_from_the_english_run(smoke_site):
    """/zh-TW/: every lesson and hand-written page, in zh-TW, with the English run's outputs
    (the Chinese notebooks are the executed English ones with their text translated)."""
    import nbformat

    site, zh = smoke_site["site"], smoke_site["site"] / "zh-TW"
    assert "zh-TW edition built in" in smoke_site["mkdocs"].stderr
    for page in ("", "setup/", "gallery/", "runs/", "results/", "status/", "glossary/"):
        html = (zh / page / "index.html").read_text()
        assert '<html lang="zh-TW"' in html, page
    for name in smoke_site["outcomes"]:
        page = (zh / "lessons" / name / "index.html").read_text()
        assert f"blob/gh-pages/zh-TW/downloads/{name}.ipynb" in page
        assert f'href="../../../lessons/{name}/" hreflang="en"' in page  # the language switch
        chinese = nbformat.read(zh / "downloads" / f"{name}.ipynb", as_version=4)
        nbformat.validate(chinese)
        english = nbformat.read(site / "downloads" / f"{name}.ipynb", as_version=4)
        assert [c.get("outputs") for c in chinese.cells] == [
            c.get("outputs") for c in english.cells
        ], name
        compile((zh / "downloads" / f"{name}.py").read_text(encoding="utf-8"), name, "exec")
        assert f"lessons/{name}/" in (zh / "status" / "index.html").read_text()
        assert f"zh-TW {name}: " in smoke_site["mkdocs"].stderr  # the build log's count
    home = (zh / "index.html").read_text()
    assert "來自英文版的執行" in home and 'href="status/"' in home
