"""Sharding: N shard builds plus the assembly give what one build gives."""

from __future__ import annotations

import json
from dataclasses import replace

import pytest
from conftest import TINY_LESSON, newest_notebook, quiet, write_lesson

from site_builder import build, cli, shards


@pytest.mark.parametrize("spec", ["3/2", "0/4", "1/0", "2", "a/b", "", "1/2/3"])
def test_bad_shard_specs_are_refused_clearly(spec):
    with pytest.raises(ValueError, match="--shard") as err:
        shards.parse(spec)
    assert "K/N" in str(err.value) or "between 1 and N" in str(err.value)


def test_parse_good_specs():
    assert shards.parse("2/4") == shards.Shard(2, 4)
    assert str(shards.parse(" 1 / 1 ")) == "1/1"


def test_plan_balances_by_duration_and_covers_every_lesson_once():
    seconds = {"a": 100, "b": 60, "c": 50, "d": 10, "e": 5}
    two = shards.plan(seconds, 2)
    assert sorted(sum(two, [])) == sorted(seconds)
    loads = [sum(seconds[n] for n in members) for members in two]
    assert max(loads) - min(loads) <= 25  # a: 100+5 vs b+c+d: 120
    assert shards.plan(seconds, 1) == [sorted(seconds, key=lambda n: -seconds[n])]
    assert len(shards.plan(seconds, 7)) == 7  # more shards than lessons: some are empty


def test_shards_plus_assembly_equal_one_build(tiny):
    write_lesson(tiny.tutorials_dir, "day03_tiny", TINY_LESSON.format(day=3))
    one = replace(tiny, build_dir=tiny.build_dir.parent / "one")
    single = build.build_lessons(one, log=quiet)

    for k in (1, 2):
        build.build_lessons(tiny, shard=shards.Shard(k, 2), log=quiet)
    summary = shards.assemble(tiny, 2)
    assert [row["name"] for row in summary["lessons"]] == [o.name for o in single]
    assert summary["status"] == "ok"
    for o in single:
        a, b = newest_notebook(one, o.name), newest_notebook(tiny, o.name)
        assert [c.get("outputs") for c in a.cells] == [c.get("outputs") for c in b.cells]
    ran = [row["name"] for row in summary["lessons"] if not row["cache_hit"]]
    assert sorted(ran) == ["day01_tiny", "day02_tiny", "day03_tiny"]  # each ran once


def test_an_assembly_with_a_shard_missing_names_it(tiny):
    build.build_lessons(tiny, shard=shards.Shard(1, 3), log=quiet)
    with pytest.raises(ValueError, match=r"shard\(s\) 2/3, 3/3 did not report"):
        shards.assemble(tiny, 3)


def test_shards_planned_from_different_durations_are_caught(tiny):
    build.build_lessons(tiny, shard=shards.Shard(1, 2), log=quiet)
    [first] = json.loads(shards.manifest_path(tiny, shards.Shard(1, 2)).read_text())["lessons"]
    # Shard 2 plans from other durations and picks the same lesson as shard 1.
    shards.durations_path(tiny).write_text(
        json.dumps({n: (1 if n == first["name"] else 9) for n in ("day01_tiny", "day02_tiny")})
    )
    build.build_lessons(tiny, shard=shards.Shard(2, 2), log=quiet)
    with pytest.raises(ValueError, match="more than one shard|No shard ran"):
        shards.assemble(tiny, 2)


def test_cli_refuses_a_bad_shard_with_exit_code_2(capsys):
    assert cli.main(["build", "--shard", "3/2", "--no-site"]) == 2
    assert "between 1 and N" in capsys.readouterr().err
