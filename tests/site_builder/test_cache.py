"""The execution cache: what re-runs is exactly what a change touches; nothing good is lost."""

from __future__ import annotations

import shutil
from dataclasses import replace

from conftest import newest_notebook, quiet

from site_builder import build, cache


def executed(outcomes):
    return sorted(o.name for o in outcomes if not o.cache_hit)


def test_second_build_executes_nothing(tiny):
    first = build.build_lessons(tiny, log=quiet)
    assert executed(first) == ["day01_tiny", "day02_tiny"]
    second = build.build_lessons(tiny, log=quiet)
    assert executed(second) == []
    assert all(o.status == "ok" for o in second)
    assert "X 1" in str(newest_notebook(tiny, "day01_tiny").cells)


def test_editing_one_lesson_reruns_exactly_it(tiny):
    build.build_lessons(tiny, log=quiet)
    path = tiny.tutorials_dir / "day02_tiny.py"
    path.write_text(path.read_text().replace("* 7", "* 8"))
    outcomes = build.build_lessons(tiny, log=quiet)
    assert executed(outcomes) == ["day02_tiny"]
    assert "value 16" in str(newest_notebook(tiny, "day02_tiny").cells)


def test_timestamps_do_not_count(tiny):
    build.build_lessons(tiny, log=quiet)
    path = tiny.tutorials_dir / "day01_tiny.py"
    path.write_text(path.read_text())  # new mtime, same bytes
    assert executed(build.build_lessons(tiny, log=quiet)) == []


def test_a_helper_change_reruns_exactly_its_importers(tiny):
    build.build_lessons(tiny, log=quiet)
    (tiny.helpers_dir / "util.py").write_text("X = 2\n")
    outcomes = build.build_lessons(tiny, log=quiet)
    assert executed(outcomes) == ["day01_tiny"]  # day02 imports no helper
    assert "X 2" in str(newest_notebook(tiny, "day01_tiny").cells)


def test_a_module_nobody_imports_reruns_nothing(tiny):
    build.build_lessons(tiny, log=quiet)
    (tiny.helpers_dir / "other.py").write_text("Y = 2\n")
    (tiny.helpers_dir / "new_module.py").write_text("Z = 1\n")
    assert executed(build.build_lessons(tiny, log=quiet)) == []


def test_the_package_init_counts_for_every_importer(tiny):
    build.build_lessons(tiny, log=quiet)
    (tiny.helpers_dir / "__init__.py").write_text("VERSION = 2\n")
    assert executed(build.build_lessons(tiny, log=quiet)) == ["day01_tiny"]


def test_comments_docstrings_and_layout_do_not_count(tiny):
    build.build_lessons(tiny, log=quiet)
    util = tiny.helpers_dir / "util.py"
    util.write_text('"""The util module, now documented."""\n\n# A comment.\nX = (\n    1\n)\n')
    init = tiny.helpers_dir / "__init__.py"
    init.write_text('"""A new docstring."""\n')
    assert executed(build.build_lessons(tiny, log=quiet)) == []


def test_profile_is_part_of_the_key(tiny):
    path = tiny.tutorials_dir / "day01_tiny.py"
    smoke = cache.Keys(tiny).inputs(path)
    full = cache.Keys(replace(tiny, profile="full")).inputs(path)
    assert cache.key_of(smoke) != cache.key_of(full)
    assert cache.changes(smoke, full) == ["profile changed (smoke -> full)"]


def test_stale_lessons_say_why(tiny):
    build.build_lessons(tiny, log=quiet)
    (tiny.helpers_dir / "util.py").write_text("X = 3\n")
    path = tiny.tutorials_dir / "day01_tiny.py"
    path.write_text(path.read_text() + "\nfrom helpers import other\n")
    record = cache.Entry(tiny, "day01_tiny").load_any()[1]
    reasons = cache.changes(record["inputs"], cache.Keys(tiny).inputs(path))
    assert reasons == [
        "the lesson's source changed",
        "it now imports helpers.other",
        "the code of helpers.util changed",
    ]


def test_alternating_settings_reuse_both_entries(tiny):
    build.build_lessons(tiny, log=quiet)
    path = tiny.tutorials_dir / "day02_tiny.py"
    original = path.read_text()
    path.write_text(original.replace("* 7", "* 9"))
    assert executed(build.build_lessons(tiny, log=quiet)) == ["day02_tiny"]
    path.write_text(original)  # back: the first entry is still there
    assert executed(build.build_lessons(tiny, log=quiet)) == []
    for n in range(cache.KEEP + 2):  # old entries are pruned to KEEP
        path.write_text(original.replace("* 7", f"* {20 + n}"))
        build.build_lessons(tiny, ["day02"], log=quiet)
    assert len(cache.Entry(tiny, "day02_tiny").all()) == cache.KEEP


def test_corrupt_entry_is_detected_and_reruns(tiny):
    build.build_lessons(tiny, log=quiet)
    [(_, _, folder)] = cache.Entry(tiny, "day01_tiny").all()
    nb_path = folder / cache.NOTEBOOK
    nb_path.write_bytes(nb_path.read_bytes()[:200])  # a half-written file
    outcomes = build.build_lessons(tiny, log=quiet)
    assert executed(outcomes) == ["day01_tiny"]
    assert cache.Entry(tiny, "day01_tiny").load_any() is not None


def test_garbage_record_is_detected_and_reruns(tiny):
    build.build_lessons(tiny, log=quiet)
    [(_, _, folder)] = cache.Entry(tiny, "day02_tiny").all()
    (folder / cache.RECORD).write_text("{not json")
    assert executed(build.build_lessons(tiny, log=quiet)) == ["day02_tiny"]


def test_failed_run_keeps_the_previous_good_output(tiny):
    build.build_lessons(tiny, log=quiet)
    entry = cache.Entry(tiny, "day01_tiny")
    [(_, good_record, _)] = entry.all()
    path = tiny.tutorials_dir / "day01_tiny.py"
    path.write_text(path.read_text() + "\nraise RuntimeError('broken edit')\n")
    [failed, ok] = build.build_lessons(tiny, log=quiet)
    assert failed.status == "failed" and "broken edit" in failed.error
    assert ok.status == "ok"
    assert entry.load_any()[1] == good_record  # the page can still be built from it
    try:
        build.raise_for_failures([failed, ok])
    except build.BuildFailed as err:
        assert "day01_tiny" in str(err) and "Earlier good pages are kept" in str(err)
    else:
        raise AssertionError("a failed lesson must fail the build")


def test_interrupted_swap_restores_the_old_entry(tiny):
    build.build_lessons(tiny, log=quiet)
    entry = cache.Entry(tiny, "day01_tiny")
    [(_, _, folder)] = entry.all()
    # Simulate a forced re-run killed between "move old away" and "move new in".
    folder.rename(entry.path / f".old-{folder.name}-12345")
    assert executed(build.build_lessons(tiny, log=quiet)) == []


def test_a_missing_helper_module_fails_the_lesson_clearly(tiny):
    build.build_lessons(tiny, log=quiet)
    path = tiny.tutorials_dir / "day01_tiny.py"
    path.write_text(path.read_text() + "\nimport helpers.nonexistent\n")
    [failed, ok] = build.build_lessons(tiny, log=quiet)
    assert failed.status == "failed" and ok.status == "ok"
    assert "day01_tiny.py:" in failed.error
    assert "imports helpers.nonexistent, which does not exist" in failed.error
    assert cache.Entry(tiny, "day01_tiny").load_any() is not None  # nothing good lost


def test_a_circular_import_among_helpers_is_named(tiny):
    (tiny.helpers_dir / "util.py").write_text("from helpers import other\nX = 1\n")
    (tiny.helpers_dir / "other.py").write_text("from helpers.util import X\nY = X\n")
    [failed, _] = build.build_lessons(tiny, log=quiet)
    assert failed.status == "failed"
    assert "Circular import" in failed.error
    assert "helpers.util -> helpers.other -> helpers.util" in failed.error


def test_data_identity_not_location(tiny, tmp_path, monkeypatch):
    """A lesson whose helper reads a dataset folder is keyed on the folder's content."""
    (tiny.helpers_dir / "util.py").write_text('DATA_FOLDERS = ("toy",)\nX = 1\n')
    data = tmp_path / "data-a"
    (data / "toy").mkdir(parents=True)
    (data / "toy" / "a.txt").write_text("one")
    monkeypatch.setenv("COURSE_DATA_DIR", str(data))
    assert executed(build.build_lessons(tiny, log=quiet)) == ["day01_tiny", "day02_tiny"]

    moved = tmp_path / "elsewhere" / "data-b"
    moved.parent.mkdir()
    shutil.copytree(data, moved)  # new location, new mtimes, same content
    monkeypatch.setenv("COURSE_DATA_DIR", str(moved))
    assert executed(build.build_lessons(tiny, log=quiet)) == []
    link = tmp_path / "link"
    link.symlink_to(moved)
    monkeypatch.setenv("COURSE_DATA_DIR", str(link))
    assert executed(build.build_lessons(tiny, log=quiet)) == []

    (moved / "toy" / "a.txt").write_text("two")  # a changed file re-runs its users only
    assert executed(build.build_lessons(tiny, log=quiet)) == ["day01_tiny"]
    record = cache.Entry(tiny, "day01_tiny").all()[1][1]
    inputs = cache.Keys(tiny).inputs(tiny.tutorials_dir / "day01_tiny.py")
    assert "the dataset folder toy/ changed" in cache.changes(record["inputs"], inputs)
