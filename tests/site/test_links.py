"""A link checker over the whole built site: every internal link and download resolves."""

from __future__ import annotations

import re
from pathlib import Path
from urllib.parse import unquote, urldefrag, urlparse

LINK_RE = re.compile(r'<(?:a|link|img|script)\b[^>]*?\b(?:href|src)="([^"]+)"', re.I)
ID_RE = re.compile(r'\bid="([^"]+)"')


def _target(site: Path, page: Path, url: str) -> Path | None:
    parsed = urlparse(url)
    if parsed.scheme or url.startswith(("//", "mailto:", "javascript:", "data:")):
        return None  # external: never loaded by the site itself (checked elsewhere)
    path = unquote(urldefrag(url)[0])
    if not path:
        return page
    target = (page.parent / path) if not path.startswith("/") else site / path.lstrip("/")
    if target.is_dir() or path.endswith("/"):
        target = target / "index.html"
    return target


def test_every_internal_link_resolves(smoke_site):
    site = smoke_site["site"]
    broken, checked = [], 0
    ids_cache: dict[Path, set[str]] = {}
    for page in site.rglob("*.html"):
        html = page.read_text(encoding="utf-8")
        for url in LINK_RE.findall(html):
            target = _target(site, page, url)
            if target is None:
                continue
            checked += 1
            if not target.resolve().is_file():
                broken.append(f"{page.relative_to(site)} -> {url}")
                continue
            fragment = urldefrag(url)[1]
            if fragment and target.suffix == ".html":
                if target not in ids_cache:
                    ids_cache[target] = set(ID_RE.findall(target.read_text(encoding="utf-8")))
                if fragment not in ids_cache[target]:
                    broken.append(f"{page.relative_to(site)} -> {url} (no such anchor)")
    assert checked > 100
    assert broken == [], "\n".join(broken[:30])


def test_download_all_archives_hold_every_lesson(smoke_site):
    import zipfile

    for site in (smoke_site["site"], smoke_site["site"] / "zh-TW"):  # both editions
        for label, suffix in (("notebooks", ".ipynb"), ("scripts", ".py")):
            with zipfile.ZipFile(site / "downloads" / f"pytorch-course-{label}.zip") as zf:
                names = {Path(n).name for n in zf.namelist()}
            assert names == {f"{name}{suffix}" for name in smoke_site["outcomes"]}
