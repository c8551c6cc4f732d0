"""What a password must be, and checking one against its hash.

At least ``MIN_PASSWORD`` characters, and not easy to guess: zxcvbn (Dropbox's estimator,
with its lists of common passwords, names, words and keyboard patterns) must rate it at
least ``MIN_STRENGTH`` of 4, counting the user's login and name as known words. zxcvbn is
imported only here, when a password is set, never on the capture path.
"""

from __future__ import annotations

from upstack.errors import BadInput

__all__ = ["MIN_PASSWORD", "MIN_STRENGTH", "check_password", "verify_password"]

MIN_PASSWORD = 12
# zxcvbn's score: 3 is "safely unguessable: moderate protection from an offline slow-hash scenario".
MIN_STRENGTH = 3


def check_password(password: str, login: str, name: str = "") -> None:
    """BadInput naming what is wrong with ``password`` as a new password for ``login``."""
    if len(password) < MIN_PASSWORD:
        raise BadInput(f"the password is too short: use at least {MIN_PASSWORD} characters")
    if password.lower() == login.lower():
        raise BadInput("the password cannot be the user name")
    from zxcvbn import zxcvbn

    rated = zxcvbn(password[:200], user_inputs=[login, *name.split()])  # its cost grows with the length
    if rated["score"] < MIN_STRENGTH:
        hint = (rated["feedback"].get("warning") or "it is close to a common password").rstrip(".")
        raise BadInput(f"the password is too easy to guess ({hint[0].lower() + hint[1:]}); "
                       "use a few uncommon words or a password manager's")


def verify_password(password_hash: str | None, password: str) -> bool:
    """Whether ``password`` matches; the same argon2 work whether there is a hash or not, so the
    time taken does not tell who has an account."""
    from upstack.services._account_rows import hasher

    argon = hasher()
    if not password_hash:
        argon.hash(password)
        return False
    from argon2.exceptions import InvalidHashError, VerificationError

    try:
        return bool(argon.verify(password_hash, password))
    except (VerificationError, InvalidHashError):
        return False
