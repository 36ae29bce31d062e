"""The remote engine against real OpenAI-compatible servers on 127.0.0.1."""

from __future__ import annotations

import os
import stat
from pathlib import Path

import pytest

from desktop.chat.session import ChatSession, ensure_conversation
from desktop.engine.api import Delta, Done, EngineError, Failed, Started
from desktop.engine.engines import build_engines
from desktop.engine.options import GenerateOptions
from desktop.engine.remote import KeyStore, RemoteEngine, ServerError, Servers
from desktop.engine.remote.servers import insecure_warning, normalise_url
from desktop.store import Store
from desktop.store.export import export_conversation
from desktop.store.records import ChatSettings, ModelFile
from tests.openai.edge_server import GOOD_KEY, N_CTX, EdgeServer
from tests.openai.llama_server import LlamaServer, free_port

QUESTION = "What is the capital of France?"
SYSTEM = {"role": "system", "content": "You are a helpful assistant."}


def remote_model(server: str, model_id: str) -> ModelFile:
    return ModelFile(name=f"{server}/{model_id}", path="", filename=model_id,
                     source=f"server:{server}")


def ask(text: str, **kwargs: object) -> GenerateOptions:
    return GenerateOptions(messages=[SYSTEM, {"role": "user", "content": text}],
                           temperature=0.0, **kwargs)  # type: ignore[arg-type]


@pytest.fixture
def edge() -> EdgeServer:
    with EdgeServer() as server:
        yield server  # type: ignore[misc]


@pytest.fixture
def llama(llama_server: LlamaServer) -> RemoteEngine:
    engine = RemoteEngine.at("Box", llama_server.base_url, llama_server.api_key)
    engine.load(remote_model("Box", llama_server.model))
    return engine


# -- against llama-cpp-python's server ------------------------------------------------------


def test_streams_the_answer_from_a_real_server(llama: RemoteEngine) -> None:
    events = list(llama.generate(ask(QUESTION, max_tokens=40)))
    started = next(e for e in events if isinstance(e, Started))
    assert started.estimated and started.prompt_tokens > 5  # no /tokenize there: an estimate
    deltas = [e for e in events if isinstance(e, Delta)]
    assert len(deltas) >= 2  # streamed in pieces, not one block
    assert "Paris" in "".join(d.answer for d in deltas)
    done = events[-1]
    assert isinstance(done, Done) and done.stop_reason == "eos"
    assert done.stats["server"] == "Box" and done.stats["generated_tokens"] > 0


def test_stop_closes_the_stream_mid_answer(llama: RemoteEngine) -> None:
    events = []
    for event in llama.generate(ask("Write a very long story about a dragon.", max_tokens=400)):
        events.append(event)
        if isinstance(event, Delta):
            llama.stop()
    done = events[-1]
    assert isinstance(done, Done) and done.stop_reason == "stopped"
    assert sum(isinstance(e, Delta) for e in events) < 50  # it did not run on to 400 tokens
    # The server is fine afterwards: the next question is answered in full.
    again = list(llama.generate(ask(QUESTION, max_tokens=40)))
    assert isinstance(again[-1], Done) and again[-1].stop_reason == "eos"


def test_wrong_key_unknown_model_and_unreachable(llama_server: LlamaServer) -> None:
    wrong = RemoteEngine.at("Box", llama_server.base_url, "not-the-key")
    with pytest.raises(EngineError) as refused:
        wrong.load(remote_model("Box", llama_server.model))
    assert refused.value.kind == "auth" and "API key" in str(refused.value)

    right = RemoteEngine.at("Box", llama_server.base_url, llama_server.api_key)
    with pytest.raises(EngineError) as gone:
        right.load(remote_model("Box", "no-such-model"))
    assert gone.value.kind == "model_gone" and llama_server.model in str(gone.value)

    nowhere = RemoteEngine.at("Off", f"http://127.0.0.1:{free_port()}/v1")
    with pytest.raises(EngineError) as unreachable:
        nowhere.load(remote_model("Off", "x"))
    assert unreachable.value.kind == "unreachable" and "running" in str(unreachable.value)


# -- at the network edge -----------------------------------------------------------------


def test_reasoning_fields_usage_and_exact_counts(edge: EdgeServer) -> None:
    engine = RemoteEngine.at("Edge", edge.base_url, GOOD_KEY)
    info = engine.load(remote_model("Edge", "reasoner"))
    assert info["n_ctx"] == N_CTX  # from /props, not the trained 4096
    counted = engine.count_tokens([{"role": "user", "content": "one two three"}])
    assert counted.tokens == 4 and not counted.estimated  # "<user> one two three"
    events = list(engine.generate(ask("Tell me", max_tokens=20, stop=["###"], seed=5,
                                      top_p=0.5)))
    reasoning = "".join(e.reasoning for e in events if isinstance(e, Delta))
    answer = "".join(e.answer for e in events if isinstance(e, Delta))
    assert reasoning == "The user asks about France." and answer == "Paris it is."
    done = events[-1]
    assert isinstance(done, Done) and done.stats["prompt_tokens"] == 42
    assert done.stats["generated_tokens"] == 3 and "estimated_tokens" not in done.stats
    sent = edge.requests[-1]
    assert sent["stream"] is True and sent["stream_options"] == {"include_usage": True}
    assert (sent["temperature"], sent["top_p"], sent["max_tokens"], sent["stop"], sent["seed"]) \
        == (0.0, 0.5, 20, ["###"], 5)


def test_embeddings_in_order_and_unit_length(edge: EdgeServer) -> None:
    engine = RemoteEngine.at("Edge", edge.base_url, GOOD_KEY)
    vectors = engine.embed(remote_model("Edge", "plain"), ["abcd", "ab"])
    assert vectors == [[0.8944271909999159, 0.0, 0.4472135954999579],
                       [0.7071067811865475, 0.0, 0.7071067811865475]]


def test_think_marks_in_the_text_are_split_off(edge: EdgeServer) -> None:
    engine = RemoteEngine.at("Edge", edge.base_url, GOOD_KEY)
    engine.load(remote_model("Edge", "thinker"))
    events = list(engine.generate(ask("Tell me")))
    assert "".join(e.reasoning for e in events if isinstance(e, Delta)) == "France..."
    assert "".join(e.answer for e in events if isinstance(e, Delta)) == "Paris"


def test_oldest_turns_dropped_to_fit_the_servers_context(edge: EdgeServer) -> None:
    engine = RemoteEngine.at("Edge", edge.base_url, GOOD_KEY)
    engine.load(remote_model("Edge", "plain"))
    long_turns = []
    for i in range(6):
        long_turns += [{"role": "user", "content": f"question {i} " + "word " * 40},
                       {"role": "assistant", "content": "answer " * 10}]
    messages = [SYSTEM, *long_turns, {"role": "user", "content": "last question"}]
    events = list(engine.generate(GenerateOptions(messages=messages, max_tokens=50)))
    started = next(e for e in events if isinstance(e, Started))
    assert started.dropped_messages > 0 and started.prompt_tokens <= N_CTX - 50
    sent = edge.requests[-1]["messages"]
    assert sent[0] == SYSTEM and sent[-1]["content"] == "last question"
    assert len(sent) == len(messages) - started.dropped_messages


def test_errors_at_the_edge(edge: EdgeServer) -> None:
    wrong = RemoteEngine.at("Edge", edge.base_url, "wrong")
    with pytest.raises(EngineError) as refused:
        wrong.load(remote_model("Edge", "plain"))
    assert refused.value.kind == "auth"

    engine = RemoteEngine.at("Edge", edge.base_url, GOOD_KEY)
    engine.load(remote_model("Edge", "busy"))
    failed = list(engine.generate(ask("hi")))[-1]
    assert isinstance(failed, Failed) and failed.kind == "busy" and "7 s" in failed.message

    engine.load(remote_model("Edge", "broken"))
    failed = list(engine.generate(ask("hi")))[-1]
    assert isinstance(failed, Failed) and "GPU fell off" in failed.message

    engine.load(remote_model("Edge", "cut-off"))
    events = list(engine.generate(ask("hi")))
    assert "".join(e.answer for e in events if isinstance(e, Delta)) == "Paris is"
    assert isinstance(events[-1], Failed) and events[-1].kind == "cut_off"


def test_a_cut_off_answer_is_kept_as_interrupted(edge: EdgeServer, tmp_path: Path) -> None:
    store = Store(tmp_path / "profile" / "history.sqlite3")
    Servers(store.settings, KeyStore(tmp_path / "profile")).add("Edge", edge.base_url, GOOD_KEY)
    engines = build_engines(store)
    try:
        session = ChatSession(store, engines)
        conv = ensure_conversation(store, None, model="Edge/cut-off")
        model = session.resolve_model(conv)
        result = session.answer(conv, session.add_user_message(conv, "hi"), model)
        assert result.message.status == "interrupted" and result.message.content == "Paris is"
        assert "Retry" in (result.error or "")
    finally:
        engines.close()
        store.close()


def test_a_chat_on_a_server_that_is_down_says_so(tmp_path: Path) -> None:
    store = Store(tmp_path / "profile" / "history.sqlite3")
    Servers(store.settings, KeyStore(tmp_path / "profile")).add(
        "Off", f"http://127.0.0.1:{free_port()}/v1")
    engines = build_engines(store)
    try:
        session = ChatSession(store, engines)
        conv = ensure_conversation(store, None, model="Off/llama-70b")
        model = session.resolve_model(conv)  # found by name although the server cannot list it
        result = session.answer(conv, session.add_user_message(conv, "hi"), model)
        assert result.message.status == "failed"
        assert "Could not reach the server Off" in (result.error or "")
    finally:
        engines.close()
        store.close()


# -- the servers registry ----------------------------------------------------------------


def test_server_addresses_and_warnings() -> None:
    assert normalise_url("localhost:11434") == "http://localhost:11434/v1"
    assert normalise_url("https://gpu.lab.example/v1/") == "https://gpu.lab.example/v1"
    assert normalise_url("http://box:1234/api/v1") == "http://box:1234/api/v1"
    with pytest.raises(ServerError):
        normalise_url("ftp://box")
    with pytest.raises(ServerError):
        normalise_url("http://me:sk-123@box/v1")  # the key would land in the database
    assert insecure_warning("http://127.0.0.1:8080/v1") is None
    assert insecure_warning("http://localhost:8080/v1") is None
    assert insecure_warning("https://192.168.1.20/v1") is None
    assert "unencrypted" in (insecure_warning("http://192.168.1.20:8080/v1") or "")


def test_keys_stay_out_of_the_database_logs_and_exports(
        llama_server: LlamaServer, tmp_path: Path) -> None:
    from desktop.logs import setup_logging

    folder = tmp_path / "profile"
    log_file = folder / "logs" / "openweight.log"
    setup_logging(log_file)
    store = Store(folder / "openweight.sqlite3")
    servers = Servers(store.settings, KeyStore(folder))
    servers.add("Box", llama_server.base_url, llama_server.api_key)
    with pytest.raises(ServerError):
        servers.add("Box", "http://localhost:1/v1")
    with pytest.raises(ServerError):
        servers.add("a/b", "http://localhost:1/v1")
    key_file = folder / "server-keys.json"
    assert stat.S_IMODE(os.stat(key_file).st_mode) == 0o600
    engines = build_engines(store)
    try:
        listed = engines.remote_models()
        assert [(m.name, m.source) for m in listed] == [("Box/smollm2", "server:Box")]
        session = ChatSession(store, engines)
        conv = ensure_conversation(store, None, model="Box/smollm2")
        store.history.update_conversation(conv, settings=ChatSettings(temperature=0.0,
                                                                      max_tokens=40))
        model = session.resolve_model(conv)
        result = session.answer(conv, session.add_user_message(conv, QUESTION), model)
        assert "Paris" in result.message.content and result.message.status == "complete"
        assert result.message.model == "Box/smollm2"
        assert store.history.conversation(conv).model == "Box/smollm2"
        exports = export_conversation(store.history, conv, "md") + export_conversation(
            store.history, conv, "json")
    finally:
        engines.close()
        store.close()
    secret = llama_server.api_key.encode()
    for path in [*folder.rglob("*.sqlite3*"), log_file]:
        assert secret not in path.read_bytes(), path
    assert llama_server.api_key not in exports
    assert llama_server.api_key in key_file.read_text()
    # Removing the server removes its key too.
    store = Store(folder / "openweight.sqlite3")
    Servers(store.settings, KeyStore(folder)).remove("Box")
    store.close()
    assert llama_server.api_key not in key_file.read_text()


def test_keys_go_to_a_working_keychain(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    import keyring
    from keyring.backend import KeyringBackend

    class MemoryKeychain(KeyringBackend):
        """A keychain that lives in memory: the OS's own is not ours to write to in tests."""

        priority = 1  # type: ignore[assignment]

        def __init__(self) -> None:
            super().__init__()
            self.items: dict[tuple[str, str], str] = {}

        def get_password(self, service: str, username: str) -> str | None:
            return self.items.get((service, username))

        def set_password(self, service: str, username: str, password: str) -> None:
            self.items[(service, username)] = password

        def delete_password(self, service: str, username: str) -> None:
            self.items.pop((service, username), None)

    previous = keyring.get_keyring()
    chain = MemoryKeychain()
    keyring.set_keyring(chain)
    try:
        keys = KeyStore(tmp_path)
        assert keys.where == "the system keychain"
        keys.set("Box", "sk-123")
        assert keys.get("Box") == "sk-123" and chain.items == {("Openweight", "server:Box"): "sk-123"}
        assert not (tmp_path / "server-keys.json").exists()
        keys.delete("Box")
        assert keys.get("Box") is None and not chain.items
    finally:
        keyring.set_keyring(previous)
