"""Faults against a real `beatbook serve`: stalled and cut-short uploads, gunicorn's own errors."""

from __future__ import annotations

import json
import socket
import threading
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


def _send_all_then_read(live_server, head: bytes, body: bytes) -> tuple[int, dict, bytes, float]:
    """Send the request (as much of the body as the server takes), then read the answer."""
    started = time.monotonic()
    with connect(live_server) as sock:
        sock.sendall(head)
        try:
            sock.sendall(body)
        except (BrokenPipeError, ConnectionResetError):
            pass  # the server answered and closed before the whole body went: read its answer
        status, headers, answer = read_response(sock)
    return status, headers, answer, time.monotonic() - started


def test_a_10_mb_body_is_a_413_quickly_and_the_worker_serves_on(phone, live_server):
    body = phone.batch([phone.change(summary="x" * 1000)] * 2).replace(b"x" * 1000, b"x" * 10**7)
    assert len(body) > 10**7
    status, headers, answer, took = _send_all_then_read(
        live_server, phone.raw_push_head(len(body)), body
    )
    assert status == 413, answer[:300]
    assert headers["content-type"] == "application/json"
    assert "bytes" in assert_error_shape(answer, "body_too_large")["message"]
    assert took < 5, f"{took:.1f} s"
    assert phone.push(phone.batch([phone.change()]), timeout=10).status_code == 200


def test_a_10_mb_chunked_body_is_a_413(phone, live_server):
    payload = phone.batch([phone.change(summary="x" * 1000)]).replace(b"x" * 1000, b"x" * 10**7)
    chunks = b"".join(
        b"%x\r\n%s\r\n" % (len(part), part)
        for part in (payload[i : i + 65536] for i in range(0, len(payload), 65536))
    )
    head = phone.raw_push_head(0).replace(b"Content-Length: 0", b"Transfer-Encoding: chunked")
    status, _headers, answer, took = _send_all_then_read(live_server, head, chunks + b"0\r\n\r\n")
    assert status == 413, answer[:300]
    assert_error_shape(answer, "body_too_large")
    assert took < 10, f"{took:.1f} s"
    assert phone.push(phone.batch([phone.change()]), timeout=10).status_code == 200


def test_5000_changes_are_a_413_and_nothing_applies(phone):
    changes = [phone.change() for _ in range(5000)]
    started = time.monotonic()
    response = phone.push(phone.batch(changes), timeout=30)
    assert response.status_code == 413, response.text[:300]
    assert "500" in assert_error_shape(response.content, "batch_too_large")["message"]
    assert time.monotonic() - started < 5
    assert not {c["id"] for c in changes} & phone.pulled_ids()


def test_json_cut_off_mid_way_is_a_400_and_nothing_applies(phone, live_server):
    change = phone.change()
    body = phone.batch([change])
    cut = body[: len(body) // 2]  # Content-Length honest: the JSON itself stops half way
    with connect(live_server) as sock:
        sock.sendall(phone.raw_push_head(len(cut)) + cut)
        status, _headers, answer = read_response(sock)
    assert status == 400
    assert "not valid JSON" in assert_error_shape(answer, "malformed_json")["message"]
    assert change["id"] not in phone.pulled_ids()


def test_hostile_requests_do_not_hold_up_other_phones(phones, live_server):
    """While one phone sends 10 MB bodies, 5,000-change batches and 100,000-deep JSON over and
    over, another's pushes are answered within a couple of seconds each."""
    hostile, honest = phones(), phones()
    big = hostile.batch([hostile.change(summary="x")]).replace(b'"x"', b'"' + b"x" * 10**7 + b'"')
    many = hostile.batch([hostile.change() for _ in range(5000)])
    deep = hostile.batch([hostile.change(place="X")]).replace(
        b'"place": "X"', b'"place": ' + b"[" * 100_000 + b"]" * 100_000
    )
    stop, answered = threading.Event(), []

    def attack() -> None:
        while not stop.is_set():
            for body in (big, many, deep):
                status, _h, _a, _t = _send_all_then_read(
                    live_server, hostile.raw_push_head(len(body)), body
                )
                answered.append(status)

    attacker = threading.Thread(target=attack)
    attacker.start()
    try:
        slowest = 0.0
        for _ in range(8):
            started = time.monotonic()
            response = honest.push(honest.batch([honest.change()]), timeout=20)
            slowest = max(slowest, time.monotonic() - started)
            assert response.status_code == 200, response.text[:300]
            time.sleep(0.2)
    finally:
        stop.set()
        attacker.join()
    assert answered and set(answered) <= {400, 413}, answered
    assert slowest < 3, f"an honest push took {slowest:.1f} s"
