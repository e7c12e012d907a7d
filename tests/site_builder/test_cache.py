"""The execution cache: content hashes decide what re-runs; nothing good is ever lost."""

from __future__ import annotations

from conftest import quiet

from site_builder import build, cache


def executed(outcomes):
    return sorted(o.name for o in outcomes if not o.cache_hit)


def test_second_build_executes_nothing(tiny):
    first = build.build_lessons(tiny, log=quiet)
    assert executed(first) == ["day01_tiny", "day02_tiny"]
    second = build.build_lessons(tiny, log=quiet)
    assert executed(second) == []
    assert all(o.status == "ok" for o in second)


def test_editing_one_lesson_reruns_exactly_it(tiny):
    build.build_lessons(tiny, log=quiet)
    path = tiny.tutorials_dir / "day02_tiny.py"
    path.write_text(path.read_text().replace("* 7", "* 8"))
    outcomes = build.build_lessons(tiny, log=quiet)
    assert executed(outcomes) == ["day02_tiny"]
    nb_text = cache.Entry(tiny, "day02_tiny").notebook_path.read_text()
    assert "value 16" in nb_text


def test_timestamps_do_not_count(tiny):
    build.build_lessons(tiny, log=quiet)
    path = tiny.tutorials_dir / "day01_tiny.py"
    path.write_text(path.read_text())  # new mtime, same bytes
    assert executed(build.build_lessons(tiny, log=quiet)) == []


def test_editing_a_helper_file_reruns_the_lessons(tiny):
    build.build_lessons(tiny, log=quiet)
    (tiny.helpers_dir / "util.py").write_text("X = 2\n")
    assert executed(build.build_lessons(tiny, log=quiet)) == ["day01_tiny", "day02_tiny"]


def test_profile_is_part_of_the_key(tiny):
    shared_smoke = cache.key_inputs(tiny)
    from dataclasses import replace

    shared_full = cache.key_inputs(replace(tiny, profile="full"))
    path = tiny.tutorials_dir / "day01_tiny.py"
    assert cache.lesson_key(path, shared_smoke) != cache.lesson_key(path, shared_full)


def test_corrupt_entry_is_detected_and_reruns(tiny):
    build.build_lessons(tiny, log=quiet)
    nb_path = cache.Entry(tiny, "day01_tiny").notebook_path
    nb_path.write_bytes(nb_path.read_bytes()[:200])  # a half-written file
    outcomes = build.build_lessons(tiny, log=quiet)
    assert executed(outcomes) == ["day01_tiny"]
    assert cache.Entry(tiny, "day01_tiny").load_any() is not None


def test_garbage_record_is_detected_and_reruns(tiny):
    build.build_lessons(tiny, log=quiet)
    (cache.Entry(tiny, "day02_tiny").path / "record.json").write_text("{not json")
    assert executed(build.build_lessons(tiny, log=quiet)) == ["day02_tiny"]


def test_failed_run_keeps_the_previous_good_output(tiny):
    build.build_lessons(tiny, log=quiet)
    entry = cache.Entry(tiny, "day01_tiny")
    good_bytes = entry.notebook_path.read_bytes()
    path = tiny.tutorials_dir / "day01_tiny.py"
    path.write_text(path.read_text() + "\nraise RuntimeError('broken edit')\n")
    [failed, ok] = build.build_lessons(tiny, log=quiet)
    assert failed.status == "failed" and "broken edit" in failed.error
    assert ok.status == "ok"
    assert entry.notebook_path.read_bytes() == good_bytes
    assert entry.load_any() is not None  # the page can still be built from it
    try:
        build.raise_for_failures([failed, ok])
    except build.BuildFailed as err:
        assert "day01_tiny" in str(err) and "Earlier good pages are kept" in str(err)
    else:
        raise AssertionError("a failed lesson must fail the build")


def test_interrupted_swap_restores_the_old_entry(tiny):
    build.build_lessons(tiny, log=quiet)
    entry = cache.Entry(tiny, "day01_tiny")
    # Simulate a build killed between "move old away" and "move new in".
    entry.path.rename(tiny.cache_dir / ".old-day01_tiny-12345")
    assert executed(build.build_lessons(tiny, log=quiet)) == []
