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

CHAT = [{"role": "system", "content": "Be brief."}, {"role": "user", "content": "Hello"}]
DATA = Path(__file__).resolve().parents[1] / "data" / "templates"


def render(template: str, seconds: float = 5.0) -> str:
    return render_chat_prompt(template, CHAT, bos_token="<s>", eos_token="</s>", max_seconds=seconds)


def _escapes(marker: Path) -> list[str]:
    touch = f"touch {marker}"
    return [
        "{{ ''.__class__.__mro__[1].__subclasses__() }}",
        f"{{{{ cycler.__init__.__globals__.os.system('{touch}') }}}}",
        f"{{{{ joiner.__init__.__globals__['__builtins__']['__import__']('os').system('{touch}') }}}}",
        f"{{{{ lipsum.__globals__['os'].popen('{touch}').read() }}}}",
        f"{{{{ namespace.__init__.__globals__['os'].system('{touch}') }}}}",
        "{{ raise_exception.__globals__['sys'].modules }}",
        f"{{{{ strftime_now.__globals__['__builtins__'].open('{marker}', 'w') }}}}",
        "{{ messages.append({'role': 'user', 'content': 'injected'}) }}",
        "{{ messages[0].update({'content': 'changed'}) }}",
        "{{ '{0.__class__.__mro__}'.format('') }}",
        "{{ self._TemplateReference__context.environment }}",
        "{% include '/etc/passwd' %}",
        "{% import 'os' as os %}{{ os.system('true') }}",
        "{{ ({}).__class__.__base__.__subclasses__() }}",
    ]


def test_sandbox_escapes_fail_and_touch_nothing(tmp_path: Path) -> None:
    marker = tmp_path / "escaped"
    for template in _escapes(marker):
        try:
            out = render(template)
        except Exception as exc:  # noqa: BLE001 - any refusal is fine; we check what it did
            assert type(exc).__name__.startswith("ChatTemplate"), (template, exc)
        else:
            assert "subclasses" not in out and "<class" not in out and "root:" not in out, template
        assert not marker.exists(), template
    assert CHAT[0]["content"] == "Be brief." and len(CHAT) == 2  # the messages were not changed


@pytest.mark.parametrize("template", [
    "{% for a in range(100000) %}{% for b in range(100000) %}{% endfor %}{% endfor %}",
    "{% for a in range(100000) %}{% for b in range(100000) %}{% if a == b - 1 %}{% endif %}"
    "{% endfor %}{% endfor %}",
    "{% macro f(n) %}{% for i in range(100000) %}{{ f(n) if n else '' }}{% endfor %}{% endmacro %}"
    "{{ f(0) }}{% for i in range(100000) %}{% for j in range(100000) %}{% endfor %}{% endfor %}",
])
def test_endless_loops_stop_at_the_deadline(template: str) -> None:
    started = time.monotonic()
    with pytest.raises(ChatTemplateUnsafe, match="too long"):
        render(template, seconds=0.5)
    assert time.monotonic() - started < 30  # generous: the point is that it ends


@pytest.mark.parametrize("template", [
    "{{ 'x' * 4000000000 }}",
    "{{ [0] * 4000000000 }}",
    "{{ 2 ** 100000000 }}",
    "{{ 'x'|center(10000000000) }}",
    "{{ 'x'.ljust(10000000000) }}",
    "{{ '%10000000000s' % 'x' }}",
    "{{ '{:>10000000000}'.format('x') }}",
    "{{ '%10000000000s'|format('x') }}",
    "{{ 'a\nb'|indent(10000000000) }}",
    "{% set ns = namespace(s='x') %}{% for i in range(64) %}{% set ns.s = ns.s ~ ns.s %}"
    "{% endfor %}{{ ns.s }}",
    "{% set ns = namespace(s='x') %}{% for i in range(64) %}{% set ns.s = ns.s + ns.s %}"
    "{% endfor %}{{ ns.s }}",
    "{% set s = 'a' * 1000000 %}{{ s|replace('a', 'b' * 1000000) }}",
    "{% set s = 'a' * 1000000 %}{{ s.replace('a', 'b' * 1000000) }}",
    "{% for a in range(100000) %}{% for b in range(100000) %}" + "y" * 64 + "{% endfor %}{% endfor %}",
    "{% macro f() %}{{ f() }}{% endmacro %}{{ f() }}",
])
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
