"""Build benchmark: cold build vs warm rebuild, a one-lesson edit, and page weight.

Run it with ``nox -s bench`` (or ``.venv/bin/python benchmarks/build_times.py``).
It works on copies in a temporary folder, so your own build cache and lessons are
not touched. Options: ``--profile full`` (default smoke), ``--jobs N``,
``--repeat N`` (warm rebuilds to take the median of).

Prints a table and writes the numbers to build/bench/<profile>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


def timed_build(env: dict, site: Path, jobs: int) -> float:
    start = time.perf_counter()
    subprocess.run(
        [
            sys.executable,
            "-m",
            "site_builder",
            "build",
            "--jobs",
            str(jobs),
            "--site-dir",
            str(site),
        ],
        cwd=ROOT,
        env=env,
        check=True,
        stdout=subprocess.DEVNULL,
        stderr=subprocess.DEVNULL,
    )
    return time.perf_counter() - start


def executed(build_dir: Path, profile: str) -> list[str]:
    summary = json.loads((build_dir / f"last-build-{profile}.json").read_text())
    return [row["name"] for row in summary["lessons"] if not row["cache_hit"]]


def default_page_size(notebook: Path) -> int:
    """What mkdocs-jupyter would make of the executed notebook by default: inline CSS
    and base64 images in every page."""
    from mkdocs_jupyter import convert

    return len(convert.nb2html(str(notebook)).encode())


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", choices=["smoke", "full"], default="smoke")
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=5)
    args = parser.parse_args()

    with tempfile.TemporaryDirectory(prefix="course-bench-") as tmp:
        tmp = Path(tmp)
        tutorials = tmp / "tutorials"
        shutil.copytree(ROOT / "tutorials", tutorials)
        build_dir, site = tmp / "build", tmp / "site"
        env = {
            **os.environ,
            "COURSE_PROFILE": args.profile,
            "COURSE_BUILD_DIR": str(build_dir),
            "COURSE_TUTORIALS_DIR": str(tutorials),
        }
        cold = timed_build(env, site, args.jobs)
        cold_ran = executed(build_dir, args.profile)
        warm = [timed_build(env, site, args.jobs) for _ in range(args.repeat)]
        warm_ran = executed(build_dir, args.profile)

        edited = sorted(tutorials.glob("day*.py"))[0]
        edited.write_text(edited.read_text() + "\n# benchmark edit\n")
        one_edit = timed_build(env, site, args.jobs)
        edit_ran = executed(build_dir, args.profile)

        pages = {}
        for page in sorted((site / "lessons").glob("*/index.html")):
            name = page.parent.name
            notebook = build_dir / "cache" / args.profile / name / "executed.ipynb"
            pages[name] = {
                "html_bytes": page.stat().st_size,
                "default_mkdocs_jupyter_bytes": default_page_size(notebook),
            }
        shared_css = (site / "assets" / "notebook.css").stat().st_size

    warm_median = statistics.median(warm)
    results = {
        "profile": args.profile,
        "jobs": args.jobs,
        "lessons": len(cold_ran),
        "cold_build_s": round(cold, 2),
        "warm_rebuild_median_s": round(warm_median, 2),
        "warm_rebuilds_s": [round(w, 2) for w in warm],
        "cold_over_warm": round(cold / warm_median, 1),
        "warm_executed": warm_ran,
        "one_lesson_edit_s": round(one_edit, 2),
        "one_lesson_edit_executed": edit_ran,
        "shared_notebook_css_bytes": shared_css,
        "pages": pages,
    }
    out = ROOT / "build" / "bench" / f"{args.profile}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))

    print(f"profile {args.profile}, {len(cold_ran)} lessons, jobs {args.jobs}")
    print(f"cold build              {cold:8.1f} s  (executed {len(cold_ran)} lessons)")
    print(
        f"warm rebuild (median)   {warm_median:8.2f} s  (executed {len(warm_ran)}; "
        f"{args.repeat} runs)  -> {cold / warm_median:.0f}x faster"
    )
    print(f"one lesson edited       {one_edit:8.1f} s  (executed: {', '.join(edit_ran) or 'none'})")
    print(f"\n{'lesson page':32} {'HTML now':>10} {'default':>10}")
    for name, sizes in pages.items():
        print(
            f"{name:32} {sizes['html_bytes'] / 1e3:8.0f} KB "
            f"{sizes['default_mkdocs_jupyter_bytes'] / 1e3:8.0f} KB"
        )
    print(f"(plus {shared_css / 1e3:.0f} KB of notebook CSS served once for the whole site)")
    print(f"\nwritten to {out}")


if __name__ == "__main__":
    main()
