"""The markers the inner loop leaves tests out by (tests/markers.py) say what each test needs, and a
parallel run keeps each module's tests together.

The whole suite is collected in a pytest process of its own and each test's markers read back;
then small probe tests, run with this suite's conftest, show each rule and each run-time check at
work on a test written to need (or to hide) exactly one thing.
"""

from __future__ import annotations

import os
import re
import subprocess
import sys
import textwrap
from pathlib import Path

TESTS = Path(__file__).resolve().parent
ROOT = TESTS.parent
INNER_LOOP = "not postgres and not browser and not multiprocess and not quality"

# Prints "nodeid<TAB>marker,marker" for every collected test, after conftest has marked them.
LISTER = """
def pytest_collection_finish(session):
    for item in session.items:
        print("MARKED", item.nodeid, ",".join(sorted(m.name for m in item.iter_markers())), sep="\\t")
"""


def _pytest(tmp_path: Path, *args: str, rootdir: Path | None = None) -> subprocess.CompletedProcess[str]:
    """pytest in a process of its own, with tests/ importable (conftest, helpers) and the project's settings;
    test ids are relative to ``rootdir`` (default: ``tmp_path``, where probe tests are written)."""
    env = {k: v for k, v in os.environ.items() if not k.startswith(("PYTEST_", "UPSTACK_DB"))}
    env["PYTHONPATH"] = os.pathsep.join([str(TESTS), str(tmp_path), env.get("PYTHONPATH", "")])
    return subprocess.run([sys.executable, "-m", "pytest", "-c", str(ROOT / "pyproject.toml"),
                           "--rootdir", str(rootdir or tmp_path), "-p", "no:cacheprovider", *args],
                          cwd=ROOT, env=env, capture_output=True, text=True, timeout=600)

def test_the_readme_gives_this_inner_loop() -> None:
    assert f'-m "{INNER_LOOP}"' in (ROOT / "README.md").read_text(encoding="utf-8")


# Tests that start Python processes in each way the suite does: a helper of tests/ (upstack, a
# script it kills), sys.executable in the test itself, a fixture, a class, a library (the kernel).
STARTS_PYTHON = ("tests/test_reliability.py::test_sigkill_at_random_moments_loses_and_duplicates_nothing",
                 "tests/test_purge_race.py::", "tests/test_backup_killed.py::",
                 "tests/test_faults.py::test_full_disk_is_one_line_and_the_log_is_as_it_was",
                 "tests/test_run_faults.py::test_a_disk_full_for_seconds_keeps_the_writer_and_says_what_was_lost",
                 "tests/test_log_core.py::test_note_in_editor", "tests/test_runs.py::test_eight_processes_log_at_once",
                 "tests/test_accounts_security.py::test_forwarded_headers_are_believed_only_from_the_trusted_proxy",
                 "tests/test_web.py::test_upstack_serve_prints_an_address_that_opens_the_log",
                 "tests/test_runs_notebook.py::", "tests/test_readme.py::test_readme_walkthrough_runs_verbatim",
                 "tests/test_quality.py::test_mypy_is_clean")


def test_the_suite_is_marked_by_what_each_test_needs(tmp_path: Path) -> None:
    (tmp_path / "list_markers.py").write_text(LISTER)
    done = _pytest(tmp_path, "--collect-only", "-q", "-p", "list_markers", str(TESTS), rootdir=ROOT)
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    marked = {line.split("\t")[1]: set(filter(None, line.split("\t")[2].split(",")))
              for line in done.stdout.splitlines() if line.startswith("MARKED\t")}
    assert len(marked) > 1000

    def module(nodeid: str) -> str:
        return nodeid.split("::")[0].removeprefix("tests/")

    def on_postgres(nodeid: str) -> bool:  # a parameter of its id is the engine
        return re.search(r"\[(.*-)?postgresql(-.*)?\]$", nodeid) is not None

    for nodeid, markers in marked.items():
        assert ("postgres" in markers) >= on_postgres(nodeid), nodeid
        if module(nodeid).startswith("test_browser"):
            assert "browser" in markers, nodeid
        if nodeid.startswith(STARTS_PYTHON):
            assert "multiprocess" in markers, nodeid
        assert ("quality" in markers) == (module(nodeid) == "test_quality.py"), nodeid
    inner = [nodeid for nodeid, markers in marked.items()
             if not markers & {"postgres", "browser", "multiprocess", "quality"}]
    assert "tests/test_smoke.py::test_note_then_log_and_search[sqlite]" in inner
    assert "tests/test_log_core.py::test_note_json_prints_the_created_entry[sqlite]" in inner
    assert not [nodeid for nodeid in inner if on_postgres(nodeid)]


PROBES = '''
import importlib
import subprocess

import pytest

from helpers_reliability import upstack_args


def markers(request):
    return {m.name for m in request.node.iter_markers()} & {"postgres", "browser", "multiprocess", "quality"}


def test_engine(request, engine):
    assert markers(request) == ({"postgres"} if engine == "postgresql" else set())


@pytest.fixture(params=["sqlite", "postgresql"])
def store_kind(request):
    return request.param


def test_a_fixture_over_the_engines(request, store_kind):
    assert markers(request) == ({"postgres"} if store_kind == "postgresql" else set())


def test_asks_for_a_schema(request, make_pg_url):
    assert markers(request) == {"postgres"}


def _helper_of_a_helper():
    return upstack_args("--version")


def test_starts_upstack_through_helpers(request):
    assert markers(request) == {"multiprocess"}
    assert _helper_of_a_helper()[1:3] == ["-m", "upstack"]


def test_runs_git_which_is_no_python_process(request):
    assert markers(request) == set()
    subprocess.run(["git", "--version"], check=True, capture_output=True)


def test_plain(request, tmp_path):
    assert markers(request) == set()


@pytest.mark.parametrize("engine", ["sqlite"])
def test_hides_postgresql_behind_a_sqlite_parameter(engine, make_pg_url):
    make_pg_url()


def test_hides_a_python_process():
    python = importlib.import_module("sys").executable  # out of the rule's sight
    subprocess.run([python, "-c", "pass"], check=True)
'''


def test_each_rule_and_each_check_on_probe_tests(tmp_path: Path) -> None:
    (tmp_path / "test_probes.py").write_text(textwrap.dedent(PROBES))
    done = _pytest(tmp_path, "-p", "conftest", "-q", "-rA", str(tmp_path / "test_probes.py"))
    outcome = {m.group(2): m.group(1) for m in re.finditer(r"^(PASSED|FAILED|ERROR|SKIPPED) \S*::(\S+)",
                                                            done.stdout, flags=re.M)}
    report = done.stdout[-6000:] + done.stderr[-3000:]
    for name in ("test_engine[sqlite]", "test_engine[postgresql]", "test_a_fixture_over_the_engines[sqlite]",
                 "test_a_fixture_over_the_engines[postgresql]", "test_asks_for_a_schema",
                 "test_starts_upstack_through_helpers", "test_runs_git_which_is_no_python_process", "test_plain"):
        assert outcome.get(name) == "PASSED", (name, report)
    assert outcome.get("test_hides_postgresql_behind_a_sqlite_parameter[sqlite]") == "FAILED", report
    assert "makes a PostgreSQL schema but is not marked postgres" in done.stdout, report
    assert outcome.get("test_hides_a_python_process") == "FAILED", report
    assert "starts a Python process" in done.stdout and "not marked multiprocess" in done.stdout, report


def test_a_parallel_run_keeps_each_modules_tests_on_one_worker_in_order(tmp_path: Path) -> None:
    """Module-scoped fixtures are made once, and tests/test_web_authz.py's writes build on each other."""
    seen = tmp_path / "seen.txt"
    for module in ("test_first", "test_second"):
        (tmp_path / f"{module}.py").write_text(textwrap.dedent(f'''
            import os

            import pytest


            @pytest.mark.parametrize("number", range(8))
            def test_note_the_worker(number):
                with open({str(seen)!r}, "a") as out:
                    out.write(f"{module} {{number}} {{os.environ['PYTEST_XDIST_WORKER']}}\\n")
            '''))
    done = _pytest(tmp_path, "-n", "2", "-q", str(tmp_path / "test_first.py"), str(tmp_path / "test_second.py"))
    assert done.returncode == 0, done.stdout[-3000:] + done.stderr[-3000:]
    runs = [line.split() for line in seen.read_text().splitlines()]
    for module in ("test_first", "test_second"):
        mine = [(int(number), worker) for name, number, worker in runs if name == module]
        assert [number for number, _ in mine] == list(range(8)), runs
        assert len({worker for _, worker in mine}) == 1, runs
