"""Which reasoning style a model speaks, read from its chat template and architecture."""

from __future__ import annotations


def detect_style(chat_template: str | None, architecture: str | None) -> str:
    """Pick the reasoning style from a model's chat template and GGUF architecture."""
    if (chat_template and "<|channel|>" in chat_template) or architecture == "gpt-oss":
        return "harmony"
    if chat_template and "<think>" in chat_template:
        return "think"
    return "none"
