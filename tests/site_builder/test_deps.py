"""A lesson's helper modules, read from its imports: the real package and edge cases."""

from __future__ import annotations

import pytest

from course.fingerprint import meaning_digest
from site_builder.config import ROOT
from site_builder.deps import DependencyError, HelperPackage

REAL = HelperPackage(ROOT / "src" / "course")


def deps_of(source: str, package: HelperPackage = REAL):
    return package.dependencies(source, "lesson.py")


def test_real_lessons_depend_on_what_they_import():
    day14 = (ROOT / "tutorials" / "day14_cifar10.py").read_text(encoding="utf-8")
    deps = deps_of(day14)
    assert {"course", "course.cifar", "course.data.cifar10", "course.model_cache"} <= set(
        deps.modules
    )
    assert "course.data.mnist" not in deps.modules
    assert deps.data_folders == ["cifar-10-batches-py", "cifar10"]
    day01 = (ROOT / "tutorials" / "day01_getting_started.py").read_text(encoding="utf-8")
    assert "course.cifar" not in deps_of(day01).modules
    assert deps_of(day01).data_folders == []


def test_imports_inside_functions_and_from_package_imports_count():
    source = "def f():\n    from course.data import store\n    import course.cifar\n"
    modules = deps_of(source).modules
    assert {"course.data.store", "course.data", "course", "course.cifar"} <= set(modules)


def test_relative_imports_inside_the_package(tmp_path):
    pkg = tmp_path / "pkg"
    (pkg / "sub").mkdir(parents=True)
    (pkg / "__init__.py").write_text("")
    (pkg / "sub" / "__init__.py").write_text("from . import a\n")
    (pkg / "sub" / "a.py").write_text("from .b import VALUE\n")
    (pkg / "sub" / "b.py").write_text("VALUE = 1\n")
    (pkg / "unused.py").write_text("")
    modules = deps_of("import pkg.sub", HelperPackage(pkg)).modules
    assert sorted(modules) == ["pkg", "pkg.sub", "pkg.sub.a", "pkg.sub.b"]


def test_missing_module_names_the_line(tmp_path):
    with pytest.raises(DependencyError, match=r"lesson.py:2: imports course.nowhere, which"):
        deps_of("import course\nfrom course.nowhere import thing\n")


def test_meaning_ignores_comments_docstrings_and_layout():
    a = "def f(x):\n    return x + 1\n"
    b = '"""Doc."""\n\n\ndef f(x):  # add one\n    """Adds one."""\n    return (x +\n 1)\n'
    assert meaning_digest(a) == meaning_digest(b)
    assert meaning_digest(a) != meaning_digest(a.replace("+ 1", "+ 2"))
