"""The markers a run selects tests by, applied from what each test uses (tests/conftest.py imports this).

pyproject.toml registers them; a test does not carry them by hand (one exception below). The rules:

- ``postgres``: the test runs on PostgreSQL: one of its parameters is ``"postgresql"`` (the
  ``engine`` fixture, or any fixture parametrised over ``ENGINES``), or it asks for ``postgres``
  or ``make_pg_url`` without a ``"sqlite"`` parameter of its own.
- ``browser``: it asks for ``chromium`` (every ``page`` does).
- ``multiprocess``: it starts a Python process (an upstack command, a server, a script it kills):
  the test function, a fixture it asks for, or a function or class of tests/ that any of them uses
  (followed down), names ``sys.executable``, ``os.fork`` or ``multiprocessing``. Other programs
  (git, mount) start in milliseconds and do not count. The exception: a library can start a Python
  process out of sight (nbclient's Jupyter kernel), and such a module says
  ``pytestmark = pytest.mark.multiprocess`` itself.
- ``quality``: it is in tests/test_quality.py (ruff and mypy over the whole code).

Two checks keep the rules true as tests change: a test that reaches PostgreSQL without the
``postgres`` marker fails (``require_marker``, called where a schema is made), and so does one
that starts a Python process without ``multiprocess`` (an audit hook watches every test).
"""

from __future__ import annotations

import inspect
import os
import sys
import types
from collections.abc import Generator, Iterable
from pathlib import Path
from typing import Any

import pytest

__all__ = ["apply_markers", "require_marker", "ProcessWatch"]

# Where the code the multiprocess rule follows lives: tests/, and the folder of any test collected.
TEST_FOLDERS = {Path(__file__).resolve().parent}
# What starts a Python process, as (module, attribute) a test's code names; None: the module itself.
PYTHON_STARTERS = {("sys", "executable"), ("os", "fork"), ("multiprocessing", None)}
_PROCESS_EVENTS = frozenset({"subprocess.Popen", "os.fork"})


def apply_markers(items: Iterable[pytest.Item]) -> None:
    """Add to each test the markers the rules above give it."""
    items = list(items)
    TEST_FOLDERS.update(item.path.resolve().parent for item in items)
    starting_python = _starting_python({id(item): _uses(item) for item in items})
    for item in items:
        if _runs_on_postgres(item):
            item.add_marker(pytest.mark.postgres)
        if "chromium" in getattr(item, "fixturenames", ()):
            item.add_marker(pytest.mark.browser)
        if id(item) in starting_python and item.get_closest_marker("multiprocess") is None:
            item.add_marker(pytest.mark.multiprocess)
        if item.path.name == "test_quality.py":
            item.add_marker(pytest.mark.quality)


def require_marker(request: pytest.FixtureRequest, name: str, what: str) -> None:
    """Fail a test that needs ``what`` without carrying ``name``: a run that leaves ``name`` out
    (the inner loop) must never reach it."""
    if request.node.get_closest_marker(name) is None:
        pytest.fail(f"{request.node.nodeid} {what} but is not marked {name} (the rules are in "
                    "tests/markers.py)", pytrace=False)


def _parameters(item: pytest.Item) -> list[object]:
    callspec = getattr(item, "callspec", None)
    return list(callspec.params.values()) if callspec is not None else []


def _runs_on_postgres(item: pytest.Item) -> bool:
    engines = {value for value in _parameters(item) if isinstance(value, str)}
    if "postgresql" in engines:
        return True
    asks = {"postgres", "make_pg_url"} & set(getattr(item, "fixturenames", ()))
    return bool(asks) and "sqlite" not in engines


# -- multiprocess: what the test's code uses ---------------------------------------------------


def _uses(item: pytest.Item) -> list[object]:
    """The test function and the functions of the fixtures it asks for."""
    used: list[object] = [getattr(item, "obj", None)]
    info = getattr(item, "_fixtureinfo", None)
    if info is not None:
        for name in getattr(item, "fixturenames", ()):
            used += [definition.func for definition in info.name2fixturedefs.get(name, ())]
    return used


def _starting_python(uses: dict[int, list[object]]) -> set[int]:
    """The keys of ``uses`` whose code, followed down through tests/, starts a Python process.

    Each function or class is read once, then "starts one" spreads from callee to caller until
    nothing changes: a collection asks about the same helpers thousands of times.
    """
    graph: dict[int, tuple[bool, list[object]]] = {}
    pending = [thing for used in uses.values() for thing in used]
    while pending:
        thing = pending.pop()
        if id(thing) not in graph:
            graph[id(thing)] = _read(thing)
            pending += graph[id(thing)][1]
    starts = {key for key, (own, _) in graph.items() if own}
    spreading = True
    while spreading:
        spreading = False
        for key, (_, calls) in graph.items():
            if key not in starts and any(id(callee) in starts for callee in calls):
                starts.add(key)
                spreading = True
    return {key for key, used in uses.items() if any(id(thing) in starts for thing in used)}


def _read(thing: object) -> tuple[bool, list[object]]:
    """Whether ``thing``'s own code starts a Python process, and the functions and classes of tests/
    it names (to follow)."""
    if inspect.isclass(thing):
        module = sys.modules.get(thing.__module__)
        ours = module is not None and _in_tests(getattr(module, "__file__", None))
        return False, [m for m in vars(thing).values() if inspect.isfunction(m)] if ours else []
    function = inspect.unwrap(thing) if inspect.isfunction(thing) else thing  # type: ignore[arg-type]
    code = getattr(function, "__code__", None)
    if code is None or not _in_tests(code.co_filename):
        return False, []
    namespace = getattr(function, "__globals__", {})
    names = set(_code_names(code))
    calls: list[object] = []
    for name in names:
        value = namespace.get(name)
        if isinstance(value, types.ModuleType):
            module = value.__name__.split(".")[0]
            if (module, None) in PYTHON_STARTERS or any((module, attribute) in PYTHON_STARTERS for attribute in names):
                return True, []
        elif inspect.isfunction(value) or inspect.isclass(value):
            calls.append(value)
    return False, calls


def _in_tests(filename: str | None) -> bool:
    """Defined beside the tests (so followed down), not in upstack or a library."""
    return filename is not None and Path(filename).resolve().parent in TEST_FOLDERS


def _code_names(code: types.CodeType) -> Generator[str, None, None]:
    yield from code.co_names
    for constant in code.co_consts:
        if isinstance(constant, types.CodeType):  # nested functions, lambdas, comprehensions
            yield from _code_names(constant)


# -- the check at run time -----------------------------------------------------------------------


class ProcessWatch:
    """Sees every Python process a test starts (an audit hook), so that a test the static rule
    misses fails instead of slowing the inner loop unnoticed."""

    name = "upstack-process-watch"

    def __init__(self) -> None:
        self.started: list[str] | None = None  # None: between tests
        sys.addaudithook(self._audit)

    def _audit(self, event: str, args: tuple[Any, ...]) -> None:
        if self.started is None or event not in _PROCESS_EVENTS:  # the hook hears every open() too
            return
        if event == "subprocess.Popen":
            executable, argv = args[0], args[1]
            command = _argv(argv)
            program = os.fsdecode(executable) if executable is not None else (command or [""])[0]
            if os.path.basename(program).startswith("python") or program == sys.executable:
                self.started.append(" ".join(command)[:200])
        elif event == "os.fork":
            self.started.append("a fork of this process")

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_protocol(self, item: pytest.Item) -> Generator[None, object, object]:
        self.started = []
        try:
            return (yield)
        finally:
            self.started = None

    @pytest.hookimpl(wrapper=True)
    def pytest_runtest_makereport(self, item: pytest.Item,
                                  call: pytest.CallInfo[None]) -> Generator[None, pytest.TestReport, pytest.TestReport]:
        report = yield
        if (call.when == "call" and self.started and report.passed
                and item.get_closest_marker("multiprocess") is None):
            report.outcome = "failed"
            report.longrepr = (f"{item.nodeid} starts a Python process ({self.started[0]}) but is not "
                               "marked multiprocess (the rules are in tests/markers.py)")
        return report


def _argv(argv: object) -> list[str]:
    """A command as Popen was given it (a string, a path, or a sequence of them), as strings."""
    if isinstance(argv, str | bytes | os.PathLike):
        return [os.fsdecode(argv)]
    return [os.fsdecode(a) for a in argv]  # type: ignore[attr-defined]
