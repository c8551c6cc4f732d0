"""Secrets as a team server keeps them (session cookies, invitation and reset links, API tokens):
only their SHA-256, so a copy of the database opens no one's account."""

from __future__ import annotations

import hashlib

__all__ = ["secret_hash"]


def secret_hash(secret: str) -> str:
    return hashlib.sha256(secret.encode()).hexdigest()
