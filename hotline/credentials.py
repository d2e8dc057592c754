"""Credentials as the hotline holds them: SHA-256 digests, never plain text, and the clearly
marked demo credentials that dev mode falls back to and production refuses."""

from __future__ import annotations

import hashlib
import re

DEMO_PARTNER_PREFIX = "demo-partner-"
DEMO_OFFICER_PREFIX = "demo-officer-"
DEMO_OPERATOR_TOKEN = "demo-operator"  # noqa: S105 - public on purpose, refused in production
# Keys the ids the hotline derives (case ids); production refuses this published one.
DEMO_ID_SECRET = "demo-id-secret-not-for-production"  # noqa: S105 - published on purpose
# What `digest()` produces; anything else can never match a presented key.
DIGEST = re.compile(r"sha256:[0-9a-f]{64}")


def digest(secret: str) -> str:
    """The only form in which a key or token is configured or compared."""
    return "sha256:" + hashlib.sha256(secret.encode()).hexdigest()
