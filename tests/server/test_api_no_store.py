"""No cache may keep an /api answer: sign-in returns a token, pulls personal data (issue 11)."""

from __future__ import annotations

from helpers import PASSWORD


def test_sign_in_pull_push_and_errors_are_no_store(client, device, make_user):
    signed_in = client.post(
        "/api/v1/auth/device",
        json={"username": device.user["username"], "password": PASSWORD, "device_name": "p"},
    )
    responses = [
        signed_in,
        device.pull(),
        device.push([]),
        client.get("/api/v1/sync/pull"),  # 401
        client.get("/api/v1/schema"),
        client.get("/api/openapi.json"),
        client.get("/api/v1/no-such-thing"),  # 404
    ]
    for response in responses:
        assert response.headers["Cache-Control"] == "no-store", response.request.path


def test_pages_outside_the_api_keep_their_own_caching(client):
    assert client.get("/teams").headers["Cache-Control"] == "public, max-age=300"
