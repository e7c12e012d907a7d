"""A lesson's headline result, printed where it is computed and collected by the site.

``headline("CIFAR-10 test accuracy", f"{acc:.2%}")`` prints one line,
``Headline result: CIFAR-10 test accuracy: 88.80%``; when the site is built, the
**Course results** page lists every lesson's headline lines and run time, read from the
executed notebooks, so no result on that page is ever typed by hand.
"""

from __future__ import annotations

PREFIX = "Headline result:"


def headline(label: str, value: str) -> None:
    """Print ``label: value`` as this lesson's headline result (one line, no newlines)."""
    text = f"{label}: {value}"
    if "\n" in text:
        raise ValueError(f"a headline is one line: {text!r}")
    print(f"{PREFIX} {text}")
