"""A loopback Hugging Face Hub: the API the app uses, the resolve endpoint, and a CDN with faults.

Two listeners run on 127.0.0.1: the Hub itself and a 'CDN' on another port, because the real
Hub answers a large file's resolve URL with a redirect to another host, and clients treat the
two differently (huggingface_hub does not follow it for HEAD; downloads do).
"""

from __future__ import annotations

import json
import re
import socket
import threading
import time
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, unquote, urlsplit

from tests.fakehub.repos import FakeFile, FakeRepo, default_repos


@dataclass
class Faults:
    """Switchable misbehaviour of the CDN (and of non-redirected resolve answers)."""

    throttle_bps: int | None = None  # send at most this many bytes a second
    drop_after: int | None = None  # close the connection after this many body bytes...
    drop_times: int = 0  # ...for this many responses
    stall_after: int | None = None  # stop sending (without closing) after this many bytes...
    stall_seconds: float = 0.0  # ...for this long, then close
    stall_times: int = 0
    ignore_range: bool = False  # answer 200 with the whole file to a Range request
    corrupt_offsets: set[int] = field(default_factory=set)  # flip these byte offsets of every body
    fail_status: int | None = None  # answer resolve/CDN requests with this status...
    fail_times: int = 0  # ...this many times


@dataclass
class Seen:
    server: str  # "hub" or "cdn"
    method: str
    path: str
    query: dict[str, list[str]]
    headers: dict[str, str]

    @property
    def range_start(self) -> int | None:
        match = re.match(r"bytes=(\d+)-", self.headers.get("range", ""))
        return int(match.group(1)) if match else None


class FakeHub:
    """Start with .start() (or as a context manager); point HF_ENDPOINT at .url."""

    def __init__(self, repos: dict[str, FakeRepo] | None = None) -> None:
        self.repos = repos if repos is not None else default_repos()
        self.faults = Faults()
        self.requests: list[Seen] = []
        self.lock = threading.Lock()
        self._servers: list[ThreadingHTTPServer] = []
        self.url = ""
        self.cdn_url = ""

    # -- life cycle ------------------------------------------------------------------------
    def start(self, port: int = 0) -> FakeHub:
        hub = _Server(("127.0.0.1", port), _HubHandler, self)
        cdn = _Server(("127.0.0.1", 0), _CdnHandler, self)
        self._servers = [hub, cdn]
        self.url = f"http://127.0.0.1:{hub.server_address[1]}"
        self.cdn_url = f"http://127.0.0.1:{cdn.server_address[1]}"
        for server in self._servers:
            threading.Thread(
                target=server.serve_forever, args=(0.05,), daemon=True, name="fakehub"
            ).start()
        return self

    def stop(self) -> None:
        for server in self._servers:
            server.shutdown()
            server.server_close()
        self._servers = []

    def __enter__(self) -> FakeHub:
        return self.start()

    def __exit__(self, *exc: object) -> None:
        self.stop()

    # -- what tests ask ----------------------------------------------------------------------
    def record(self, seen: Seen) -> None:
        with self.lock:
            self.requests.append(seen)

    def seen(self, server: str | None = None, method: str | None = None) -> list[Seen]:
        with self.lock:
            return [
                r
                for r in self.requests
                if (server is None or r.server == server) and (method is None or r.method == method)
            ]

    def range_starts(self) -> list[int]:
        """Where each download request (GET on the CDN) asked to start."""
        return [r.range_start or 0 for r in self.seen("cdn", "GET")]

    def clear(self) -> None:
        with self.lock:
            self.requests.clear()
        self.faults = Faults()

    def take_fault(self, name: str) -> bool:
        """Use up one of a counted fault (drop_times, stall_times, fail_times)."""
        with self.lock:
            left = getattr(self.faults, name)
            if left > 0:
                setattr(self.faults, name, left - 1)
                return True
            return False

    def blob(self, sha256: str) -> FakeFile | None:
        for repo in self.repos.values():
            for file in repo.files.values():
                if file.lfs and file.sha256 == sha256:
                    return file
        return None


class _Server(ThreadingHTTPServer):
    daemon_threads = True
    block_on_close = False  # a handler stalled on purpose must not hold up stop()

    def __init__(self, address: tuple[str, int], handler: type, hub: FakeHub) -> None:
        self.hub = hub
        super().__init__(address, handler)


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"
    server_name_ = "hub"
    server: _Server

    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002
        pass  # the request log is kept in FakeHub.requests instead

    @property
    def hub(self) -> FakeHub:
        return self.server.hub

    def _record(self) -> tuple[str, dict[str, list[str]]]:
        parts = urlsplit(self.path)
        query = parse_qs(parts.query)
        headers = {k.lower(): v for k, v in self.headers.items()}
        self.hub.record(Seen(self.server_name_, self.command, unquote(parts.path), query, headers))
        return unquote(parts.path), query

    def send_json(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
        raw = json.dumps(body).encode()
        self.send_response(status)
        self.send_header("Content-Type", "application/json")
        self.send_header("Content-Length", str(len(raw)))
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.end_headers()
        if self.command != "HEAD":
            self.wfile.write(raw)

    def send_error_code(self, status: int, code: str, message: str) -> None:
        self.send_json(
            status, {"error": message}, {"X-Error-Code": code, "X-Error-Message": message}
        )

    def send_file(self, file: FakeFile, extra: dict[str, str]) -> None:
        """200 or 206 with Range support, honouring the current faults."""
        faults = self.hub.faults
        if faults.fail_status and self.hub.take_fault("fail_times"):
            self.send_json(faults.fail_status, {"error": "temporarily unavailable"})
            return
        size = file.size
        start, end = 0, size
        match = re.fullmatch(r"bytes=(\d+)-(\d*)", self.headers.get("Range", ""))
        partial = bool(match) and not faults.ignore_range
        if partial and match:
            start = int(match.group(1))
            end = min(size, int(match.group(2)) + 1) if match.group(2) else size
            if start >= size:
                self.send_response(416)
                self.send_header("Content-Range", f"bytes */{size}")
                self.send_header("Content-Length", "0")
                self.end_headers()
                return
        self.send_response(206 if partial else 200)
        self.send_header("Content-Type", "application/octet-stream")
        self.send_header("Accept-Ranges", "bytes")
        self.send_header("Content-Length", str(end - start))
        if partial:
            self.send_header("Content-Range", f"bytes {start}-{end - 1}/{size}")
        for key, value in extra.items():
            self.send_header(key, value)
        self.end_headers()
        if self.command == "HEAD":
            return
        self._stream(file, start, end)

    def _stream(self, file: FakeFile, start: int, end: int) -> None:
        faults = self.hub.faults
        drop = (
            faults.drop_after
            if faults.drop_after is not None and self.hub.take_fault("drop_times")
            else None
        )
        stall = (
            faults.stall_after
            if faults.stall_after is not None and self.hub.take_fault("stall_times")
            else None
        )
        sent, position = 0, start
        try:
            while position < end:
                bps = self.hub.faults.throttle_bps
                step = min(64 * 1024, max(1024, bps // 20) if bps else 64 * 1024, end - position)
                for limit in (drop, stall):
                    if limit is not None:
                        step = min(step, max(0, limit - sent)) or step
                chunk = bytearray(file.read(position, position + step))
                for offset in self.hub.faults.corrupt_offsets:
                    if position <= offset < position + len(chunk):
                        chunk[offset - position] ^= 0xFF
                self.wfile.write(chunk)
                sent += len(chunk)
                position += len(chunk)
                if drop is not None and sent >= drop:
                    self._hang_up()
                    return
                if stall is not None and sent >= stall:
                    self.wfile.flush()
                    time.sleep(faults.stall_seconds)
                    self._hang_up()
                    return
                if bps:
                    time.sleep(len(chunk) / bps)
        except (BrokenPipeError, ConnectionResetError, ConnectionAbortedError):
            self.close_connection = True

    def _hang_up(self) -> None:
        self.wfile.flush()
        self.close_connection = True
        try:
            self.connection.shutdown(socket.SHUT_RDWR)
        except OSError:
            pass


class _HubHandler(_Handler):
    server_name_ = "hub"

    def do_HEAD(self) -> None:  # noqa: N802
        self.do_GET()

    def do_POST(self) -> None:  # noqa: N802
        if urlsplit(self.path).path != "/_fakehub/faults":
            self.send_error_code(404, "NotFound", "Not found")
            return
        body = json.loads(self.rfile.read(int(self.headers.get("Content-Length", "0"))) or b"{}")
        for key, value in body.items():
            if hasattr(self.hub.faults, key):
                setattr(self.hub.faults, key, set(value) if key == "corrupt_offsets" else value)
        self.send_json(200, {"ok": True})

    def do_GET(self) -> None:  # noqa: N802
        if urlsplit(self.path).path == "/_fakehub/requests":  # the admin view is not logged
            self.send_json(
                200, [r.__dict__ | {"range_start": r.range_start} for r in self.hub.seen()]
            )
            return
        path, query = self._record()
        if path == "/api/models":
            self._search(query)
            return
        match = re.fullmatch(r"/api/models/([^/]+/[^/]+)(?:/revision/([^/]+))?", path)
        if match:
            self._model_info(match.group(1), match.group(2) or "main", query)
            return
        match = re.fullmatch(r"/api/models/([^/]+/[^/]+)/tree/([^/]+)(?:/(.*))?", path)
        if match:
            self._tree(match.group(1), match.group(2))
            return
        match = re.fullmatch(r"/([^/]+/[^/]+)/resolve/([^/]+)/(.+)", path)
        if match:
            self._resolve(match.group(1), match.group(2), match.group(3))
            return
        self.send_error_code(404, "NotFound", "Not found")

    def _repo(self, repo_id: str, revision: str) -> FakeRepo | None:
        repo = self.hub.repos.get(repo_id)
        if repo is None:
            self.send_error_code(404, "RepoNotFound", "Repository not found")
            return None
        if not repo.at(revision):
            self.send_error_code(404, "RevisionNotFound", f"Invalid rev id: {revision}")
            return None
        return repo

    def _search(self, query: dict[str, list[str]]) -> None:
        text = (query.get("search") or [""])[0].lower()
        filters = query.get("filter", [])
        found = [
            r
            for r in self.hub.repos.values()
            if text in r.repo_id.lower() and all(f in r.tags for f in filters)
        ]
        sort = (query.get("sort") or [""])[0]
        if sort in ("downloads", "likes"):
            found.sort(key=lambda r: getattr(r, sort), reverse=True)
        limit = int((query.get("limit") or ["1000"])[0])
        self.send_json(200, [self._summary(r) for r in found[:limit]])

    def _summary(self, repo: FakeRepo) -> dict[str, Any]:
        return {
            "_id": repo.commit[:24],
            "id": repo.repo_id,
            "modelId": repo.repo_id,
            "author": repo.repo_id.split("/")[0],
            "downloads": repo.downloads,
            "likes": repo.likes,
            "lastModified": repo.last_modified,
            "createdAt": "2025-01-01T00:00:00.000Z",
            "tags": repo.tags,
            "private": False,
            "gated": repo.gated,
            "library_name": "gguf" if "gguf" in repo.tags else None,
        }

    def _model_info(self, repo_id: str, revision: str, query: dict[str, list[str]]) -> None:
        repo = self._repo(repo_id, revision)
        if repo is None:
            return
        blobs = (query.get("blobs") or ["false"])[0].lower() == "true"
        siblings = []
        for file in repo.files.values():
            entry: dict[str, Any] = {"rfilename": file.path}
            if blobs:
                entry.update(size=file.size, blobId=file.git_oid)
                if file.lfs:
                    entry["lfs"] = {"size": file.size, "sha256": file.sha256, "pointerSize": 134}
            siblings.append(entry)
        body = self._summary(repo) | {"sha": repo.commit, "siblings": siblings, "disabled": False}
        self.send_json(200, body)

    def _tree(self, repo_id: str, revision: str) -> None:
        repo = self._repo(repo_id, revision)
        if repo is None:
            return
        items = []
        for file in repo.files.values():
            item: dict[str, Any] = {
                "type": "file",
                "oid": file.git_oid,
                "size": file.size,
                "path": file.path,
            }
            if file.lfs:
                item["lfs"] = {"oid": file.sha256, "size": file.size, "pointerSize": 134}
            items.append(item)
        self.send_json(200, items)

    def _resolve(self, repo_id: str, revision: str, filename: str) -> None:
        repo = self._repo(repo_id, revision)
        if repo is None:
            return
        file = repo.files.get(filename)
        if file is None:
            self.send_error_code(404, "EntryNotFound", f"{filename} does not exist on {revision}")
            return
        headers = {"X-Repo-Commit": repo.commit}
        if not file.lfs:
            self.send_file(file, headers | {"ETag": f'"{file.git_oid}"'})
            return
        location = f"{self.hub.cdn_url}/blobs/{file.sha256}?expires=9999999999&signature=fake"
        self.send_response(302)
        self.send_header("Location", location)
        self.send_header("X-Repo-Commit", repo.commit)
        self.send_header("X-Linked-Etag", f'"{file.sha256}"')
        self.send_header("X-Linked-Size", str(file.size))
        self.send_header("ETag", f'"{file.git_oid}"')
        self.send_header("Content-Length", "0")
        self.end_headers()


class _CdnHandler(_Handler):
    server_name_ = "cdn"

    def do_HEAD(self) -> None:  # noqa: N802
        self.do_GET()

    def do_GET(self) -> None:  # noqa: N802
        path, _ = self._record()
        match = re.fullmatch(r"/blobs/([0-9a-f]{64})", path)
        file = self.hub.blob(match.group(1)) if match else None
        if file is None:
            self.send_error_code(404, "NotFound", "No such blob")
            return
        self.send_file(file, {"ETag": f'"{file.sha256}"'})
