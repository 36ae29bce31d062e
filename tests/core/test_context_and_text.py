from __future__ import annotations

import pytest

from desktop.engine.context import STOP, ContextFullError, fit_messages
from desktop.engine.textstream import StopStringFilter, Utf8Stream


def words(messages: list[dict]) -> int:
    return sum(len(str(m["content"]).split()) + 2 for m in messages)


def conversation(turns: int) -> list[dict]:
    msgs = [{"role": "system", "content": "be kind"}]
    for i in range(turns):
        msgs.append({"role": "user", "content": f"question {i} " + "w " * 10})
        msgs.append({"role": "assistant", "content": f"answer {i} " + "w " * 10})
    msgs.append({"role": "user", "content": "last question"})
    return msgs


def test_fits_untouched() -> None:
    msgs = conversation(2)
    fitted = fit_messages(msgs, words, 1000)
    assert fitted.messages == msgs and fitted.dropped == 0


@pytest.mark.parametrize("estimate", [None, lambda m: len(str(m["content"]).split())])
def test_drops_oldest_turns_keeps_system_and_last_question(estimate: object) -> None:
    msgs = conversation(40)
    fitted = fit_messages(msgs, words, 100, estimate_tokens=estimate)  # type: ignore[arg-type]
    assert fitted.messages[0]["role"] == "system"
    assert fitted.messages[1]["role"] == "user"  # never starts with an orphaned answer
    assert fitted.messages[-1]["content"] == "last question"
    assert fitted.tokens <= 100 and fitted.dropped > 0
    assert words(fitted.messages) == fitted.tokens


def test_stop_policy_and_oversized_message() -> None:
    with pytest.raises(ContextFullError, match="no longer fits"):
        fit_messages(conversation(40), words, 100, policy=STOP)
    with pytest.raises(ContextFullError, match="too long"):
        fit_messages([{"role": "user", "content": "w " * 500}], words, 100)


def test_utf8_split_across_tokens() -> None:
    data = "héllo → 世界 🙂".encode()
    stream = Utf8Stream()
    out = "".join(stream.feed(data[i : i + 1]) for i in range(len(data))) + stream.finish()
    assert out == "héllo → 世界 🙂"


def test_stop_string_split_across_pieces() -> None:
    text = "Hello there. END and more"
    for cut in range(1, len(text)):
        f = StopStringFilter(["END"])
        out = f.feed(text[:cut]) + f.feed(text[cut:]) + f.finish()
        assert out == "Hello there. ", cut
        assert f.stopped


def test_stop_filter_passes_text_without_holding_more_than_needed() -> None:
    f = StopStringFilter(["</answer>"])
    assert f.feed("plain text <") == "plain text "
    assert f.feed("b>") == "<b>"
    assert f.finish() == ""
