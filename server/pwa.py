"""Serves the officers' app. sw.js sits at the root so its scope is the whole app."""

from flask import Blueprint, current_app, send_from_directory

bp = Blueprint("pwa", __name__)


def _send(path: str, *, no_cache: bool = False):
    response = send_from_directory(current_app.config["PWA_DIR"], path)
    if no_cache:
        # The shell and the worker must be revalidated, or phones keep an old app forever.
        response.headers["Cache-Control"] = "no-cache"
    return response


@bp.get("/")
def index():
    """Serve the app shell."""
    return _send("index.html", no_cache=True)


@bp.get("/sw.js")
def service_worker():
    """Serve the service worker from the root so it controls every app URL."""
    response = _send("sw.js", no_cache=True)
    response.headers["Service-Worker-Allowed"] = "/"
    return response


@bp.get("/manifest.webmanifest")
def manifest():
    """Serve the web app manifest."""
    response = _send("manifest.webmanifest", no_cache=True)
    response.mimetype = "application/manifest+json"
    return response


@bp.get("/<any(js, css, icons, img):folder>/<path:filename>")
def asset(folder: str, filename: str):
    """Serve the app's modules, styles and icons."""
    return _send(f"{folder}/{filename}", no_cache=True)


@bp.get("/favicon.ico")
def favicon():
    """Serve the app icon where browsers look for a favicon (console and public pages too)."""
    response = _send("icons/icon-192.png")
    response.headers["Cache-Control"] = "public, max-age=86400"
    return response
