"""Export a conversation's shown branch as Markdown or JSON."""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from typing import Any

from desktop.store.history import History


def source_label(source: dict[str, Any]) -> str:
    """'report.pdf, page 3 (~/Documents/report.pdf)': how a cited source reads in text."""
    from pathlib import PurePath

    path = str(source.get("path", ""))
    label = PurePath(path).name or path
    if source.get("page"):
        label += f", page {source['page']}"
    return f"{label} ({path})" if path else label


def export_conversation(history: History, conversation_id: int, fmt: str) -> str:
    conv = history.conversation(conversation_id)
    branch = history.branch(conversation_id)
    if fmt == "json":
        data: dict[str, Any] = {
            "id": conv.id,
            "title": conv.title,
            "created_at": conv.created_at,
            "updated_at": conv.updated_at,
            "model": conv.model,
            "system_prompt": conv.system_prompt,
            "settings": asdict(conv.settings),
            "collections": conv.collections,
            "messages": [
                {
                    "id": m.id,
                    "parent_id": m.parent_id,
                    "role": m.role,
                    "content": m.content,
                    "reasoning": m.reasoning,
                    "status": m.status,
                    "model": m.model,
                    "created_at": m.created_at,
                    "stats": m.stats,
                    "sources": m.sources,
                }
                for m in branch
            ],
        }
        return json.dumps(data, indent=2, ensure_ascii=False) + "\n"
    if fmt in ("md", "markdown"):
        created = time.strftime("%Y-%m-%d %H:%M", time.localtime(conv.created_at))
        lines = [f"# {conv.title}", "", f"*{created}*" + (f" · {conv.model}" if conv.model else ""), ""]
        if conv.system_prompt:
            lines += ["**System:**", "", conv.system_prompt, ""]
        for m in branch:
            who = "You" if m.role == "user" else ("Assistant" if m.role == "assistant" else "System")
            note = "" if m.status == "complete" else f" *({m.status})*"
            lines += [f"## {who}{note}", ""]
            if m.reasoning:
                quoted = "\n".join("> " + line for line in m.reasoning.splitlines())
                lines += ["<details><summary>Thinking</summary>", "", quoted, "", "</details>", ""]
            lines += [m.content, ""]
            if m.sources:
                lines += ["**Sources:**", ""]
                lines += [f"{s.get('number', i + 1)}. {source_label(s)}"
                          for i, s in enumerate(m.sources)]
                lines.append("")
        return "\n".join(lines)
    raise ValueError(f"Unknown export format {fmt!r}; use md or json.")
