"""Syntax highlighting for code blocks: Pygments HTML with inline colours Qt can show."""

from __future__ import annotations

import html
from functools import lru_cache

from pygments import highlight
from pygments.formatters import HtmlFormatter
from pygments.lexer import Lexer
from pygments.lexers import get_lexer_by_name
from pygments.util import ClassNotFound

# Code is highlighted in slices of this many lines, each cached: while an answer streams
# only its last slice is redone, so a long block never costs more per update.
SLICE_LINES = 24

ALIASES = {
    "js": "javascript",
    "ts": "typescript",
    "sh": "bash",
    "shell": "bash",
    "py": "python",
    "c++": "cpp",
    "yml": "yaml",
    "md": "markdown",
    "ps1": "powershell",
}


@lru_cache(maxsize=64)
def _lexer(language: str) -> Lexer | None:
    name = ALIASES.get(language.lower(), language.lower())
    if not name:
        return None
    try:
        return get_lexer_by_name(name, stripnl=False, ensurenl=False)
    except ClassNotFound:
        return None


@lru_cache(maxsize=8)
def _formatter(style: str) -> HtmlFormatter:
    return HtmlFormatter(noclasses=True, nowrap=True, style=style)


@lru_cache(maxsize=512)
def _highlight_slice(code: str, language: str, style: str) -> str:
    lexer = _lexer(language)
    if lexer is None:
        return html.escape(code)
    return highlight(code, lexer, _formatter(style))


def highlight_code(code: str, language: str, style: str) -> str:
    """HTML for code (no wrapper): coloured spans, newlines kept for a pre-wrap block."""
    lines = code.split("\n")
    parts = []
    for start in range(0, len(lines), SLICE_LINES):
        piece = "\n".join(lines[start : start + SLICE_LINES])
        last = start + SLICE_LINES >= len(lines)
        rendered = _highlight_slice(piece + ("" if last else "\n"), language, style)
        parts.append(rendered)
    return "".join(parts).rstrip("\n")


def language_label(language: str) -> str:
    """What the code block header says: the language as people write it."""
    lexer = _lexer(language) if language else None
    if lexer is not None:
        return lexer.name
    return language or "text"
