"""Configuration: defaults, then the instance folder's config.py, then BEATBOOK_* variables.

Nothing reads the environment at import time; create_app() calls from_environment(). Every value is
parsed and checked once, in finalise(): a mistake is a ConfigError holding one line per problem
(which variable, what is wrong, an example), which the `beatbook` command prints without a
traceback and exits 2.
"""

from __future__ import annotations

import json
import os
from importlib import resources
from importlib.util import find_spec
from pathlib import Path

PACKAGED_PWA = "_pwa"  # where a wheel carries the officers' app (setup.py copies pwa/ there)


def default_pwa_dir() -> str:
    """The installed package's copy of the app, or else the checkout's pwa/ (editable install)."""
    package = Path(str(resources.files("server")))
    packaged = package / PACKAGED_PWA
    if (packaged / "index.html").is_file():
        return str(packaged)
    return str(package.parent / "pwa")


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
    # unavailable (server/db/outage.py); 0: no bound (commands run by hand).
    "DATABASE_TIMEOUT": 5,
    "SQLITE_BUSY_TIMEOUT": 30,
    # Seconds a connection may go quiet while sending a request before 408 (server/worker.py).
    "READ_TIMEOUT": 10,
    "SIGNIN_FAILURES_PER_ACCOUNT": 100,  # high: one address cannot reach it (server/auth.py)
    "SIGNIN_FREE_TRIES": 3,  # per (account, address) before the growing delays start
    "SIGNIN_FAILURES_PER_ADDRESS": 50,
    "SIGNIN_WINDOW_SECONDS": 15 * 60,
    "SESSION_HOURS": 8,
    "SESSION_IDLE_MINUTES": 30,
    # Reverse proxies in front of the server that append X-Forwarded-For/-Proto/-Host: the
    # client address is then the one the nearest trusted proxy saw. 0: none, use the peer.
    "TRUSTED_PROXIES": 0,  # a console session unused this long ends
    "DEVICE_TOKEN_DAYS": 90,
    "QUIET_DAYS": 7,
    # Retention (issue 13; `beatbook retention run`): years from a record's local date after
    # which its free text (summary, follow-up, place, map position) is removed, and after
    # which the record itself is deleted (0: records are kept without end).
    "RETENTION_TEXT_YEARS": 6,
    "RETENTION_RECORD_YEARS": 0,
    "PWA_DIR": default_pwa_dir(),
    # Single sign-on through the force's OpenID Connect provider (server/oidc/; off unless
    # OIDC_ISSUER is set). Discovery reads <issuer>/.well-known/openid-configuration.
    "OIDC_ISSUER": None,
    "OIDC_CLIENT_ID": None,
    "OIDC_CLIENT_SECRET": None,
    "OIDC_SCOPES": "openid profile email offline_access",
    "OIDC_NAME": "your force account",  # the button says "Sign in with <OIDC_NAME>"
    "OIDC_SUBJECT_CLAIM": "sub",  # "oid" for Entra ID: the same person in every app
    "OIDC_MAPPING": None,  # None: instance/oidc-mapping.json
    "OIDC_CHECK_MINUTES": 60,  # how often a phone's sync asks the provider about its account
    "OIDC_TIMEOUT": 10,  # seconds Beatbook waits for the provider
    "LOCAL_SIGNIN": 1,  # 0: Beatbook passwords refused, but for EMERGENCY_ADMIN's
    "EMERGENCY_ADMIN": None,  # an admin's username that keeps its password with LOCAL_SIGNIN=0
    # The daily alerts digest (`beatbook alerts digest`, server/alerts/digest.py): off unless
    # SMTP_HOST is set. STARTTLS 1 upgrades the connection before any password is sent.
    "SMTP_HOST": None,
    "SMTP_PORT": 25,
    "SMTP_FROM": "beatbook@localhost",
    "SMTP_USER": None,
    "SMTP_PASSWORD": None,
    "SMTP_STARTTLS": 0,
    "SMTP_TIMEOUT": 10,
    "CONSOLE_URL": None,  # e.g. https://beatbook.force.police.uk: the digest links to it
}

_INT_KEYS = {k for k, v in DEFAULTS.items() if isinstance(v, int) and not isinstance(v, bool)}
# 0: no bound; no proxy; local sign-in off; records kept without end
_ZERO_ALLOWED = {
    "DATABASE_TIMEOUT",
    "TRUSTED_PROXIES",
    "LOCAL_SIGNIN",
    "RETENTION_RECORD_YEARS",
    "SMTP_STARTTLS",
}
ENVIRONMENTS = ("development", "production")
DATABASE_EXAMPLE = (
    "e.g. BEATBOOK_DATABASE_URL=postgresql://beatbook@db.internal/beatbook "
    "or sqlite:////var/lib/beatbook/beatbook.sqlite"
)
SECRET_EXAMPLE = (
    "e.g. export BEATBOOK_SECRET_KEY=$(python3 -c 'import secrets; print(secrets.token_hex(32))')"
)


class ConfigError(RuntimeError):
    """The configuration cannot run safely or at all; one line per problem."""

    def __init__(self, problems: list[str] | str):
        self.problems = [problems] if isinstance(problems, str) else list(problems)
        super().__init__("\n".join(self.problems))


def from_environment(environ=None, *, strict: bool = True) -> dict:
    """BEATBOOK_X=value for every known key X, integers parsed.

    strict: a value that is not a whole number raises ConfigError (every such value at once);
    otherwise it is kept as given, for validate() to report with the other problems.
    """
    environ = os.environ if environ is None else environ
    found, problems = {}, []
    for key in DEFAULTS:
        raw = environ.get(f"BEATBOOK_{key}")
        if raw is None:
            continue
        found[key] = raw
        if key in _INT_KEYS:
            try:
                found[key] = int(raw.strip().replace("_", ""))
            except ValueError:
                problems.append(_not_a_number(key, raw))
    if problems and strict:
        raise ConfigError(problems)
    return found


def _not_a_number(key: str, value) -> str:
    return f"BEATBOOK_{key}: {value!r} is not a whole number (e.g. BEATBOOK_{key}={DEFAULTS[key]})"


def finalise(config: dict, instance_path: str) -> dict:
    """Check every value, fill derived ones and refuse unsafe production settings."""
    problems = validate(config)
    if problems:
        raise ConfigError(problems)
    if not config.get("DATABASE_URL"):
        config["DATABASE_URL"] = f"sqlite:///{Path(instance_path) / 'beatbook.sqlite'}"
    if not config.get("SECRET_KEY"):
        config["SECRET_KEY"] = _development_secret(instance_path)
    if config.get("OIDC_ISSUER"):
        problems = oidc_problems(config, instance_path)
        if problems:
            raise ConfigError(problems)
    return config


OIDC_EXAMPLE = "e.g. BEATBOOK_OIDC_ISSUER=https://login.microsoftonline.com/<tenant id>/v2.0"


def oidc_problems(config: dict, instance_path: str) -> list[str]:
    """Single sign-on's settings, and its mapping file read and checked (docs/operations.md)."""
    from server.oidc.mapping import MappingError, load_mapping

    problems = []
    issuer = str(config["OIDC_ISSUER"]).strip()
    if not _issuer_ok(issuer):
        problems.append(
            f"BEATBOOK_OIDC_ISSUER: {issuer!r} is not an https:// address ({OIDC_EXAMPLE})"
        )
    if not str(config.get("OIDC_CLIENT_ID") or "").strip():
        problems.append(
            "BEATBOOK_OIDC_CLIENT_ID is not set: the application (client) id the identity "
            "provider gave Beatbook (e.g. BEATBOOK_OIDC_CLIENT_ID=beatbook)"
        )
    if not str(config.get("OIDC_CLIENT_SECRET") or "").strip():
        problems.append(
            "BEATBOOK_OIDC_CLIENT_SECRET is not set: Beatbook is a confidential client "
            "(e.g. BEATBOOK_OIDC_CLIENT_SECRET=$(cat /etc/beatbook/oidc-secret))"
        )
    scopes = str(config.get("OIDC_SCOPES") or "").split()
    if "openid" not in scopes:
        problems.append(
            f"BEATBOOK_OIDC_SCOPES: {config.get('OIDC_SCOPES')!r} lacks openid "
            "(e.g. BEATBOOK_OIDC_SCOPES='openid profile email offline_access')"
        )
    if not str(config.get("OIDC_SUBJECT_CLAIM") or "").strip():
        problems.append("BEATBOOK_OIDC_SUBJECT_CLAIM is empty (e.g. sub, or oid for Entra ID)")
    path = config.get("OIDC_MAPPING") or str(Path(instance_path) / "oidc-mapping.json")
    config["OIDC_MAPPING"] = path
    try:
        load_mapping(path)
    except MappingError as exc:
        problems.extend(f"BEATBOOK_OIDC_MAPPING: {line}" for line in exc.problems)
    return problems


def _issuer_ok(issuer: str) -> bool:
    from urllib.parse import urlsplit

    parts = urlsplit(issuer)
    if parts.scheme == "https" and parts.hostname:
        return True
    # Plain http only to this machine: a provider run beside Beatbook for tests or a trial.
    return parts.scheme == "http" and parts.hostname in ("127.0.0.1", "localhost", "::1")


def validate(config: dict) -> list[str]:
    """One line per value that cannot work, naming its BEATBOOK_* variable."""
    problems = []
    env = config.get("ENV")
    if env not in ENVIRONMENTS:
        problems.append(
            f"BEATBOOK_ENV: {env!r} is not one of {', '.join(ENVIRONMENTS)} "
            "(e.g. BEATBOOK_ENV=production)"
        )
    if env == "production" and not config.get("SECRET_KEY"):
        problems.append(
            "BEATBOOK_SECRET_KEY is not set. Production needs a long random secret, "
            + SECRET_EXAMPLE
        )
    for key in sorted(_INT_KEYS):
        value = config.get(key)
        if isinstance(value, bool) or not isinstance(value, int):
            problems.append(_not_a_number(key, value))
        elif value < (0 if key in _ZERO_ALLOWED else 1):
            problems.append(
                f"BEATBOOK_{key}: {value} must be at least 1 (e.g. BEATBOOK_{key}={DEFAULTS[key]})"
            )
    text, kept = config.get("RETENTION_TEXT_YEARS"), config.get("RETENTION_RECORD_YEARS")
    if type(text) is int and type(kept) is int and 0 < kept < text:
        problems.append(
            f"BEATBOOK_RETENTION_RECORD_YEARS: {kept} is less than BEATBOOK_RETENTION_TEXT_YEARS "
            f"({text}); a record cannot go before its text (e.g. BEATBOOK_RETENTION_RECORD_YEARS=0)"
        )
    if config.get("DATABASE_URL"):
        problem = database_url_problem(config["DATABASE_URL"])
        if problem:
            problems.append(f"BEATBOOK_DATABASE_URL: {problem} ({DATABASE_EXAMPLE})")
    if not str(config.get("CATALOGUE") or "").strip():
        problems.append("BEATBOOK_CATALOGUE is empty (e.g. BEATBOOK_CATALOGUE=dorset)")
    folder = config.get("CATALOGUE_DIR")
    if folder and not Path(folder).is_dir():
        problems.append(
            f"BEATBOOK_CATALOGUE_DIR: {folder} is not a folder "
            "(e.g. BEATBOOK_CATALOGUE_DIR=/etc/beatbook/standards)"
        )
    if config.get("LOCAL_SIGNIN") not in (0, 1):
        if isinstance(config.get("LOCAL_SIGNIN"), int):
            problems.append(
                f"BEATBOOK_LOCAL_SIGNIN: {config['LOCAL_SIGNIN']} is not 0 or 1 "
                "(e.g. BEATBOOK_LOCAL_SIGNIN=0 to switch Beatbook passwords off)"
            )
    elif config["LOCAL_SIGNIN"] == 0 and not config.get("OIDC_ISSUER"):
        problems.append(
            "BEATBOOK_LOCAL_SIGNIN=0 leaves no way to sign in: set BEATBOOK_OIDC_ISSUER too "
            "(single sign-on), or leave BEATBOOK_LOCAL_SIGNIN unset"
        )
    if isinstance(config.get("SMTP_STARTTLS"), int) and config["SMTP_STARTTLS"] not in (0, 1):
        problems.append(
            f"BEATBOOK_SMTP_STARTTLS: {config['SMTP_STARTTLS']} is not 0 or 1 "
            "(e.g. BEATBOOK_SMTP_STARTTLS=1 for a mail relay on port 587)"
        )
    pwa = config.get("PWA_DIR")
    if not pwa or not (Path(pwa) / "index.html").is_file():
        problems.append(
            f"BEATBOOK_PWA_DIR: {pwa} holds no officers' app (index.html); leave it "
            "unset to serve the app that came with Beatbook"
        )
    return problems


def database_url_problem(url: str) -> str | None:
    """What is wrong with a database URL before connecting, or None."""
    from sqlalchemy.engine import make_url
    from sqlalchemy.exc import ArgumentError

    try:
        parsed = make_url(url)
    except (ArgumentError, ValueError):
        return f"{url!r} is not a database URL"
    backend = parsed.get_backend_name()
    if backend in ("postgres", "postgresql"):
        driver = parsed.drivername.partition("+")[2]
        if driver not in ("", "psycopg"):
            return f"the driver {driver!r} is not supported; use postgresql://"
        if find_spec("psycopg") is None:
            return "PostgreSQL needs psycopg: pip install 'beatbook[postgres]'"
        if not parsed.database:
            return f"{parsed.render_as_string(hide_password=True)} names no database"
        return None
    if backend == "sqlite":
        name = parsed.database
        if name and name != ":memory:" and not name.startswith("file:"):
            folder = Path(name).expanduser().parent
            if not folder.is_dir():
                return f"the folder {folder} for the SQLite file does not exist"
        return None
    return f"{backend}:// is not supported: Beatbook runs on PostgreSQL or SQLite"


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
