"""The client's address behind reverse proxies (issue 11 item 2; docs/operations.md)."""

from __future__ import annotations

from flask import Flask
from werkzeug.middleware.proxy_fix import ProxyFix


def trust_proxies(app: Flask) -> None:
    """Behind BEATBOOK_TRUSTED_PROXIES proxies, take the client's address, scheme and host from
    the headers they add (only that many hops from the end: a client cannot forge the ones our
    proxies append), so the per-address sign-in limit counts phones, not the proxy."""
    hops = app.config["TRUSTED_PROXIES"]
    if hops > 0:
        app.wsgi_app = ProxyFix(app.wsgi_app, x_for=hops, x_proto=hops, x_host=hops)
