"""Settings are cast and checked once, when they are made: readers get typed values, and a wrong
value is one line naming the setting and where it came from, for every command and the library."""

from __future__ import annotations

import json
import os
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from click.testing import CliRunner

import upstack
from upstack import errors
from upstack.cli.main import cli
from upstack.errors import BadInput
from upstack.settings import SETTINGS, Setting, Settings

# A value each setting refuses, and where it is given: the environment, or the config file for the
# settings any text is a value of (TOML can give them a number, or a list, instead).
BAD = {
    "home": ("file", 5),
    "db": ("file", 5),
    "editor": ("file", ["vi"]),
    "check_days": ("env", "abc"),
    "stale_weeks": ("env", "0"),
    "active_projects": ("env", "-1"),
    "min_commitment_days": ("env", "-1"),
    "upskilling_weeks": ("env", "six"),
    "stuck_days": ("env", "2.5"),
    "run_dir": ("file", 5),
    "run_flush_seconds": ("env", "0"),
    "run_heartbeat_seconds": ("env", "soon"),
    "run_unwritten_points": ("env", "1e999"),
    "run_live_seconds": ("env", "-0.5"),
    "run_system_seconds": ("env", "-1"),
    "run_crashed_after": ("env", "abc"),
    "run_capture": ("env", "gti,host"),
    "run_diff_limit": ("env", "1MB"),
    "run_env": ("file", 5),
    "sync_artifact_mb": ("env", "25MB"),
    "trusted_proxies": ("env", "127.0.0.1, caddy.internal"),
    "session_idle_minutes": ("env", "0"),
    "redact": ("env", "corp-[0-9"),
    "user_requests": ("env", "two"),
    "user_seconds": ("env", "nan"),
    "user_quota_mb": ("env", "-1"),
    "user_max_runs": ("env", "1.5"),
    "run_max_metrics": ("env", "true"),
    "entry_max_files": ("env", "0"),
    "practice_target_minutes": ("env", "-30"),
    "practice_bar_window": ("env", "twenty"),
    "practice_bar_solved": ("env", "0"),
    "practice_retention": ("env", "1.5"),
    "vault_delete_limit": ("env", "1"),
    "application_stages": ("env", "applied, Phone Screen"),
    "contacts_local_only": ("env", "maybe"),
    "checkin_reminder": ("env", "sometimes"),
    "burnout_talk_line": ("file", ["see a doctor"]),
    "recover_steps": ("env", "50,seventy"),
    "recover_step_days": ("env", "0"),
    "opening_cues": ("env", "residency=high"),
    "opening_threshold": ("env", "-1"),
}


def test_every_setting_has_a_wrong_value_here() -> None:
    assert set(BAD) == {setting.name for setting in SETTINGS}


@pytest.mark.parametrize("setting", SETTINGS, ids=lambda setting: setting.name)
def test_a_wrong_setting_is_one_line_naming_it_and_its_source(setting: Setting[Any], tmp_path: Path) -> None:
    where, value = BAD[setting.name]
    config = tmp_path / "config" / "upstack" / "config.toml"
    config.parent.mkdir(parents=True)
    env: dict[str, str | None] = {"UPSTACK_HOME": str(tmp_path / "log"), "UPSTACK_DB": None, "NO_COLOR": "1",
                                  "XDG_CONFIG_HOME": str(tmp_path / "config")}
    if where == "env":
        env[setting.env] = str(value)
        source = setting.env
    else:
        env[setting.env] = None  # the environment would win over the file
        config.write_text(f"{setting.name} = {json.dumps(value)}\n")
        source = str(config)
    # `log` reads none of these settings itself: every command checks them all when it starts.
    result = CliRunner().invoke(cli, ["log"], env=env, catch_exceptions=False)
    lines = result.stderr.strip().splitlines()
    assert result.exit_code == 1 and len(lines) == 1, result.output
    assert lines[0].startswith(f"upstack: error: setting {setting.name} must be "), lines[0]
    assert f", got {value!r}" in lines[0] and lines[0].endswith(f" (from {source})"), lines[0]
    assert "Traceback" not in result.output


@pytest.mark.parametrize(("variable", "args"), [
    ("UPSTACK_CHECK_DAYS", ["check"]),  # both ended in a traceback once
    ("UPSTACK_RUN_CRASHED_AFTER", ["log"]),
    ("UPSTACK_CHECK_DAYS", ["note", "A note that is not kept"]),
    ("UPSTACK_USER_REQUESTS", ["serve", "--port", "0"]),
])
def test_a_wrong_setting_stops_a_real_command_in_one_line(variable: str, args: list[str], tmp_path: Path) -> None:
    env = {k: v for k, v in os.environ.items() if not k.startswith("UPSTACK_")}
    env.update({"UPSTACK_HOME": str(tmp_path / "log"), "NO_COLOR": "1", variable: "abc"})
    # A time limit: a server that took the wrong setting would serve until stopped.
    result = subprocess.run([sys.executable, "-m", "upstack", *args], env=env, capture_output=True, text=True,
                            timeout=60)
    name = variable.removeprefix("UPSTACK_").lower()
    kind = "a number above zero" if name == "run_crashed_after" else "a whole number above zero"
    assert (result.returncode, result.stderr.splitlines()) == (1, [
        f"upstack: error: setting {name} must be {kind}, got 'abc' (from {variable})"])
    assert not (tmp_path / "log" / "journal").exists()  # nothing was written


def test_the_library_raises_the_same_error(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UPSTACK_RUN_FLUSH_SECONDS", "abc")
    with pytest.raises(BadInput) as raised:
        upstack.run("probe", home=tmp_path / "log")
    assert str(raised.value) == ("setting run_flush_seconds must be a number above zero, got 'abc' "
                                 "(from UPSTACK_RUN_FLUSH_SECONDS)")
    assert isinstance(raised.value, errors.BadSetting) and raised.value.setting == "run_flush_seconds"


def test_an_argument_wins_and_is_named_when_wrong(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("UPSTACK_CHECK_DAYS", "abc")
    assert Settings(check_days=3).check_days == 3  # the environment is not even read
    with pytest.raises(BadInput, match=r"^setting check_days must be a whole number above zero, got 0 "
                                       r"\(given as an argument\)$"):
        Settings(check_days=0)


def test_readers_get_typed_values(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    for name in [name for name in os.environ if name.startswith("UPSTACK_")]:
        monkeypatch.delenv(name)
    monkeypatch.setenv("XDG_CONFIG_HOME", str(tmp_path))
    (tmp_path / "upstack").mkdir()
    (tmp_path / "upstack" / "config.toml").write_text(
        'stale_weeks = 6\nrun_env = ["MY_VAR", "CUDA_*"]\nuser_quota_mb = 0\ncheck_days = "abc"\n')
    monkeypatch.setenv("UPSTACK_CHECK_DAYS", "3")  # wins over the file's wrong value, which is never read
    monkeypatch.setenv("UPSTACK_RUN_UNWRITTEN_POINTS", "1e6")
    monkeypatch.setenv("UPSTACK_RUN_CAPTURE", "host, git")
    monkeypatch.setenv("UPSTACK_TRUSTED_PROXIES", "127.0.0.1 10.0.0.0/8")
    monkeypatch.setenv("UPSTACK_REDACT", r"corp-[0-9]{6}  ticket-\d+")
    monkeypatch.setenv("UPSTACK_RUN_DIR", "~/scratch")
    settings = Settings()
    assert (settings.check_days, settings.stale_weeks, settings.run_unwritten_points) == (3, 6, 1_000_000)
    assert all(type(value) is int for value in (settings.check_days, settings.stale_weeks,
                                                 settings.run_unwritten_points, settings.user_requests))
    assert (settings.run_crashed_after, settings.user_quota_mb) == (120.0, 0)
    assert settings.run_capture == ("git", "host")  # in the order runs capture them
    assert settings.run_env == ("MY_VAR", "CUDA_*")
    assert settings.trusted_proxies == ("127.0.0.1", "10.0.0.0/8")
    assert settings.redact == ("corp-[0-9]{6}", r"ticket-\d+")
    assert settings.run_dir == Path.home() / "scratch"
    assert (settings.home, settings.db, settings.editor) == (None, None, None)
    assert Settings(run_capture="none").run_capture == ()
