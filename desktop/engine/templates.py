"""Render a model's Jinja chat template into a prompt string, as untrusted code.

This mirrors llama-cpp-python's ``Jinja2ChatFormatter`` (same sandbox, options, globals
and ``tojson``) but passes extra variables such as ``reasoning_effort`` (gpt-oss) and
``enable_thinking`` (Qwen3) through, and needs only jinja2: importing llama_cpp loads the
native library, which the GUI process must not do.

A template comes from a file off the internet, so rendering is bounded: Jinja's sandbox
keeps it away from Python's internals, every operator that can build a large string or
list is checked before it runs, and a trace hook stops a render that runs past its time.
"""

from __future__ import annotations

import functools
import json
import re
import sys
import time
from collections.abc import Callable
from datetime import datetime
from types import FrameType
from typing import Any

import jinja2
import jinja2.ext
import jinja2.nodes
import jinja2.parser
from jinja2.compiler import CodeGenerator, Frame
from jinja2.sandbox import ImmutableSandboxedEnvironment, SecurityError

MAX_OUTPUT = 32 * 1024 * 1024  # characters: far beyond any context window's worth of text
MAX_SECONDS = 5.0  # a real template renders a long chat in milliseconds
_MAX_POWER_BITS = 1 << 16


class ChatTemplateError(ValueError):
    """The model's chat template is broken or rejected the conversation."""


class ChatTemplateRefused(ChatTemplateError):
    """The template called raise_exception: it refuses this conversation on purpose."""


class ChatTemplateUnsafe(ChatTemplateError):
    """The template ran too long, grew too large or reached outside its sandbox."""


def _too_big(what: str) -> ChatTemplateUnsafe:
    return ChatTemplateUnsafe(f"the template tried to build {what} larger than "
                              f"{MAX_OUTPUT:,} characters")


def _size(value: Any) -> int | None:
    return len(value) if isinstance(value, (str, bytes, list, tuple)) else None


def _check_args(args: tuple[Any, ...], kwargs: dict[str, Any]) -> None:
    # Widths, counts and repeats are how one call asks for gigabytes (center, ljust, indent).
    for value in (*args, *kwargs.values()):
        if isinstance(value, int) and not isinstance(value, bool) and abs(value) > MAX_OUTPUT:
            raise ChatTemplateUnsafe(f"the template passed the number {value:,} to a function")
        if isinstance(value, str) and re.search(r"[%{][^%{}]*?\d{8,}", value):
            raise ChatTemplateUnsafe("the template used a format with an enormous width")


def _check_result(value: Any) -> Any:
    size = _size(value)
    if size is not None and size > MAX_OUTPUT:
        raise _too_big("a value")
    return value


def _bounded(func: Callable[..., Any]) -> Callable[..., Any]:
    @functools.wraps(func)
    def wrapper(*args: Any, **kwargs: Any) -> Any:
        _check_args(args, kwargs)
        if func.__name__ == "do_replace" and len(args) >= 3:
            _check_replace(args[-3] if len(args) > 3 else args[1], args[-1] if len(args) > 3 else args[2])
        return _check_result(func(*args, **kwargs))

    return wrapper


def _check_replace(text: Any, new: Any) -> None:
    if isinstance(text, str) and isinstance(new, str) and len(text) * max(len(new), 1) > MAX_OUTPUT:
        raise _too_big("a replaced text")


class _BoundedCodeGenerator(CodeGenerator):
    """Sends every ``~`` concatenation through the environment's size check."""

    def visit_Concat(self, node: jinja2.nodes.Concat, frame: Frame) -> None:
        self.write("environment.bounded_concat((")
        for arg in node.nodes:
            self.visit(arg, frame)
            self.write(", ")
        self.write("))")


class _BoundedSandbox(ImmutableSandboxedEnvironment):
    intercepted_binops = frozenset({"*", "**", "+", "%"})
    code_generator_class = _BoundedCodeGenerator

    def bounded_concat(self, parts: tuple[Any, ...]) -> str:
        pieces = [p if isinstance(p, str) else str(p) for p in parts]
        if sum(len(p) for p in pieces) > MAX_OUTPUT:
            raise _too_big("a text")
        return "".join(pieces)

    def call_binop(self, context: Any, op: str, left: Any, right: Any) -> Any:
        if op == "*":
            for seq, n in ((left, right), (right, left)):
                size = _size(seq)
                if size is not None and isinstance(n, int) and size * n > MAX_OUTPUT:
                    raise _too_big("a repeated text or list")
        elif op == "+":
            a, b = _size(left), _size(right)
            if a is not None and b is not None and a + b > MAX_OUTPUT:
                raise _too_big("a joined text or list")
        elif op == "**":
            if isinstance(left, int) and isinstance(right, int) and right > 0 and (
                    max(abs(left), 2).bit_length() * right > _MAX_POWER_BITS):
                raise ChatTemplateUnsafe("the template tried to compute an enormous number")
        elif op == "%" and isinstance(left, str):
            _check_args((left,), {})
            _check_args(right if isinstance(right, tuple) else (right,), {})
        try:
            return _check_result(super().call_binop(context, op, left, right))
        except OverflowError:
            raise ChatTemplateUnsafe("the template tried to compute an enormous number") from None

    def call(__self, __context: Any, __obj: Any, *args: Any, **kwargs: Any) -> Any:  # noqa: N805
        _check_args(args, kwargs)
        bound_to = getattr(getattr(__obj, "__wrapped__", __obj), "__self__", None)
        if isinstance(bound_to, str):  # '...'.format(): the widths are in the text itself
            _check_args((bound_to,), {})
        if getattr(__obj, "__name__", "") == "replace" and isinstance(
                getattr(__obj, "__self__", None), str) and len(args) >= 2:
            _check_replace(__obj.__self__, args[1])
        return _check_result(super().call(__context, __obj, *args, **kwargs))


class _Deadline:
    """A trace hook on the template's own code that stops it once its time is up."""

    def __init__(self, seconds: float) -> None:
        self.until = time.perf_counter() + seconds

    def on_call(self, frame: FrameType, event: str, arg: Any) -> Any:
        if frame.f_code.co_filename == "<template>":
            self.check()
            return self.on_line
        return None

    def on_line(self, frame: FrameType, event: str, arg: Any) -> Any:
        self.check()
        return self.on_line

    def check(self) -> None:
        if time.perf_counter() > self.until:
            raise ChatTemplateUnsafe("the template ran for too long")


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
    raise ChatTemplateRefused(message)


@functools.lru_cache(maxsize=8)
def _compile(template: str) -> jinja2.Template:
    # Compiling a large template (gpt-oss: ~16 kB) costs milliseconds; a chat re-renders
    # the same one every turn.
    env = _BoundedSandbox(
        loader=jinja2.BaseLoader(),
        trim_blocks=True,
        lstrip_blocks=True,
        extensions=[_IgnoreGenerationTags, jinja2.ext.loopcontrols],
    )
    env.filters["tojson"] = _tojson
    env.filters.update({name: _bounded(f) for name, f in env.filters.items()})
    return env.from_string(template)


def render_chat_prompt(
    template: str,
    messages: list[dict[str, Any]],
    *,
    bos_token: str,
    eos_token: str,
    add_generation_prompt: bool = True,
    variables: dict[str, Any] | None = None,
    max_seconds: float = MAX_SECONDS,
) -> str:
    """Render ``messages`` with ``template``; ``variables`` become extra template globals.

    Raises ChatTemplateRefused when the template calls ``raise_exception``,
    ChatTemplateUnsafe when it breaks its bounds and ChatTemplateError when it fails.
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
    deadline = _Deadline(max_seconds)
    previous = sys.gettrace()
    sys.settrace(deadline.on_call)
    try:
        compiled = _compile(template)
        pieces: list[str] = []
        size = 0
        for piece in compiled.generate(**context):
            size += len(piece)
            if size > MAX_OUTPUT:
                raise _too_big("a prompt")
            pieces.append(piece)
        return "".join(pieces)
    except ChatTemplateError:
        raise
    except SecurityError as exc:
        raise ChatTemplateUnsafe(f"the template reached outside its sandbox: {exc}") from None
    except (RecursionError, MemoryError):
        raise ChatTemplateUnsafe("the template ran out of room (endless recursion or a huge "
                                 "value)") from None
    except (jinja2.TemplateError, TypeError, ValueError, KeyError, IndexError, AttributeError,
            ZeroDivisionError, OverflowError) as exc:
        raise ChatTemplateError(f"the model's chat template failed: {exc}") from exc
    finally:
        sys.settrace(previous)
