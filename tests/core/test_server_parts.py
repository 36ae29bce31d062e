"""The API server's pure parts: API keys kept as hashes, request checking."""

from __future__ import annotations

import pytest

from desktop.server.errors import ApiError
from desktop.server.keys import is_loopback, key_matches, resolve_key
from desktop.server.requests import parse_chat, parse_embeddings
from desktop.store import Store


def test_a_key_is_made_for_other_computers_and_kept_only_as_a_hash(store: Store) -> None:
    assert resolve_key(store.settings, "127.0.0.1", None) == (None, None)  # loopback: no key
    hashed, shown = resolve_key(store.settings, "0.0.0.0", None)
    assert shown is not None and shown.startswith("ow-") and hashed is not None
    assert shown not in str(store.settings.all()) and key_matches(hashed, shown)
    assert not key_matches(hashed, shown + "x")
    # Later starts require the same key, on loopback too, and never show it again.
    assert resolve_key(store.settings, "127.0.0.1", None) == (hashed, None)
    assert resolve_key(store.settings, "0.0.0.0", None) == (hashed, None)
    mine, none_shown = resolve_key(store.settings, "127.0.0.1", "my-own-key")
    assert none_shown is None and mine is not None and key_matches(mine, "my-own-key")
    assert resolve_key(store.settings, "0.0.0.0", None) == (mine, None)
    fresh, made = resolve_key(store.settings, "127.0.0.1", None, new=True)
    assert made is not None and fresh != mine


@pytest.mark.parametrize("host, local", [("127.0.0.1", True), ("127.9.9.9", True), ("::1", True),
                                         ("localhost", True), ("0.0.0.0", False),
                                         ("192.168.1.5", False), ("::", False)])
def test_loopback_addresses(host: str, local: bool) -> None:
    assert is_loopback(host) is local


def test_a_chat_request_is_checked_before_it_is_queued() -> None:
    chat = parse_chat({"model": "m", "stream": True, "stream_options": {"include_usage": True},
                       "max_completion_tokens": 5, "stop": "END", "seed": 7,
                       "messages": [{"role": "developer", "content": "Be brief."},
                                    {"role": "user",
                                     "content": [{"type": "text", "text": "Hi "},
                                                 {"type": "text", "text": "there"}]}]})
    assert chat.stream and chat.include_usage and chat.max_tokens == 5 and chat.stop == ["END"]
    assert chat.messages == [{"role": "system", "content": "Be brief."},
                             {"role": "user", "content": "Hi there"}]
    bad = [
        ({"model": "m", "messages": []}, "messages"),
        ({"model": "m", "messages": [{"role": "robot", "content": "x"}]}, "messages[0].role"),
        ({"model": "m", "messages": [{"role": "user", "content": [{"type": "image_url"}]}]},
         "messages[0].content"),
        ({"messages": [{"role": "user", "content": "x"}]}, "model"),
        ({"model": "m", "messages": [{"role": "user", "content": "x"}], "top_p": 1.5}, "top_p"),
        ({"model": "m", "messages": [{"role": "user", "content": "x"}], "max_tokens": "9"},
         "max_tokens"),
        ({"model": "m", "messages": [{"role": "user", "content": "x"}], "stop": [1]}, "stop"),
        ({"model": "m", "messages": [{"role": "user", "content": "x"}], "temperature": True},
         "temperature"),
    ]
    for body, param in bad:
        with pytest.raises(ApiError) as err:
            parse_chat(body)
        assert err.value.status == 400 and err.value.param == param, body
    with pytest.raises(ApiError):
        parse_chat(["not", "an", "object"])


def test_an_embeddings_request_takes_text_only() -> None:
    assert parse_embeddings({"model": "e", "input": "one"}).texts == ["one"]
    assert parse_embeddings({"model": "e", "input": ["a", "b"],
                             "encoding_format": "base64"}).base64
    with pytest.raises(ApiError) as err:
        parse_embeddings({"model": "e", "input": [[1, 2, 3]]})
    assert err.value.param == "input"
