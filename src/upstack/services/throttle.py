"""The sign-in throttle: how many password guesses anyone gets.

Every check of a password (signing in, and confirming it again before a change) first
takes a slot from two counters, in one transaction, and gives it back only if the
password was right:

- per (address, account): ``PAIR_LIMIT`` failures in ``WINDOW``;
- per account, from every address together: ``ACCOUNT_LIMIT`` (softer) in ``WINDOW``.

Taking the slot before the (slow, ~0.3 s) argon2 check is what makes it hold under
concurrency: the count and the check are one conditional UPDATE, so ten guesses sent at
once get at most the limit checked, not ten that all counted the same "4 so far".

What an attacker can and cannot do with it:

- From one address, they get ``PAIR_LIMIT`` guesses at an account per window. They can
  no longer lock everyone out of a shared address (an office, a VPN): the person
  beside them who types their own password is counted on their own pair.
- From many addresses (a botnet), they get ``ACCOUNT_LIMIT`` guesses at an account per
  window, whatever the number of addresses; spending them locks that one account for
  the rest of the window. That is the price of bounding guesses at all; the way back in
  is a reset link from an admin (a link signs in without the throttle).
- Trying one common password on many accounts (spraying) is not bounded per address:
  the password policy (services/passwords.py) refuses the passwords such a list holds,
  and argon2's cost with the server's few handler threads keeps the rate low.
- The address is the connection's, or the one a trusted proxy forwards (the
  ``trusted_proxies`` setting); nobody else can choose it with ``X-Forwarded-For``.
- Unknown logins are counted like real ones, so the throttle answers the same whether
  an account exists or not.
"""

from __future__ import annotations

from datetime import UTC, datetime, timedelta

from upstack.errors import TooManyAttempts
from upstack.store import throttle as store_throttle
from upstack.store.db import Database
from upstack.timeutil import to_iso

__all__ = ["PAIR_LIMIT", "ACCOUNT_LIMIT", "WINDOW", "take_attempt", "give_back"]

PAIR_LIMIT = 5
ACCOUNT_LIMIT = 20
WINDOW = timedelta(minutes=15)


def _keys(login: str, address: str) -> list[tuple[str, int]]:
    # Always in this order: two requests never wait for each other's rows the other way round.
    keys = [(f"account {login}", ACCOUNT_LIMIT)]
    if address:
        keys.append((f"pair {address} {login}", PAIR_LIMIT))
    return keys


def take_attempt(db: Database, login: str, address: str) -> list[str]:
    """Count one password check against ``login`` from ``address`` before it is made, or
    refuse (TooManyAttempts, nothing counted) if either counter is full. Returns the keys
    to give back when the password was right."""
    now = datetime.now(UTC)
    stamp, expired = to_iso(now), to_iso(now - WINDOW)
    keys = _keys(login, address)
    if not store_throttle.take(db, keys, stamp=stamp, expired=expired):
        minutes = int(WINDOW.total_seconds() // 60)
        raise TooManyAttempts(f"too many failed sign-ins; wait {minutes} minutes and try again, "
                              "or ask an admin for a reset link")
    return [key for key, _ in keys]


def give_back(db: Database, keys: list[str]) -> None:
    """The password was right: the attempt does not count as a failure."""
    store_throttle.give_back(db, keys)
