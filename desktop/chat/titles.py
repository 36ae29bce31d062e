"""A short title for a new conversation, taken from its first message."""

from __future__ import annotations

import re

MAX_TITLE = 48


def title_from_message(text: str) -> str:
    line = next((ln.strip() for ln in text.splitlines() if ln.strip()), "")
    line = re.sub(r"[`*_#>\[\]]+", "", line)
    line = re.sub(r"\s+", " ", line).strip()
    if not line:
        return "New chat"
    if len(line) <= MAX_TITLE:
        return line
    cut = line[:MAX_TITLE].rsplit(" ", 1)[0] or line[:MAX_TITLE]
    return cut.rstrip(",.;:-") + "…"
