"""Configuration: defaults, then the instance folder's config.py, then BEATBOOK_* variables.

Nothing reads the environment at import time; create_app() calls load_config().
"""

from __future__ import annotations

import json
import os
from pathlib import Path

DEFAULTS = {
    "ENV": "development",  # "production" under `beatbook serve`
    "SECRET_KEY": None,
    "DATABASE_URL": None,  # None: sqlite in the instance folder
    "CATALOGUE": "dorset",
    "CATALOGUE_DIR": None,
    "MAX_CHANGES": 500,
    "MAX_CONTENT_LENGTH": 4 * 1024 * 1024,
    "MAX_CLOCK_DRIFT_MS": 24 * 3600 * 1000,
    # Seconds a request waits on PostgreSQL, and a SQLite write for the write lock, before 503
    # unavailable (server/db/outage.py).
    "DATABASE_TIMEOUT": 5,
    "SQLITE_BUSY_TIMEOUT": 30,
    # Seconds a connection may go quiet while sending a request before 408 (server/worker.py).
    "READ_TIMEOUT": 10,
    "SIGNIN_FAILURES_PER_ACCOUNT": 10,
    "SIGNIN_FAILURES_PER_ADDRESS": 50,
    "SIGNIN_WINDOW_SECONDS": 15 * 60,
    "SESSION_HOURS": 8,
    "DEVICE_TOKEN_DAYS": 90,
    "QUIET_DAYS": 7,
    "PWA_DIR": str(Path(__file__).resolve().parent.parent / "pwa"),
}

_INT_KEYS = {k for k, v in DEFAULTS.items() if isinstance(v, int) and not isinstance(v, bool)}


class ConfigError(RuntimeError):
    """The configuration cannot run safely (e.g. production without a secret key)."""


def from_environment(environ=None) -> dict:
    """BEATBOOK_X=value for every known key X; integers parsed, JSON allowed for others."""
    environ = os.environ if environ is None else environ
    found = {}
    for key in DEFAULTS:
        raw = environ.get(f"BEATBOOK_{key}")
        if raw is None:
            continue
        if key in _INT_KEYS:
            try:
                found[key] = int(raw)
            except ValueError as exc:
                raise ConfigError(f"BEATBOOK_{key} must be a whole number, not {raw!r}") from exc
        else:
            found[key] = raw
    return found


def finalise(config: dict, instance_path: str) -> dict:
    """Fill derived values and refuse unsafe production settings."""
    if not config.get("DATABASE_URL"):
        config["DATABASE_URL"] = f"sqlite:///{Path(instance_path) / 'beatbook.sqlite'}"
    if not config.get("SECRET_KEY"):
        if config.get("ENV") == "production":
            raise ConfigError(
                "BEATBOOK_SECRET_KEY is not set. Production needs a long random secret, e.g. "
                "export BEATBOOK_SECRET_KEY=$(python3 -c 'import secrets; print(secrets.token_hex(32))')"
            )
        config["SECRET_KEY"] = _development_secret(instance_path)
    return config


def _development_secret(instance_path: str) -> str:
    """A per-install random secret kept in the instance folder, so dev sessions survive restarts."""
    path = Path(instance_path) / "dev-secret.json"
    if path.exists():
        return json.loads(path.read_text())["secret"]
    import secrets

    secret = secrets.token_hex(32)
    path.parent.mkdir(parents=True, exist_ok=True)
    path.write_text(json.dumps({"secret": secret}))
    return secret
