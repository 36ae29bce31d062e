"""`openweight serve` as a user runs it, spoken to with the official `openai` client over
loopback: answers whole and streamed, stop sequences, usage, errors, a client that leaves
mid-answer, twenty clients at once, an API key when listening on every interface."""

from __future__ import annotations

import json
import os
import re
import signal
import sqlite3
import threading
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import httpx2 as httpx  # the HTTP client the openai package is built on
import openai
import pytest

from tests.e2e.conftest import Openweight

MODEL = "SmolLM2-135M-Instruct.Q4_1"
SYSTEM = {"role": "system", "content": "You are a helpful assistant."}
QUESTION = [SYSTEM, {"role": "user", "content": "What is the capital of France?"}]
STORY = [SYSTEM, {"role": "user", "content": "Write a very long story about a dragon and a knight."}]


class Served:
    """A running `openweight serve` and what it printed on starting."""

    def __init__(self, ow: Openweight, *args: str) -> None:
        self.ow = ow
        self.proc = ow.start("serve", "--port", "0", *args)
        assert self.proc.stdout is not None
        self.banner: list[str] = []
        for line in self.proc.stdout:  # the banner ends with how to stop it
            self.banner.append(line.rstrip("\n"))
            if line.startswith("Press Ctrl+C"):
                break
        text = "\n".join(self.banner)
        found = re.search(r"(http://127\.0\.0\.1:\d+/v1)", text)
        assert found, f"no address in {text!r}; stderr: {self.stderr_now()}"
        self.base_url = found.group(1)

    def stderr_now(self) -> str:
        if self.proc.poll() is None:
            return ""
        return self.proc.stderr.read() if self.proc.stderr else ""

    def client(self, key: str = "none", **kwargs: Any) -> openai.OpenAI:
        return openai.OpenAI(base_url=self.base_url, api_key=key, **kwargs)

    def engine_hosts(self) -> list[int]:
        children = []
        for entry in Path("/proc").iterdir():
            if entry.name.isdigit():
                try:
                    stat = (entry / "stat").read_text()
                    cmd = (entry / "cmdline").read_bytes()
                except OSError:
                    continue
                if int(stat.rsplit(")", 1)[1].split()[1]) == self.proc.pid and \
                        b"desktop.engine.host" in cmd:
                    children.append(int(entry.name))
        return children

    def interrupt(self) -> tuple[int, str]:
        """Ctrl+C, as a user stops it; the exit code and what it printed after the banner."""
        self.proc.send_signal(signal.SIGINT)
        out, _ = self.proc.communicate(timeout=60)
        return self.proc.returncode, out


@pytest.fixture(scope="module")
def served(tmp_path_factory: pytest.TempPathFactory, test_model_path: Path) -> Iterator[Served]:
    ow = Openweight(tmp_path_factory.mktemp("serve") / "profile")
    imported = ow.run("models", "import", str(test_model_path))
    assert imported.returncode == 0, imported.stderr
    server = Served(ow, "--queue", "4", "--save-history")
    yield server
    code, _ = server.interrupt()
    assert code == 0


def test_lists_models_and_answers_whole(served: Served) -> None:
    client = served.client()
    assert [m.id for m in client.models.list()] == [MODEL]
    reply = client.chat.completions.create(model=MODEL, messages=QUESTION, temperature=0,
                                           seed=1, max_tokens=60)
    assert "Paris" in reply.choices[0].message.content
    assert reply.choices[0].finish_reason == "stop"
    assert reply.usage.prompt_tokens > 10 and reply.usage.completion_tokens > 1
    assert reply.usage.total_tokens == reply.usage.prompt_tokens + reply.usage.completion_tokens
    assert reply.model == MODEL and reply.id.startswith("chatcmpl-")


def test_streams_pieces_then_usage(served: Served) -> None:
    stream = served.client().chat.completions.create(
        model=MODEL, messages=QUESTION, temperature=0, max_tokens=60, stream=True,
        stream_options={"include_usage": True})
    chunks = list(stream)
    text = "".join(c.choices[0].delta.content or "" for c in chunks if c.choices)
    assert "Paris" in text
    pieces = [c for c in chunks if c.choices and c.choices[0].delta.content]
    assert len(pieces) >= 2  # streamed, not one block at the end
    finishes = [c.choices[0].finish_reason for c in chunks if c.choices]
    assert finishes[-1] == "stop" and set(finishes[:-1]) == {None}
    assert chunks[-1].choices == [] and chunks[-1].usage.completion_tokens > 1


def test_stop_sequences_and_max_tokens(served: Served) -> None:
    client = served.client()
    full = client.chat.completions.create(model=MODEL, messages=QUESTION, temperature=0,
                                          max_tokens=60)
    stopped = client.chat.completions.create(model=MODEL, messages=QUESTION, temperature=0,
                                             max_tokens=60, stop=["Paris", "never-seen"])
    assert "Paris" in full.choices[0].message.content
    assert "Paris" not in stopped.choices[0].message.content
    assert stopped.choices[0].finish_reason == "stop"
    assert stopped.usage.completion_tokens < full.usage.completion_tokens
    short = client.chat.completions.create(model=MODEL, messages=STORY, temperature=0,
                                           max_tokens=3)
    assert short.choices[0].finish_reason == "length" and short.usage.completion_tokens == 3


def _error(response: httpx.Response, status: int) -> dict[str, Any]:
    assert response.status_code == status, response.text
    error = response.json()["error"]
    assert set(error) == {"message", "type", "param", "code"} and error["message"]
    return error


def test_errors_are_openai_shaped(served: Served) -> None:
    client = served.client()
    with pytest.raises(openai.NotFoundError) as missing:
        client.chat.completions.create(model="no-such-model", messages=QUESTION)
    assert missing.value.code == "model_not_found"
    with pytest.raises(openai.BadRequestError) as hot:
        client.chat.completions.create(model=MODEL, messages=QUESTION, temperature=3)
    assert hot.value.param == "temperature"
    with pytest.raises(openai.BadRequestError) as many:
        client.chat.completions.create(model=MODEL, messages=QUESTION, n=2)
    assert many.value.param == "n"
    with pytest.raises(openai.BadRequestError) as empty:
        client.chat.completions.create(model=MODEL, messages=[])
    assert empty.value.param == "messages"
    with pytest.raises(openai.BadRequestError) as kind:
        client.embeddings.create(model=MODEL, input="a chat model cannot embed")
    assert kind.value.code == "wrong_model_kind"

    url = served.base_url + "/chat/completions"
    with httpx.Client(timeout=60) as http:
        bad = _error(http.post(url, content=b'{"model": "x", "messages": [',
                               headers={"content-type": "application/json"}), 400)
        assert bad["code"] == "invalid_json"
        huge = {"model": MODEL, "messages": [{"role": "user", "content": "x" * 5_000_000}]}
        assert _error(http.post(url, json=huge), 413)["code"] == "request_too_large"
        assert _error(http.post(url, json={"model": MODEL, "messages": QUESTION,
                                           "max_tokens": 0}), 400)["param"] == "max_tokens"
        assert _error(http.get(served.base_url + "/nowhere"), 404)["code"] == "not_found"
        assert _error(http.get(url), 405)
        # After all that the server still answers.
        assert http.get(served.base_url + "/models").status_code == 200


def _served_answers(served: Served) -> list[sqlite3.Row]:
    db = sqlite3.connect(served.ow.data_dir / "openweight.sqlite3")
    db.row_factory = sqlite3.Row
    try:
        return db.execute("SELECT m.* FROM messages m JOIN conversations c ON "
                          "c.id = m.conversation_id WHERE m.role = 'assistant' "
                          "ORDER BY m.id").fetchall()
    finally:
        db.close()


def test_a_client_that_leaves_stops_its_answer(served: Served) -> None:
    client = served.client()
    with client.chat.completions.create(model=MODEL, messages=STORY, temperature=0,
                                        max_tokens=2000, stream=True) as stream:
        pieces = 0
        for chunk in stream:
            pieces += bool(chunk.choices and chunk.choices[0].delta.content)
            if pieces == 3:
                break  # leaving the block closes the connection mid-answer
    # The next request waits for the engine's one thread, which saves the left answer first.
    client.chat.completions.create(model=MODEL, messages=QUESTION, max_tokens=1)
    story = [r for r in _served_answers(served) if r["stats"] and
             json.loads(r["stats"]).get("prompt_tokens") and "dragon" in _question(served, r)]
    assert story, "the story request was not saved"
    stats = json.loads(story[-1]["stats"])
    assert story[-1]["status"] == "stopped" and stats["stop_reason"] == "stopped"
    assert 3 <= stats["generated_tokens"] < 2000


def _question(served: Served, answer: sqlite3.Row) -> str:
    db = sqlite3.connect(served.ow.data_dir / "openweight.sqlite3")
    try:
        row = db.execute("SELECT content FROM messages WHERE id = ?",
                         (answer["parent_id"],)).fetchone()
        return str(row[0]) if row else ""
    finally:
        db.close()


def test_another_openweight_chats_through_it_as_a_server(served: Served, tmp_path: Path) -> None:
    """The remote engine against `openweight serve` itself: a second profile adds the first
    as a server and chats through it from the command line."""
    other = Openweight(tmp_path / "other-profile")
    added = other.run("servers", "add", "Home", served.base_url)
    assert added.returncode == 0, added.stderr
    assert MODEL in added.stdout  # the connection was tested and the model listed
    listed = other.run("models", "list")
    assert "Home" in listed.stdout and MODEL in listed.stdout  # grouped under the server
    chat = other.run("chat", "--model", f"Home/{MODEL}", "--temperature", "0",
                     "--max-tokens", "24", "What is the capital of France?", timeout=300)
    assert chat.returncode == 0, chat.stderr
    assert "Paris" in chat.stdout
    shown = json.loads(other.run("history", "show", "--last", "--json").stdout)
    assert any(m.get("model") == f"Home/{MODEL}" for m in shown["messages"])


def test_twenty_clients_at_once_all_answered(served: Served) -> None:
    rejected: list[int] = []

    def note(response: httpx.Response) -> None:
        if response.status_code == 429:
            assert response.headers["retry-after"].isdigit()
            rejected.append(1)

    http = httpx.Client(event_hooks={"response": [note]}, timeout=300)
    client = served.client(max_retries=100, http_client=http)
    start = threading.Barrier(20)
    answers: dict[int, str] = {}
    failures: list[BaseException] = []

    def ask(i: int) -> None:
        start.wait()
        try:
            reply = client.chat.completions.create(
                model=MODEL, temperature=0, max_tokens=4,
                messages=[SYSTEM, {"role": "user", "content": f"Say the number {i}."}])
            answers[i] = reply.choices[0].message.content or ""
        except BaseException as exc:  # noqa: BLE001 - reported below
            failures.append(exc)

    threads = [threading.Thread(target=ask, args=(i,)) for i in range(20)]
    for t in threads:
        t.start()
    for t in threads:
        t.join(600)
    http.close()
    assert not failures and sorted(answers) == list(range(20))
    assert rejected, "with a queue of 4, some of 20 simultaneous requests get 429 and retry"


def test_all_interfaces_need_the_key_and_ctrl_c_leaves_no_engine(
        tmp_path: Path, test_model_path: Path) -> None:
    ow = Openweight(tmp_path / "profile")
    assert ow.run("models", "import", str(test_model_path)).returncode == 0
    server = Served(ow, "--host", "0.0.0.0")
    try:
        banner = "\n".join(server.banner)
        assert "every request needs the API key" in banner
        key = re.search(r"^\s+(ow-\S+)$", banner, re.M)
        assert key, banner
        with pytest.raises(openai.AuthenticationError):
            server.client().models.list()
        with pytest.raises(openai.AuthenticationError):
            server.client("ow-wrong").models.list()
        client = server.client(key.group(1))
        assert [m.id for m in client.models.list()] == [MODEL]
        reply = client.chat.completions.create(model=MODEL, messages=QUESTION, max_tokens=2)
        assert reply.usage.completion_tokens >= 1
        hosts = server.engine_hosts()
        assert len(hosts) == 1
        # The key was kept only as a hash.
        stored = b"".join(f.read_bytes() for f in ow.data_dir.glob("openweight.sqlite3*"))
        assert b"server.api_key_sha256" in stored and key.group(1).encode() not in stored
    finally:
        code, out = server.interrupt()
    assert code == 0 and "Stopped." in out
    for pid in hosts:
        with pytest.raises(ProcessLookupError):
            os.kill(pid, 0)

    again = Served(ow, "--host", "0.0.0.0")  # a second start: the same key, not shown again
    try:
        assert not re.search(r"^\s+ow-\S+$", "\n".join(again.banner), re.M)
        assert [m.id for m in again.client(key.group(1)).models.list()] == [MODEL]
    finally:
        again.interrupt()


def test_serve_refuses_a_port_in_use(served: Served) -> None:
    port = served.base_url.rsplit(":", 1)[1].split("/")[0]
    result = served.ow.run("serve", "--port", port, timeout=60)
    assert result.returncode == 1
    assert f"Port {port} is already in use" in result.stderr
    assert "Traceback" not in result.stderr


def test_embeddings_from_an_installed_embedding_model(tmp_path: Path,
                                                     embedding_model_path: Path) -> None:
    ow = Openweight(tmp_path / "profile")
    assert ow.run("models", "import", str(embedding_model_path)).returncode == 0
    server = Served(ow)
    try:
        client = server.client()
        name = next(m.id for m in client.models.list() if getattr(m, "kind", "") == "embedding")
        texts = ["The capital of France is Paris.", "Paris is France's capital city.",
                 "A recipe for apple pie."]
        floats = client.embeddings.create(model=name, input=texts, encoding_format="float")
        packed = client.embeddings.create(model=name, input=texts)  # base64, the default
        vectors = [d.embedding for d in floats.data]
        assert len(vectors) == 3 and len(vectors[0]) == 384  # all-MiniLM-L6-v2's width
        for unpacked, plain in zip(packed.data, vectors, strict=True):
            assert unpacked.embedding == pytest.approx(plain, abs=1e-6)

        def cosine(a: list[float], b: list[float]) -> float:
            return sum(x * y for x, y in zip(a, b, strict=True))  # the vectors are unit length

        assert cosine(vectors[0], vectors[1]) > cosine(vectors[0], vectors[2])
    finally:
        server.interrupt()
