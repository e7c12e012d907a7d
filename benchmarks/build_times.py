"""Build benchmark: what each kind of change costs, and page weight.

Run it with ``nox -s bench`` (or ``.venv/bin/python benchmarks/build_times.py``).
It works on copies in a temporary folder (lessons, helper package, build folder), so
your own build cache and sources are not touched. Steps, each a build and what it ran:

1. cold build; 2. warm rebuilds (median of ``--repeat``);
3. a comment added to a helper module (goal: nothing re-runs);
4. a real change to ``course/cifar.py`` (goal: only the lessons importing it re-run);
5. the data directory copied elsewhere and the build pointed there (goal: nothing
   re-runs; needs ``COURSE_DATA_DIR``);
6. one lesson edited (goal: only it re-runs);
7. ``--shard 1/2`` + ``--shard 2/2`` + ``assemble`` from a cold build folder, compared
   with the cold build (goal: the same pages; each shard about half the lesson time).

It also times what the second language adds: warm rebuilds with the English edition only
(``COURSE_LANGUAGES=en``) against both, and the time the build log gives the zh-TW edition
(goal: seconds; no lesson runs), and reports each edition's lesson-page HTML sizes.

Options: ``--profile full`` (default smoke), ``--jobs N``, ``--repeat N``,
``--skip-shards``, ``--days 1-14`` (only those lessons). Prints a table and writes the
numbers to build/bench/<profile>.json.
"""

from __future__ import annotations

import argparse
import json
import os
import re
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
from pathlib import Path

ROOT = Path(__file__).resolve().parents[1]


ZH_LOG = re.compile(r"zh-TW edition built in ([\d.]+) s")


def site_builder(env: dict, *args: str, log: list | None = None) -> float:
    start = time.perf_counter()
    result = subprocess.run(
        [sys.executable, "-m", "site_builder", *args],
        cwd=ROOT,
        env=env,
        capture_output=True,
        text=True,
    )
    if result.returncode:
        raise SystemExit(f"site_builder {' '.join(args)} failed:\n{result.stderr[-3000:]}")
    if log is not None:
        log.append(result.stdout + result.stderr)
    return time.perf_counter() - start


def summary(build_dir: Path, profile: str) -> dict:
    return json.loads((build_dir / "summary" / f"last-build-{profile}.json").read_text())


def executed(build_dir: Path, profile: str) -> list[str]:
    return [r["name"] for r in summary(build_dir, profile)["lessons"] if not r["cache_hit"]]


def lesson_seconds(build_dir: Path, profile: str, names: list[str]) -> float:
    rows = summary(build_dir, profile)["lessons"]
    return sum(r["record"]["duration_s"] for r in rows if r["name"] in names)


def pages_of(site: Path) -> dict[str, str]:
    """Each lesson page's text, without the run date (two builds differ only there)."""
    return {
        p.parent.name: p.read_text(encoding="utf-8")
        for p in sorted((site / "lessons").glob("*/index.html"))
    }


def importers_of(tutorials: Path, module: str) -> list[str]:
    from site_builder.deps import HelperPackage

    package = HelperPackage(ROOT / "src" / "course")
    return [
        p.stem
        for p in sorted(tutorials.glob("day*.py"))
        if module in package.dependencies(p.read_text(encoding="utf-8"), p.name).modules
    ]


def main() -> None:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--profile", choices=["smoke", "full"], default="smoke")
    parser.add_argument("--jobs", type=int, default=1)
    parser.add_argument("--repeat", type=int, default=5)
    parser.add_argument("--skip-shards", action="store_true")
    parser.add_argument("--days", default="1-25", help="only these lessons, e.g. 1-14")
    args = parser.parse_args()
    rows: list[tuple[str, float, list[str], str]] = []

    with tempfile.TemporaryDirectory(prefix="course-bench-") as tmp:
        tmp = Path(tmp)
        tutorials = tmp / "tutorials"
        tutorials.mkdir()
        first, last = (int(d) for d in args.days.split("-"))
        for lesson in sorted((ROOT / "tutorials").glob("day*.py")):
            if first <= int(lesson.name[3:5]) <= last:
                shutil.copy(lesson, tutorials)
        helpers = tmp / "src" / "course"
        shutil.copytree(ROOT / "src" / "course", helpers)
        build_dir, site = tmp / "build", tmp / "site"
        env = {
            **os.environ,
            "COURSE_PROFILE": args.profile,
            "COURSE_BUILD_DIR": str(build_dir),
            "COURSE_TUTORIALS_DIR": str(tutorials),
            "COURSE_HELPERS_DIR": str(helpers),
            "PYTHONPATH": str(helpers.parent),  # the kernels import the copy
        }
        build = ["build", "--jobs", str(args.jobs), "--site-dir", str(site)]

        def step(label: str, goal: str) -> None:
            seconds = site_builder(env, *build)
            rows.append((label, seconds, executed(build_dir, args.profile), goal))

        step("cold build", "every lesson")
        cold_pages = pages_of(site)
        lesson_total = lesson_seconds(build_dir, args.profile, executed(build_dir, args.profile))
        logs: list[str] = []
        warm = [site_builder(env, *build, log=logs) for _ in range(args.repeat)]
        rows.append(("warm rebuild (median)", statistics.median(warm), [], "nothing"))
        english_env = {**env, "COURSE_LANGUAGES": "en"}
        english_only = [site_builder(english_env, *build) for _ in range(args.repeat)]
        rows.append(
            ("warm rebuild, English edition only (median)", statistics.median(english_only), [], "")
        )
        zh_logged = [float(m) for text in logs for m in ZH_LOG.findall(text)]
        zh_added = statistics.median(warm) - statistics.median(english_only)
        rows.append(("zh-TW edition: added (warm, both - English)", zh_added, [], "seconds"))
        if zh_logged:
            rows.append(
                (
                    "zh-TW edition: its build, from the log",
                    statistics.median(zh_logged),
                    [],
                    "seconds",
                )
            )

        cifar = helpers / "cifar.py"
        cifar.write_text(cifar.read_text() + "\n# A comment a maintainer added.\n")
        step("comment added to course/cifar.py", "nothing")
        cifar.write_text(cifar.read_text() + "\nBENCHMARK_CONSTANT = 1\n")
        importers = importers_of(tutorials, "course.cifar")
        step("real change to course/cifar.py", ", ".join(importers) or "nothing")

        data = os.environ.get("COURSE_DATA_DIR")
        if data:
            moved = tmp / "moved-data"
            shutil.copytree(data, moved)
            env["COURSE_DATA_DIR"] = str(moved)
            step("data directory moved (copied elsewhere)", "nothing")

        edited = sorted(tutorials.glob("day*.py"))[0]
        edited.write_text(edited.read_text() + "\n# benchmark edit\n")
        step("one lesson edited", edited.stem)

        shard_rows = []
        if not args.skip_shards:
            shard_build = tmp / "build-shards"
            shard_env = {**env, "COURSE_BUILD_DIR": str(shard_build)}
            shard_build.mkdir()  # the shards plan from the durations the cold build recorded
            shutil.copy(build_dir / f"durations-{args.profile}.json", shard_build)
            shard_site = tmp / "site-shards"
            for k in (1, 2):
                seconds = site_builder(shard_env, "build", "--no-site", "--shard", f"{k}/2")
                manifest = json.loads(
                    (
                        tmp / "build-shards" / "shards" / args.profile / f"shard-{k}-of-2.json"
                    ).read_text()
                )
                ran = [r["name"] for r in manifest["lessons"]]
                share = sum(r["record"]["duration_s"] for r in manifest["lessons"])
                shard_rows.append((f"shard {k}/2", seconds, ran, f"{share / lesson_total:.0%}"))
            seconds = site_builder(
                shard_env, "assemble", "--shards", "2", "--site-dir", str(shard_site)
            )
            shard_rows.append(("assemble 2 shards", seconds, [], "renders only"))
            same = pages_of(shard_site).keys() == cold_pages.keys()
            shard_rows.append(("same set of lesson pages as one build", float(same), [], "True"))
        shared_css = (site / "assets" / "notebook.css").stat().st_size
        pages = {
            p.parent.name: p.stat().st_size for p in sorted((site / "lessons").glob("*/index.html"))
        }
        pages_zh = {
            p.parent.name: p.stat().st_size
            for p in sorted((site / "zh-TW" / "lessons").glob("*/index.html"))
        }
        site_bytes = {
            "en": sum(
                p.stat().st_size
                for p in site.rglob("*")
                if p.is_file() and "zh-TW" not in p.relative_to(site).parts[:1]
            ),
            "zh-TW": sum(p.stat().st_size for p in (site / "zh-TW").rglob("*") if p.is_file()),
        }

    results = {
        "profile": args.profile,
        "jobs": args.jobs,
        "steps": [
            {"step": label, "seconds": round(s, 2), "executed": ran, "goal": goal}
            for label, s, ran, goal in rows + shard_rows
        ],
        "warm_rebuilds_s": [round(w, 2) for w in warm],
        "lesson_seconds_total": round(lesson_total, 1),
        "shared_notebook_css_bytes": shared_css,
        "page_html_bytes": pages,
        "page_html_bytes_zh_TW": pages_zh,
        "site_bytes": site_bytes,
        "zh_TW_added_s": round(zh_added, 2),
        "zh_TW_logged_s": [round(x, 2) for x in zh_logged],
    }
    out = ROOT / "build" / "bench" / f"{args.profile}.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(results, indent=2))

    print(f"profile {args.profile}, jobs {args.jobs}\n")
    print(f"| {'step':40} | {'time':>8} | re-ran | goal |")
    print(f"| {'-' * 40} | {'-' * 8} | --- | --- |")
    for label, seconds, ran, goal in rows:
        shown = f"{len(ran)}: {', '.join(ran)}" if 0 < len(ran) <= 4 else str(len(ran))
        print(f"| {label:40} | {seconds:6.1f} s | {shown} | {goal} |")
    for label, seconds, ran, goal in shard_rows:
        if label.startswith("same"):
            print(f"| {label:40} | {bool(seconds)!s:>8} | | {goal} |")
        else:
            share = f" ({goal} of the lesson time)" if label.startswith("shard") else ""
            print(f"| {label:40} | {seconds:6.1f} s | {len(ran)}{share} | |")
    for lang, sizes in (("en", pages), ("zh-TW", pages_zh)):
        if sizes:
            median, total = statistics.median(sizes.values()) / 1e3, site_bytes[lang] / 1e6
            print(f"{lang}: lesson page HTML median {median:.0f} KB, site {total:.1f} MB")
    print(f"\nlesson time in the cold build: {lesson_total:.1f} s; written to {out}")


if __name__ == "__main__":
    main()
