"""What a run captures without being asked, and the secrets it must never keep."""

from __future__ import annotations

import json
import os
import platform
import socket
import subprocess
import sys
import textwrap
from pathlib import Path
from typing import Any

import pytest

from upstack.services import recall
from upstack.services import runs as run_service
from upstack.services.jsondump import dump_tables
from upstack.workspace import Workspace

# Real-looking secrets, each of a shape people paste (none of them real).
HF = "hf_" + "Qx7LmZp2Rt9VbN4kWc8YdS3fGh6JaE1uTo"
OPENAI = "sk-proj-" + "A1b2C3d4E5f6G7h8I9j0K1l2M3n4O5p6Q7r8S9t0"
GITHUB = "ghp_" + "16C7e42F292c6912E7710c838347Ae178B4a"
AWS = "AKIA" + "Z7QH3KX9WJ2LM5NP"
URL_PASSWORD = "S3cr3tPassw0rd"
SERVICE_TOKEN = "svc-7d1e4b90c2f35a68"  # no known shape: caught because MY_SERVICE_TOKEN names a secret
CORP = "corp-482913"  # caught only by the user's own pattern
SECRETS = [HF, OPENAI, GITHUB, AWS, URL_PASSWORD, SERVICE_TOKEN, CORP]


def _git(repo: Path, *args: str) -> str:
    env = {**os.environ, "GIT_AUTHOR_NAME": "t", "GIT_AUTHOR_EMAIL": "t@example.com",
           "GIT_COMMITTER_NAME": "t", "GIT_COMMITTER_EMAIL": "t@example.com"}
    return subprocess.run(["git", *args], cwd=repo, env=env, check=True, capture_output=True,
                          text=True).stdout.strip()


@pytest.fixture
def repo(tmp_path: Path) -> Path:
    repo = tmp_path / "experiments"
    repo.mkdir()
    _git(repo, "init", "-q", "-b", "main")
    (repo / "train.py").write_text(textwrap.dedent("""
        import sys, upstack
        cfg = {"lr": 3e-4, "tokenizer": "gpt2", "wandb_api_key": sys.argv[-1]}
        with upstack.run("provenance", config=cfg) as run:
            for step in range(100):
                run.log({"loss": 1 / (step + 1)}, step=step)
    """))
    (repo / "settings.py").write_text("max_tokens = 5\n")
    _git(repo, "add", ".")
    _git(repo, "commit", "-q", "-m", "first")
    _git(repo, "remote", "add", "origin", f"https://bob:{URL_PASSWORD}@git.example.com/lab/experiments.git")
    # Uncommitted changes: an ordinary one and pasted secrets.
    (repo / "settings.py").write_text(textwrap.dedent(f"""
        max_tokens = 5
        HF_TOKEN = "{HF}"
        client = OpenAI(api_key="{OPENAI}")
        # deploy with {GITHUB} and {AWS}; ticket {CORP}
        service = "{SERVICE_TOKEN}"
        learning_rate = 0.001
    """))
    (repo / "notes.txt").write_text("untracked\n")
    return repo


def _run_script(repo: Path, ws: Workspace, *args: str, **env: str) -> None:
    environ = {k: v for k, v in os.environ.items() if not k.startswith("UPSTACK_")}
    environ.update({"UPSTACK_HOME": str(ws.home), "HF_TOKEN": HF, "MY_SERVICE_TOKEN": SERVICE_TOKEN,
                    "CUDA_VISIBLE_DEVICES": "0,1", "UPSTACK_REDACT": r"corp-[0-9]{6}", **env})
    if ws.db_url:
        environ["UPSTACK_DB"] = ws.db_url
    subprocess.run([sys.executable, "train.py", *args], cwd=repo, env=environ, check=True)
    ws.ingest()  # what the run's process wrote to its folder


def _everything_stored(ws: Workspace) -> bytes:
    """Every byte the workspace holds: files (database, WAL, blobs, run folders) and all table rows."""
    found = [p.read_bytes() for p in ws.home.rglob("*") if p.is_file()]
    found.append(json.dumps(dump_tables(ws.store().db), default=str).encode())
    return b"\n".join(found)


def test_secrets_never_reach_the_store(workspace: Workspace, repo: Path) -> None:
    _run_script(repo, workspace, "--hf-token", HF, f"--api-key={OPENAI}", f"--db=postgresql://u:{URL_PASSWORD}@h/d",
                CORP, SERVICE_TOKEN)
    (info,) = run_service.list_runs(workspace)
    stored = _everything_stored(workspace)
    for secret in SECRETS:
        assert secret.encode() not in stored, secret
    # ... and what is not secret is kept.
    assert b"max_tokens = 5" in stored and b"learning_rate = 0.001" in stored
    assert info.config["tokenizer"] == "gpt2" and info.config["wandb_api_key"] == "[redacted]"
    argv = info.provenance["data"]["command"]["argv"]
    assert argv[0] == "train.py" and "--hf-token" in argv and "[redacted]" in argv


def test_each_captured_field(workspace: Workspace, repo: Path) -> None:
    _run_script(repo, workspace, "x")
    (info,) = run_service.list_runs(workspace)
    data: dict[str, Any] = info.provenance["data"]
    git = data["git"]
    assert git["commit"] == _git(repo, "rev-parse", "HEAD") and git["branch"] == "main"
    assert git["remote"].startswith("https://bob:") and "git.example.com/lab/experiments.git" in git["remote"]
    assert git["dirty"] is True and git["untracked"] == ["notes.txt"]
    assert data["command"]["cwd"] == str(repo) and data["command"]["argv"] == ["train.py", "x"]
    assert data["python"]["version"] == platform.python_version()
    assert "click" in {name.lower() for name in data["packages"]}
    assert data["host"]["hostname"] == socket.gethostname() and data["host"]["cpu_count"] == os.cpu_count()
    assert data["env"]["CUDA_VISIBLE_DEVICES"] == "0,1"
    assert "HF_TOKEN" not in data["env"] or data["env"]["HF_TOKEN"] == "[redacted]"
    assert info.provenance["captured"] == ["git", "diff", "command", "python", "packages", "host", "env"]
    assert info.provenance["skipped"]["gpu"] == "nvidia-smi not found"
    entry = recall.show(workspace, info.short)
    (diff,) = [a for a in entry.attachments if a.filename == "uncommitted.diff"]
    text = workspace.blobs.read(diff.sha256 or "").decode()
    assert "+learning_rate = 0.001" in text
    assert "git: " in entry.body and "captured: git, diff, command" in entry.body
    assert "not captured: gpu (nvidia-smi not found)" in entry.body
    assert info.started_at < (info.ended_at or "")


def test_capture_can_be_turned_off_and_diffs_are_capped(workspace: Workspace, repo: Path) -> None:
    (repo / "big.txt").write_text("")
    _git(repo, "add", "big.txt")
    _git(repo, "commit", "-q", "-m", "big")
    (repo / "big.txt").write_text("".join(f"line {i} of a large change\n" for i in range(20000)))
    _run_script(repo, workspace, "x", UPSTACK_RUN_CAPTURE="git,diff", UPSTACK_RUN_DIFF_LIMIT="10000")
    (info,) = run_service.list_runs(workspace)
    assert info.provenance["captured"] == ["git", "diff"]
    assert set(info.provenance["data"]) == {"git"}
    assert info.provenance["skipped"]["host"] == "turned off"
    assert info.provenance["data"]["git"]["diff_truncated"] is True
    entry = recall.show(workspace, info.short)
    (diff,) = [a for a in entry.attachments if a.filename == "uncommitted.diff"]
    text = workspace.blobs.read(diff.sha256 or "").decode()
    assert len(text.encode()) <= 10000 and "diff cut at" in text.splitlines()[-1]
    assert "diff cut to the run_diff_limit setting" in entry.body


def test_configs_of_every_supported_kind(workspace: Workspace) -> None:
    import argparse
    import dataclasses

    import upstack

    @dataclasses.dataclass
    class Optim:
        name: str = "adam"
        lr: float = 3e-4

    @dataclasses.dataclass
    class Config:
        width: int = 16384
        optim: Optim = dataclasses.field(default_factory=Optim)
        out: Path = Path("/tmp/out")

    omegaconf = pytest.importorskip("omegaconf")
    configs = {
        "dataclass": Config(),
        "argparse": argparse.Namespace(width=16384, optim={"name": "adam", "lr": 3e-4}, out="/tmp/out"),
        "omegaconf": omegaconf.OmegaConf.create({"width": 16384, "optim": {"name": "adam", "lr": 3e-4},
                                                 "out": "/tmp/out"}),
    }
    for name, config in configs.items():
        with upstack.run(name, config=config, home=workspace.home, db=workspace.db_url, capture="none"):
            pass
    for info in run_service.list_runs(workspace):
        assert info.config == {"width": 16384, "optim": {"name": "adam", "lr": 3e-4}, "out": "/tmp/out"}, info.name
    with pytest.raises(upstack.errors.BadInput, match="config must be"):
        upstack.run("bad", config=[1, 2], home=workspace.home, db=workspace.db_url)
