"""Split streamed model output into reasoning, answer and tool-call events.

Two reasoning styles exist: OpenAI's harmony channels (gpt-oss) and ``<think>`` blocks
(Qwen3, DeepSeek-R1 distills). Text arrives in arbitrary pieces, so markers can be cut
anywhere; the parsers hold back only a suffix that could still grow into a marker.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass
from typing import Any, Literal, Protocol

EventKind = Literal["reasoning", "answer", "tool_call"]


@dataclass(frozen=True)
class ReasoningEvent:
    kind: EventKind
    text: str  # for tool_call: the arguments text
    recipient: str | None = None  # tool_call only, e.g. "functions.get_weather"


class ReasoningParser(Protocol):
    def feed(self, text: str) -> list[ReasoningEvent]: ...

    def finish(self) -> list[ReasoningEvent]: ...


# Any <|word|> is a harmony special token (the vocabulary also has <|endoftext|>,
# <|reserved_NNN|>...), so unknown ones are dropped rather than shown.
_HARMONY_MARKER = re.compile(r"<\|[A-Za-z0-9_]{1,32}\|>")
_HARMONY_PARTIAL = re.compile(r"<(?:\|(?:[A-Za-z0-9_]{1,32}\|?)?)?")
_THINK_MARKER = re.compile(r"</?think>")
_THINK_PARTIAL = re.compile(r"<(?:/?(?:t(?:h(?:i(?:n(?:k)?)?)?)?)?)?")
# The prompt ends with "<|start|>assistant", so the model may continue that role header
# with " to=functions.x" before its first <|channel|>; such text is not answer text.
_ROLE_CONTINUATION = re.compile(r"\s*(?:t(?:o(?:=[^\s<]*\s*)?)?)?")
_RECIPIENT = re.compile(r"\bto=([^\s<]+)")
_NOT_TOOLS = frozenset({"assistant", "user", "all"})
_THINK_BLOCK = re.compile(r"<think>.*?</think>", re.DOTALL)


class _MarkerScanner:
    """Cut a stream into text and marker tokens, holding back a possible marker prefix."""

    def __init__(self, marker: re.Pattern[str], partial: re.Pattern[str]) -> None:
        self._marker = marker
        self._partial = partial
        self._held = ""  # never longer than the longest marker, so feeds stay O(piece)

    def feed(self, text: str) -> list[tuple[bool, str]]:
        buf = self._held + text
        self._held = ""
        out: list[tuple[bool, str]] = []
        start = 0
        end = len(buf)
        i = buf.find("<")
        while i != -1:
            m = self._marker.match(buf, i)
            if m:
                if i > start:
                    out.append((False, buf[start:i]))
                out.append((True, m.group()))
                start = m.end()
                i = buf.find("<", start)
            elif self._partial.fullmatch(buf, i):
                self._held = buf[i:]
                end = i
                break
            else:
                i = buf.find("<", i + 1)
        if end > start:
            out.append((False, buf[start:end]))
        return out

    def finish(self) -> str:
        # A lone "<" is ordinary text; a longer unfinished prefix ("<|chan", "</thi") is a
        # marker cut off by the stop, and showing it would leak markup.
        held, self._held = self._held, ""
        return held if held == "<" else ""


class _HarmonyParser:
    """Harmony: <|channel|>NAME [to=RECIPIENT] [<|constrain|>TYPE]<|message|>BODY<|end|>."""

    def __init__(self) -> None:
        self._scanner = _MarkerScanner(_HARMONY_MARKER, _HARMONY_PARTIAL)
        self._state: Literal["initial", "role", "channel", "body"] = "initial"
        self._role = ""  # header text after <|start|> (or continuing the prompt's one)
        self._channel = ""  # header text after <|channel|>
        self._kind: EventKind = "answer"
        self._recipient: str | None = None
        self._args: list[str] = []

    def feed(self, text: str) -> list[ReasoningEvent]:
        out: list[ReasoningEvent] = []
        for is_marker, token in self._scanner.feed(text):
            if is_marker:
                self._marker(token, out)
            else:
                self._text(token, out)
        return merge_events(out)

    def finish(self) -> list[ReasoningEvent]:
        out: list[ReasoningEvent] = []
        tail = self._scanner.finish()
        if tail:
            self._text(tail, out)
        if self._state == "initial" and self._role.strip() and "to=" not in self._role:
            out.append(ReasoningEvent("answer", self._role))
        self._close_body(out)
        self._state, self._role = "body", ""
        return merge_events(out)

    def _text(self, text: str, out: list[ReasoningEvent]) -> None:
        if self._state == "initial":
            self._role += text
            # Cap the look-ahead: a degenerate reply without any header must still stream.
            if len(self._role) > 128 or not _ROLE_CONTINUATION.fullmatch(self._role):
                out.append(ReasoningEvent("answer", self._role))
                self._role, self._state, self._kind = "", "body", "answer"
        elif self._state == "role":
            self._role += text
        elif self._state == "channel":
            self._channel += text
        elif self._kind == "tool_call":
            self._args.append(text)  # arguments are only useful whole
        else:
            out.append(ReasoningEvent(self._kind, text))

    def _marker(self, marker: str, out: list[ReasoningEvent]) -> None:
        if marker == "<|start|>":
            self._close_body(out)
            self._state, self._role, self._channel = "role", "", ""
        elif marker == "<|channel|>":
            if self._state == "body":
                self._close_body(out)
                self._role = ""
            self._state, self._channel = "channel", ""
        elif marker == "<|message|>":
            if self._state != "body":
                self._open_body()
        elif marker == "<|constrain|>":
            if self._state == "channel":
                self._channel += " "
        elif marker in ("<|end|>", "<|return|>", "<|call|>"):
            self._close_body(out)
            # Anything after an end marker without a new header is shown as answer.
            self._state, self._kind, self._role, self._channel = "body", "answer", "", ""

    def _open_body(self) -> None:
        recipients = _RECIPIENT.findall(self._role + " " + self._channel)
        recipient = recipients[-1] if recipients else None
        words = self._channel.split()
        if recipient is not None and recipient not in _NOT_TOOLS:
            self._kind, self._recipient, self._args = "tool_call", recipient, []
        elif words and words[0] == "analysis":
            self._kind = "reasoning"
        else:  # final, commentary without recipient (a preamble), or unknown: show it
            self._kind = "answer"
        self._state = "body"

    def _close_body(self, out: list[ReasoningEvent]) -> None:
        # A call usually ends on <|call|>, an end-of-generation token that llama.cpp does
        # not emit as text, so finish() closing an open call is the normal path.
        if self._state == "body" and self._kind == "tool_call":
            out.append(ReasoningEvent("tool_call", "".join(self._args), self._recipient))
            self._kind, self._recipient, self._args = "answer", None, []


class _ThinkParser:
    """<think>reasoning</think>answer; whitespace around each block is trimmed."""

    def __init__(self, starts_in_reasoning: bool) -> None:
        self._scanner = _MarkerScanner(_THINK_MARKER, _THINK_PARTIAL)
        self._kind: EventKind = "reasoning" if starts_in_reasoning else "answer"
        self._block_start = True  # leading whitespace of a block is dropped
        self._ws: list[str] = []  # trailing whitespace, released only if text follows

    def feed(self, text: str) -> list[ReasoningEvent]:
        out: list[ReasoningEvent] = []
        for is_marker, token in self._scanner.feed(text):
            if not is_marker:
                self._text(token, out)
            elif token == "<think>" and self._kind != "reasoning":
                self._kind, self._block_start, self._ws = "reasoning", True, []
            elif token == "</think>" and self._kind == "reasoning":
                self._kind, self._block_start, self._ws = "answer", True, []
            # A stray repeated marker is dropped: it must never show as text.
        return merge_events(out)

    def finish(self) -> list[ReasoningEvent]:
        out: list[ReasoningEvent] = []
        tail = self._scanner.finish()
        if tail:
            self._text(tail, out)
        self._ws = []
        return out

    def _text(self, text: str, out: list[ReasoningEvent]) -> None:
        if self._block_start:
            text = text.lstrip()
            if not text:
                return
            self._block_start = False
        body = text.rstrip()
        if body:
            out.append(ReasoningEvent(self._kind, "".join(self._ws) + body))
            self._ws = [text[len(body) :]] if len(body) < len(text) else []
        else:
            self._ws.append(text)


class _PlainParser:
    def feed(self, text: str) -> list[ReasoningEvent]:
        return [ReasoningEvent("answer", text)] if text else []

    def finish(self) -> list[ReasoningEvent]:
        return []


def make_parser(style: str, *, starts_in_reasoning: bool = False) -> ReasoningParser:
    """Return a fresh streaming parser for one generation."""
    if style == "harmony":
        return _HarmonyParser()
    if style == "think":
        return _ThinkParser(starts_in_reasoning)
    if style == "none":
        return _PlainParser()
    raise ValueError(f"unknown reasoning style: {style!r}")


def template_opens_thinking(rendered_prompt: str) -> bool:
    """True when the generation prompt already opened a <think> block (DeepSeek-R1)."""
    return rendered_prompt.rstrip().endswith("<think>")


def merge_events(events: Iterable[ReasoningEvent]) -> list[ReasoningEvent]:
    """Coalesce adjacent reasoning/answer events of one kind; tool calls stay separate."""
    out: list[ReasoningEvent] = []
    for ev in events:
        if ev.kind != "tool_call" and not ev.text:
            continue
        if out and ev.kind != "tool_call" and out[-1].kind == ev.kind:
            out[-1] = ReasoningEvent(ev.kind, out[-1].text + ev.text)
        else:
            out.append(ev)
    return out


def _answer_only(style: str, content: str) -> str:
    if style == "harmony" and "<|" in content:
        parser = make_parser("harmony")
        events = parser.feed(content) + parser.finish()
        return "".join(e.text for e in events if e.kind == "answer")
    if "</think>" in content:
        # split() also catches a block the template opened, which has no <think> here.
        content = _THINK_BLOCK.sub("", content).split("</think>")[-1].lstrip()
    return content


def strip_reasoning_for_history(style: str, messages: list[dict[str, Any]]) -> list[dict[str, Any]]:
    """Copy messages so earlier assistant turns carry only their final answer.

    Assistant messages after the last user message belong to the turn in progress (a
    tool-call chain); harmony wants their analysis kept, so only markup is removed there.
    """
    last_user = max((i for i, m in enumerate(messages) if m.get("role") == "user"), default=-1)
    result: list[dict[str, Any]] = []
    for i, message in enumerate(messages):
        msg = dict(message)
        if msg.get("role") == "assistant":
            content = msg.get("content")
            if i < last_user:
                for key in ("thinking", "reasoning_content", "reasoning"):
                    msg.pop(key, None)
                if isinstance(content, str):
                    msg["content"] = _answer_only(style, content)
            elif style == "harmony" and isinstance(content, str) and "<|" in content:
                msg["content"] = _answer_only(style, content)
            if style == "harmony" and "content" in msg and msg["content"] is None:
                msg["content"] = ""  # the gpt-oss template tests `... in message.content`
        result.append(msg)
    return result
