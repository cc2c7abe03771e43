"""README.md read as data by the tests that keep it honest: sections and their fenced blocks."""

from __future__ import annotations

import re
from pathlib import Path

README = Path(__file__).resolve().parents[1] / "README.md"
_FENCE = re.compile(r"^```(\w*)\n(.*?)^```", re.MULTILINE | re.DOTALL)


def section(title: str, text: str | None = None) -> str:
    """The text under the heading `title` (any level) up to the next heading of its level."""
    text = README.read_text() if text is None else text
    found = re.search(rf"^(#+) {re.escape(title)}\n", text, re.MULTILINE)
    assert found, f"README.md has no section {title!r}"
    rest = text[found.end() :]
    # Headings inside fenced blocks (bash comments) are not headings: skip the blocks.
    masked = _FENCE.sub(lambda m: " " * len(m.group(0)), rest)
    level = len(found.group(1))
    end = re.search(rf"^#{{1,{level}}} ", masked, re.MULTILINE)
    return rest[: end.start()] if end else rest


def blocks(text: str, language: str) -> list[str]:
    """The fenced code blocks of `language` in `text`, in order."""
    return [body for lang, body in _FENCE.findall(text) if lang == language]


def command_lines(text: str, program: str) -> list[str]:
    """Shell lines of every bash block that start with `program` (continuations joined)."""
    out = []
    for body in blocks(text, "bash"):
        for line in body.replace("\\\n", " ").splitlines():
            if line.strip().startswith(program):
                out.append(line.strip())
    return out
