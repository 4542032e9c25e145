"""Faults against a real `beatbook serve`: stalled and cut-short uploads, gunicorn's own errors."""

from __future__ import annotations

import json
import socket
import time

from tests.faults.conftest import (
    READ_TIMEOUT,
    assert_error_shape,
    connect,
    read_response,
)


def test_stalled_uploads_do_not_hold_up_another_phones_push(live_server, phones):
    phone, stalled = phones(), []
    for _ in range(2):  # as many as the server has workers: once enough to freeze it
        other = phones()
        body = other.batch([other.change()])
        sock = connect(live_server)
        sock.sendall(other.raw_push_head(len(body) + 500) + body[:40])  # then signal is lost
        stalled.append((other, body, sock))
    time.sleep(0.3)  # both are being read by the server now

    started = time.monotonic()
    response = phone.push(phone.batch([phone.change()]), timeout=10)
    took = time.monotonic() - started

    assert response.status_code == 200, response.text
    assert response.json()["results"][0]["status"] == "applied"
    # A couple of seconds, on a shared 2-core machine; it took 60 s when a stall held a worker.
    assert took < 3, f"a push behind two stalled uploads took {took:.1f} s"

    for other, body, sock in stalled:
        with sock:
            sock.settimeout(READ_TIMEOUT + 10)
            status, headers, answer = read_response(sock)
        assert status == 408
        assert headers["content-type"] == "application/json"
        assert_error_shape(answer, "request_timeout")
        assert json.loads(body)["changes"][0]["id"] not in other.pulled_ids()


def test_a_body_cut_short_is_refused_and_not_applied(phone, live_server):
    change = phone.change()
    body = phone.batch([change])
    with connect(live_server) as sock:
        # A whole, valid batch, but fewer bytes than Content-Length promised: then the phone
        # half-closes (signal lost as the upload ended).
        sock.sendall(phone.raw_push_head(len(body) + 100) + body)
        sock.shutdown(socket.SHUT_WR)
        status, _headers, answer = read_response(sock)
    assert status == 400
    error = assert_error_shape(answer, "malformed_json")
    assert f"{len(body)} of the {len(body) + 100} bytes" in error["message"]
    assert change["id"] not in phone.pulled_ids()


def test_a_request_line_over_gunicorns_limit_is_answered_in_the_error_shape(live_server):
    with connect(live_server) as sock:
        sock.sendall(
            b"GET /api/v1/sync/pull?since=" + b"1" * 5000 + b" HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n"
        )
        status, headers, body = read_response(sock)
    assert status == 414
    assert headers["content-type"] == "application/json"
    assert_error_shape(body, "uri_too_long")


def test_a_malformed_request_is_answered_in_the_error_shape(live_server):
    with connect(live_server) as sock:
        sock.sendall(b"GET /api/v1/schema HTTP/1.1\r\nHost: 127.0.0.1\r\nBad Header\r\n\r\n")
        status, headers, body = read_response(sock)
    assert status == 400
    assert headers["content-type"] == "application/json"
    assert_error_shape(body, "bad_request")


def test_trace_is_refused_with_allow(live_server):
    with connect(live_server) as sock:
        sock.sendall(b"TRACE /api/v1/sync/push HTTP/1.1\r\nHost: 127.0.0.1\r\n\r\n")
        status, headers, body = read_response(sock)
    assert status == 405
    assert "POST" in headers["allow"]
    assert_error_shape(body, "method_not_allowed")


def test_deeply_nested_json_is_a_400_and_the_worker_serves_on(phone):
    for depth in (980, 100_000):
        text = phone.batch([phone.change(place="X")]).decode()
        text = text.replace('"place": "X"', '"place": ' + "[" * depth + "]" * depth)
        response = phone.push(text.encode(), timeout=10)
        assert response.status_code == 400, (depth, response.text[:300])
        assert "levels deep" in assert_error_shape(response.content, "malformed_json")["message"]
    assert phone.push(phone.batch([phone.change()])).status_code == 200
