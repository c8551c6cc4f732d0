"""Hostile input: a corpus of script-injection payloads, and a check that a page renders them inert."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

PAYLOADS = [line for line in (Path(__file__).parent / "fixtures" / "xss_payloads.txt").read_text().splitlines()
            if line.strip()]
_URL_ATTRIBUTES = {"href", "src", "action", "formaction", "data", "xlink:href", "background", "poster"}
_NEVER = {"iframe", "object", "embed", "base", "frame", "frameset", "applet"}


class _Audit(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.problems: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        values = {name.lower(): (value or "") for name, value in attrs}
        where = f"<{tag} {' '.join(f'{k}={v!r}' for k, v in values.items())}>"
        if tag in _NEVER:
            self.problems.append(f"forbidden element {where}")
        if tag == "script" and not (values.get("src", "").startswith("/static/")
                                    or values.get("type") == "application/json"):
            self.problems.append(f"a script that is not ours: {where}")
        if tag == "meta" and "http-equiv" in values:
            self.problems.append(f"a meta refresh: {where}")
        for name, value in values.items():
            if name.startswith("on"):
                self.problems.append(f"an event handler: {where}")
            compact = "".join(value.split()).lower()
            if name in _URL_ATTRIBUTES and compact.startswith(("javascript:", "vbscript:", "data:text")):
                self.problems.append(f"a script URL: {where}")
            if name == "style" and "javascript:" in compact:
                self.problems.append(f"a script URL in a style: {where}")
            if name == "hx-trigger" and "load" in compact:
                self.problems.append(f"an htmx request on load: {where}")


def inert_problems(html: str) -> list[str]:
    """What in ``html`` could run a script (empty when the page is inert)."""
    audit = _Audit()
    audit.feed(html)
    audit.close()
    return audit.problems
