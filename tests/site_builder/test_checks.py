"""What a page must never show fails the build, naming the lesson and the output."""

from __future__ import annotations

from conftest import quiet, write_lesson

from site_builder import build, cache, checks

HEADER = '"""\n# Day {day} · Check {day} (檢查)\n\nA promise.\n"""\n\n# %%\n# ## 1. A section\n\n'


def run(tiny, name, body):
    day = int(name[3:5])
    write_lesson(tiny.tutorials_dir, name, HEADER.format(day=day) + body)
    [outcome] = build.build_lessons(tiny, [name], log=quiet)
    return outcome


def test_a_machine_path_in_an_output_fails_the_lesson(tiny):
    outcome = run(tiny, "day05_paths", "import os\nprint('saved to', os.getcwd())\n")
    assert outcome.status == "failed"
    assert "day05_paths.py, cell at line" in outcome.error
    assert "prints a path of the build machine (the build folder)" in outcome.error
    assert cache.Entry(tiny, "day05_paths").load_any() is None  # never cached


def test_home_and_temporary_folders_count_too(tiny, monkeypatch):
    outcome = run(tiny, "day06_home", "from pathlib import Path\nprint(Path.home() / 'x')\n")
    assert "the home folder" in outcome.error


def test_an_object_repr_with_an_address_fails_the_lesson(tiny):
    outcome = run(tiny, "day07_repr", "import torch\ntorch.Generator()\n")
    assert outcome.status == "failed"
    assert "repr with a memory address" in outcome.error and "day07_repr.py" in outcome.error


def test_relative_paths_and_clean_outputs_pass(tiny):
    outcome = run(tiny, "day08_clean", "print('saved to checkpoints/model.pt')\nx = 1\nx\n")
    assert outcome.status == "ok"


def test_latex_that_lost_its_backslash_is_found_before_running(tiny):
    body = 'import matplotlib\nlabel = "$\\text{loss}$"\nprint(label)\n'
    outcome = run(tiny, "day09_latex", body)
    assert outcome.status == "failed"
    assert "day09_latex.py:" in outcome.error and "\\t" in outcome.error
    assert "raw" in outcome.error
    fixed = 'label = r"$\\text{loss}$"\nprint(label)\n'
    assert run(tiny, "day09_latex", fixed).status == "ok"


def test_every_lesson_is_free_of_broken_latex():
    from site_builder.config import ROOT

    for path in sorted((ROOT / "tutorials").glob("day*.py")):
        assert checks.source_problems(path) == [], path.name
