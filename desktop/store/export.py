"""Export a conversation's shown branch as Markdown or JSON."""

from __future__ import annotations

import json
import time
from dataclasses import asdict
from typing import Any

from desktop.store.history import History


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
        return "\n".join(lines)
    raise ValueError(f"Unknown export format {fmt!r}; use md or json.")
