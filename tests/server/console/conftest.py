"""Console fixtures: CSRF switched ON, signed-in consoles per role, officers with phones."""

from __future__ import annotations

import pytest
from console_helpers import OTHER, TEAM, Console
from helpers import DeviceClient


@pytest.fixture(autouse=True)
def csrf_on(app):
    """The shared conftest turns form CSRF off; the console's own tests keep it on."""
    app.config["WTF_CSRF_ENABLED"] = True


@pytest.fixture
def console(app, make_user):
    """console(role, team) -> a signed-in Console for a new user of that role."""

    def make(role: str = "supervisor", team: str | None = TEAM, username: str | None = None):
        name = make_user(role, team, username=username)
        return Console(app, name)

    return make


@pytest.fixture
def officer(client, make_user):
    """An officer of NPT-ONE with a phone."""
    return DeviceClient(client, make_user("officer", TEAM, username="pc.one"), "Pixel of pc.one")


@pytest.fixture
def other_officer(client, make_user):
    """An officer of NPT-TWO with a phone."""
    return DeviceClient(client, make_user("officer", OTHER, username="pc.two"), "Pixel of pc.two")
