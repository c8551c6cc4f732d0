"""Secret redaction for everything a run captures: diffs, command lines, configs, environment.

Each secret found is replaced by ``[redacted]``:

* Credentials recognisable by shape wherever they occur: Hugging Face, OpenAI and
  Anthropic, GitHub, GitLab, AWS, Slack, Google and W&B keys, JWTs, bearer tokens,
  PEM private key blocks and the password in ``scheme://user:password@host``.
* The value of an assignment (``NAME = value``, ``NAME: value``, ``"name": "value"``,
  ``--name=value``) whose name is secret-looking (see `is_secret_name`).
* The values of secret-looking environment variables (8 characters or more) wherever
  they appear, and whatever the user's extra patterns match.

Redacting redacted text changes nothing.
"""

from __future__ import annotations

import functools
import os
import re
from collections.abc import Iterable, Mapping, Sequence
from typing import Any, NamedTuple

from upstack.errors import BadInput

__all__ = ["REDACTED", "Redactor", "is_secret_name"]

REDACTED = "[redacted]"

# A name is secret when one of its word parts is exactly one of these; "tokens",
# "tokenizer" and "max_tokens" are ordinary words in machine-learning code.
_SECRET_WORDS = frozenset({
    "token", "secret", "password", "passwd", "pwd", "apikey", "credential", "credentials",
    "auth", "authorization",
})
_SECRET_PAIRS = frozenset({("api", "key"), ("access", "key"), ("private", "key")})
# ...unless the name says it holds something about the secret rather than the secret.
_DESCRIPTIVE_LAST = frozenset({
    "id", "ids", "type", "types", "kind", "name", "path", "file", "dir", "sock", "socket",
    "url", "uri", "endpoint", "host", "user", "username", "len", "length", "count", "limit",
    "size", "expiry", "expires", "ttl", "timeout", "method", "mode", "scheme", "header",
    "provider", "backend", "enabled", "required", "prefix", "format",
})
_COUNTING_PARTS = frozenset({"max", "min", "num", "n", "total"})
# Tokenizer settings such as pad_token or eos_token name a vocabulary entry, not a credential.
_VOCABULARY_TOKENS = frozenset({
    "pad", "eos", "bos", "unk", "sep", "cls", "mask", "sos", "eot", "start", "end", "special",
    "image", "audio", "video", "default",
})
# Lower-case text every secret name contains: lines without any are never assignments to check.
_NAME_HINTS = ("token", "secret", "passw", "pwd", "api", "access", "private", "credential", "auth")
# Bare assigned values that are code or a missing value, not secrets: "password: str", "token = None".
_KEPT_VALUES = frozenset({
    "none", "null", "nil", "true", "false", "~", "str", "bytes", "int", "any", "optional",
    "secretstr", "string",
})
# Environment variables whose names look secret but whose values are ordinary paths.
_NOT_SECRET_ENV = frozenset({"PWD", "OLDPWD"})
_MIN_ENV_SECRET = 8
_ASCII_ALNUM = frozenset("ABCDEFGHIJKLMNOPQRSTUVWXYZabcdefghijklmnopqrstuvwxyz0123456789")


class _Patterns(NamedTuple):
    word_part: re.Pattern[str]
    pem: re.Pattern[str]
    pem_open: re.Pattern[str]
    url_password: re.Pattern[str]
    credential: re.Pattern[str]
    bearer: re.Pattern[str]
    assignment: re.Pattern[str]
    reference: re.Pattern[str]


@functools.cache
def _patterns() -> _Patterns:
    """Compiled on first use, not at import. Each pattern starts with literal text where it can,
    which lets the regex engine skip ahead: a 3 MB diff is scanned in about 0.1 s."""
    return _Patterns(
        word_part=re.compile(r"[A-Z]?[a-z]+|[A-Z]+(?![a-z])|[0-9]+"),
        pem=re.compile(r"(-----BEGIN ([A-Z0-9 ]*)PRIVATE KEY-----)(.*?)(\r?\n[+\- ]?)?(-----END \2PRIVATE KEY-----)",
                       re.DOTALL),
        # A key block whose end was cut off: the base64 lines that follow, diff markers and all.
        pem_open=re.compile(r"(-----BEGIN [A-Z0-9 ]*PRIVATE KEY-----)(?:\r?\n[+\- ]?[A-Za-z0-9+/=]{16,})+"),
        url_password=re.compile(r"://(?<=[A-Za-z0-9+.\-]://)([^\s/?#@:]+):[^\s/?#]+@"),
        # Trailing letters and digits go too: a key cut short would leave a word whose start could
        # match on a second pass, and redacting twice must change nothing.
        credential=re.compile(
            r"(?:hf_[A-Za-z0-9]{30,}"
            r"|sk-(?:ant-|proj-)?[A-Za-z0-9_\-]{20,}"
            r"|gh[pousr]_[A-Za-z0-9]{30,}"
            r"|github_pat_[A-Za-z0-9_]{40,}"
            r"|glpat-[A-Za-z0-9_\-]{20,}"
            r"|(?:AKIA|ASIA)[0-9A-Z]{16}"
            r"|xox[abprs]-[A-Za-z0-9\-]{10,}"
            r"|AIza[0-9A-Za-z_\-]{35}"
            r"|eyJ[A-Za-z0-9_\-]{8,}\.eyJ[A-Za-z0-9_\-]{8,}\.[A-Za-z0-9_\-]*"
            r"|(?P<wandb>wandb login )[0-9a-f]{40})[A-Za-z0-9]*"
        ),
        # Only long values with a digit: "Bearer authentication" is prose.
        bearer=re.compile(r"Bearer(?<!\wBearer)(\s+)(?=[A-Za-z._~+/\-]*[0-9])[A-Za-z0-9._~+/\-]{16,}=*"),
        assignment=re.compile(
            r"""(?<![A-Za-z0-9_])(?P<nq>["']?)(?P<name>[A-Za-z_][A-Za-z0-9_.\-]*)(?P=nq)"""
            # An optional type annotation: "password: str = 'x'" assigns; "password: str" does not.
            r"""(?:[ \t]*:[ \t]*[A-Za-z_](?:(?!\[redacted\])[\w.\[\]|, ])*?(?=[ \t]*=[^=]))?"""
            r"""[ \t]*(?::=|==|=|:)[ \t]*(?:(?:Bearer|Basic|Token)[ \t]+)?"""
            r"""(?:"(?P<dq>(?:[^"\\\n]|\\.)*)"|'(?P<sq>(?:[^'\\\n]|\\.)*)'"""
            r"""|(?P<bare>\[redacted\]|[^\s"'`,;&|(){}\[\]<>]+))"""
        ),
        reference=re.compile(r"[A-Za-z_][A-Za-z0-9_]*(?:\.[A-Za-z_][A-Za-z0-9_]*)*"),
    )


def is_secret_name(name: str) -> bool:
    """Whether a variable, key or flag name holds a secret, judged by its word parts.

    Only the part after the last dot counts (``token.raw`` is not secret, ``db.password`` is).
    It is split at ``_`` and ``-`` and camelCase; it is secret when a part is exactly
    token, secret, password, passwd, pwd, apikey, credential(s), auth or authorization,
    or two parts read api key, access key or private key. It is not secret when its last
    part describes the secret (``token_path``, ``secret_name``, ``access_key_id``), when it
    counts (``max_token``), or names a tokenizer's vocabulary entry (``pad_token``).

    >>> [is_secret_name(n) for n in ("HF_TOKEN", "apiKey", "--api-key", "max_tokens", "tokenizer")]
    [True, True, True, False, False]
    """
    parts = [p.lower() for p in _patterns().word_part.findall(name.rsplit(".", 1)[-1])]
    if not parts or parts[-1] in _DESCRIPTIVE_LAST or _COUNTING_PARTS.intersection(parts):
        return False
    for index, part in enumerate(parts):
        if part in _SECRET_WORDS:
            if part == "token" and index > 0 and parts[index - 1] in _VOCABULARY_TOKENS:
                continue
            return True
        if index > 0 and (parts[index - 1], part) in _SECRET_PAIRS:
            return True
    return False


def _pem_block(match: re.Match[str]) -> str:
    line_break = match[4] or "\n"
    diff_marker = line_break[-1] if line_break[-1] in "+- " else ""
    return f"{match[1]}\n{diff_marker}{REDACTED}{line_break}{match[5]}"


def _credential(match: re.Match[str]) -> str:
    start = match.start()
    if start and match.string[start - 1] in _ASCII_ALNUM:
        return match[0]  # the tail of a longer word, not a key
    return f"{match['wandb']}{REDACTED}" if match["wandb"] else REDACTED


def _is_reference(name: str, value: str) -> bool:
    """Whether a bare value names the secret instead of holding it: ``token=token``, ``key=args.api_key``."""
    if not _patterns().reference.fullmatch(value):
        return False
    last = value.rsplit(".", 1)[-1]
    return last.lower() == name.rsplit(".", 1)[-1].lower() or ("." in value and is_secret_name(last))


def _redacted_assignment(match: re.Match[str]) -> str | None:
    """The assignment with its value redacted, or None when it assigns no secret."""
    if not is_secret_name(match["name"]):
        return None
    group = "dq" if match["dq"] is not None else "sq" if match["sq"] is not None else "bare"
    value = match[group]
    if value == REDACTED or not value or value.startswith(("$", "{{", "%")):
        return None  # redacted already, empty, or a placeholder such as ${HF_TOKEN}
    if group == "bare":
        following = match.string[match.end():match.end() + 1]
        if (value.lower() in _KEPT_VALUES
                or following in ("(", "[")  # a call or subscript: code that fetches the secret
                or _is_reference(match["name"], value)):
            return None
    offset = match.start()
    return f"{match[0][:match.start(group) - offset]}{REDACTED}{match[0][match.end(group) - offset:]}"


def _redact_line_assignments(text: str) -> str:
    assignment = _patterns().assignment
    pieces: list[str] = []
    done = searched = 0
    while match := assignment.search(text, searched):
        replacement = _redacted_assignment(match)
        if replacement is None:
            # Look again right after the name: "url=https://host/?token=abc" holds a secret
            # assignment inside the value of an ordinary one.
            searched = match.end("name")
            continue
        pieces.append(text[done:match.start()])
        pieces.append(replacement)
        done = searched = match.end()
    pieces.append(text[done:])
    return "".join(pieces)


def _redact_assignments(text: str) -> str:
    """Check for assignments only on lines that mention a secret word: most lines do not."""
    lower = text.lower()
    if len(lower) != len(text):  # a few non-ASCII letters change length when lowered
        return _redact_line_assignments(text)
    spans: set[tuple[int, int]] = set()
    for hint in _NAME_HINTS:
        at = lower.find(hint)
        while at != -1:
            end = text.find("\n", at)
            end = len(text) if end == -1 else end
            spans.add((text.rfind("\n", 0, at) + 1, end))
            at = lower.find(hint, end)
    pieces: list[str] = []
    done = 0
    for start, end in sorted(spans):  # whole lines: never overlapping
        pieces.append(text[done:start])
        pieces.append(_redact_line_assignments(text[start:end]))
        done = end
    pieces.append(text[done:])
    return "".join(pieces)


class Redactor:
    """Redacts secrets from text, command lines, mappings and environments.

    Args:
        extra_patterns: regular expressions whose matches are redacted too.
        environ: where secret-looking variables' values are read (default ``os.environ``).

    >>> Redactor(environ={}).text("export HF_TOKEN=abc123xyz; max_tokens = 5")
    'export HF_TOKEN=[redacted]; max_tokens = 5'
    """

    def __init__(self, extra_patterns: Iterable[str] = (), environ: Mapping[str, str] | None = None) -> None:
        self._extra = [_compile_user_pattern(p) for p in extra_patterns]
        environ = os.environ if environ is None else environ
        values = {value for name, value in environ.items()
                  if name not in _NOT_SECRET_ENV and is_secret_name(name)
                  and len(value) >= _MIN_ENV_SECRET and value not in REDACTED}
        # Longest first, so a value containing another value goes as a whole.
        ordered = sorted(values, key=lambda v: (-len(v), v))
        self._env_values = re.compile("|".join(map(re.escape, ordered))) if ordered else None

    def text(self, s: str) -> str:
        """Redact every secret found in free text."""
        patterns = _patterns()
        if self._env_values is not None:
            s = self._env_values.sub(REDACTED, s)
        for pattern in self._extra:
            s = pattern.sub(REDACTED, s)
        if "PRIVATE KEY-----" in s:
            s = patterns.pem.sub(_pem_block, s)
            s = patterns.pem_open.sub(rf"\1\n{REDACTED}", s)
        s = patterns.url_password.sub(rf"://\1:{REDACTED}@", s)
        s = patterns.credential.sub(_credential, s)
        s = patterns.bearer.sub(rf"Bearer\1{REDACTED}", s)
        return _redact_assignments(s)

    def argv(self, args: Sequence[str]) -> list[str]:
        """Redact a command line: ``--token VALUE`` and ``--api-key=VALUE`` by flag name, then as text.

        Single-letter flags are left to the text rules: ``-p`` is as often a port as a password.
        """
        redacted: list[str] = []
        value_is_secret = False
        for arg in args:
            if value_is_secret and not arg.startswith("--"):
                redacted.append(REDACTED)
                value_is_secret = False
                continue
            value_is_secret = False
            flag, equals, value = arg.partition("=")
            if flag.startswith("--") and is_secret_name(flag):
                if not equals:
                    value_is_secret = True
                elif value:
                    redacted.append(f"{flag}={REDACTED}")
                    continue
            redacted.append(self.text(arg))
        return redacted

    def mapping(self, data: Mapping[str, Any]) -> dict[str, Any]:
        """Redact a nested mapping: values under secret-looking keys go whole; strings go as text.

        None, booleans and empty strings under secret keys are kept: they say a secret is unset.
        """
        return {str(key): self._value(value, secret=is_secret_name(str(key))) for key, value in data.items()}

    def _value(self, value: Any, secret: bool = False) -> Any:
        if secret and value is not None and not isinstance(value, bool) and value != "":
            return REDACTED
        if isinstance(value, str):
            return self.text(value)
        if isinstance(value, Mapping):
            return self.mapping(value)
        if isinstance(value, list | tuple):
            items = [self._value(item) for item in value]
            return tuple(items) if type(value) is tuple else items
        return value

    def env(self, environ: Mapping[str, str], names: Iterable[str]) -> dict[str, str]:
        """The chosen environment variables, sorted by name, secret-looking ones redacted whole.

        Each of ``names`` is an exact variable name, or a prefix when it ends in ``*`` (``"CUDA_*"``).
        """
        wanted = list(names)
        exact = {name for name in wanted if not name.endswith("*")}
        prefixes = tuple(name[:-1] for name in wanted if name.endswith("*"))
        chosen: dict[str, str] = {}
        for name in sorted(environ):
            if name in exact or (prefixes and name.startswith(prefixes)):
                value = environ[name]
                chosen[name] = REDACTED if value and is_secret_name(name) else self.text(value)
        return chosen


def _compile_user_pattern(pattern: str) -> re.Pattern[str]:
    try:
        compiled = re.compile(pattern)
    except re.error as exc:
        raise BadInput(f"invalid redact pattern {pattern!r}: {exc}") from None
    if compiled.search(""):
        # It would match between every two characters and bury the text in [redacted].
        raise BadInput(f"redact pattern {pattern!r} matches empty text")
    return compiled
