"""What a lesson depends on inside the helper package, read from its imports.

A lesson's cache key covers exactly the helper modules it imports, transitively:
``from course.data.mnist import load_mnist`` brings in ``course/__init__.py``,
``course/data/__init__.py``, ``course/data/mnist.py`` and whatever those import inside
``course``, and nothing else. Imports are read from the syntax tree (every ``import``
statement, at any depth, including those inside functions), never by running code.

Each module counts by its **meaning**, not its bytes
(:func:`course.fingerprint.meaning_digest`: the syntax tree without docstrings), so
editing a comment, a docstring or the formatting invalidates nothing.

A module that reads a dataset names its data-directory folders in a module-level
``DATA_FOLDERS = ("MNIST",)``; :meth:`HelperPackage.dependencies` collects them so the
build can key the lesson on those folders' content (:func:`course.fingerprint.folder_identity`).
"""

from __future__ import annotations

import ast
from dataclasses import dataclass, field
from pathlib import Path

from course.fingerprint import meaning_digest


class DependencyError(ValueError):
    """A lesson or helper imports a helper module that does not exist, or helpers import
    each other in a circle; the message names the file, the line and the chain."""


@dataclass
class Dependencies:
    """A lesson's helper modules (name -> digest of the meaning of their code) and the
    data-directory folders they read."""

    modules: dict[str, str] = field(default_factory=dict)
    data_folders: list[str] = field(default_factory=list)


class HelperPackage:
    """The helper package on disk (``src/course``) and its modules' import graph."""

    def __init__(self, package_dir: Path):
        self.dir = Path(package_dir)
        self.name = self.dir.name
        self._parsed: dict[str, tuple[ast.Module, str]] = {}

    # ---------------------------------------------------------------- modules

    def path_of(self, module: str) -> Path | None:
        """The file of ``module`` (``course.data.mnist``), or None if there is none."""
        parts = module.split(".")
        if parts[0] != self.name:
            return None
        base = self.dir.joinpath(*parts[1:])
        for candidate in (base.with_suffix(".py"), base / "__init__.py"):
            if candidate.is_file():
                return candidate
        return None

    def _parse(self, module: str) -> tuple[ast.Module, str]:
        if module not in self._parsed:
            path = self.path_of(module)
            assert path is not None
            source = path.read_text(encoding="utf-8")
            try:
                tree = ast.parse(source, filename=str(path))
            except SyntaxError as err:
                raise DependencyError(
                    f"{self._show(path)}:{err.lineno}: the helper module {module} has a "
                    f"syntax error ({err.msg}); fix it before building."
                ) from err
            self._parsed[module] = (tree, meaning_digest(source, str(path)))
        return self._parsed[module]

    def _show(self, path: Path) -> str:
        try:
            return path.relative_to(self.dir.parent.parent).as_posix()
        except ValueError:
            return path.name

    # ---------------------------------------------------------------- imports

    def imports_in(
        self, tree: ast.Module, importer: str, is_package: bool
    ) -> list[tuple[str, int]]:
        """(module, line) for every import of the helper package in ``tree``.

        ``importer`` is the importing module's name ("" for a lesson), used to resolve
        relative imports. ``from course.data import store`` yields ``course.data.store``
        when that is a module, else ``course.data`` (``store`` is then a name in it).
        """
        found: list[tuple[str, int]] = []
        for node in ast.walk(tree):
            if isinstance(node, ast.Import):
                found += [(alias.name, node.lineno) for alias in node.names]
            elif isinstance(node, ast.ImportFrom):
                base = node.module or ""
                if node.level:
                    parts = importer.split(".")
                    keep = len(parts) - node.level + (1 if is_package else 0)
                    base = ".".join(parts[:keep] + ([base] if base else []))
                for alias in node.names:
                    sub = f"{base}.{alias.name}"
                    if alias.name != "*" and self.path_of(sub) is not None:
                        found.append((sub, node.lineno))
                    else:
                        found.append((base, node.lineno))
        return [(m, line) for m, line in found if m == self.name or m.startswith(self.name + ".")]

    @staticmethod
    def parents(module: str) -> list[str]:
        """The packages Python initialises before ``module``: course, course.data, ..."""
        parts = module.split(".")
        return [".".join(parts[:i]) for i in range(1, len(parts))]

    def dependencies(self, source: str, filename: str) -> Dependencies:
        """Every helper module ``source`` (a lesson) imports, transitively, with its digest."""
        try:
            tree = ast.parse(source, filename=filename)
        except SyntaxError as err:
            raise DependencyError(f"{filename}:{err.lineno}: {err.msg}") from err
        deps = Dependencies()
        done: set[str] = set()

        def visit(module: str, line: int, where: str, chain: list[str]) -> None:
            if module in chain:
                circle = " -> ".join(chain[chain.index(module) :] + [module])
                raise DependencyError(
                    f"Circular import inside the helper package: {circle}. Move what both "
                    "modules need into a third module that imports neither."
                )
            if self.path_of(module) is None:
                raise DependencyError(
                    f"{where}:{line}: imports {module}, which does not exist in "
                    f"{self._show(self.dir)}/. Check the name, or add the module."
                )
            if module in done:
                return
            for parent in self.parents(module):
                if parent not in done and parent not in chain:
                    visit(parent, line, where, chain)
            tree, digest = self._parse(module)
            path = self.path_of(module)
            is_package = path.name == "__init__.py"
            for target, target_line in self.imports_in(tree, module, is_package):
                # A package's own parents are already initialised: not an edge of a circle.
                if target in self.parents(module):
                    continue
                visit(target, target_line, self._show(path), chain + [module])
            done.add(module)
            deps.modules[module] = digest
            for folder in _data_folders(tree):
                if folder not in deps.data_folders:
                    deps.data_folders.append(folder)

        for module, line in self.imports_in(tree, "", False):
            visit(module, line, filename, [])
        deps.modules = dict(sorted(deps.modules.items()))
        deps.data_folders.sort()
        return deps


def _data_folders(tree: ast.Module) -> list[str]:
    """The strings of a module-level ``DATA_FOLDERS = (...)``."""
    for node in tree.body:
        targets = node.targets if isinstance(node, ast.Assign) else []
        if any(isinstance(t, ast.Name) and t.id == "DATA_FOLDERS" for t in targets):
            value = node.value
            if isinstance(value, ast.Tuple | ast.List):
                return [e.value for e in value.elts if isinstance(e, ast.Constant)]
    return []
