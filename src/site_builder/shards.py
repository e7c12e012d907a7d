"""Split the lessons across N machines, balanced by how long each took last time.

``build --shard K/N`` executes shard K's lessons (writing their cache entries and a
manifest); ``assemble --shards N`` checks that every shard reported, merges their
manifests into the build summary and renders the site, exactly as one build would.

The split is a longest-processing-time-first plan over the durations in
``build/durations-<profile>.json`` (written by every whole build and assembly; a lesson
it does not list counts with its newest run record's duration, else a default), so
every shard that sees the same file computes the same plan.
"""

from __future__ import annotations

import json
import re
from dataclasses import dataclass
from pathlib import Path

from site_builder import lesson
from site_builder.config import Config, write_json

DEFAULT_S = {"full": 120.0, "smoke": 5.0}


@dataclass(frozen=True)
class Shard:
    index: int  # 1-based
    count: int

    def __str__(self) -> str:
        return f"{self.index}/{self.count}"


def parse(spec: str) -> Shard:
    """``"2/4"`` -> Shard(2, 4); ValueError saying what a good spec is otherwise."""
    match = re.fullmatch(r"\s*(\d+)\s*/\s*(\d+)\s*", spec or "")
    if not match:
        raise ValueError(f"--shard {spec!r}: write K/N, for example --shard 1/2.")
    index, count = int(match[1]), int(match[2])
    if count < 1 or not 1 <= index <= count:
        raise ValueError(
            f"--shard {spec}: K must be between 1 and N (N >= 1), for example 1/{max(count, 2)}."
        )
    return Shard(index, count)


def durations_path(config: Config) -> Path:
    return config.build_dir / f"durations-{config.profile}.json"


def durations(config: Config, names: list[str]) -> dict[str, float]:
    """Seconds per lesson for planning: the durations file, else the profile's default.

    Only the file counts (not the run records a shard has just written), so shards that
    run one after another in the same build folder still plan alike.
    """
    try:
        known = json.loads(durations_path(config).read_text(encoding="utf-8"))
    except (OSError, ValueError):
        known = {}
    default = DEFAULT_S[config.profile]
    return {n: float(known[n]) if isinstance(known.get(n), int | float) else default for n in names}


def plan(seconds: dict[str, float], count: int) -> list[list[str]]:
    """Lessons per shard: longest first, each to the least-loaded shard (ties: lowest)."""
    loads = [0.0] * count
    members: list[list[str]] = [[] for _ in range(count)]
    for name in sorted(seconds, key=lambda n: (-seconds[n], n)):
        target = min(range(count), key=lambda i: (loads[i], i))
        loads[target] += seconds[name]
        members[target].append(name)
    return members


def select(config: Config, paths: list[Path], shard: Shard) -> list[Path]:
    """The lessons of ``shard``, in course order."""
    names = [p.stem for p in paths]
    mine = set(plan(durations(config, names), shard.count)[shard.index - 1])
    return [p for p in paths if p.stem in mine]


def manifest_path(config: Config, shard: Shard) -> Path:
    return (
        config.build_dir / "shards" / config.profile / f"shard-{shard.index}-of-{shard.count}.json"
    )


def write_durations(config: Config, lessons: list[dict]) -> None:
    seconds = {row["name"]: row["record"]["duration_s"] for row in lessons if row.get("record")}
    write_json(durations_path(config), seconds)


def assemble(config: Config, count: int) -> dict:
    """Merge the N shard manifests into one build summary; ValueError naming what is
    missing (a shard that did not report, a lesson no shard ran)."""
    if count < 1:
        raise ValueError(f"--shards {count}: the number of shards must be at least 1.")
    manifests, missing = [], []
    for index in range(1, count + 1):
        path = manifest_path(config, Shard(index, count))
        try:
            manifests.append(json.loads(path.read_text(encoding="utf-8")))
        except (OSError, ValueError):
            missing.append(f"{index}/{count}")
    if missing:
        raise ValueError(
            f"Cannot assemble the site: shard(s) {', '.join(missing)} did not report (no "
            f"manifest under {manifest_path(config, Shard(1, count)).parent.name}/ in the "
            f"build folder). Run `build --no-site --shard K/{count}` for each, or copy their "
            "build folders in, then assemble again."
        )
    by_name: dict[str, dict] = {}
    for manifest in manifests:
        if manifest.get("profile") != config.profile:
            raise ValueError(
                f"Shard {manifest.get('shard')} was built in the {manifest.get('profile')!r} "
                f"profile, not {config.profile!r}."
            )
        for row in manifest["lessons"]:
            if row["name"] in by_name:
                raise ValueError(
                    f"{row['name']} was run by more than one shard: the shards planned with "
                    "different duration files. Give every shard the same "
                    f"{durations_path(config).name}, then rebuild."
                )
            by_name[row["name"]] = row
    names = [p.stem for p in lesson.discover(config.tutorials_dir)]
    absent = [n for n in names if n not in by_name]
    if absent:
        raise ValueError(
            f"No shard ran {', '.join(absent)}: the shards were planned for other lessons. "
            "Rebuild the shards from the same commit, then assemble again."
        )
    lessons = [by_name[n] for n in names]
    return {
        "profile": config.profile,
        "shard": f"assembled from {count}",
        "status": "ok" if all(row["status"] == "ok" for row in lessons) else "failed",
        "date": max(m.get("date", "") for m in manifests),
        "lessons": lessons,
    }
