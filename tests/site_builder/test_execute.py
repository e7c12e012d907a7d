"""Running lessons: failures name the lesson and cell, timeouts stop, parallel equals serial."""

from __future__ import annotations

import dataclasses

from conftest import TINY_LESSON, newest_notebook, quiet, write_lesson

from site_builder import build, cache

RAISING = '''\
"""
# Day 3 · Broken (壞掉)

This lesson fails in its second cell.
"""

# %%
# ## 1. Fine

x = 1

# %%
# ## 2. Not fine

y = x + 1
raise ValueError("the lesson author made a mistake")
'''

SLOW = '''\
"""
# Day 4 · Slow (很慢)

This lesson never finishes.
"""

# %%
import time

print("started")

# %%
while True:
    time.sleep(0.1)
'''


def test_raising_cell_fails_naming_lesson_cell_and_traceback(tiny):
    path = write_lesson(tiny.tutorials_dir, "day03_broken", RAISING)
    outcomes = build.build_lessons(tiny, ["day03"], log=quiet)
    [outcome] = outcomes
    assert outcome.status == "failed"
    lineno = RAISING.splitlines().index("y = x + 1") + 1
    assert f"day03_broken.py failed in day03_broken.py, cell at line {lineno}: 'y = x + 1'" in (
        outcome.error
    )
    assert "ValueError" in outcome.error and "the lesson author made a mistake" in outcome.error
    assert "\x1b[" not in outcome.error  # no terminal colour codes in the message
    # Nothing was cached, and the failure is on record for the maintainer.
    assert cache.Entry(tiny, "day03_broken").load_any() is None
    assert "ValueError" in (tiny.failures_dir / "day03_broken.txt").read_text()
    assert path.exists()


def test_lesson_over_its_timeout_is_stopped_and_reported(tiny):
    write_lesson(tiny.tutorials_dir, "day04_slow", SLOW)
    config = dataclasses.replace(tiny, timeout_s=8)
    [outcome] = build.build_lessons(config, ["day04"], log=quiet)
    assert outcome.status == "failed"
    assert "ran past its 8 s timeout" in outcome.error
    assert "while True:" in outcome.error


def test_parallel_run_equals_serial_run(tiny):
    write_lesson(tiny.tutorials_dir, "day03_tiny", TINY_LESSON.format(day=3))
    serial = build.build_lessons(tiny, jobs=1, log=quiet)
    parallel_config = dataclasses.replace(tiny, build_dir=tiny.build_dir.parent / "build2")
    parallel = build.build_lessons(parallel_config, jobs=3, log=quiet)
    assert [o.status for o in serial] == [o.status for o in parallel] == ["ok"] * 3

    def outputs(config, name):
        nb = newest_notebook(config, name)
        return [(c.source, c.get("outputs")) for c in nb.cells]

    for o in serial:
        assert outputs(tiny, o.name) == outputs(parallel_config, o.name)
        assert "value 21" in str(outputs(tiny, "day03_tiny"))


def test_lessons_run_outside_the_source_tree(tiny):
    write_lesson(
        tiny.tutorials_dir,
        "day05_writer",
        '"""\n# Day 5 · Writer (寫檔)\n\nWrites a file.\n"""\n\n# %%\n'
        'open("checkpoint.pt", "w").write("x")\nimport os\nprint(os.path.basename(os.getcwd()))\n',
    )
    [outcome] = build.build_lessons(tiny, ["day05"], log=quiet)
    assert outcome.status == "ok"
    assert (tiny.work_dir / "day05_writer" / "checkpoint.pt").exists()
    assert not (tiny.tutorials_dir / "checkpoint.pt").exists()


def test_a_lesson_runs_from_a_deeply_nested_build_folder(tiny):
    """The kernel's sockets do not live in the lesson's folder: a socket's path may hold at
    most 107 bytes, which a deep checkout's build folder exceeds."""
    deep = tiny.build_dir / ("nested-folder-" * 8)
    config = dataclasses.replace(tiny, build_dir=deep)
    [outcome] = build.build_lessons(config, ["day02"], log=quiet)
    assert len(str(deep / "work")) > 120
    assert outcome.status == "ok", outcome.error
    cells = newest_notebook(config, "day02_tiny").cells
    assert "value 14" in str([c.get("outputs") for c in cells])
