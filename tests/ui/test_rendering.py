"""Markdown, code, thinking and the context meter, as the transcript draws them."""

from __future__ import annotations

import os

from PySide6.QtCore import Qt
from PySide6.QtGui import QGuiApplication

from desktop.store.records import Message
from desktop.ui.code_highlight import highlight_code, language_label
from desktop.ui.context_meter import memory_start_id
from desktop.ui.markdown_blocks import BlockRenderer, MarkdownDocument
from desktop.ui.status_area import ContextUse
from desktop.ui.theme import DARK, LIGHT
from desktop.ui.transcript.code_block import CodeBlock
from desktop.ui.transcript.message_parts import status_note
from desktop.ui.transcript.message_widget import MessageWidget
from desktop.ui.transcript.thinking_block import thought_for

SAMPLE = """# Plan

Some **bold** text, `inline code` and a [link](https://example.org).

1. first
2. second

> a quote

| name | size |
|------|-----:|
| a    | 1    |

```python
def greet(name):
    return f"Hello {name}"
```

- done
"""


def blocks_of(text: str) -> list:
    return MarkdownDocument(BlockRenderer(LIGHT)).set_text(text)


def test_markdown_becomes_prose_and_code_blocks() -> None:
    blocks = blocks_of(SAMPLE)
    kinds = [b.kind for b in blocks]
    assert kinds == ["prose"] * 5 + ["code", "prose"]
    html = "".join(b.html for b in blocks)
    for tag in ("<h1", "<strong>bold</strong>", "<code", "<ol>", "<table", "<li>", 'href="https'):
        assert tag in html
    assert 'bgcolor="' in blocks[3].html  # the quote's bar
    code = blocks[5]
    assert code.language == "python" and code.code.startswith("def greet(name):")


def test_streaming_redoes_only_the_tail_and_ends_the_same() -> None:
    document = MarkdownDocument(BlockRenderer(LIGHT))
    for end in range(1, len(SAMPLE) + 1, 5):
        document.set_text(SAMPLE[:end])
        assert document.frozen_chars <= end
    document.set_text(SAMPLE)
    assert document.blocks == blocks_of(SAMPLE)
    assert len(document.frozen) >= 5  # earlier blocks were final and not parsed again


def test_model_output_cannot_load_files_or_run_html() -> None:
    html = "".join(
        b.html
        for b in blocks_of(
            '<img src="file:///etc/passwd"> ![secret](file:///etc/hosts) <script>x</script>'
        )
    )
    assert "<img" not in html and "<script>" not in html
    assert "&lt;img" in html


def test_code_is_highlighted_in_each_theme() -> None:
    light = highlight_code('print("hi")', "py", LIGHT.code_style)
    dark = highlight_code('print("hi")', "py", DARK.code_style)
    assert "<span style=" in light and light != dark
    assert highlight_code("<b>", "no-such-language", LIGHT.code_style) == "&lt;b&gt;"
    long = "\n".join(f"x{i} = {i}" for i in range(100))
    assert highlight_code(long, "python", LIGHT.code_style).count("\n") == 99
    assert language_label("py") == "Python" and language_label("") == "text"


def test_code_block_copy_button(qtbot) -> None:  # noqa: ANN001
    block = CodeBlock("echo hi", "bash", LIGHT.code_style)
    qtbot.addWidget(block)
    qtbot.mouseClick(block.copy_button, Qt.MouseButton.LeftButton)
    assert QGuiApplication.clipboard().text() == "echo hi"
    assert block.copy_button.text() == "Copied"


def message(
    role: str,
    content: str = "",
    reasoning: str = "",
    status: str = "complete",
    stats: dict | None = None,
    mid: int = 1,
    parent: int | None = None,
) -> Message:
    return Message(
        id=mid,
        conversation_id=1,
        parent_id=parent,
        role=role,
        content=content,
        reasoning=reasoning,
        status=status,
        model="m",
        created_at=0,
        updated_at=0,
        stats=stats or {},
    )


def test_an_answer_stopped_before_its_first_word_says_so() -> None:
    assert status_note(message("assistant", status="stopped")) == (
        "Stopped before the model wrote anything"
    )
    stats = {"generated_tokens": 3, "tokens_per_s": 2.0}
    note = status_note(message("assistant", "Once upon", status="stopped", stats=stats))
    assert note == "3 tokens  ·  2.0 tokens/s  ·  Stopped"


def test_thinking_is_open_while_thinking_and_folds_when_the_answer_starts(qtbot) -> None:  # noqa: ANN001
    widget = MessageWidget(message("assistant", status="streaming"), [1], BlockRenderer(LIGHT))
    qtbot.addWidget(widget)
    widget.show()
    thinking = widget.thinking
    assert not thinking.isVisible()
    widget.show_stream("", "Let me think about", 1.0)
    assert thinking.isVisible() and thinking.is_open and thinking.toggle.text() == "Thinking…"
    widget.show_stream("The answer", "Let me think about it.", 4.2)
    assert not thinking.is_open and thinking.toggle.text() == "Thought for 4 s"
    assert widget.body.text == "The answer"  # thinking never mixed into the answer
    qtbot.mouseClick(thinking.toggle, Qt.MouseButton.LeftButton)
    assert thinking.is_open  # the reader opened it: it stays open
    widget.set_message(
        message("assistant", "The answer", "Let me think about it.", stats={"thought_s": 4.2})
    )
    assert thinking.is_open and thinking.body.text() == "Let me think about it."
    assert thought_for(None) == "Thoughts" and thought_for(0.3) == "Thought for a moment"


def test_failed_answers_show_their_error_and_retry(qtbot) -> None:  # noqa: ANN001
    failed = message("assistant", status="failed")
    failed.error = "The model engine stopped unexpectedly while loading model.gguf."
    widget = MessageWidget(failed, [1], BlockRenderer(LIGHT))
    qtbot.addWidget(widget)
    widget.show()
    assert widget.error_box.isVisible() and "stopped unexpectedly" in widget.error_box.text.text()
    with qtbot.waitSignal(widget.regenerate_requested) as signal:
        qtbot.mouseClick(widget.error_box.retry_button, Qt.MouseButton.LeftButton)
    assert signal.args == [1]
    assert not widget.error_box.details_button.isVisible()  # nothing more to show


def test_the_technical_detail_waits_behind_a_details_button(qtbot) -> None:  # noqa: ANN001
    failed = message("assistant", status="failed",
                     stats={"error_detail": "check_tensor_dims: tensor 'output.weight' not found"})
    failed.error = "model.gguf is damaged: parts of it do not match what its header describes."
    widget = MessageWidget(failed, [1], BlockRenderer(LIGHT))
    qtbot.addWidget(widget)
    widget.resize(640, 240)
    widget.show()
    box = widget.error_box
    assert box.details_button.isVisible() and not box.detail.isVisible()
    qtbot.mouseClick(box.details_button, Qt.MouseButton.LeftButton)
    assert box.detail.isVisible() and "not found" in box.detail.text()
    if folder := os.environ.get("OPENWEIGHT_SCREENSHOT_DIR"):
        widget.grab().save(os.path.join(folder, "error-details.png"))
    qtbot.mouseClick(box.details_button, Qt.MouseButton.LeftButton)
    assert not box.detail.isVisible()


def test_memory_marker_goes_before_the_first_message_the_model_still_sees() -> None:
    branch = [
        message("user", "q1", mid=1),
        message("assistant", "a1", mid=2, parent=1),
        message("user", "q2", mid=3, parent=2),
        message("assistant", "", status="failed", mid=4, parent=3),
        message("user", "q3", mid=5, parent=4),
        message("assistant", "a3", mid=6, parent=5, stats={"dropped_messages": 2}),
    ]
    assert memory_start_id(branch) == 3
    assert memory_start_id(branch[:5], dropped=3, parent_id=5) == 5  # the failed one is skipped
    assert memory_start_id(branch[:2]) is None


def test_context_use_warns_in_words() -> None:
    assert ContextUse(100, 8192, 1024, True, "drop_oldest").warning() == ""
    assert "no longer fit" in ContextUse(8000, 8192, 1024, True, "drop_oldest").warning()
    assert "full" in ContextUse(8000, 8192, 1024, True, "stop").warning()
    assert (
        ContextUse(100, 8192, 1024, False, "drop_oldest").describe() == "about 100 of 8,192 tokens"
    )


def test_citations_in_an_answer_open_their_sources(qtbot) -> None:  # noqa: ANN001
    from desktop.ui.transcript.sources_view import SourcesView

    sources = [{"number": n, "path": f"/notes/{name}", "page": page, "heading": "",
                "snippet": "…", "highlights": []}
               for n, name, page in ((1, "keeper.md", None), (2, "atlas.pdf", 4))]
    answer = message("assistant", "Morag Quill keeps it [1], as the atlas says [2].\n\n"
                     "Not a citation: `items[1]` or [7].")
    answer.sources = sources
    widget = MessageWidget(answer, [1], BlockRenderer(LIGHT))
    qtbot.addWidget(widget)
    first, second = widget.body.widgets
    assert 'href="cite:1"' in first.text() and 'href="cite:2"' in first.text()
    assert "cite:" not in second.text()  # code, and a number with no source, stay text
    opened: list[tuple[str, int | None]] = []
    SourcesView.opener = staticmethod(lambda path, page: opened.append((path, page)) or True)  # type: ignore[assignment]
    try:
        first.linkActivated.emit("cite:2")
    finally:
        del SourcesView.opener
    assert opened == [("/notes/atlas.pdf", 4)]
