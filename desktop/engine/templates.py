"""Render a model's Jinja chat template into a prompt string.

This mirrors llama-cpp-python's ``Jinja2ChatFormatter`` (same sandbox, options, globals
and ``tojson``) but passes extra variables such as ``reasoning_effort`` (gpt-oss) and
``enable_thinking`` (Qwen3) through, and needs only jinja2: importing llama_cpp loads the
native library, which the GUI process must not do.
"""

from __future__ import annotations

import functools
import json
from datetime import datetime
from typing import Any

import jinja2
import jinja2.ext
import jinja2.nodes
import jinja2.parser
from jinja2.sandbox import ImmutableSandboxedEnvironment


class ChatTemplateError(ValueError):
    """The model's chat template is broken or rejected the conversation."""


class _IgnoreGenerationTags(jinja2.ext.Extension):
    """Pass-through for Hugging Face's ``{% generation %}`` training-only tag."""

    tags = {"generation"}

    def parse(self, parser: jinja2.parser.Parser) -> list[jinja2.nodes.Node]:
        parser.stream.skip(1)
        return parser.parse_statements(("name:endgeneration",), drop_needle=True)


def _tojson(
    x: Any,
    ensure_ascii: bool = False,
    indent: int | None = None,
    separators: tuple[str, str] | None = None,
    sort_keys: bool = False,
) -> str:
    # Same as llama-cpp-python and transformers: non-ASCII kept, no HTML escaping.
    return json.dumps(
        x, ensure_ascii=ensure_ascii, indent=indent, separators=separators, sort_keys=sort_keys
    )


def _strftime_now(fmt: str) -> str:
    return datetime.now().strftime(fmt)


def _raise_exception(message: str) -> None:
    raise ChatTemplateError(message)


@functools.lru_cache(maxsize=8)
def _compile(template: str) -> jinja2.Template:
    # Compiling a large template (gpt-oss: ~16 kB) costs milliseconds; a chat re-renders
    # the same one every turn.
    env = ImmutableSandboxedEnvironment(
        loader=jinja2.BaseLoader(),
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=[_IgnoreGenerationTags, jinja2.ext.loopcontrols],
    )
    env.filters["tojson"] = _tojson
    return env.from_string(template)


def render_chat_prompt(
    template: str,
    messages: list[dict[str, Any]],
    *,
    bos_token: str,
    eos_token: str,
    add_generation_prompt: bool = True,
    variables: dict[str, Any] | None = None,
) -> str:
    """Render ``messages`` with ``template``; ``variables`` become extra template globals.

    Raises ChatTemplateError when the template fails or calls ``raise_exception``.
    """
    context: dict[str, Any] = {
        "functions": None,
        "function_call": None,
        "tools": None,
        "tool_choice": None,
    }
    context.update(variables or {})
    context.update(
        messages=messages,
        bos_token=bos_token,
        eos_token=eos_token,
        add_generation_prompt=add_generation_prompt,
        raise_exception=_raise_exception,
        strftime_now=_strftime_now,
    )
    try:
        return _compile(template).render(**context)
    except ChatTemplateError:
        raise
    except (jinja2.TemplateError, TypeError, ValueError, KeyError, IndexError) as exc:
        raise ChatTemplateError(f"the model's chat template failed: {exc}") from exc
