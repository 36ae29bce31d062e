"""Markdown to a list of blocks (prose as Qt rich text, code kept apart), re-parsed incrementally.

Each top-level Markdown block becomes one block here. While an answer streams, every block
but the last is final (CommonMark never reopens a closed block), so only the last one is
parsed again on each update: the work per update stays small however long the answer gets.
"""

from __future__ import annotations

import html
import re
from dataclasses import dataclass

from markdown_it import MarkdownIt
from markdown_it.token import Token

from desktop.ui.theme import Colors


@dataclass(frozen=True)
class Block:
    kind: str  # "prose" or "code"
    html: str = ""  # prose: Qt rich text
    code: str = ""  # code: the raw code
    language: str = ""


def _parser() -> MarkdownIt:
    # Raw HTML is shown as text and images as their text: a model's output must never make
    # the app load a file or an address.
    return (
        MarkdownIt("commonmark", {"html": False, "linkify": False})
        .enable(["table", "strikethrough"])
        .disable("image")
    )


_MD = _parser()


def _top_level_groups(tokens: list[Token]) -> list[list[Token]]:
    """Tokens grouped by top-level block (open ... matching close, or one self-contained token)."""
    groups: list[list[Token]] = []
    depth = 0
    for token in tokens:
        if depth == 0:
            groups.append([])
        groups[-1].append(token)
        depth += token.nesting
    return [g for g in groups if g]


class BlockRenderer:
    """Turns Markdown groups into blocks styled with the current colours."""

    def __init__(self, colors: Colors) -> None:
        self.colors = colors

    def render_group(self, group: list[Token], env: dict) -> Block:
        first = group[0]
        if first.type in ("fence", "code_block"):
            language = first.info.strip().split()[0] if first.info.strip() else ""
            return Block("code", code=first.content.rstrip("\n"), language=language)
        markup = _MD.renderer.render(group, _MD.options, env)
        return Block("prose", html=self.qt_html(markup))

    def qt_html(self, markup: str) -> str:
        """HTML from markdown-it adjusted to what Qt's rich-text engine draws well."""
        c = self.colors
        markup = markup.replace(
            "<table>",
            f'<table border="1" cellspacing="0" cellpadding="6" width="100%"'
            f' style="border-style: solid; border-color: {c.border};">',
        ).replace("<th>", '<th align="left">')
        markup = markup.replace(
            "<code>", f'<code style="background-color: {c.inline_code};">&#8202;'
        ).replace("</code>", "&#8202;</code>")
        # Qt indents block quotes on both sides and draws no bar: draw one with a table.
        markup = markup.replace(
            "<blockquote>",
            '<table cellspacing="0" cellpadding="0" width="100%"><tr>'
            f'<td width="3" bgcolor="{c.quote_bar}"></td>'
            f'<td style="padding-left: 10px; color: {c.muted};">',
        ).replace("</blockquote>", "</td></tr></table>")
        markup = re.sub(r"<h([1-6])>", _heading, markup)
        markup = markup.replace("<hr />", f'<hr style="color: {c.border};" />')
        markup = markup.replace("<a href=", f'<a style="color: {c.accent};" href=')
        return f"<style>{_BLOCK_CSS}</style>{markup.strip()}"


_BLOCK_CSS = (
    "p { margin: 0; line-height: 140%; } "
    "ul, ol { margin-top: 0; margin-bottom: 0; margin-left: 0; -qt-list-indent: 1; } "
    "li { margin-bottom: 3px; line-height: 140%; } "
    "li p { margin-bottom: 4px; } "
    "table { margin: 0; } th { font-weight: 600; } "
    "h1, h2, h3, h4, h5, h6 { margin-top: 4px; margin-bottom: 0; font-weight: 600; }"
)

_HEADING_SIZES = {
    "1": "x-large",
    "2": "large",
    "3": "medium",
    "4": "medium",
    "5": "medium",
    "6": "medium",
}


def _heading(match: re.Match[str]) -> str:
    level = match.group(1)
    return f'<h{level} style="font-size: {_HEADING_SIZES[level]};">'


class MarkdownDocument:
    """The blocks of one message's text; set_text() with a longer text only redoes the tail."""

    def __init__(self, renderer: BlockRenderer) -> None:
        self.renderer = renderer
        self.text = ""
        self.frozen: list[Block] = []
        self.frozen_chars = 0  # where the not-yet-final part of the text starts
        self.tail: list[Block] = []

    @property
    def blocks(self) -> list[Block]:
        return self.frozen + self.tail

    def set_text(self, text: str) -> list[Block]:
        if not text.startswith(self.text[: self.frozen_chars]) or len(text) < self.frozen_chars:
            self.frozen, self.frozen_chars = [], 0
        self.text = text
        tail_text = text[self.frozen_chars :]
        env: dict = {}
        groups = _top_level_groups(_MD.parse(tail_text, env))
        if len(groups) > 1:
            lines = tail_text.splitlines(keepends=True)
            last_start = groups[-1][0].map[0] if groups[-1][0].map else len(lines)
            for group in groups[:-1]:
                self.frozen.append(self.renderer.render_group(group, env))
            self.frozen_chars += sum(len(line) for line in lines[:last_start])
            groups = groups[-1:]
        self.tail = [self.renderer.render_group(g, env) for g in groups]
        return self.blocks


def plain_html(text: str) -> str:
    """Text shown as typed (user messages): escaped, line breaks kept."""
    return html.escape(text).replace("\n", "<br>")
