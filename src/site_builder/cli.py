"""``course-site``: build, preview, run one lesson, deploy.

The nox sessions call these commands; they work without nox too
(``python -m site_builder build``).
"""

from __future__ import annotations

import argparse
import contextlib
import json
import os
import subprocess
import sys
import threading
import time
from pathlib import Path

from site_builder import build, cache, deploy, lesson, shards
from site_builder.config import PROFILES, ROOT, Config, write_json
from site_builder.deps import DependencyError


def _config(args) -> Config:
    return Config.from_env(
        profile=getattr(args, "profile", None), timeout_s=getattr(args, "timeout", None)
    )


def _check_data_dir() -> None:
    """A data directory that is set must exist; unset is fine until a lesson needs data."""
    value = os.environ.get("COURSE_DATA_DIR")
    if value and not Path(value).is_dir():
        raise SystemExit(
            f"COURSE_DATA_DIR is set to {value!r}, which is not a directory. Point it at a "
            "folder holding the course's datasets (for example ../shared/data), or unset it "
            "so that lessons download what they need."
        )


def _mkdocs_env(config: Config) -> dict[str, str]:
    return {
        **os.environ,
        "COURSE_PROFILE": config.profile,
        "COURSE_BUILD_DIR": str(config.build_dir),
        "COURSE_TUTORIALS_DIR": str(config.tutorials_dir),
        "NO_MKDOCS_2_WARNING": "1",
    }


def _site_state_path(config: Config) -> Path:
    return config.build_dir / "last-site.json"


def cmd_build(args) -> int:
    config = _config(args)
    _check_data_dir()
    shard = shards.parse(args.shard) if args.shard else None
    outcomes = build.build_lessons(
        config, args.lessons or None, jobs=args.jobs, force=args.force, shard=shard
    )
    try:
        build.raise_for_failures(outcomes)
    except build.BuildFailed as err:
        write_json(_site_state_path(config), _site_state(config, "failed"))
        print(f"\nBUILD FAILED\n\n{err}", file=sys.stderr)
        return 1
    if shard is not None:
        print(f"Shard {shard} done; build the site with `assemble --shards {shard.count}`.")
        return 0
    if args.no_site:
        return 0
    return _render(config, Path(args.site_dir).resolve())


def cmd_assemble(args) -> int:
    """Merge the shards' manifests into one build summary, then render the site."""
    config = _config(args)
    summary = shards.assemble(config, args.shards)
    path = build.summary_path(config)
    write_json(path, summary)
    shards.write_durations(config, summary["lessons"])
    failed = [row["name"] for row in summary["lessons"] if row["status"] != "ok"]
    if failed:
        write_json(_site_state_path(config), _site_state(config, "failed"))
        print(f"BUILD FAILED: {', '.join(failed)} failed in their shard.", file=sys.stderr)
        return 1
    return _render(config, Path(args.site_dir).resolve())


def _site_state(config: Config, status: str, site_dir: Path | None = None) -> dict:
    return {
        "profile": config.profile,
        "site_dir": None if site_dir is None else str(site_dir),
        "status": status,
        "commit": deploy.git(ROOT, "rev-parse", "HEAD"),
    }


def _render(config: Config, site_dir: Path) -> int:
    """mkdocs renders what the executor produced (the build summary); it executes nothing."""
    result = subprocess.run(
        [sys.executable, "-m", "mkdocs", "build", "--strict", "--site-dir", str(site_dir)],
        cwd=ROOT,
        env=_mkdocs_env(config),
        check=False,
    )
    ok = result.returncode == 0
    write_json(_site_state_path(config), _site_state(config, "ok" if ok else "failed", site_dir))
    if ok:
        print(f"Site built in {site_dir}")
    return result.returncode


def cmd_lesson(args) -> int:
    config = _config(args)
    _check_data_dir()
    try:
        [outcome] = build.build_lessons(config, [args.name], force=args.force, summary=False)
    except lesson.LessonError as err:
        print(err, file=sys.stderr)
        return 2
    if outcome.status != "ok":
        print(f"\nLESSON FAILED\n\n{outcome.error}", file=sys.stderr)
        return 1
    rec = outcome.record
    print(
        f"{outcome.name}: ok ({'cached' if outcome.cache_hit else 'executed'}), "
        f"{rec['duration_s']:.1f} s on {rec.get('device', '?')}, profile {config.profile}"
    )
    print(f"Executed notebook: {cache.Entry(config, outcome.name).notebook_path(rec['key'])}")
    print(f"Working directory: {config.work_dir / outcome.name}")
    return 0


def cmd_list(args) -> int:
    """Each lesson: up to date, or stale and why (which of its inputs changed)."""
    config = _config(args)
    keys = cache.Keys(config)
    for path in lesson.discover(config.tutorials_dir):
        entry = cache.Entry(config, path.stem)
        try:
            inputs = keys.inputs(path)
        except DependencyError as err:
            print(f"{path.stem:32} broken: {err}")
            continue
        current = entry.load(cache.key_of(inputs))
        newest = entry.load_any()
        if current is not None:
            state = f"up to date ({current[1]['duration_s']:.1f} s)"
        elif newest is None:
            state = "not run"
        else:
            state = "stale: " + "; ".join(cache.changes(newest[1].get("inputs"), inputs))
        print(f"{path.stem:32} {state}")
    return 0


def cmd_serve(args) -> int:
    """Live preview: this process executes (now, and whenever a lesson or helper file
    changes); mkdocs only re-renders, when the build summary changes."""
    config = _config(args)
    _check_data_dir()

    def rebuild() -> None:
        build.build_lessons(config, jobs=args.jobs)

    rebuild()
    watcher = threading.Thread(
        target=_watch_sources, args=(config, rebuild), name="lesson-watcher", daemon=True
    )
    watcher.start()
    return subprocess.call(
        [
            *(sys.executable, "-m", "mkdocs", "serve", "--dev-addr", args.dev_addr),
            *("--watch", str(build.summary_path(config).parent)),
            # A saved translation re-renders the zh-TW edition (/zh-TW/); nothing re-runs.
            *("--watch", str(ROOT / "locale")),
        ],
        cwd=ROOT,
        env=_mkdocs_env(config),
    )


def _source_state(config: Config) -> dict[str, tuple[int, int]]:
    state = {}
    for folder in (config.tutorials_dir, config.helpers_dir):
        for path in folder.rglob("*.py"):
            with contextlib.suppress(OSError):
                stat = path.stat()
                state[str(path)] = (stat.st_mtime_ns, stat.st_size)
    return state


def _watch_sources(config: Config, rebuild, interval_s: float = 1.0) -> None:
    """Poll the lessons and helpers; on a change, run the build (cached lessons cost a hash)."""
    seen = _source_state(config)
    while True:
        time.sleep(interval_s)
        now = _source_state(config)
        if now != seen:
            seen = now
            try:
                rebuild()
            except (lesson.LessonError, ValueError) as err:  # a half-saved file: say so, go on
                print(err, file=sys.stderr)


def cmd_deploy(args) -> int:
    config = _config(args)
    try:
        state = json.loads(_site_state_path(config).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        state = {}
    site_dir = Path(args.site_dir).resolve()
    why = deploy.problem(
        state,
        site_dir,
        head=deploy.git(ROOT, "rev-parse", "HEAD"),
        dirty=bool(deploy.git(ROOT, "status", "--porcelain")),
        allow_smoke=args.allow_smoke,
    )
    if why:
        print(f"Refusing to deploy: {why}. Run `nox -s build`, then deploy.", file=sys.stderr)
        return 1
    try:
        deploy.publish(
            site_dir,
            repo=ROOT,
            remote=args.remote,
            branch=args.branch,
            message=f"Deploy site built from {state['commit'][:12]}",
        )
    except RuntimeError as err:
        print(f"Deploy failed: {err}", file=sys.stderr)
        return 1
    print(f"Published {site_dir} to branch {args.branch} of {args.remote}")
    return 0


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(prog="course-site", description=__doc__)
    sub = parser.add_subparsers(dest="command", required=True)

    def common(p):
        p.add_argument("--profile", choices=PROFILES, help="default: $COURSE_PROFILE or full")
        p.add_argument("--timeout", type=float, help="seconds per lesson (default per profile)")

    p = sub.add_parser("build", help="execute stale lessons, then build the site")
    common(p)
    p.add_argument("lessons", nargs="*", help="only these lessons (default: all)")
    p.add_argument("--jobs", "-j", type=int, default=1, help="lessons run at once")
    p.add_argument("--force", action="store_true", help="ignore the cache")
    p.add_argument("--no-site", action="store_true", help="execute only, no mkdocs build")
    p.add_argument("--shard", metavar="K/N", help="execute only shard K of N (then: assemble)")
    p.add_argument("--site-dir", default=str(ROOT / "site"))
    p.set_defaults(func=cmd_build)

    p = sub.add_parser("assemble", help="merge N shard builds, then build the site")
    common(p)
    p.add_argument("--shards", type=int, required=True, metavar="N", help="how many shards")
    p.add_argument("--site-dir", default=str(ROOT / "site"))
    p.set_defaults(func=cmd_assemble)

    p = sub.add_parser("lesson", help="run one lesson and print where its notebook went")
    common(p)
    p.add_argument("name", help="day number (6), prefix (day06) or full name")
    p.add_argument("--force", action="store_true")
    p.set_defaults(func=cmd_lesson)

    p = sub.add_parser("list", help="lessons and whether their cached run is up to date")
    common(p)
    p.set_defaults(func=cmd_list)

    p = sub.add_parser("serve", help="live preview; edited lessons re-run on save")
    common(p)
    p.add_argument("--dev-addr", default="127.0.0.1:8000")
    p.add_argument("--jobs", "-j", type=int, default=1, help="lessons run at once")
    p.set_defaults(func=cmd_serve)

    p = sub.add_parser("deploy", help="publish site/ to a gh-pages branch")
    common(p)
    p.add_argument("--remote", default=os.environ.get("COURSE_DEPLOY_REMOTE", "origin"))
    p.add_argument("--branch", default="gh-pages")
    p.add_argument("--site-dir", default=str(ROOT / "site"))
    p.add_argument("--allow-smoke", action="store_true")
    p.set_defaults(func=cmd_deploy)

    args = parser.parse_args(argv)
    try:
        return args.func(args)
    except (lesson.LessonError, ValueError) as err:  # DependencyError is a ValueError
        print(err, file=sys.stderr)
        return 2


if __name__ == "__main__":
    sys.exit(main())
