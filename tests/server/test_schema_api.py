"""GET /api/v1/schema and the OpenAPI document."""

from __future__ import annotations


def test_schema_lists_kinds_groups_and_standards(client):
    response = client.get("/api/v1/schema")
    assert response.status_code == 200
    body = response.get_json()
    assert body["schema_version"] == 2
    kinds = {k["code"]: k for k in body["kinds"]}
    assert kinds["face_to_face"]["standards"] == ["F2F"]
    assert kinds["community_meeting"]["meeting"] is True
    assert {g["code"] for g in body["groups"]} >= {"young_people", "rural"}
    assert {c["code"] for c in body["concern_categories"]} >= {"speeding", "parking", "drugs"}
    assert "local_priority" in kinds
    assert body["record"]["title"] == {"type": "string", "required": False, "max": 200}
    assert [s["code"] for s in body["standards"]["standards"]][:3] == ["F2F", "KCL", "SOCIAL"]
    assert len(body["standards"]["standards"]) == 10
    assert body["record"]["summary"] == {"type": "string", "required": True, "min": 1, "max": 4000}


def test_schema_etag_gives_304(client):
    first = client.get("/api/v1/schema")
    etag = first.headers["ETag"]
    again = client.get("/api/v1/schema", headers={"If-None-Match": etag})
    assert again.status_code == 304


def test_openapi_documents_every_api_route(app, client):
    spec = client.get("/api/openapi.json").get_json()
    assert spec["openapi"].startswith("3.")
    documented = {(path, method.upper()) for path, ops in spec["paths"].items() for method in ops}
    for rule in app.url_map.iter_rules():
        if not rule.rule.startswith("/api/v1/"):
            continue
        path = rule.rule.replace("<", "{").replace(">", "}")
        for method in rule.methods - {"HEAD", "OPTIONS"}:
            assert (path, method) in documented, (
                f"{method} {rule.rule} is not in the OpenAPI document"
            )
    assert "ErrorBody" in spec["components"]["schemas"]


def test_openapi_says_what_a_signed_out_or_unpermitted_caller_gets(client):
    """Every operation that needs a sign-in documents 401; one limited to roles documents 403
    (schemathesis found grid.csv answering an undocumented 403)."""
    spec = client.get("/api/openapi.json").get_json()
    for path, ops in spec["paths"].items():
        for method, op in ops.items():
            if op.get("security"):
                assert "401" in op["responses"], f"{method.upper()} {path}"
            if path.startswith(("/api/v1/sync", "/api/v1/assessment")):
                assert "403" in op["responses"], f"{method.upper()} {path}"


def test_app_shell_worker_and_favicon_are_served(client):
    with client.get("/") as shell:
        assert shell.status_code == 200
    with client.get("/sw.js") as worker:
        assert worker.status_code == 200 and worker.headers["Service-Worker-Allowed"] == "/"
        assert worker.headers["Cache-Control"] == "no-cache"
    with client.get("/favicon.ico") as icon:
        assert icon.mimetype == "image/png"
    with client.get("/manifest.webmanifest") as manifest:
        assert manifest.mimetype == "application/manifest+json"
