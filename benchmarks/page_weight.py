"""Page weight: bytes each page transfers, compressed, on a first and on a repeat view.

    .venv/bin/python benchmarks/page_weight.py site/            # every lesson page, both languages
    .venv/bin/python benchmarks/page_weight.py site/ lessons/day01_getting_started/

Serves the built site on 127.0.0.1, opens each page in Debian's Chromium (Playwright) and
records every response it loads, scrolled to the bottom so lazy figures load too. Sizes
are gzip-compressed (level 6, what a static host typically serves). A first view loads
everything it asks for; a repeat view re-fetches only the HTML (assets and figures are
cached by the browser). The search index loads only when a reader starts a search (the
theme's main.html), so a page that shows it in its first view has lost that. Prints a
table, a summary per language (English at ``/``, the zh-TW edition at ``/zh-TW/``, whose
figures and notebook styles are the English edition's files) and writes
build/bench/page_weight.json.
"""

from __future__ import annotations

import functools
import gzip
import json
import shutil
import statistics
import sys
import threading
from http.server import SimpleHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path

from playwright.sync_api import sync_playwright

ROOT = Path(__file__).resolve().parents[1]


class _Quiet(SimpleHTTPRequestHandler):
    def log_message(self, *args):
        pass


def main() -> None:
    site = Path(sys.argv[1] if len(sys.argv) > 1 else ROOT / "site").resolve()
    urls = sys.argv[2:] or sorted(
        p.parent.relative_to(site).as_posix() + "/"
        for p in [*site.glob("lessons/*/index.html"), *site.glob("zh-TW/lessons/*/index.html")]
    )
    httpd = ThreadingHTTPServer(("127.0.0.1", 0), functools.partial(_Quiet, directory=str(site)))
    threading.Thread(target=httpd.serve_forever, daemon=True).start()
    base = f"http://127.0.0.1:{httpd.server_address[1]}/"
    rows = {}
    with sync_playwright() as p:
        browser = p.chromium.launch(
            executable_path=shutil.which("chromium"), args=["--no-sandbox", "--disable-gpu"]
        )
        for url in urls:
            page = browser.new_page()
            loaded: list[tuple[str, str, int]] = []

            def record(response, loaded=loaded):
                if response.url.startswith(base) and response.status == 200:
                    body = response.body()
                    kind = response.request.resource_type
                    loaded.append((response.url, kind, len(gzip.compress(body, 6))))

            page.on("response", record)
            page.goto(base + url, wait_until="networkidle")
            page.evaluate("window.scrollTo(0, document.body.scrollHeight)")
            page.wait_for_load_state("networkidle")
            page.close()
            by_kind: dict[str, int] = {}
            for _, kind, size in loaded:
                by_kind[kind] = by_kind.get(kind, 0) + size
            html = sum(size for u, kind, size in loaded if kind == "document")
            search = sum(size for u, _, size in loaded if "search_index" in u)
            rows[url] = {
                "first_view_bytes": sum(size for *_, size in loaded),
                "before_figures_bytes": sum(s for _, k, s in loaded if k != "image"),
                "repeat_view_bytes": html,
                "search_index_bytes": search,
                "by_kind": by_kind,
            }
        browser.close()
    httpd.shutdown()
    out = ROOT / "build" / "bench" / "page_weight.json"
    out.parent.mkdir(parents=True, exist_ok=True)
    out.write_text(json.dumps(rows, indent=2))
    print("| page | first view | before figures | repeat view | of which search index |")
    print("| --- | ---: | ---: | ---: | ---: |")
    for url, r in rows.items():
        print(
            f"| {url} | {r['first_view_bytes'] / 1e3:.0f} KB | "
            f"{r['before_figures_bytes'] / 1e3:.0f} KB | {r['repeat_view_bytes'] / 1e3:.0f} KB | "
            f"{r['search_index_bytes'] / 1e3:.0f} KB |"
        )
    for lang, prefix in (("en", "lessons/"), ("zh-TW", "zh-TW/lessons/")):
        chosen = [r for url, r in rows.items() if url.startswith(prefix)]
        if chosen:
            first = statistics.median(r["first_view_bytes"] for r in chosen) / 1e3
            repeat = statistics.median(r["repeat_view_bytes"] for r in chosen) / 1e3
            print(
                f"{lang}: {len(chosen)} lesson pages, median first view {first:.0f} KB, "
                f"median repeat view {repeat:.0f} KB"
            )
    print("(compressed with gzip -6; written to build/bench/page_weight.json)")


if __name__ == "__main__":
    main()
