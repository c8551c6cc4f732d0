"""Stored text never drives the terminal: every command that prints it strips escape sequences
(window title, hidden hyperlinks, screen clearing) and control characters, on both engines."""

from __future__ import annotations

import ast
import json
import re
from pathlib import Path

import pytest

import upstack
from conftest import CLI
from upstack.cli.main import COMMAND_MODULES
from upstack.services import accounts, capture, curate, ideas, sweep, tree
from upstack.services import sync as sync_service
from upstack.workspace import Workspace
from webserver import serve

# A title that would set the window title, hide a link, clear the screen (7- and 8-bit forms),
# overwrite its own line and ring the bell, around ordinary Unicode.
HOSTILE = ("Ti\x1b]0;pwned\x07tle é→★ \x1b]8;;https://evil.example/\x1b\\click\x1b]8;;\x1b\\"
           " \x1b[2J\x9b2J\x9d0;c1 title\x9c \x90dcs\x1b\\\rover\x08\x07 end")
HOSTILE_BODY = "first line\n\tindented \x1b[31mred\x1b[0m\x1bP1$r\x1b\\ \x85next"
SPOTTED = "Title é→★ click"  # what is left of HOSTILE's start once it is cleaned

_TERMINAL_CONTROL = re.compile(r"[\x00-\x08\x0b-\x1f\x7f-\x9f]")

# Commands not driven here: they confirm an action with ids, counts and paths, or report on
# files, and print through the same cleaning echo as the rest (a test below holds every CLI
# module to it). Every other command is driven with hostile data; a command added later is in
# neither list, and the test that checks coverage fails until it is placed.
QUIET = {"note", "attach", "learned", "backup", "edit", "rm", "restore", "purge", "save", "import",
         "focus", "add", "triage", "derisk", "promote", "park", "prune", "done", "plot", "ingest",
         "serve", "user", "share", "unshare", "login", "demo", "doctor"}


def _assert_clean(result_text: str, where: str) -> None:
    found = _TERMINAL_CONTROL.findall(result_text)
    assert not found, f"{where} printed control characters {sorted(set(found))!r}"


def _hostile_log(ws: Workspace) -> dict[str, str]:
    node = tree.add_node(ws, "project", HOSTILE, why=HOSTILE_BODY)
    entry = capture.note(ws, HOSTILE + "\n\n" + HOSTILE_BODY + " #probe", under=node.id)
    curate.edit(ws, entry.id, HOSTILE + " edited\n\n" + HOSTILE_BODY)
    capture.note(ws, HOSTILE + " learned", kind="learning", under=node.id)
    idea = ideas.capture_idea(ws, HOSTILE + " idea", cheapest_test=HOSTILE, cost_hours=2)
    runs = []
    weights = ws.home / "weights"  # an artifact's file named in hostile text; the runs that made and used it too
    weights.mkdir(parents=True)
    (weights / (HOSTILE[:40].replace("/", "_") + ".bin")).write_bytes(b"w")
    for width in (1, 2):
        with upstack.run(HOSTILE, under=node.short, config={"lr": HOSTILE, "width": width},
                         home=ws.home, db=ws.db_url, capture="none") as r:
            r.log({"loss": 0.5}, step=1)
            r.note(HOSTILE_BODY)
            r.summary(learned=HOSTILE)
            if width == 1:
                r.artifact(weights, name="hostile-model")
            else:
                r.use_artifact("hostile-model")
        runs.append(r.short)
    vault = ws.home / "vault"  # a note embedding a missing file of a hostile name: a warning names both
    vault.mkdir(parents=True)
    (vault / "Hostile.md").write_text(f"![[{HOSTILE[:40]}.png]] {HOSTILE_BODY}\n", encoding="utf-8")
    # A sweep of a hostile name and parameter, made but not run (no trial process starts here).
    sweep_file = ws.home / "hostile-sweep.yaml"
    sweep_file.write_text(json.dumps({"name": HOSTILE, "command": ["python", HOSTILE],
                                      "parameters": {"lr": [HOSTILE_BODY, 0.1]}}), encoding="utf-8")
    sweep.prepare_sweep(ws, sweep_file, under=node.short)
    return {"node": node.short, "entry": entry.short, "idea": idea.short, "run": runs[0],
            "other run": runs[1], "vault": str(vault), "sweep file": str(sweep_file)}


def _driven(ids: dict[str, str]) -> list[list[str]]:
    return [
        # First: a comment in hostile text and a star, for `show` and `log --starred` to print.
        ["comment", ids["entry"], HOSTILE + "\n\n" + HOSTILE_BODY], ["star", ids["entry"]], ["log", "--starred"],
        ["log"], ["log", "--json"], ["search", "Title"], ["search", "Title", "--json"],
        ["show", ids["entry"]], ["show", ids["entry"], "--json"],
        ["history", ids["entry"]], ["history", ids["entry"], "--json"],
        ["tags"], ["tree"], ["tree", "--json"], ["why", ids["entry"]], ["why", ids["node"], "--json"],
        ["node", "show", ids["node"]], ["node", "show", ids["node"], "--json"],
        ["check"], ["progress"], ["ask", ids["node"], "--no-edit"],
        ["ask", ids["node"], "--llm", "--show", "--no-edit"], ["ask", ids["node"], "--llm", "--model", "echo", "--yes",
                                                               "--no-edit"], ["mentor", "--show"],
        ["mentor", "--model", "echo", "--yes"],
        ["predict", "add", HOSTILE, "-p", "0.7", "--on", ids["node"], "--criteria", HOSTILE_BODY, "--why", HOSTILE],
        ["predict", "list"], ["predict", "list", "--json"], ["calibration"],
        ["take", "add", HOSTILE, "--from", HOSTILE, "--where", HOSTILE_BODY, "-c", "0.6", "--crux", HOSTILE,
         "--would-change", HOSTILE_BODY, "--on", ids["node"], "--revisit", "in 3 days", "--why", HOSTILE],
        ["take", "update", "last", "-c", "0.4", "--why", HOSTILE_BODY, "--source", HOSTILE, "--where", HOSTILE],
        ["take", "show", "last"], ["take", "list"], ["takes"], ["takes", "--json"],
        ["ideas"], ["ideas", "--json"], ["idea", "--help"],
        ["sweep", "list"], ["sweep", "list", "--json"], ["sweep", "show", "last"], ["sweep", "show", "last", "--json"],
        ["sweep", "plan", ids["sweep file"]], ["sweep", "plan", ids["sweep file"], "--json"],
        ["runs"], ["runs", "--json"], ["run", "show", ids["run"]], ["run", "show", ids["run"], "--json"],
        ["run", "rename", ids["run"], HOSTILE + " renamed"], ["run", "tag", ids["run"], "+probe", "+" + HOSTILE],
        ["run", "note", ids["run"], HOSTILE_BODY], ["run", "rm", ids["run"]], ["runs", "--deleted"],
        ["run", "restore", ids["run"]], ["run", "history", ids["run"]], ["run", "history", ids["run"], "--json"],
        ["compare", ids["run"], ids["other run"]],
        ["artifacts"], ["artifacts", "--json"], ["artifact", "show", "hostile-model"],
        ["artifact", "show", "hostile-model", "--json"], ["save", "hostile-model:v0", str(Path(ids["vault"]).parent)],
        ["artifact", "purge", "hostile-model:v0", "--yes"], ["review"], ["export"], ["unstar", ids["entry"]],
        ["ladder", "add", HOSTILE, "--done-when", HOSTILE_BODY],
        ["ladder", "evidence", "add", "paper-alone", ids["run"]],
        ["ladder", "evidence", "add", "open-problem", ids["node"]], ["ladder", "proposals"], ["ladder"],
        ["ladder", "list"], ["ladder", "history"], ["ladder", "resource", "add", HOSTILE],
        ["ladder", "resource", "list"],
        ["practice", "log", "two-sum", "--minutes", "12", "--unaided", "-d", "medium", "--title", HOSTILE,
         "--topic", HOSTILE], ["practice"], ["practice", "list"], ["practice", "due"], ["practice", "bar"],
        ["portfolio", "profile", "--name", HOSTILE, "--summary", HOSTILE_BODY],
        ["portfolio", "add", "write-up", HOSTILE, "--summary", HOSTILE_BODY, "--from", ids["entry"]],
        ["portfolio"], ["portfolio", "proposals"], ["portfolio", "export", "--format", "rendercv"],
        ["path", "mentor", "list"], ["path", "shown"],
        ["opp", "add", "--org", "Hostile Lab " + HOSTILE, "--role", HOSTILE, "--notes", HOSTILE_BODY,
         "--location", HOSTILE, "--deadline", "in 3 weeks"],
        ["opp"], ["opp", "--json"], ["opp", "show", "hostile-lab"], ["opp", "show", "hostile-lab", "--json"],
        ["apply", "add", "hostile-lab", "--stage", "applied", "--compensation", HOSTILE, "--notes", HOSTILE_BODY],
        ["apply", "follow-up", "hostile-lab", "in 1 week"], ["apply"], ["apply", "show", "hostile-lab"],
        ["apply", "move", "hostile-lab", "rejected", "--learned", HOSTILE, "--note", HOSTILE],
        ["apply", "show", "hostile-lab"], ["apply", "funnel", "--by", "source"], ["due"], ["due", "--json"],
        ["contact", "add", "Hostile Person", "--org", HOSTILE, "--interests", "title pwned " + HOSTILE,
         "--how", HOSTILE, "--notes", HOSTILE_BODY, "--tag", "probe"],
        ["contact"], ["contact", "--json"], ["contact", "show", "hostile"], ["contact", "match", "hostile"],
        ["outreach", "draft", "hostile"], ["outreach", "sent", "hostile", "--subject", HOSTILE],
        ["outreach", "reply", "hostile", "--text", HOSTILE_BODY, "--follow-up", "tomorrow"],
        ["outreach", "log", "hostile", "note", "--text", HOSTILE], ["outreach", "list"], ["due"],
        ["vault", "link", ids["vault"], "--include-private"], ["vault", "status"], ["vault", "status", "--json"],
        ["vault", "sync"], ["vault", "unlink"],
        ["checkin", "signs", "add", HOSTILE], ["checkin", "--sleep", "6", "--note", HOSTILE_BODY],
        ["checkin", "list"], ["checkin", "signs"], ["checkin", "export"], ["pace"], ["pace", "--json"],
        ["checkin", "burnout", "--answers", "often,often,often,-,-,-"], ["checkin", "burnout", "list"],
        ["recover", "start", "--usual", "8", "--reason", HOSTILE], ["recover"], ["recover", "list"],
        ["recover", "end", "--note", HOSTILE_BODY], ["recover", "list"],
        ["fit", "note", "--energised", "coding", "--text", HOSTILE_BODY], ["fit"], ["fit", "list"],
        # Sealed (the passphrases come from the environment the test sets), then read, and opened again.
        ["checkin", "lock"], ["checkin", "list"], ["checkin", "signs"], ["checkin", "passphrase"],
        ["checkin", "export"], ["checkin", "unlock"], ["checkin", "list"],
    ]


def test_terminal_text_strips_controls_and_keeps_unicode_newlines_and_tabs() -> None:
    from upstack.cli.output import terminal_text

    assert terminal_text(HOSTILE).startswith(SPOTTED)
    assert terminal_text(HOSTILE_BODY) == "first line\n\tindented red next"
    assert terminal_text("naïve 日本語 😀\n\tx") == "naïve 日本語 😀\n\tx"
    assert not _TERMINAL_CONTROL.search(terminal_text(HOSTILE + HOSTILE_BODY))


def test_every_printing_command_keeps_hostile_stored_text_off_the_terminal(
        workspace: Workspace, run: CLI, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UPSTACK_PASSPHRASE", "a passphrase for the sealed check-ins")
    monkeypatch.setenv("UPSTACK_NEW_PASSPHRASE", "a passphrase for the sealed check-ins")
    ids = _hostile_log(workspace)
    for args in _driven(ids):
        result = run(*args)
        assert result.exit_code == 0, (args, result.output)
        _assert_clean(result.stdout, f"upstack {' '.join(args)}")
        _assert_clean(result.stderr, f"upstack {' '.join(args)} (stderr)")
    assert SPOTTED in run.ok("show", ids["entry"])  # what a person wrote is still shown
    assert "\tindented red" in run.ok("show", ids["entry"])
    # JSON keeps the data whole: the escapes are written as \u escapes, not dropped.
    shown = json.loads(run.ok("show", ids["entry"], "--json"))
    assert shown["title"].startswith("Ti\x1b]0;pwned\x07tle")
    exported = json.loads(run.ok("export"))
    assert any("\x9b2J" in row.get("title", "") for row in exported["tables"]["entries"])


def test_every_command_is_either_driven_with_hostile_text_or_prints_none() -> None:
    driven = {args[0] for args in _driven(dict.fromkeys(["node", "entry", "idea", "run", "other run", "vault",
                                                                 "sweep file"], ""))}
    assert set(COMMAND_MODULES) == driven | QUIET | {"sync"}, \
        "place a new command: drive it in this test with hostile text, or add it to QUIET"


def test_errors_on_stderr_are_cleaned_too(run: CLI) -> None:
    result = run("show", "\x1b]0;pwned\x07zz")
    assert result.exit_code == 1
    _assert_clean(result.stderr, "an error")


def test_on_a_colour_terminal_only_our_own_colours_reach_it(monkeypatch: pytest.MonkeyPatch,
                                                           capsys: pytest.CaptureFixture[str]) -> None:
    from upstack.cli import output

    monkeypatch.setattr(output, "use_color", lambda: True)  # stands in for a terminal on stdout
    output.echo(output.style("ok", fg="red") + " " + HOSTILE + " " + output.style(HOSTILE, bold=True))
    printed = capsys.readouterr().out
    assert printed.startswith("\x1b[31mok\x1b[0m " + SPOTTED)
    assert re.sub(r"\x1b\[[0-9;]*m", "", printed).count("\x1b") == 0
    assert not _TERMINAL_CONTROL.search(re.sub(r"\x1b\[[0-9;]*m", "", printed))


def test_sync_reports_and_pulled_text_are_cleaned(tmp_path: Path, db_url: str | None) -> None:
    server_home = tmp_path / "server"
    with Workspace(home=server_home, db=db_url) as ws:
        ada, _ = accounts.add_user(ws, "ada")
        _hostile_log(ws)
        token = accounts.create_token(ws, ada.id, "laptop")[1]
    laptop = CLI(tmp_path / "laptop", None)
    with serve(server_home, db_url, token=None) as server, Workspace(home=laptop.home) as mine:
        sync_service.login(mine, server.url, token)
        mine.close()
        for args in (["sync"], ["sync", "--json"], ["log"], ["search", "Title"], ["tree"]):
            result = laptop(*args)
            assert result.exit_code == 0, (args, result.output)
            _assert_clean(result.stdout, f"upstack {' '.join(args)} after a pull")
        assert SPOTTED in laptop.ok("log")


def test_only_the_output_module_writes_to_the_terminal() -> None:
    """A command printing with click.echo or print would skip the cleaning: none may."""
    package = Path(upstack.__file__).parent
    offenders = []
    for path in sorted((package / "cli").rglob("*.py")):
        if path.name == "output.py":
            continue
        for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
            if isinstance(node, ast.Call) and _writes_to_terminal(node):
                offenders.append(f"{path.relative_to(package)}:{node.lineno}")
    assert not offenders, f"print through upstack.cli.output instead: {offenders}"


def _writes_to_terminal(call: ast.Call) -> bool:
    name = ast.unparse(call.func)
    if name in {"print", "click.echo", "click.secho", "click.echo_via_pager", "echo_via_pager"}:
        return True
    return any(ast.unparse(arg) in {"sys.stdout", "sys.stderr"} for arg in call.args)


@pytest.mark.parametrize("text", ["\x1b]8;;http://x/\x1b\\", "\x9b31m", "\x1bc", "a\rb"])
def test_each_kind_of_sequence_is_removed(text: str) -> None:
    from upstack.cli.output import terminal_text

    assert not _TERMINAL_CONTROL.search(terminal_text(text))
