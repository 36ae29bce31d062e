"""Streaming reasoning parsers and chat-template rendering (no Qt, no model needed)."""

from __future__ import annotations

import random
from collections.abc import Iterator
from datetime import datetime
from pathlib import Path
from typing import Any

import pytest

from desktop.engine.reasoning import (
    ReasoningEvent,
    make_parser,
    merge_events,
    strip_reasoning_for_history,
    template_opens_thinking,
)
from desktop.engine.templates import ChatTemplateError, render_chat_prompt
from desktop.modelfile.style import detect_style

TEMPLATES = Path(__file__).resolve().parent.parent / "data" / "templates"
MARKERS = ("<|", "|>", "<think>", "</think>")

Outcome = tuple[str, str, list[tuple[str | None, str]]]  # reasoning, answer, tool calls


def template(name: str) -> str:
    return (TEMPLATES / name).read_text(encoding="utf-8")


def parse(
    style: str, pieces: list[str], starts_in_reasoning: bool = False, check_markers: bool = True
) -> Outcome:
    parser = make_parser(style, starts_in_reasoning=starts_in_reasoning)
    events: list[ReasoningEvent] = []
    for piece in pieces:
        events += parser.feed(piece)
    events += parser.finish()
    for ev in events:
        assert ev.kind != "tool_call" or ev.recipient
        if ev.kind != "tool_call":
            assert ev.text, "empty text events are noise"
            if check_markers and style != "none":
                assert not any(m in ev.text for m in MARKERS), f"marker leaked: {ev!r}"
    merged = merge_events(events)
    reasoning = "".join(e.text for e in merged if e.kind == "reasoning")
    answer = "".join(e.text for e in merged if e.kind == "answer")
    calls = [(e.recipient, e.text) for e in merged if e.kind == "tool_call"]
    return reasoning, answer, calls


def splits(text: str) -> Iterator[list[str]]:
    """Whole, every 2-way split, every 3-way split (sampled when long), one char at a time."""
    n = len(text)
    yield [text]
    for i in range(n + 1):
        yield [text[:i], text[i:]]
    step = 1 if n <= 160 else n // 80
    for i in range(0, n + 1, step):
        for j in range(i, n + 1, step):
            yield [text[:i], text[i:j], text[j:]]
    yield list(text)


def check_all_splits(style: str, text: str, expected: Outcome, **kw: bool) -> None:
    for pieces in splits(text):
        assert parse(style, pieces, **kw) == expected, pieces


# --- harmony (gpt-oss) -----------------------------------------------------------------

HARMONY_CASES: list[tuple[str, Outcome]] = [
    (  # the usual reply; <|return|> is end-of-generation and usually never reaches us
        "<|channel|>analysis<|message|>User asks capital of France. Answer: Paris.<|end|>"
        "<|start|>assistant<|channel|>final<|message|>The capital of France is **Paris**.",
        ("User asks capital of France. Answer: Paris.", "The capital of France is **Paris**.", []),
    ),
    (
        "<|channel|>analysis<|message|>I'm\nthinking<|end|><|start|>assistant<|channel|>final"
        "<|message|>Hello, world!\nWhat's up?<|return|>",
        ("I'm\nthinking", "Hello, world!\nWhat's up?", []),
    ),
    (  # a function call, recipient in the channel header, with a constraint
        "<|channel|>analysis<|message|>Need weather for Paris.<|end|><|start|>assistant"
        '<|channel|>commentary to=functions.get_weather <|constrain|>json<|message|>{"city":"Paris"}'
        "<|call|>",
        ("Need weather for Paris.", "", [("functions.get_weather", '{"city":"Paris"}')]),
    ),
    (  # recipient continuing the prompt's role header (llama.cpp test-chat.cpp)
        ' to=functions.special_function<|channel|>analysis <|constrain|>json<|message|>{"arg1": 1}',
        ("", "", [("functions.special_function", '{"arg1": 1}')]),
    ),
    (  # recipient in the role header after <|start|>
        "<|channel|>analysis<|message|>I'm\nthinking<|end|>"
        '<|start|>assistant to=functions.special_function<|channel|>analysis<|message|>{"arg1": 1}',
        ("I'm\nthinking", "", [("functions.special_function", '{"arg1": 1}')]),
    ),
    (  # a preamble (commentary without recipient) is shown as answer text
        "<|channel|>analysis<|message|>Plan: check.<|end|><|start|>assistant<|channel|>commentary"
        "<|message|>Let me check that.<|end|><|start|>assistant<|channel|>commentary "
        'to=functions.lookup <|constrain|>json<|message|>{"q": "a<b"}<|call|>',
        ("Plan: check.", "Let me check that.", [("functions.lookup", '{"q": "a<b"}')]),
    ),
    (  # structured output in the final channel
        "<|channel|>analysis<|message|>Output JSON.<|end|><|start|>assistant<|channel|>final "
        '<|constrain|>json<|message|>{"amount": 123.45}',
        ("Output JSON.", '{"amount": 123.45}', []),
    ),
    (  # "commentary to=assistant" is not a tool call and is superseded by the next header
        "<|channel|>commentary to=assistant<|channel|>analysis<|message|>Hmm<|end|>"
        "<|start|>assistant<|channel|>final<|message|>Done.",
        ("Hmm", "Done.", []),
    ),
    (  # built-in tool recipient
        "<|channel|>analysis<|message|>Run it.<|end|><|start|>assistant<|channel|>commentary "
        'to=python <|constrain|>code<|message|>print("hello")',
        ("Run it.", "", [("python", 'print("hello")')]),
    ),
    ("<|channel|>final<|message|>Only an answer, x < y.", ("", "Only an answer, x < y.", [])),
    ("Hello there, no header at all.", ("", "Hello there, no header at all.", [])),
    ("to be or not to be", ("", "to be or not to be", [])),
    (  # unknown special tokens are dropped, never shown
        "<|channel|>final<|message|>Hi<|endoftext|> there<|reserved_200012|>",
        ("", "Hi there", []),
    ),
]


@pytest.mark.parametrize(("text", "expected"), HARMONY_CASES)
def test_harmony_every_split(text: str, expected: Outcome) -> None:
    check_all_splits("harmony", text, expected)


def test_harmony_stop_mid_thought() -> None:
    assert parse("harmony", ["<|channel|>analysis<|message|>I'm\nthink", "ing"]) == (
        "I'm\nthinking",
        "",
        [],
    )
    # Cut inside a marker: the partial marker is dropped, never shown.
    check_all_splits("harmony", "<|channel|>analysis<|message|>Hmm, so<|en", ("Hmm, so", "", []))
    check_all_splits("harmony", "<|channel|>analy", ("", "", []))
    check_all_splits("harmony", "<|channel|>final<|message|>a <", ("", "a <", []))


def test_harmony_streams_live() -> None:
    parser = make_parser("harmony")
    assert parser.feed("<|channel|>analysis<|message|>Thinking hard") == [
        ReasoningEvent("reasoning", "Thinking hard")
    ]
    # Only the possible marker prefix is held back.
    assert parser.feed(" now<|en") == [ReasoningEvent("reasoning", " now")]
    assert parser.feed("d|><|start|>assistant<|channel|>final<|message|>Par") == [
        ReasoningEvent("answer", "Par")
    ]
    assert parser.feed("is <") == [ReasoningEvent("answer", "is ")]
    assert parser.feed("3") == [ReasoningEvent("answer", "<3")]
    assert parser.finish() == []


def test_harmony_open_tool_call_is_flushed_by_finish() -> None:
    # llama.cpp stops on <|call|> without emitting it, so finish() must close the call.
    parser = make_parser("harmony")
    events = parser.feed('<|channel|>commentary to=functions.f <|constrain|>json<|message|>{"a": 1')
    assert events == []
    assert parser.finish() == [ReasoningEvent("tool_call", '{"a": 1', "functions.f")]


def test_harmony_long_stream_holds_back_little() -> None:
    parser = make_parser("harmony")
    parser.feed("<|channel|>analysis<|message|>")
    body = "a<b <|x y|> <| " * 5000
    total = 0
    for i in range(0, len(body), 7):
        total += sum(len(e.text) for e in parser.feed(body[i : i + 7]))
        assert len(parser._scanner._held) <= 35  # type: ignore[attr-defined]
    total += sum(len(e.text) for e in parser.finish())
    assert total == len(body)


# --- think (Qwen3, DeepSeek-R1) --------------------------------------------------------

THINK_CASES: list[tuple[str, Outcome]] = [
    (
        "<think>\nOkay, the user asks for the capital of France. That's Paris.\n</think>\n\n"
        "The capital of France is Paris.",
        (
            "Okay, the user asks for the capital of France. That's Paris.",
            "The capital of France is Paris.",
            [],
        ),
    ),
    (
        "<think>I'm\nthinking</think>Hello, world!\nWhat's up?",
        ("I'm\nthinking", "Hello, world!\nWhat's up?", []),
    ),
    ("<think>\n\n</think>\n\nJust the answer.", ("", "Just the answer.", [])),
    ("Paris is the capital of France.", ("", "Paris is the capital of France.", [])),
    (  # angle brackets that are not think tags pass through untouched
        "<think>is a<b? <th> no</think>Use `a < b` and <b>bold</b> </th>.",
        ("is a<b? <th> no", "Use `a < b` and <b>bold</b> </th>.", []),
    ),
]


@pytest.mark.parametrize(("text", "expected"), THINK_CASES)
def test_think_every_split(text: str, expected: Outcome) -> None:
    check_all_splits("think", text, expected)


def test_think_starting_in_reasoning_every_split() -> None:
    # DeepSeek-R1 distills: the prompt ends with "<think>\n", output starts inside it.
    text = "Okay, so the user wants 2+2.\nThat is 4.\n</think>\n\n2 + 2 = **4**."
    check_all_splits(
        "think",
        text,
        ("Okay, so the user wants 2+2.\nThat is 4.", "2 + 2 = **4**.", []),
        starts_in_reasoning=True,
    )
    # Some models repeat the opening tag anyway.
    check_all_splits(
        "think", "<think>\nHmm</think>Yes.", ("Hmm", "Yes.", []), starts_in_reasoning=True
    )


def test_think_stop_mid_thought() -> None:
    check_all_splits("think", "<think>\nLet me consider", ("Let me consider", "", []))
    check_all_splits("think", "<think>Hmm</thi", ("Hmm", "", []))
    check_all_splits(
        "think", "Still thinking", ("Still thinking", "", []), starts_in_reasoning=True
    )
    check_all_splits("think", "<think>a</think>x <", ("a", "x <", []))


def test_think_streams_live() -> None:
    parser = make_parser("think")
    assert parser.feed("<think>\nLet me") == [ReasoningEvent("reasoning", "Let me")]
    assert parser.feed(" see</th") == [ReasoningEvent("reasoning", " see")]
    assert parser.feed("ink>\n\nThe answer") == [ReasoningEvent("answer", "The answer")]


def test_none_style_is_verbatim() -> None:
    text = "  <think>not parsed</think> <|end|>"
    check_all_splits("none", text, ("", text, []))
    with pytest.raises(ValueError):
        make_parser("bogus")


@pytest.mark.parametrize("style", ["harmony", "think"])
def test_random_markup_is_split_invariant(style: str) -> None:
    # Random soup of markers, marker fragments and text: however it is cut, the result must
    # equal parsing it whole. (Marker-like text can legitimately remain here, e.g. "</" +
    # a dropped stray "</think>" + "think>", so leaks are checked on realistic cases above.)
    rng = random.Random(1234)
    parts = {
        "harmony": [
            "<|channel|>",
            "analysis",
            "final",
            "commentary to=functions.f",
            "<|message|>",
            "<|end|>",
            "<|start|>",
            "assistant",
            "<|constrain|>",
            "<|call|>",
            "<|",
            "|>",
            "<",
            "|",
            "x",
            " ",
            "\n",
            "to=",
            "<|return|>",
        ],
        "think": ["<think>", "</think>", "<", "</", "<th", "think>", " ", "\n", "a", "b>", "/"],
    }[style]
    for _ in range(150):
        text = "".join(rng.choice(parts) for _ in range(rng.randint(1, 14)))
        whole = parse(style, [text], check_markers=False)
        for pieces in splits(text):
            assert parse(style, pieces, check_markers=False) == whole, pieces


def test_merge_events_keeps_tool_calls_apart() -> None:
    events = [
        ReasoningEvent("reasoning", "a"),
        ReasoningEvent("reasoning", "b"),
        ReasoningEvent("answer", ""),
        ReasoningEvent("tool_call", "{}", "functions.f"),
        ReasoningEvent("tool_call", "{}", "functions.g"),
        ReasoningEvent("answer", "c"),
        ReasoningEvent("answer", "d"),
    ]
    assert merge_events(events) == [
        ReasoningEvent("reasoning", "ab"),
        ReasoningEvent("tool_call", "{}", "functions.f"),
        ReasoningEvent("tool_call", "{}", "functions.g"),
        ReasoningEvent("answer", "cd"),
    ]


# --- history ---------------------------------------------------------------------------


def test_strip_reasoning_for_history_think() -> None:
    messages: list[dict[str, Any]] = [
        {"role": "user", "content": "Hi"},
        {
            "role": "assistant",
            "content": "<think>\nSECRET\n</think>\n\nHello!",
            "reasoning_content": "x",
        },
        {"role": "assistant", "content": "SECRET2</think>\nBye"},
        {"role": "user", "content": "Again"},
    ]
    out = strip_reasoning_for_history("think", messages)
    assert out[1] == {"role": "assistant", "content": "Hello!"}
    assert out[2] == {"role": "assistant", "content": "Bye"}
    assert messages[1]["reasoning_content"] == "x"  # the input is not modified


def test_strip_reasoning_for_history_harmony() -> None:
    raw = "<|channel|>analysis<|message|>SECRET<|end|><|start|>assistant<|channel|>final<|message|>Paris."
    messages: list[dict[str, Any]] = [
        {"role": "user", "content": "Capital?"},
        {"role": "assistant", "content": raw},
        {"role": "assistant", "content": "Paris.", "thinking": "SECRET"},
        {"role": "user", "content": "Weather?"},
        {"role": "assistant", "content": None, "thinking": "KEEP", "tool_calls": []},
    ]
    out = strip_reasoning_for_history("harmony", messages)
    assert out[1] == {"role": "assistant", "content": "Paris."}
    assert out[2] == {"role": "assistant", "content": "Paris."}
    # The turn in progress keeps its analysis (harmony wants it during a tool-call chain).
    assert out[4]["thinking"] == "KEEP" and out[4]["content"] == ""


# --- templates -------------------------------------------------------------------------

GPT_OSS = "openai-gpt-oss-120b.jinja"
QWEN3 = "Qwen-Qwen3-0.6B.jinja"
R1_DISTILL = "deepseek-ai-DeepSeek-R1-Distill-Llama-8B.jinja"


def render(name: str, messages: list[dict[str, Any]], **variables: Any) -> str:
    bos = "<｜begin▁of▁sentence｜>" if name == R1_DISTILL else ""
    return render_chat_prompt(
        template(name), messages, bos_token=bos, eos_token="", variables=variables
    )


USER = [{"role": "user", "content": "What is the capital of France?"}]


def test_detect_style_on_real_templates() -> None:
    assert detect_style(template(GPT_OSS), "gpt-oss") == "harmony"
    assert detect_style(None, "gpt-oss") == "harmony"
    assert detect_style(template(QWEN3), "qwen3") == "think"
    assert detect_style(template(R1_DISTILL), "llama") == "think"
    chatml = (
        "{% for m in messages %}<|im_start|>{{ m.role }}\n{{ m.content }}<|im_end|>\n{% endfor %}"
    )
    assert detect_style(chatml, "llama") == "none"
    assert detect_style(None, None) == "none"


def test_gpt_oss_reasoning_effort_and_date() -> None:
    before = datetime.now()
    prompt = render(GPT_OSS, USER, reasoning_effort="high")
    after = datetime.now()
    assert "Reasoning: high" in prompt
    assert "Reasoning: medium" in render(GPT_OSS, USER)  # the template's default
    dates = {before.strftime("%Y-%m-%d"), after.strftime("%Y-%m-%d")}  # midnight-safe
    assert any(f"Current date: {d}\n" in prompt for d in dates)
    assert prompt.endswith(
        "<|start|>user<|message|>What is the capital of France?<|end|><|start|>assistant"
    )
    assert not template_opens_thinking(prompt)


def test_gpt_oss_history_drops_earlier_analysis() -> None:
    call = {"type": "function", "function": {"name": "get_weather", "arguments": {"city": "Paris"}}}
    messages: list[dict[str, Any]] = [
        {"role": "user", "content": "Weather in Paris?"},
        {
            "role": "assistant",
            "content": "",
            "thinking": "PURPLE-ELEPHANT-PLAN",
            "tool_calls": [call],
        },
        {"role": "tool", "content": "Sunny, 21 C"},
        {"role": "user", "content": "And tomorrow?"},
    ]
    # Without stripping, the template itself would feed the old analysis back.
    assert "PURPLE-ELEPHANT-PLAN" in render(GPT_OSS, messages)
    prompt = render(GPT_OSS, strip_reasoning_for_history("harmony", messages))
    assert "PURPLE-ELEPHANT-PLAN" not in prompt
    assert (
        '<|start|>assistant to=functions.get_weather<|channel|>commentary json<|message|>{"city": "Paris"}<|call|>'
        in prompt
    )

    # Raw harmony text stored as content is rejected by the template, but not once stripped.
    raw = [
        USER[0],
        {
            "role": "assistant",
            "content": "<|channel|>analysis<|message|>PURPLE<|end|>"
            "<|start|>assistant<|channel|>final<|message|>Paris.",
        },
        {"role": "user", "content": "Thanks"},
    ]
    with pytest.raises(ChatTemplateError):
        render(GPT_OSS, raw)
    prompt = render(GPT_OSS, strip_reasoning_for_history("harmony", raw))
    assert "PURPLE" not in prompt
    assert "<|start|>assistant<|channel|>final<|message|>Paris.<|end|>" in prompt


def test_qwen3_enable_thinking() -> None:
    off = render(QWEN3, USER, enable_thinking=False)
    assert off.endswith("<|im_start|>assistant\n<think>\n\n</think>\n\n")
    assert not template_opens_thinking(off)
    on = render(QWEN3, USER, enable_thinking=True)
    assert on.endswith("<|im_start|>assistant\n")
    assert not template_opens_thinking(on)
    history = [
        *USER,
        {"role": "assistant", "content": "<think>\nPURPLE-ELEPHANT\n</think>\n\nParis."},
        {"role": "user", "content": "And Germany?"},
    ]
    prompt = render(QWEN3, strip_reasoning_for_history("think", history))
    assert "PURPLE-ELEPHANT" not in prompt
    assert "<|im_start|>assistant\nParis.<|im_end|>" in prompt


def test_r1_distill_opens_thinking_end_to_end() -> None:
    prompt = render(R1_DISTILL, USER)
    assert prompt.startswith("<｜begin▁of▁sentence｜>")
    assert prompt.endswith("<｜Assistant｜><think>\n")
    assert template_opens_thinking(prompt)
    output = "Okay, France's capital is Paris.\n</think>\n\nThe capital of France is Paris."
    assert parse("think", [output[:9], output[9:40], output[40:]], starts_in_reasoning=True) == (
        "Okay, France's capital is Paris.",
        "The capital of France is Paris.",
        [],
    )
    history = [
        *USER,
        {"role": "assistant", "content": "PURPLE-ELEPHANT\n</think>\n\nParis."},
        {"role": "user", "content": "Thanks"},
    ]
    assert "PURPLE-ELEPHANT" not in render(
        R1_DISTILL, strip_reasoning_for_history("think", history)
    )


def test_template_opens_thinking() -> None:
    assert template_opens_thinking("<|im_start|>assistant\n<think>\n\n")
    assert not template_opens_thinking("<|im_start|>assistant\n<think>\n\n</think>\n\n")
    assert not template_opens_thinking("<|im_start|>assistant\n")


def test_broken_template_is_a_clear_error() -> None:
    with pytest.raises(ChatTemplateError):
        render_chat_prompt("{% if %}", USER, bos_token="", eos_token="")
    with pytest.raises(ChatTemplateError, match="nope"):
        render_chat_prompt("{{ raise_exception('nope') }}", USER, bos_token="", eos_token="")


def test_same_output_as_llama_cpp_formatter() -> None:
    chat_format = pytest.importorskip("llama_cpp.llama_chat_format")
    cases: list[tuple[str, dict[str, Any]]] = [
        (GPT_OSS, {"reasoning_effort": "low"}),
        (QWEN3, {"enable_thinking": False}),
        (R1_DISTILL, {}),
    ]
    for name, variables in cases:
        bos = "<s>" if name == R1_DISTILL else ""
        ours = render_chat_prompt(
            template(name), USER, bos_token=bos, eos_token="</s>", variables=variables
        )
        formatter = chat_format.Jinja2ChatFormatter(template(name), eos_token="</s>", bos_token=bos)
        assert ours == formatter(messages=USER, **variables).prompt
