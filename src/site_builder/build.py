"""Bring every lesson's executed notebook up to date: cached, or run (in parallel)."""

from __future__ import annotations

import datetime as dt
import json
import multiprocessing
import os
import shutil
from collections.abc import Callable, Iterable
from concurrent.futures import ProcessPoolExecutor
from dataclasses import asdict, dataclass
from pathlib import Path

from site_builder import cache, checks, execute, lesson, shards
from site_builder.config import Config, write_json
from site_builder.deps import DependencyError


@dataclass
class Outcome:
    """What happened to one lesson in this build."""

    name: str
    status: str  # "ok" or "failed"
    cache_hit: bool
    record: dict | None = None  # the run record of the entry the page shows
    error: str | None = None


class BuildFailed(Exception):
    """One or more lessons failed; ``str()`` lists them, each with its message."""


def _kernel_env(config: Config, jobs: int) -> dict[str, str]:
    """The lesson kernel's environment. Lessons running side by side share the cores:
    more threads than cores makes PyTorch's CPU kernels spin and crawl."""
    threads = os.environ.get("COURSE_THREADS") or str(max(1, (os.cpu_count() or 1) // jobs))
    return {
        "COURSE_PROFILE": config.profile,
        "PYTHONHASHSEED": "0",
        "OMP_NUM_THREADS": threads,
        "MKL_NUM_THREADS": threads,
    }


def execute_one(config: Config, path: Path, inputs: dict, jobs: int = 1) -> Outcome:
    """Run one lesson and store it in the cache; a failure leaves the cache untouched."""
    name = path.stem
    failure_file = config.failures_dir / f"{name}.txt"
    try:
        les = lesson.load(path)
        problems = checks.source_problems(path)
        if problems:
            raise lesson.LessonError("\n".join(problems))
        nb = lesson.to_notebook(les, config.repo_url)
        workdir = config.work_dir / name
        shutil.rmtree(workdir, ignore_errors=True)  # every run starts from a clean folder
        result = execute.run(
            nb,
            path,
            workdir,
            timeout_s=config.lesson_timeout(les.file_conf),
            env=_kernel_env(config, jobs),
        )
        problems = checks.output_problems(result.notebook, name, config)
        if problems:
            raise execute.LessonFailed(
                f"{name}: the page would show what a page must never show:\n"
                + "\n".join(f"- {p}" for p in problems)
            )
    except (lesson.LessonError, execute.LessonFailed) as err:
        failure_file.parent.mkdir(parents=True, exist_ok=True)
        failure_file.write_text(str(err), encoding="utf-8")
        return Outcome(name, "failed", cache_hit=False, error=str(err))
    record = {
        "lesson": name,
        "title": les.title,
        "status": "ok",
        "profile": config.profile,
        "duration_s": round(result.duration_s, 2),
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "key": cache.key_of(inputs),
        "inputs": inputs,
        **result.environment,
    }
    cache.Entry(config, name).store(result.notebook, record)
    failure_file.unlink(missing_ok=True)
    return Outcome(name, "ok", cache_hit=False, record=record)


def build_lessons(
    config: Config,
    names: Iterable[str] | None = None,
    *,
    jobs: int = 1,
    force: bool = False,
    shard: shards.Shard | None = None,
    log: Callable[[str], None] = print,
    summary: bool = True,
) -> list[Outcome]:
    """Execute what is stale, reuse what is cached; return one outcome per lesson.

    With ``shard``, only that shard's share of the lessons (balanced by their recorded
    durations, see :mod:`site_builder.shards`) is considered.
    """
    if names:
        paths = [lesson.find(config.tutorials_dir, n) for n in names]
    else:
        paths = lesson.discover(config.tutorials_dir)
    if shard is not None:
        paths = shards.select(config, paths, shard)
        log(f"Shard {shard}: {', '.join(p.stem for p in paths) or 'no lessons'}")
    keys = cache.Keys(config)
    outcomes: dict[str, Outcome] = {}
    stale: list[tuple[Path, dict]] = []
    for path in paths:
        try:
            inputs = keys.inputs(path)
        except DependencyError as err:
            outcomes[path.stem] = Outcome(path.stem, "failed", cache_hit=False, error=str(err))
            log(f"  FAILED   {path.stem}: {err}")
            continue
        hit = None if force else cache.Entry(config, path.stem).load(cache.key_of(inputs))
        if hit is not None:
            outcomes[path.stem] = Outcome(path.stem, "ok", cache_hit=True, record=hit[1])
            log(f"  cached   {path.stem}")
        else:
            stale.append((path, inputs))

    if stale:
        log(f"Running {len(stale)} lesson(s) in the {config.profile!r} profile, {jobs} at a time")
    if jobs > 1 and len(stale) > 1:
        context = multiprocessing.get_context("spawn")
        with ProcessPoolExecutor(max_workers=jobs, mp_context=context) as pool:
            futures = [pool.submit(execute_one, config, p, i, jobs) for p, i in stale]
            for future in futures:
                _report(future.result(), outcomes, log)
    else:
        for path, inputs in stale:
            log(f"  running  {path.stem} ...")
            _report(execute_one(config, path, inputs), outcomes, log)

    ordered = [outcomes[p.stem] for p in paths]
    if summary:
        _write_summary(config, ordered, shard)
        if shard is None and not names:
            shards.write_durations(config, [asdict(o) for o in ordered])
    return ordered


def _report(outcome: Outcome, outcomes: dict[str, Outcome], log: Callable[[str], None]) -> None:
    outcomes[outcome.name] = outcome
    if outcome.status == "ok":
        log(f"  ran      {outcome.name} in {outcome.record['duration_s']:.1f} s")
    else:
        log(f"  FAILED   {outcome.name}")


def _write_summary(config: Config, outcomes: list[Outcome], shard=None) -> None:
    """What this build executed or reused: the record mkdocs renders from."""
    summary = {
        "profile": config.profile,
        "shard": None if shard is None else str(shard),
        "status": "ok" if all(o.status == "ok" for o in outcomes) else "failed",
        "date": dt.datetime.now(dt.timezone.utc).isoformat(timespec="seconds"),
        "lessons": [asdict(o) for o in outcomes],
    }
    path = summary_path(config) if shard is None else shards.manifest_path(config, shard)
    write_json(path, summary)


def summary_path(config: Config) -> Path:
    """In a folder of its own: `serve` has mkdocs watch it, and nothing else is written there."""
    return config.build_dir / "summary" / f"last-build-{config.profile}.json"


def read_summary(config: Config) -> dict:
    """The last build's summary; ValueError saying what to run when there is none."""
    path = summary_path(config)
    try:
        return json.loads(path.read_text(encoding="utf-8"))
    except (OSError, ValueError) as err:
        raise ValueError(
            f"No lesson build to render ({path.name} is missing or unreadable in the build "
            "folder). mkdocs only renders what the executor produced: run "
            "`python -m site_builder build` (or `nox -s build`), not `mkdocs build` alone."
        ) from err


def raise_for_failures(outcomes: list[Outcome]) -> None:
    failed = [o for o in outcomes if o.status != "ok"]
    if failed:
        details = "\n\n".join(f"--- {o.name} ---\n{o.error}" for o in failed)
        raise BuildFailed(
            f"{len(failed)} lesson(s) failed: {', '.join(o.name for o in failed)}. "
            f"Earlier good pages are kept.\n\n{details}"
        )
