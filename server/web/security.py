"""Standard security headers and a strict Content Security Policy (no inline script or style)."""

from flask import Flask, request

CSP = (
    "default-src 'self'; script-src 'self'; style-src 'self'; img-src 'self' data:; "
    "connect-src 'self'; manifest-src 'self'; worker-src 'self'; font-src 'self'; "
    "object-src 'none'; base-uri 'none'; form-action 'self'; frame-ancestors 'none'"
)


def register_security_headers(app: Flask) -> None:
    @app.after_request
    def _headers(response):
        headers = response.headers
        headers.setdefault("X-Content-Type-Options", "nosniff")
        headers.setdefault("Referrer-Policy", "same-origin")
        headers.setdefault("X-Frame-Options", "DENY")
        headers.setdefault("Cross-Origin-Opener-Policy", "same-origin")
        headers.setdefault("Permissions-Policy", "geolocation=(self), camera=(), microphone=()")
        headers.setdefault("Content-Security-Policy", CSP)
        if request.path.startswith("/api/"):
            # Sign-in answers carry a token and pulls personal data: no cache may keep them
            # (an ETag'd schema is still revalidated with If-None-Match).
            headers["Cache-Control"] = "no-store"
        if app.config["ENV"] == "production":
            headers.setdefault("Strict-Transport-Security", "max-age=31536000")
        return response
