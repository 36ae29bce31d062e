"""Chat templates are code from the internet: escapes, endless loops and huge outputs are
stopped with a clear error, and real templates still render."""

from __future__ import annotations

import time
from pathlib import Path

import pytest

from desktop.engine.templates import (
    MAX_OUTPUT,
    ChatTemplateRefused,
    ChatTemplateUnsafe,
    render_chat_prompt,
)
from tests.hostile_templates import ENDLESS_LOOPS, HUGE_OUTPUTS, escape_templates

CHAT = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hello"}]
DATA = Path(__file__).resolve().parents[1] / "data" / "templates"


def render(template: str, seconds: float = 5.0) -> str:
    return render_chat_prompt(template, CHAT, bos_token="<s>", eos_token="</s>", max_seconds=seconds)


def test_sandbox_escapes_fail_and_touch_nothing(tmp_path: Path) -> None:
    marker = tmp_path / "escaped"
    for template in escape_templates(marker):
        try:
            out = render(template)
        except Exception as exc:  # noqa: BLE001 - any refusal is fine; we check what it did
            assert type(exc).__name__.startswith("ChatTemplate"), (template, exc)
        else:
            assert "subclasses" not in out and "<class" not in out and "root:" not in out, template
        assert not marker.exists(), template
    assert CHAT[0]["content"] == "Be brief." and len(CHAT) == 2  # the messages were not changed


@pytest.mark.parametrize("template", ENDLESS_LOOPS)
def test_endless_loops_stop_at_the_deadline(template: str) -> None:
    started = time.monotonic()
    with pytest.raises(ChatTemplateUnsafe, match="too long"):
        render(template, seconds=0.5)
    assert time.monotonic() - started < 30  # generous: the point is that it ends


@pytest.mark.parametrize("template", HUGE_OUTPUTS)
def test_gigabyte_outputs_are_refused_before_they_are_built(template: str) -> None:
    with pytest.raises(ChatTemplateUnsafe):
        render(template)


def test_a_template_may_still_refuse_a_conversation_on_purpose() -> None:
    with pytest.raises(ChatTemplateRefused, match="roles must alternate"):
        render("{{ raise_exception('Conversation roles must alternate') }}")


def test_real_templates_render_within_the_bounds() -> None:
    long_chat = [CHAT[0]] + [
        {"role": "user" if i % 2 == 0 else "assistant", "content": "word " * 2000}
        for i in range(41)
    ]
    for path in sorted(DATA.glob("*.jinja")):
        out = render_chat_prompt(path.read_text(), long_chat, bos_token="<s>", eos_token="</s>",
                                 variables={"reasoning_effort": "low"})
        assert "word word" in out and len(out) < MAX_OUTPUT, path.name
