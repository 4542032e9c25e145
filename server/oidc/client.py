"""The Authlib client for the force's provider, made from discovery, and what Beatbook keeps.

`init_oidc(app)` registers it when BEATBOOK_OIDC_ISSUER is set; `settings()` is None otherwise,
and every single sign-on path then answers as if it did not exist. The refresh token the
provider gives at sign-in (scope offline_access) is how Beatbook later asks whether an account
still exists (leavers.py); it is sealed with a key derived from SECRET_KEY before it is stored.
"""

from __future__ import annotations

import base64
import hashlib
from dataclasses import dataclass
from typing import Any

from authlib.integrations.flask_client import OAuth
from cryptography.fernet import Fernet, InvalidToken
from flask import Flask, current_app

from server.db.models import User
from server.oidc.mapping import Mapping, load_mapping

EXTENSION = "beatbook.oidc"


@dataclass(frozen=True)
class Settings:
    client: Any  # authlib's FlaskOAuth2App
    issuer: str
    client_id: str
    name: str
    subject_claim: str
    mapping: Mapping
    fernet: Fernet

    def metadata(self) -> dict:
        """The provider's discovery document (fetched once); its issuer must be the one
        configured, so a look-alike provider's tokens can never be taken for the force's."""
        metadata = self.client.load_server_metadata()
        if metadata.get("issuer") != self.issuer:
            raise ProviderError(
                f"the provider calls itself {metadata.get('issuer')!r}, not {self.issuer!r}"
            )
        return metadata


class ProviderError(RuntimeError):
    """The provider could not be reached or answered something Beatbook cannot use."""


def init_oidc(app: Flask) -> None:
    config = app.config
    if not config.get("OIDC_ISSUER"):
        return
    issuer = str(config["OIDC_ISSUER"]).strip()
    oauth = OAuth(app)
    client = oauth.register(
        "force",
        client_id=config["OIDC_CLIENT_ID"],
        client_secret=config["OIDC_CLIENT_SECRET"],
        server_metadata_url=f"{issuer.rstrip('/')}/.well-known/openid-configuration",
        client_kwargs={
            "scope": " ".join(str(config["OIDC_SCOPES"]).split()),
            "code_challenge_method": "S256",  # PKCE
            "default_timeout": config["OIDC_TIMEOUT"],
        },
    )
    key = hashlib.sha256(f"beatbook-oidc-refresh:{config['SECRET_KEY']}".encode()).digest()
    app.extensions[EXTENSION] = Settings(
        client=client,
        issuer=issuer,
        client_id=config["OIDC_CLIENT_ID"],
        name=str(config["OIDC_NAME"]).strip() or "your force account",
        subject_claim=str(config["OIDC_SUBJECT_CLAIM"]).strip(),
        mapping=load_mapping(config["OIDC_MAPPING"]),
        fernet=Fernet(base64.urlsafe_b64encode(key)),
    )


def settings() -> Settings | None:
    return current_app.extensions.get(EXTENSION)


def _is_emergency(username: str) -> bool:
    emergency = str(current_app.config.get("EMERGENCY_ADMIN") or "").strip().lower()
    return bool(emergency) and username.strip().lower() == emergency


def local_signin_allowed(username: str, user: User | None) -> bool:
    """Whether a Beatbook password may be tried at all: always, unless BEATBOOK_LOCAL_SIGNIN=0,
    which leaves only the emergency admin's (BEATBOOK_EMERGENCY_ADMIN, an admin account). The
    answer is the same for every other account, so it tells nobody which accounts exist."""
    if current_app.config.get("LOCAL_SIGNIN", 1):
        return True
    if not _is_emergency(username):
        return False
    return user is None or user.role == "admin"  # unknown: the password check refuses it


def provider_name() -> str:
    found = settings()
    return found.name if found else "your force account"


def signs_in_at_provider(username: str, user: User) -> bool:
    """An account the provider vouches for signs in there only: a leaver disabled at the
    provider must not get in with a Beatbook password kept from before the link. Asked only
    once the password is right, so the refusal tells nothing to someone who does not know it."""
    return bool(user.oidc_subject) and settings() is not None and not _is_emergency(username)


def seal(secret: str | None) -> str | None:
    found = settings()
    if not secret or found is None:
        return None
    return found.fernet.encrypt(secret.encode()).decode()


def unseal(sealed: str | None) -> str | None:
    """The stored refresh token, or None (none kept, or sealed under another SECRET_KEY)."""
    found = settings()
    if not sealed or found is None:
        return None
    try:
        return found.fernet.decrypt(sealed.encode()).decode()
    except InvalidToken:
        return None
