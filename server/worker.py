"""The gunicorn worker `beatbook serve` runs: threads, a read timeout, JSON errors.

A sync worker is held by one connection for as long as its client takes to send the body: two
phones that lost signal mid-upload froze a two-worker server for a minute. gunicorn's gthread
worker waits for idle and kept-alive connections in one poller, so only requests being read or
answered take a thread; the read timeout set here bounds how long a connection may go quiet
while it sends its request line, headers or body (a stalled body is answered 408 by the app:
server/api/body.py). Requests gunicorn refuses itself (a request line over its limit, a
malformed header) are answered in the API's one error shape rather than gunicorn's HTML.
"""

from __future__ import annotations

import json

from gunicorn.workers.gthread import TConn, ThreadWorker

from server.errors import Code

# What gunicorn answers itself, before the app sees the request, by status. These are transport
# errors a client cannot get from the app, so they stand beside the one error table
# (server.errors.Code) rather than in it; docs/sync-protocol.md lists them.
GUNICORN_CODES = {
    400: "bad_request",
    403: "forbidden",
    408: Code.REQUEST_TIMEOUT.value,
    414: "uri_too_long",
    417: "expectation_failed",
    431: "headers_too_large",
    500: Code.INTERNAL_ERROR.value,
    501: "not_implemented",
}


class _TimedConn(TConn):
    read_timeout: float = 10.0

    def init(self):
        # handle() puts the socket back in blocking mode (no timeout) before each request.
        super().init()
        self.sock.settimeout(self.read_timeout)


class BeatbookWorker(ThreadWorker):
    """gthread, with every request read under a timeout and errors answered as JSON."""

    read_timeout: float = 10.0  # set by run_gunicorn before the workers fork

    def enqueue_req(self, conn):
        if type(conn) is TConn:  # a new connection; kept-alive ones come back already timed
            conn.__class__ = _TimedConn
            conn.read_timeout = self.read_timeout
        super().enqueue_req(conn)

    def handle_error(self, req, client, addr, exc):
        # gunicorn decides the status and logs; _JsonAnswer rewrites what it sends.
        super().handle_error(req, _JsonAnswer(client, exc), addr, exc)


class _JsonAnswer:
    """Stands in for the client socket while gunicorn writes an error page: sends the same
    status as {"error": {"code", "message"}} instead of HTML."""

    def __init__(self, sock, exc: Exception):
        self._sock, self._exc = sock, exc

    def __getattr__(self, name):
        return getattr(self._sock, name)

    def sendall(self, data: bytes) -> None:
        self._sock.sendall(json_error(data, self._exc))

    def send(self, data: bytes) -> int:
        self.sendall(data)
        return len(data)


def json_error(page: bytes, exc: Exception) -> bytes:
    """gunicorn's error response `page` (status line, headers, HTML) as a JSON response."""
    status_line = page.split(b"\r\n", 1)[0].decode("latin-1")
    try:
        status = int(status_line.split()[1])
    except (IndexError, ValueError):
        status = 500
    reason = status_line.split(None, 2)[2] if status_line.count(" ") >= 2 else ""
    code = GUNICORN_CODES.get(status, "internal_error" if status >= 500 else "bad_request")
    detail = str(exc).strip()[:200] if status < 500 else ""
    message = f"{reason}: {detail}" if detail else reason or code
    if code == "uri_too_long":
        message = "The request line is too long; send long values in a POST body."
    body = json.dumps({"error": {"code": code, "message": message}}).encode()
    head = (
        f"HTTP/1.1 {status} {reason}\r\nConnection: close\r\n"
        f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n"
    )
    return head.encode("latin-1") + body
