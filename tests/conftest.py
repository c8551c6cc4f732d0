"""Fixtures: a workspace on every engine (real SQLite, real PostgreSQL), and the CLI.

PostgreSQL is found at $UPSTACK_TEST_PG (default: the role and database that
.ci/run creates). Without it, PostgreSQL tests are skipped on a laptop, but under
CI=true a missing PostgreSQL fails the run instead of hiding behind skips.
"""

from __future__ import annotations

import os
import secrets
import time
from collections.abc import Iterator
from contextlib import contextmanager
from dataclasses import dataclass
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner, Result
from hypothesis import HealthCheck, settings

# The team server the attack tests and tests/test_team_trust.py share (a module's own `team` wins).
from attack_common import team  # noqa: E402,F401 - registers the fixture `team`

# One Chromium for the whole session, shared by every browser test module: a session fixture
# imported into two modules would be two fixtures, and Playwright's sync API runs only one at a time.
from browser import chromium_fixture  # noqa: E402,F401 - registers the fixture `chromium`
from markers import ProcessWatch, apply_markers, require_marker
from path_team import path_team  # noqa: E402,F401 - registers the fixture `path_team`

# A test asserting a cache held on PostgreSQL asks for `quiet_postgres`: no other test commits meanwhile.
from quiet_postgres import PostgresTurns, quiet_postgres_fixture  # noqa: F401 - registers `quiet_postgres`
from upstack.cli.main import cli
from upstack.workspace import Workspace

# A test's client is a script sending request after request, on a machine that may be busy: a
# member's share of a team server's time (web/limits.py) would make it wait. tests/test_limits.py
# sets the share where it is what is tested; every server and `upstack serve` here reads this.
os.environ["UPSTACK_USER_SECONDS"] = "1000000"

# Property tests are not timed: on a busy 2-core machine (two test workers, a CI neighbour) an
# example can take longer than Hypothesis's 200 ms deadline without anything being wrong.
settings.register_profile("upstack", deadline=None, suppress_health_check=[HealthCheck.too_slow])
# The inner loop's (`--hypothesis-profile quick`, README "Tests"): a tenth of the examples, for a
# quick look; the full suite runs them all.
settings.register_profile("quick", settings.get_profile("upstack"), max_examples=10)
settings.load_profile("upstack")

# tests/frameworks/ needs the `frameworks` extra (torch, transformers, lightning, keras, optuna), and
# tests/trackers/ the `trackers-test` extra (the real MLflow and TensorBoard writers): the README's test
# command leaves them out, and `.ci/run` installs each extra and runs its folder by name.
collect_ignore = ["frameworks", "trackers"]

PG_URL = os.environ.get("UPSTACK_TEST_PG",
                        "postgresql://upstack:upstack@127.0.0.1:5432/upstack_test")
ENGINES = ["sqlite", "postgresql"]


def pytest_configure(config: pytest.Config) -> None:
    if not config.pluginmanager.has_plugin(ProcessWatch.name):
        config.pluginmanager.register(ProcessWatch(), ProcessWatch.name)
    if not config.pluginmanager.has_plugin(PostgresTurns.name):
        config.pluginmanager.register(PostgresTurns(PG_URL), PostgresTurns.name)


def pytest_collection_modifyitems(items: list[pytest.Item]) -> None:
    """Mark each test postgres, browser, multiprocess or quality from what it uses (tests/markers.py)."""
    apply_markers(items)


def _postgres_available() -> str | None:
    try:
        import psycopg

        with psycopg.connect(PG_URL, connect_timeout=3):
            return None
    except Exception as exc:  # noqa: BLE001 - any failure means "not available"
        return str(exc).strip().splitlines()[0] if str(exc).strip() else repr(exc)


@pytest.fixture(scope="session")
def postgres() -> str:
    problem = _postgres_available()
    if problem:
        if os.environ.get("CI"):
            pytest.fail(f"PostgreSQL is required in CI but unreachable at {PG_URL}: {problem}")
        pytest.skip(f"PostgreSQL not reachable at {PG_URL}: {problem}")
    return PG_URL


# The zones tests that read local time run in (issue 18: "tests run under two TZ values"): UTC, and one
# whose day is not UTC's for half of every day (UTC+12/+13), so a test that took UTC's day for the
# person's fails in one of them whenever it runs.
ZONES = ["UTC", "Pacific/Auckland"]


@contextmanager
def time_zone(name: str) -> Iterator[None]:
    """This process's local time zone is ``name`` within the block (``TZ`` and ``time.tzset``), and what
    it was after: what a person who travels sees, in-process."""
    before = os.environ.get("TZ")
    os.environ["TZ"] = name
    time.tzset()
    try:
        yield
    finally:
        if before is None:
            os.environ.pop("TZ", None)
        else:
            os.environ["TZ"] = before
        time.tzset()


@pytest.fixture(params=ZONES)
def local_zone(request: pytest.FixtureRequest) -> Iterator[str]:
    """The test runs once in each of ``ZONES`` (a module uses it with ``pytest.mark.usefixtures``)."""
    with time_zone(str(request.param)):
        yield str(request.param)


@pytest.fixture(params=ENGINES)
def engine(request: pytest.FixtureRequest) -> str:
    return str(request.param)


@pytest.fixture
def db_url(engine: str, request: pytest.FixtureRequest) -> Iterator[str | None]:
    """None for SQLite (the default); for PostgreSQL, a URL to a fresh empty schema."""
    if engine == "sqlite":
        yield None
        return
    yield from _fresh_pg_schema(request.getfixturevalue("postgres"))


def _fresh_pg_schema(base_url: str) -> Iterator[str]:
    import psycopg

    schema = "t_" + secrets.token_hex(6)
    with psycopg.connect(base_url, autocommit=True) as conn:
        conn.execute(f"CREATE SCHEMA {schema}")
    separator = "&" if "?" in base_url else "?"
    try:
        yield f"{base_url}{separator}options=-csearch_path%3D{schema}"
    finally:
        with psycopg.connect(base_url, autocommit=True) as conn:
            conn.execute(f"DROP SCHEMA {schema} CASCADE")


@pytest.fixture
def make_pg_url(request: pytest.FixtureRequest) -> Iterator[object]:
    """Factory for extra fresh PostgreSQL schemas (e.g. an import target)."""
    made: list[Iterator[str]] = []

    def make() -> str:
        require_marker(request, "postgres", "makes a PostgreSQL schema")
        generator = _fresh_pg_schema(request.getfixturevalue("postgres"))
        made.append(generator)
        return next(generator)

    yield make
    for generator in made:
        next(generator, None)


@pytest.fixture
def llm_home(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    """The `llm` library's own folder (keys, its prompt log), a fresh one: the LLM mentor's tests show
    nothing is written to it."""
    folder = tmp_path / "llm-home"
    monkeypatch.setenv("LLM_USER_PATH", str(folder))
    return folder


@pytest.fixture
def home(tmp_path: Path) -> Path:
    return tmp_path / "home"


@pytest.fixture
def workspace(home: Path, db_url: str | None) -> Iterator[Workspace]:
    ws = Workspace(home=home, db=db_url)
    yield ws
    ws.close()


@dataclass
class CLI:
    """Runs `upstack ...` in-process against one workspace and captures its output."""

    home: Path
    db_url: str | None

    @property
    def env(self) -> dict[str, str | None]:
        return {"UPSTACK_HOME": str(self.home), "UPSTACK_DB": self.db_url, "NO_COLOR": "1",
                "EDITOR": None, "VISUAL": None}

    def __call__(self, *args: str, input: str | bytes | None = None) -> Result:
        return CliRunner().invoke(cli, list(args), input=input, env=self.env,
                                  catch_exceptions=False)

    def ok(self, *args: str, input: str | bytes | None = None) -> str:
        result = self(*args, input=input)
        assert result.exit_code == 0, (args, result.output)
        return result.stdout


@pytest.fixture
def run(home: Path, db_url: str | None) -> CLI:
    return CLI(home, db_url)


def round_trip(run: CLI, tmp_path: Path, engine: str, make_pg_url: Any) -> CLI:
    """Export `run`'s workspace to JSON, import it into a fresh one on the same engine,
    assert every data table came back identical, and return the new workspace's CLI."""
    from upstack.services.jsondump import dump_tables

    export = tmp_path / "round-trip.json"
    run.ok("export", "--out", str(export))
    target = CLI(tmp_path / "round-trip", make_pg_url() if engine == "postgresql" else None)
    target.ok("import", str(export))
    with Workspace(home=run.home, db=run.db_url) as source, \
            Workspace(home=target.home, db=target.db_url) as copy:
        assert dump_tables(copy.store().db) == dump_tables(source.store().db)
    return target


def blob_files(home: Path) -> dict[str, bytes]:
    """Every stored blob, by its path under HOME/blobs."""
    folder = home / "blobs"
    if not folder.exists():
        return {}
    return {str(p.relative_to(folder)): p.read_bytes() for p in sorted(folder.rglob("*"))
            if p.is_file() and not p.name.startswith(".")}


def assert_refused_unchanged(run: CLI, args: list[str], message: str) -> None:
    """The command fails with one line naming `message`, and no table changes."""
    from upstack.services.jsondump import dump_tables

    with Workspace(home=run.home, db=run.db_url) as ws:
        before = dump_tables(ws.store().db)
        result = run(*args)
        assert result.exit_code == 1, result.output
        assert message in result.stderr and len(result.stderr.strip().splitlines()) == 1
        assert "Traceback" not in result.output
        assert dump_tables(ws.store().db) == before


def script_env(ws: Workspace, **extra: str) -> dict[str, str]:
    """The environment of a training script run as its own process against workspace ``ws``:
    this process's, without its UPSTACK_ settings, plus ``extra``."""
    env = {k: v for k, v in os.environ.items() if not k.startswith("UPSTACK_")}
    env.update({"UPSTACK_HOME": str(ws.home), "PYTHONUNBUFFERED": "1", **extra})
    if ws.db_url:
        env["UPSTACK_DB"] = ws.db_url
    return env
