"""Translations kept beside the lessons, keyed to the English text they translate.

One gettext catalog per lesson (``locale/zh_TW/lessons/<lesson>.po``) and per
hand-written page (``locale/zh_TW/pages/<page>.po``). Each entry's ``msgid`` is the
English source of one unit: a lesson's Markdown cell, a code cell that holds comments
or docstrings (only those are translated; the code must stay the same), or one block
of a page. Because an entry is keyed by the English it translates, a changed English
unit no longer finds its translation verbatim: :func:`match` then pairs it with the
most similar unused entry and calls the pair **stale** (the Chinese page shows the
English with a note), a unit with no partner is **missing**, and one found verbatim
(and not marked fuzzy by a translator) is **translated**. The same matching runs when
a page is rendered and when ``update`` rewrites a catalog for translators (stale
entries become gettext's ``fuzzy`` entries with the old English as ``#| msgid``), so
a stale translation shows as stale whether or not anybody ran ``update``.

gettext PO was chosen over a custom format because every translation tool (Poedit,
Weblate, Crowdin, Lokalize) reads it, its ``fuzzy`` flag and ``previous msgid`` are
exactly "the English changed since this was translated", and ``polib`` reads and
writes it without a compiler.
"""

from __future__ import annotations

import argparse
import ast
import difflib
import io
import re
import sys
import tokenize
from dataclasses import dataclass
from pathlib import Path

from site_builder.config import ROOT

LOCALE = "zh_TW"  # gettext's spelling; the site's path is /zh-TW/
LOCALE_DIR = ROOT / "locale" / LOCALE
LESSON_CATALOGS = LOCALE_DIR / "lessons"
PAGE_CATALOGS = LOCALE_DIR / "pages"
PAGES = ("index.md", "setup.md", "authoring.md")  # hand-written pages under docs/

CODE_FLAG = "code"  # entries whose text is a code cell: translate comments/docstrings only
SIMILAR = 0.5  # difflib ratio from which a changed unit is "the same unit, edited"

HEADER = {
    "Project-Id-Version": "pytorch-course",
    "Language": LOCALE,
    "MIME-Version": "1.0",
    "Content-Type": "text/plain; charset=UTF-8",
    "Content-Transfer-Encoding": "8bit",
}


class TranslationError(Exception):
    """A translation that would change what a lesson runs; names the lesson and cell."""


# ---------------------------------------------------------------- units of text


@dataclass(frozen=True)
class Unit:
    """One translatable piece of English: its text, kind and where it is."""

    text: str
    kind: str  # "markdown", "code" or "block"
    where: str  # "day06_training_workflow.py:120" or "setup.md:14"


def has_prose(code: str) -> bool:
    """Whether a code cell holds a comment or a docstring (something to translate)."""
    try:
        for token in tokenize.generate_tokens(io.StringIO(code).readline):
            if token.type == tokenize.COMMENT:
                return True
    except (tokenize.TokenError, IndentationError, SyntaxError):
        return False
    return bool(_docstrings(code))


def _with_docstring(tree: ast.AST):
    """The module, class and function nodes of ``tree`` whose body opens with a docstring."""
    for node in ast.walk(tree):
        if isinstance(node, (ast.Module, ast.FunctionDef, ast.AsyncFunctionDef, ast.ClassDef)):
            body = node.body
            if (
                body
                and isinstance(body[0], ast.Expr)
                and isinstance(body[0].value, ast.Constant)
                and isinstance(body[0].value.value, str)
            ):
                yield node


def _docstrings(code: str) -> list[str]:
    try:
        tree = ast.parse(code)
    except SyntaxError:
        return []
    return [node.body[0].value.value for node in _with_docstring(tree)]


def code_meaning(code: str) -> str:
    """A cell's syntax tree without docstrings: comments are not in it, and docstrings
    are dropped, so a translated cell and its English cell compare equal exactly when
    the code that runs is the same."""
    tree = ast.parse(code)
    for node in list(_with_docstring(tree)):
        node.body = node.body[1:] or [ast.Pass()]
    return ast.dump(tree, include_attributes=False)


def check_code_translation(english: str, translated: str, where: str) -> None:
    """Raise :class:`TranslationError` unless ``translated`` runs the same code."""
    try:
        same = code_meaning(english) == code_meaning(translated)
    except SyntaxError as err:
        raise TranslationError(
            f"{where}: the translated code cell is not valid Python ({err.msg}, line "
            f"{err.lineno}); translate only comments and docstrings."
        ) from err
    if not same:
        raise TranslationError(
            f"{where}: the translated code cell differs from the English one in its code, "
            "not only in comments and docstrings; translate only comments and docstrings."
        )


def lesson_units(path: Path) -> list[Unit]:
    """The translatable units of one lesson, in the order of its notebook's cells."""
    from site_builder import lesson as lesson_mod

    lesson = lesson_mod.load(path)
    units: list[Unit] = []
    code = iter(lesson_mod.code_cells(lesson))
    for kind, content, lineno in lesson.blocks:
        if kind == "text":
            # sphinx-gallery's notebook writer turns each text block into one Markdown cell
            # (its source: the block's text, stripped).
            text = content.strip()
            if text:
                units.append(Unit(text, "markdown", f"{path.name}:{lineno}"))
            continue
        stripped = lesson_mod.CONFIG_COMMENT_RE.sub("", content)
        if not stripped.strip():
            continue
        cell = next(code)
        if has_prose(cell.source):
            units.append(Unit(cell.source, "code", f"{path.name}:{cell.lineno}"))
    return units


_FENCE = re.compile(r"^(\s*)(```|~~~)")


def markdown_blocks(text: str) -> list[tuple[str, int, bool]]:
    """Split a Markdown page into blocks: ``(text, first line, translatable)``.

    Blocks are separated by blank lines; indented lines after a blank line stay with
    the block above (admonition bodies, list continuations), and fenced code never
    splits. Fenced code, HTML comments (build markers such as
    ``<!-- lesson-requirements -->``) and blocks with no letters are kept as they are.
    """
    lines = text.split("\n")
    blocks: list[list[str]] = []
    starts: list[int] = []
    current: list[str] = []
    fence: str | None = None
    blank_run = 0
    for number, line in enumerate(lines, start=1):
        if fence is None and not line.strip():
            if current:
                blank_run += 1
                current.append(line)
            continue
        opening = _FENCE.match(line)
        continues = current and (
            fence is not None or blank_run == 0 or line.startswith((" ", "\t"))
        )
        if not continues:
            if current:
                blocks.append(current)
            current, starts = [], starts + [number]
        current.append(line)
        blank_run = 0
        if opening:
            marker = opening.group(2)
            if fence is None:
                fence = marker
            elif fence == marker:
                fence = None
    if current:
        blocks.append(current)
    out = []
    for block, start in zip(blocks, starts, strict=True):
        body = "\n".join(block).strip("\n")
        stripped = body.strip()
        keep = (
            _FENCE.match(stripped) is not None
            and stripped.rstrip().endswith(("```", "~~~"))
            or (stripped.startswith("<!--") and stripped.endswith("-->"))
            or not re.search(r"[A-Za-z]", stripped)
        )
        out.append((body, start, not keep))
    return out


def page_units(path: Path) -> list[Unit]:
    """The translatable blocks of one hand-written page."""
    text = path.read_text(encoding="utf-8")
    return [
        Unit(body, "block", f"{path.name}:{line}")
        for body, line, translatable in markdown_blocks(text)
        if translatable
    ]


# ---------------------------------------------------------------- catalogs


def catalog_path(name: str, kind: str = "lesson") -> Path:
    """Where the catalog of a lesson (``day06_training_workflow``) or page lives."""
    folder = LESSON_CATALOGS if kind == "lesson" else PAGE_CATALOGS
    return folder / f"{Path(name).stem}.po"


def load_catalog(path: Path):
    """The catalog at ``path`` (an empty one when there is none yet)."""
    import polib

    if not path.exists():
        catalog = polib.POFile(wrapwidth=0)
        catalog.metadata = dict(HEADER)
        return catalog
    try:
        return polib.pofile(str(path), wrapwidth=0)
    except (OSError, ValueError) as err:
        raise TranslationError(
            f"{path}: this translation catalog cannot be read ({err}); fix it or restore "
            "it from git. The English pages build meanwhile."
        ) from err


@dataclass
class Match:
    unit: Unit
    state: str  # "translated", "stale" or "missing"
    translation: str | None  # the (possibly outdated) translation, None when missing
    previous: str | None = None  # the English the stale translation was made from


def match(units: list[Unit], catalog) -> list[Match]:
    """Pair every unit with its catalog entry (see the module docstring)."""
    entries = [e for e in catalog if e.msgstr.strip()] + [
        e for e in catalog.obsolete_entries() if e.msgstr.strip()
    ]
    by_text = {}
    for entry in entries:
        by_text.setdefault(entry.msgid, entry)
    used: set[int] = set()
    results: list[Match | None] = []
    for unit in units:
        entry = by_text.get(unit.text)
        # The same text twice in one lesson: one entry serves both (as updated_catalog writes).
        if entry is not None and not entry.obsolete:
            used.add(id(entry))
            state = "stale" if "fuzzy" in entry.flags else "translated"
            results.append(
                Match(unit, state, entry.msgstr, entry.previous_msgid if state == "stale" else None)
            )
        else:
            results.append(None)
    # Second pass: a unit with no verbatim entry takes the most similar unused one.
    for i, unit in enumerate(units):
        if results[i] is not None:
            continue
        best, best_ratio = None, SIMILAR
        for entry in entries:
            if id(entry) in used:
                continue
            ratio = difflib.SequenceMatcher(None, unit.text, entry.msgid, autojunk=False).ratio()
            if ratio > best_ratio:
                best, best_ratio = entry, ratio
        if best is None:
            results[i] = Match(unit, "missing", None)
        else:
            used.add(id(best))
            results[i] = Match(unit, "stale", best.msgstr, best.msgid)
    return results  # type: ignore[return-value]


def updated_catalog(units: list[Unit], old):
    """The catalog for ``units``, carrying over what ``old`` translated: verbatim entries
    stay, edited units get their old translation flagged fuzzy with the old English as
    the previous msgid, and entries no unit uses become obsolete (kept for reuse)."""
    import polib

    new = polib.POFile(wrapwidth=0)
    new.metadata = dict(old.metadata) or dict(HEADER)
    kept: set[str] = set()
    seen: set[str] = set()
    for m in match(units, old):
        if m.unit.text in seen:  # the same text twice: one entry serves both
            continue
        seen.add(m.unit.text)
        entry = polib.POEntry(
            msgid=m.unit.text,
            msgstr=m.translation or "",
            occurrences=[tuple(m.unit.where.rsplit(":", 1))],
        )
        if m.unit.kind == "code":
            entry.flags.append(CODE_FLAG)
            entry.comment = "code cell: translate comments and docstrings only"
        if m.state == "stale":
            entry.flags.append("fuzzy")
            entry.previous_msgid = m.previous
            kept.add(m.previous or "")
        elif m.translation:
            kept.add(m.unit.text)
        new.append(entry)
    for entry in list(old) + list(old.obsolete_entries()):
        if entry.msgstr.strip() and entry.msgid not in kept and entry.msgid not in seen:
            entry.obsolete = True
            new.append(entry)
    return new


def sources() -> list[tuple[str, Path, list[Unit]]]:
    """Every lesson and hand-written page with its units: ``(kind, path, units)``."""
    from site_builder import lesson as lesson_mod

    found = []
    for path in lesson_mod.discover(ROOT / "tutorials"):
        found.append(("lesson", path, lesson_units(path)))
    for page in PAGES:
        path = ROOT / "docs" / page
        if path.exists():
            found.append(("page", path, page_units(path)))
    # The fixed strings of the generated pages (gallery, run report, results, lesson bar):
    # read from the modules that write them; their catalog is pages/generated.po.
    from site_builder import translate

    found.append(("page", Path(translate.GENERATED), translate.generated_units()))
    return found


def update(only: list[str] | None = None) -> list[Path]:
    """Rewrite the catalogs from the current English (what translators work on)."""
    written = []
    for kind, path, units in sources():
        if only and not any(path.stem.startswith(o) or path.name == o for o in only):
            continue
        target = catalog_path(path.name, kind)
        catalog = updated_catalog(units, load_catalog(target))
        target.parent.mkdir(parents=True, exist_ok=True)
        text = catalog.__unicode__()
        if not target.exists() or target.read_text(encoding="utf-8") != text:
            target.write_text(text, encoding="utf-8")
            written.append(target)
    return written


def status() -> list[dict]:
    """Per lesson and page: how many units are translated, stale and missing."""
    rows = []
    for kind, path, units in sources():
        matches = match(units, load_catalog(catalog_path(path.name, kind)))
        counts = {s: sum(m.state == s for m in matches) for s in ("translated", "stale", "missing")}
        rows.append({"name": path.stem, "kind": kind, "total": len(units), **counts})
    return rows


SEPARATOR = re.compile(r"^===== (\d+)(?: .*)?$", re.M)


def _catalog_for(name: str) -> tuple[Path, list[Unit]]:
    for kind, path, units in sources():
        if path.stem == name or path.stem.startswith(name + "_") or path.name == name:
            return catalog_path(path.name, kind), units
    raise TranslationError(f"no lesson or page called {name!r}")


def export(name: str) -> str:
    """The catalog's English units, numbered, for a translator to work from: each is
    ``===== N [kind] where`` then the English, then its current translation (if any)
    after ``----- zh-TW``."""
    target, units = _catalog_for(name)
    out = []
    for number, m in enumerate(match(units, load_catalog(target)), start=1):
        out.append(f"===== {number} [{m.unit.kind}, {m.state}] {m.unit.where}\n{m.unit.text}\n")
        if m.translation:
            out.append(f"----- zh-TW\n{m.translation}\n")
    return "\n".join(out)


def import_translations(name: str, text: str) -> int:
    """Store translations written as ``===== N`` (the unit's number from :func:`export`)
    followed by the translated text, in the unit's catalog entry. Code units are checked
    to run the same code. Returns how many entries were set."""
    target, units = _catalog_for(name)
    parts = SEPARATOR.split(text)
    given: dict[int, str] = {}
    for number, body in zip(parts[1::2], parts[2::2], strict=True):
        given[int(number)] = body.strip("\n")
    bad = [n for n in given if not 1 <= n <= len(units)]
    if bad:
        raise TranslationError(f"{name}: no unit number {bad} (there are {len(units)})")
    catalog = updated_catalog(units, load_catalog(target))
    entries = {e.msgid: e for e in catalog if not e.obsolete}
    for number, translation in given.items():
        unit = units[number - 1]
        if unit.kind == "code":
            check_code_translation(unit.text, translation, f"{name} unit {number} ({unit.where})")
        entry = entries[unit.text]
        entry.msgstr = translation
        if "fuzzy" in entry.flags:
            entry.flags.remove("fuzzy")
        entry.previous_msgid = None
    target.parent.mkdir(parents=True, exist_ok=True)
    target.write_text(catalog.__unicode__(), encoding="utf-8")
    return len(given)


def main(argv: list[str] | None = None) -> int:
    parser = argparse.ArgumentParser(
        prog="python -m site_builder.i18n",
        description="Translation catalogs: update them from the English, or report status.",
    )
    sub = parser.add_subparsers(dest="command", required=True)
    up = sub.add_parser("update", help="rewrite catalogs from the current English sources")
    up.add_argument("only", nargs="*", help="lessons or pages to update (default: all)")
    sub.add_parser("status", help="translated / stale / missing per lesson and page")
    ex = sub.add_parser("export", help="print a catalog's numbered English units")
    ex.add_argument("name", help="a lesson (day06) or page (setup.md)")
    im = sub.add_parser("import", help="store translations written as '===== N' + text")
    im.add_argument("name", help="a lesson (day06) or page (setup.md)")
    im.add_argument("files", nargs="+", type=Path, help="files of translations")
    args = parser.parse_args(argv)
    try:
        if args.command == "export":
            print(export(args.name))
            return 0
        if args.command == "import":
            for file in args.files:
                count = import_translations(args.name, file.read_text(encoding="utf-8"))
                print(f"{file}: {count} translation(s) stored")
            return 0
        if args.command == "update":
            for path in update(args.only):
                print(f"updated {path.relative_to(ROOT)}")
            return 0
        for row in status():
            print(
                f"{row['name']:<32} {row['translated']:>4}/{row['total']:<4} translated"
                f"  {row['stale']:>3} stale  {row['missing']:>4} missing"
            )
        return 0
    except TranslationError as err:
        print(err, file=sys.stderr)
        return 1


if __name__ == "__main__":
    sys.exit(main())
