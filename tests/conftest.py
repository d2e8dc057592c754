"""Settings every test shares."""

from __future__ import annotations

import os

import pytest
from hypothesis import HealthCheck, settings

# Properties are about results, not speed: a busy shared machine must not fail them
# (speed is bench/'s job). In CI the examples are derandomized so a run is repeatable;
# locally each run explores new ones.
settings.register_profile("dev", deadline=None, suppress_health_check=[HealthCheck.too_slow])
settings.register_profile(
    "ci",
    parent=settings.get_profile("dev"),
    derandomize=True,
    database=None,
)
settings.load_profile("ci" if os.environ.get("CI") else "dev")


@pytest.fixture(autouse=True)
def _no_dotenv(monkeypatch: pytest.MonkeyPatch) -> None:
    """Settings read `.env` from the working directory; a developer's own file (often the
    Compose one, with production keys) must not change what a test configures."""
    from hotline.settings import Settings

    monkeypatch.setitem(Settings.model_config, "env_file", None)
