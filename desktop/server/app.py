"""The HTTP API itself: Starlette routes over the serving worker.

Every answer is either a well-formed OpenAI response or an OpenAI-shaped error object:
malformed JSON, a body too large, an unknown model, a parameter the engine cannot honour,
a full queue (429 with Retry-After) all get one, never a traceback or a hung connection.
"""

from __future__ import annotations

import asyncio
import contextlib
import json
import logging
import math
import secrets
from collections.abc import AsyncIterator, Awaitable, Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from starlette.applications import Starlette
from starlette.exceptions import HTTPException
from starlette.requests import Request
from starlette.responses import JSONResponse, Response, StreamingResponse
from starlette.routing import Route
from starlette.types import ASGIApp, Receive, Scope, Send

from desktop.engine.api import Delta, Done, Failed, Started
from desktop.server import responses
from desktop.server.errors import ApiError, engine_error
from desktop.server.keys import key_matches
from desktop.server.requests import ChatRequest, parse_chat, parse_embeddings
from desktop.server.worker import Embedded, Job, QueueFull, ServingWorker
from desktop.store import Store
from desktop.store.records import ModelFile

log = logging.getLogger("openweight.server")

MAX_BODY_BYTES = 4 * 1024 * 1024  # a 100k-token conversation is well under 1 MB of text


@dataclass
class ServerSettings:
    database: Path
    key_hash: str | None = None  # SHA-256 of the API key clients must send; None: no key
    max_queue: int = 16
    max_body: int = MAX_BODY_BYTES


class ClientGone(Exception):
    """The client closed its connection before its answer was ready."""


def error_response(error: ApiError) -> JSONResponse:
    return JSONResponse(error.body(), status_code=error.status, headers=error.headers)


class ApiKeyCheck:
    """Pure ASGI (no buffering, so streaming and disconnects pass straight through)."""

    def __init__(self, app: ASGIApp, key_hash: str | None) -> None:
        self.app = app
        self.key_hash = key_hash

    async def __call__(self, scope: Scope, receive: Receive, send: Send) -> None:
        if scope["type"] == "http" and self.key_hash and scope["path"].startswith("/v1"):
            headers = dict(scope["headers"])
            auth = headers.get(b"authorization", b"").decode("latin-1")
            scheme, _, given = auth.partition(" ")
            if scheme.lower() != "bearer" or not key_matches(self.key_hash, given.strip()):
                error = ApiError(401, "This server needs an API key: send it as "
                                 "'Authorization: Bearer KEY'. The key was shown when the "
                                 "server first started.", code="invalid_api_key")
                await error_response(error)(scope, receive, send)
                return
        await self.app(scope, receive, send)


class Api:
    """The routes, the serving worker they feed, and a store for looking up models."""

    def __init__(self, settings: ServerSettings, worker: ServingWorker) -> None:
        self.settings = settings
        self.worker = worker
        self._store: Store | None = None  # opened in the event loop's thread, used only there

    @property
    def store(self) -> Store:
        if self._store is None:
            self._store = Store(self.settings.database)
        return self._store

    # -- helpers -------------------------------------------------------------------------

    async def read_json(self, request: Request) -> Any:
        limit = self.settings.max_body
        too_large = ApiError(413, f"The request body is larger than this server accepts "
                             f"({limit // 1024} KiB).", code="request_too_large")
        declared = request.headers.get("content-length")
        if declared and declared.isdigit() and int(declared) > limit:
            raise too_large
        body = bytearray()
        async for piece in request.stream():
            body.extend(piece)
            if len(body) > limit:
                raise too_large
        try:
            return json.loads(body)
        except ValueError as exc:
            raise ApiError(400, f"The request body is not valid JSON ({exc}).",
                           code="invalid_json") from None

    def find_model(self, name: str, kind: str) -> ModelFile:
        models = [m for m in self.store.models.all() if m.kind == kind]
        model = next((m for m in models if m.name == name), None) or next(
            (m for m in models if m.name.lower() == name.lower()), None)
        if model is None:
            other = next((m for m in self.store.models.all() if m.name == name), None)
            if other is not None:
                embedding = other.kind == "embedding"
                use = "/v1/embeddings" if embedding else "/v1/chat/completions"
                what = "an embedding" if embedding else "a chat"
                raise ApiError(400, f"{name} is {what} model: use it with {use}.",
                               param="model", code="wrong_model_kind")
            raise ApiError(404, f"The model {name!r} is not installed here. GET /v1/models "
                           "lists the models you can use.", param="model", code="model_not_found")
        return model

    def queue(self, model: ModelFile, request: Any) -> tuple[Job, asyncio.Queue[Any]]:
        loop = asyncio.get_running_loop()
        inbox: asyncio.Queue[Any] = asyncio.Queue()

        def deliver(item: Any) -> None:
            with contextlib.suppress(RuntimeError):  # the loop has closed: nobody listens
                loop.call_soon_threadsafe(inbox.put_nowait, item)

        job = Job(model, request, deliver)
        try:
            self.worker.submit(job)
        except QueueFull:
            wait = self.worker.retry_after()
            raise ApiError(429, "The server is busy with other requests; try again in a "
                           "moment.", "rate_limit_error", code="server_busy",
                           headers={"Retry-After": str(math.ceil(wait)),
                                    # finer, for clients that read it (OpenAI's own do)
                                    "retry-after-ms": str(round(wait * 1000))}) from None
        return job, inbox

    async def next_item(self, inbox: asyncio.Queue[Any], gone: asyncio.Task[None]) -> Any:
        getter = asyncio.ensure_future(inbox.get())
        done, _ = await asyncio.wait({getter, gone}, return_when=asyncio.FIRST_COMPLETED)
        if getter in done:
            return getter.result()
        getter.cancel()
        raise ClientGone

    # -- routes --------------------------------------------------------------------------

    async def models(self, request: Request) -> Response:
        return JSONResponse({"object": "list",
                             "data": [responses.model_entry(m) for m in self.store.models.all()
                                      if m.kind in ("chat", "embedding")
                                      and not m.source.startswith("server:")]})

    async def chat(self, request: Request) -> Response:
        chat = parse_chat(await self.read_json(request))
        model = self.find_model(chat.model, "chat")
        job, inbox = self.queue(model, chat)
        gone = asyncio.ensure_future(_wait_for_disconnect(request))
        request_id = "chatcmpl-" + secrets.token_hex(12)
        try:
            if not chat.stream:
                return await self._whole_answer(request_id, model, job, inbox, gone)
            first = await self.next_item(inbox, gone)  # Started, or why it could not start
        except ClientGone:
            self.worker.cancel(job)
            return Response(status_code=499)  # nobody reads it
        except BaseException:
            self.worker.cancel(job)
            gone.cancel()
            raise
        if isinstance(first, Failed):
            gone.cancel()
            raise engine_error(first.kind, first.message)
        gone.cancel()  # from here Starlette watches for the client leaving
        return StreamingResponse(self._stream(request_id, model, chat, job, inbox),
                                 media_type="text/event-stream",
                                 headers={"Cache-Control": "no-cache", "X-Accel-Buffering": "no"})

    async def _whole_answer(self, request_id: str, model: ModelFile, job: Job,
                            inbox: asyncio.Queue[Any], gone: asyncio.Task[None]) -> Response:
        answer: list[str] = []
        reasoning: list[str] = []
        try:
            while True:
                item = await self.next_item(inbox, gone)
                if isinstance(item, Delta):
                    answer.append(item.answer)
                    reasoning.append(item.reasoning)
                elif isinstance(item, Failed):
                    raise engine_error(item.kind, item.message)
                elif isinstance(item, Done):
                    return JSONResponse(responses.completion(
                        request_id, model.name, "".join(answer), "".join(reasoning), item))
        finally:
            gone.cancel()

    async def _stream(self, request_id: str, model: ModelFile, chat: ChatRequest, job: Job,
                      inbox: asyncio.Queue[Any]) -> AsyncIterator[bytes]:
        finished = False
        try:
            yield _sse(responses.chunk(request_id, model.name, {"role": "assistant",
                                                                "content": ""}))
            while True:
                item = await inbox.get()
                if isinstance(item, Delta):
                    delta: dict[str, Any] = {}
                    if item.reasoning:
                        delta["reasoning_content"] = item.reasoning
                    if item.answer:
                        delta["content"] = item.answer
                    if delta:
                        yield _sse(responses.chunk(request_id, model.name, delta))
                elif isinstance(item, Done):
                    finished = True
                    yield _sse(responses.chunk(request_id, model.name, {},
                                               responses.finish_reason(item)))
                    if chat.include_usage:
                        yield _sse(responses.usage_chunk(request_id, model.name, item))
                    yield b"data: [DONE]\n\n"
                    return
                elif isinstance(item, Failed):
                    finished = True
                    yield _sse(engine_error(item.kind, item.message).body())
                    return
                elif not isinstance(item, Started):
                    log.warning("unexpected item in a stream: %r", item)
        finally:
            if not finished:  # the client left mid-answer: stop generating for nobody
                self.worker.cancel(job)

    async def embeddings(self, request: Request) -> Response:
        wanted = parse_embeddings(await self.read_json(request))
        model = self.find_model(wanted.model, "embedding")
        job, inbox = self.queue(model, wanted)
        gone = asyncio.ensure_future(_wait_for_disconnect(request))
        try:
            item = await self.next_item(inbox, gone)
        except ClientGone:
            self.worker.cancel(job)
            return Response(status_code=499)
        finally:
            gone.cancel()
        if isinstance(item, Failed):
            raise engine_error(item.kind, item.message)
        assert isinstance(item, Embedded)
        return JSONResponse(responses.embeddings(model.name, item.vectors, wanted.base64))

    async def root(self, request: Request) -> Response:
        return JSONResponse({"name": "Openweight", "api": "/v1", "status": "ok"})

    def close(self) -> None:
        if self._store is not None:
            self._store.close()
            self._store = None


async def _wait_for_disconnect(request: Request) -> None:
    while True:
        message = await request.receive()
        if message["type"] == "http.disconnect":
            return


def _sse(data: dict[str, Any]) -> bytes:
    return b"data: " + json.dumps(data, ensure_ascii=False).encode("utf-8") + b"\n\n"


Endpoint = Callable[[Request], Awaitable[Response]]


def _guarded(endpoint: Endpoint) -> Endpoint:
    """ApiErrors become their error objects; anything else a 500 the log explains."""

    async def run(request: Request) -> Response:
        try:
            return await endpoint(request)
        except ApiError as exc:
            return error_response(exc)
        except Exception:
            log.exception("%s %s failed", request.method, request.url.path)
            return error_response(ApiError(500, "The server failed to answer this request; "
                                           "details are in its log file.", "server_error"))

    return run


async def _http_error(request: Request, exc: Exception) -> Response:
    status = exc.status_code if isinstance(exc, HTTPException) else 500
    messages = {404: f"There is nothing at {request.url.path}. This server offers GET "
                     "/v1/models, POST /v1/chat/completions and POST /v1/embeddings.",
                405: f"{request.method} is not allowed for {request.url.path}."}
    message = messages.get(status, str(getattr(exc, "detail", "")) or "Request failed.")
    return error_response(ApiError(status, message, code="not_found" if status == 404 else None))


def build_app(settings: ServerSettings, worker: ServingWorker) -> Starlette:
    """The ASGI app; starting it starts the worker, stopping it stops the worker's engines."""
    api = Api(settings, worker)

    @contextlib.asynccontextmanager
    async def lifespan(app: Starlette) -> AsyncIterator[None]:
        await asyncio.to_thread(worker.start)
        try:
            yield
        finally:
            await asyncio.to_thread(worker.close)
            api.close()

    routes = [
        Route("/", _guarded(api.root), methods=["GET"]),
        Route("/v1/models", _guarded(api.models), methods=["GET"]),
        Route("/v1/chat/completions", _guarded(api.chat), methods=["POST"]),
        Route("/v1/embeddings", _guarded(api.embeddings), methods=["POST"]),
    ]
    app = Starlette(routes=routes, lifespan=lifespan,
                    exception_handlers={HTTPException: _http_error})
    app.add_middleware(ApiKeyCheck, key_hash=settings.key_hash)
    return app
