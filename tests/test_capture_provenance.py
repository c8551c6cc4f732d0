"""Provenance, secret redaction and config normalising, against real git repositories."""

from __future__ import annotations

import argparse
import dataclasses
import enum
import json
import math
import os
import secrets
import string
import subprocess
import sys
from pathlib import Path
from typing import Any

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from upstack.capture.provenance import DEFAULT_ENV, KINDS, collect
from upstack.capture.redact import REDACTED, Redactor, is_secret_name
from upstack.domain.config import config_to_dict, flatten
from upstack.errors import BadInput

ALNUM = string.ascii_letters + string.digits


def _random(alphabet: str, size: int) -> str:
    return "".join(secrets.choice(alphabet) for _ in range(size))


HF_TOKEN = "hf_" + _random(ALNUM, 34)
OPENAI_KEY = "sk-proj-" + _random(ALNUM, 40)
GITHUB_PAT = "ghp_" + _random(ALNUM, 36)
AWS_KEY_ID = "AKIA" + _random(string.ascii_uppercase + string.digits, 16)
AWS_SECRET = _random(ALNUM + "/+", 40)
REMOTE_PASSWORD = "S3cr3tPassw0rd"
SERVICE_TOKEN = "svc_" + _random(ALNUM, 24)
CORP_ID = "corp-" + _random(string.digits, 6)
PEM_BODY = [_random(ALNUM + "+/", 64) for _ in range(3)]
PEM = "\n".join(["-----BEGIN RSA PRIVATE KEY-----", *PEM_BODY, "-----END RSA PRIVATE KEY-----"])
ALL_SECRETS = [HF_TOKEN, OPENAI_KEY, GITHUB_PAT, AWS_KEY_ID, AWS_SECRET, REMOTE_PASSWORD, SERVICE_TOKEN,
               CORP_ID, *PEM_BODY]

TRAIN_SCRIPT = f'''\
from transformers import AutoTokenizer

HF_TOKEN = "{HF_TOKEN}"
client = OpenAI(api_key="{OPENAI_KEY}")
mirror = "https://{GITHUB_PAT}@github.com/org/weights.git"
aws_access_key_id = "{AWS_KEY_ID}"
aws_secret_access_key = {AWS_SECRET}
tokenizer = AutoTokenizer.from_pretrained("gpt2")
tokenizer.pad_token = tokenizer.eos_token
max_tokens = 5
# staging uses {SERVICE_TOKEN} for now, ticket {CORP_ID}
DEPLOY_KEY = """
{PEM}
"""
'''


def _git(cwd: Path, *args: str) -> str:
    done = subprocess.run(["git", *args], cwd=cwd, capture_output=True, text=True, check=True)
    return done.stdout.strip()


@pytest.fixture
def git_env(monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    """A git that ignores the machine's configuration and never looks above tmp_path."""
    monkeypatch.setenv("GIT_CONFIG_GLOBAL", os.devnull)
    monkeypatch.setenv("GIT_CONFIG_NOSYSTEM", "1")
    monkeypatch.setenv("GIT_CEILING_DIRECTORIES", str(tmp_path.parent))
    for role in ("AUTHOR", "COMMITTER"):
        monkeypatch.setenv(f"GIT_{role}_NAME", "Test Person")
        monkeypatch.setenv(f"GIT_{role}_EMAIL", "test@example.com")


def _init(path: Path, files: dict[str, str]) -> Path:
    path.mkdir(parents=True, exist_ok=True)
    _git(path, "init", "--quiet", "--initial-branch=main")
    for name, text in files.items():
        (path / name).write_text(text)
    _git(path, "add", "--all")
    _git(path, "commit", "--quiet", "-m", "first")
    return path


@pytest.fixture
def repo(tmp_path: Path, git_env: None, monkeypatch: pytest.MonkeyPatch) -> Path:
    """A repository whose uncommitted change, remote, argv and environment all hold secrets."""
    path = _init(tmp_path / "project", {"train.py": "print('hello')\n", "README.md": "A project.\n"})
    _git(path, "remote", "add", "origin", f"https://bob:{REMOTE_PASSWORD}@example.com/repo.git")
    (path / "train.py").write_text(TRAIN_SCRIPT)
    (path / "secrets.txt").write_text(f"HF_TOKEN={HF_TOKEN}\n")  # untracked: its name only
    monkeypatch.setattr(sys, "argv", ["train.py", "--token", HF_TOKEN, f"--api-key={OPENAI_KEY}",
                                      SERVICE_TOKEN, "--max-tokens", "5", "--note", CORP_ID])
    monkeypatch.setenv("MY_SERVICE_TOKEN", SERVICE_TOKEN)
    monkeypatch.setenv("HF_TOKEN", HF_TOKEN)
    monkeypatch.setenv("CUDA_VISIBLE_DEVICES", "0,1")
    monkeypatch.setenv("UPSTACK_TEST_EXTRA", "kept")
    return path


def _everything(path: Path, **options: Any) -> Any:
    return collect(KINDS, Redactor(["corp-[0-9]{6}"]), cwd=path, **options)


# --- provenance ---------------------------------------------------------------------------


def test_collect_redacts_every_secret_and_keeps_the_rest(repo: Path) -> None:
    found = _everything(repo, env_names=(*DEFAULT_ENV, "UPSTACK_TEST_EXTRA"))
    data_text = json.dumps(found.data)
    assert found.diff is not None
    diff_text = found.diff.decode()
    for secret in ALL_SECRETS:
        assert secret not in data_text
        assert secret not in diff_text
    assert REDACTED in diff_text
    for ordinary in ("max_tokens = 5", "tokenizer.pad_token = tokenizer.eos_token",
                     'AutoTokenizer.from_pretrained("gpt2")', "-----BEGIN RSA PRIVATE KEY-----",
                     "github.com/org/weights.git", "ticket [redacted]"):
        assert ordinary in diff_text
    git = found.data["git"]
    assert git["remote"] == f"https://bob:{REDACTED}@example.com/repo.git"
    assert git["remote_name"] == "origin"
    assert git["branch"] == "main"
    assert git["commit"] == _git(repo, "rev-parse", "HEAD")
    assert git["dirty"] is True
    assert git["untracked"] == ["secrets.txt"]
    assert Path(git["root"]) == repo.resolve()
    assert git["diff_bytes"] > 0 and git["diff_truncated"] is False
    assert found.data["command"]["argv"] == ["train.py", "--token", REDACTED, f"--api-key={REDACTED}", REDACTED,
                                             "--max-tokens", "5", "--note", REDACTED]
    env = found.data["env"]
    assert env["CUDA_VISIBLE_DEVICES"] == "0,1"
    assert env["HF_TOKEN"] == REDACTED
    assert env["UPSTACK_TEST_EXTRA"] == "kept"
    assert "MY_SERVICE_TOKEN" not in env  # not asked for
    assert found.captured == [k for k in KINDS if k not in found.skipped]
    json.dumps(found.data, allow_nan=False)  # plain JSON throughout


def test_collect_records_python_packages_and_host(repo: Path) -> None:
    import importlib.metadata
    import platform

    found = collect(["python", "packages", "host"], Redactor(), cwd=repo)
    assert found.data["python"]["version"] == platform.python_version()
    assert found.data["python"]["executable"] == sys.executable
    packages = found.data["packages"]
    assert packages["pytest"] == importlib.metadata.version("pytest")
    assert packages["hypothesis"] == importlib.metadata.version("hypothesis")
    assert list(packages) == sorted(packages, key=str.lower)
    host = found.data["host"]
    assert host["hostname"] and host["platform"]
    assert host["cpu_count"] == os.cpu_count()
    assert host["memory_bytes"] is None or host["memory_bytes"] > 0


def test_the_diff_is_cut_at_a_line_with_a_note(repo: Path) -> None:
    big = "".join(f"row {i:08d} " + "x" * 80 + "\n" for i in range(33_000))  # about 3 MB
    (repo / "README.md").write_text(big)
    found = _everything(repo, diff_limit=100_000)
    assert found.diff is not None
    git = found.data["git"]
    assert git["diff_truncated"] is True
    assert git["diff_bytes"] > 3_000_000
    assert len(found.diff) <= 100_000
    kept, note = found.diff[:-1].rsplit(b"\n", 1)
    assert note == f"# upstack: diff cut at 100,000 of {git['diff_bytes']:,} bytes (setting run_diff_limit)".encode()
    assert kept.startswith(b"diff --git a/")
    last_line = kept.rsplit(b"\n", 1)[-1]
    assert last_line.startswith(b"+row ") and last_line.endswith(b" " + b"x" * 80)  # a whole line


def test_no_change_means_no_diff(tmp_path: Path, git_env: None) -> None:
    path = _init(tmp_path / "clean", {"a.txt": "a\n"})
    found = collect(["git", "diff"], Redactor(environ={}), cwd=path)
    assert found.diff is None
    assert found.data["git"]["dirty"] is False
    assert found.data["git"]["diff_bytes"] == 0
    assert found.data["git"]["remote"] is None
    assert found.captured == ["git", "diff"]


def test_a_binary_change_is_a_marker(tmp_path: Path, git_env: None) -> None:
    path = _init(tmp_path / "bin", {"a.txt": "a\n"})
    (path / "blob.bin").write_bytes(b"\0\1\2")
    _git(path, "add", "blob.bin")
    (path / "a.txt").write_bytes("café\n".encode("latin-1"))  # not UTF-8: kept byte for byte
    found = collect(["git", "diff"], Redactor(environ={}), cwd=path)
    assert found.diff is not None
    assert b"Binary files /dev/null and b/blob.bin differ" in found.diff
    assert "+café\n".encode("latin-1") in found.diff


def test_kinds_turned_off_are_skipped(repo: Path) -> None:
    found = collect(["command", "diff"], Redactor(), cwd=repo)
    assert found.captured == ["command"]
    assert set(found.data) == {"command"}
    assert found.diff is None
    assert found.skipped["diff"] == "needs git, which is turned off"
    assert {kind: why for kind, why in found.skipped.items() if kind != "diff"} == {
        kind: "turned off" for kind in KINDS if kind not in ("command", "diff")}
    nothing = collect([], Redactor(), cwd=repo)
    assert nothing.data == {} and nothing.captured == [] and set(nothing.skipped) == set(KINDS)


def test_unknown_kind_and_negative_limit_are_refused(tmp_path: Path) -> None:
    with pytest.raises(BadInput, match="unknown capture kind 'gits'"):
        collect(["gits"], Redactor(), cwd=tmp_path)
    with pytest.raises(BadInput, match="diff limit"):
        collect(["git"], Redactor(), cwd=tmp_path, diff_limit=-1)


def test_outside_a_repository_git_is_skipped(tmp_path: Path, git_env: None) -> None:
    found = collect(KINDS, Redactor(), cwd=tmp_path)
    assert found.skipped["git"] == "not a git repository"
    assert found.skipped["diff"] == "not a git repository"
    assert "git" not in found.data and found.diff is None
    assert {"command", "python", "packages", "host", "env"} <= set(found.captured)


@pytest.mark.skipif(sys.platform == "win32", reason="fake programs are shell scripts")
def test_without_git_or_nvidia_smi_on_path(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    empty = tmp_path / "empty-bin"
    empty.mkdir()
    monkeypatch.setenv("PATH", str(empty))
    found = collect(KINDS, Redactor(), cwd=tmp_path)
    assert found.skipped["git"] == "git not found"
    assert found.skipped["diff"] == "git not found"
    assert found.skipped["gpu"] == "nvidia-smi not found"


@pytest.mark.skipif(sys.platform == "win32", reason="fake programs are shell scripts")
def test_gpus_are_read_from_nvidia_smi(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    fake = tmp_path / "bin" / "nvidia-smi"
    fake.parent.mkdir()
    fake.write_text("#!/bin/sh\necho 'NVIDIA A100-SXM4-80GB, 81920 MiB, 535.104.05'\n"
                    "echo 'NVIDIA A100-SXM4-80GB, 81920 MiB, 535.104.05'\n")
    fake.chmod(0o755)
    monkeypatch.setenv("PATH", f"{fake.parent}{os.pathsep}{os.environ['PATH']}")
    found = collect(["gpu"], Redactor(), cwd=tmp_path)
    assert found.data["gpu"] == [{"name": "NVIDIA A100-SXM4-80GB", "memory_bytes": 81920 * 1024 * 1024,
                                  "driver_version": "535.104.05"}] * 2
    fake.write_text("#!/bin/sh\necho 'NVIDIA-SMI has failed because it could not communicate' >&2\nexit 9\n")
    failed = collect(["gpu"], Redactor(), cwd=tmp_path)
    assert failed.skipped["gpu"] == "nvidia-smi failed: NVIDIA-SMI has failed because it could not communicate"


def test_detached_head_and_many_untracked_files(tmp_path: Path, git_env: None) -> None:
    path = _init(tmp_path / "detached", {"a.txt": "a\n"})
    _git(path, "checkout", "--quiet", "--detach")
    for i in range(250):
        (path / f"untracked-{i:03d}.txt").write_text(f"password={HF_TOKEN}\n")
    found = collect(["git"], Redactor(environ={}), cwd=path)
    git = found.data["git"]
    assert git["branch"] is None
    assert git["dirty"] is False
    assert len(git["untracked"]) == 200 and git["untracked_count"] == 250
    assert HF_TOKEN not in json.dumps(found.data)


def test_a_repository_without_commits(tmp_path: Path, git_env: None) -> None:
    path = tmp_path / "fresh"
    path.mkdir()
    _git(path, "init", "--quiet", "--initial-branch=main")
    (path / "model.py").write_text(f"api_key = '{OPENAI_KEY}'\nlayers = 12\n")
    _git(path, "add", "model.py")
    found = collect(["git", "diff"], Redactor(environ={}), cwd=path)
    assert found.data["git"]["commit"] is None
    assert found.data["git"]["branch"] == "main"
    assert found.diff is not None
    assert b"+layers = 12" in found.diff and OPENAI_KEY.encode() not in found.diff


def test_modules_import_no_optional_library() -> None:
    code = ("import sys, upstack.capture.provenance, upstack.domain.config, upstack.capture.redact; "
            "print(sorted({'numpy', 'omegaconf', 'pydantic'} & set(sys.modules)))")
    done = subprocess.run([sys.executable, "-c", code], capture_output=True, text=True, check=True)
    assert done.stdout.strip() == "[]"


# --- redaction ----------------------------------------------------------------------------


@pytest.mark.parametrize("name", ["HF_TOKEN", "hf_token", "api_key", "apiKey", "OPENAI_API_KEY", "--api-key",
                                  "password", "DB_PASSWD", "auth_token", "AWS_SECRET_ACCESS_KEY", "private_key",
                                  "GOOGLE_CREDENTIALS", "Authorization", "db.password", "clientSecret"])
def test_secret_names(name: str) -> None:
    assert is_secret_name(name)


@pytest.mark.parametrize("name", ["tokenizer", "max_tokens", "num_tokens", "tokens", "pad_token", "eos_token",
                                  "token_path", "secret_name", "AWS_ACCESS_KEY_ID", "token.raw", "keyword",
                                  "authors", "PASSWORD_FILE", "max_token"])
def test_ordinary_names(name: str) -> None:
    assert not is_secret_name(name)


@pytest.mark.parametrize(("text", "expected"), [
    # Named: the token is new in each process, and parallel workers must collect the same test ids.
    pytest.param(f"token={HF_TOKEN}", f"token={REDACTED}", id="token=hf_random"),
    (f"export WANDB_API_KEY={'a' * 40}", f"export WANDB_API_KEY={REDACTED}"),
    (f"wandb login {'0123456789abcdef' * 2 + '01234567'}", f"wandb login {REDACTED}"),
    ('{"password": "hunter2", "epochs": 3}', f'{{"password": "{REDACTED}", "epochs": 3}}'),
    ("password: str = 'hunter2'", f"password: str = '{REDACTED}'"),
    ("--url=https://api.example.com/v1?access_token=abcd1234&page=2",
     f"--url=https://api.example.com/v1?access_token={REDACTED}&page=2"),
    ("postgresql://app:pa55word@db.internal:5432/runs", f"postgresql://app:{REDACTED}@db.internal:5432/runs"),
    ("Authorization: Bearer abcdef0123456789abcdef", f"Authorization: Bearer {REDACTED}"),
    ("key xoxb-123456789012-abcdefghij", f"key {REDACTED}"),
    ("maps AIza" + "B" * 35, f"maps {REDACTED}"),
    ("gitlab glpat-" + "C" * 20, f"gitlab {REDACTED}"),
    ("pat github_pat_" + "D" * 50, f"pat {REDACTED}"),
    ("anthropic sk-ant-api03-" + "E" * 30, f"anthropic {REDACTED}"),
    ("jwt eyJhbGciOiJIUzI1NiJ9.eyJzdWIiOiIxMjM0NTY3ODkwIn0.dozjgNryP4J3jVmNHl0w5N_XgL0n3I9PlFUP0THsR8U",
     f"jwt {REDACTED}"),
])
def test_text_patterns(text: str, expected: str) -> None:
    assert Redactor(environ={}).text(text) == expected


@pytest.mark.parametrize("text", [
    "max_tokens = 5", "num_tokens: 12", "tokenizer = AutoTokenizer.from_pretrained('gpt2')",
    "tokenizer.pad_token = tokenizer.eos_token", "def login(user: str, password: str | None = None):",
    "connect(user=user, password=password, token=args.token)", "token = os.environ['HF_TOKEN']",
    "api_key = get_key()", "password: ${DB_PASSWORD}", "token = None", "Token embeddings are learned.",
    "Bearer authentication is used", "git@github.com:org/repo.git", "https://example.com:8080/path?q=1",
    "task-scheduler-with-a-very-long-hyphenated-name", "the tokens are ready",
])
def test_ordinary_text_is_kept(text: str) -> None:
    assert Redactor(environ={}).text(text) == text


def test_pem_block_in_a_diff_keeps_its_frame() -> None:
    diff = "\n".join(["+x = 1", *("+" + line for line in PEM.splitlines()), "+y = 2"])
    redacted = Redactor(environ={}).text(diff)
    assert redacted == "\n".join(["+x = 1", "+-----BEGIN RSA PRIVATE KEY-----", f"+{REDACTED}",
                                  "+-----END RSA PRIVATE KEY-----", "+y = 2"])
    cut = "-----BEGIN PRIVATE KEY-----\n" + "\n".join(PEM_BODY)  # its end lost to a cut
    assert Redactor(environ={}).text(cut) == f"-----BEGIN PRIVATE KEY-----\n{REDACTED}"


def test_environment_secret_values_are_redacted_anywhere() -> None:
    redactor = Redactor(environ={"MY_SERVICE_TOKEN": SERVICE_TOKEN, "SHORT_TOKEN": "abc", "PWD": "/home/me/work",
                                 "HOME": "/home/me"})
    assert redactor.text(f"run at /home/me/work with{SERVICE_TOKEN}!") == f"run at /home/me/work with{REDACTED}!"
    assert redactor.text("abc is short") == "abc is short"


def test_extra_patterns() -> None:
    assert Redactor(["corp-[0-9]{6}"], environ={}).text("ticket corp-123456 done") == f"ticket {REDACTED} done"
    with pytest.raises(BadInput, match=r"invalid redact pattern 'corp-\[0-9'"):
        Redactor(["corp-[0-9"])
    with pytest.raises(BadInput, match="matches empty text"):
        Redactor(["x*"])


def test_argv() -> None:
    redactor = Redactor(environ={})
    assert redactor.argv(["train.py", "--token", "abc", "--hf-token=xyz", "--password", "--verbose",
                          "-p", "8080", "--max-tokens", "5", "db.password=pw", f"--mirror={GITHUB_PAT}"]) == [
        "train.py", "--token", REDACTED, f"--hf-token={REDACTED}", "--password", "--verbose",
        "-p", "8080", "--max-tokens", "5", f"db.password={REDACTED}", f"--mirror={REDACTED}"]


def test_mapping() -> None:
    redactor = Redactor(environ={})
    config = {"optim": {"lr": 3e-4}, "hf_token": HF_TOKEN, "auth": {"user": "bob", "password": "pw"},
              "api_key": None, "use_auth": True, "notes": [f"see {GITHUB_PAT}", ("x", 1)], 3: "three"}
    assert redactor.mapping(config) == {
        "optim": {"lr": 3e-4}, "hf_token": REDACTED, "auth": REDACTED, "api_key": None, "use_auth": True,
        "notes": [f"see {REDACTED}", ("x", 1)], "3": "three"}


def test_env_selection() -> None:
    environ = {"CUDA_VISIBLE_DEVICES": "0", "TORCHINDUCTOR_CACHE_DIR": "/c", "HF_TOKEN": HF_TOKEN,
               "HF_HOME": f"/cache/{GITHUB_PAT}", "SEED": "1", "SEED_EXTRA": "2", "HOME": "/home/me"}
    chosen = Redactor(environ=environ).env(environ, [*DEFAULT_ENV, "SEED"])
    assert chosen == {"CUDA_VISIBLE_DEVICES": "0", "HF_HOME": f"/cache/{REDACTED}", "HF_TOKEN": REDACTED,
                      "SEED": "1", "TORCHINDUCTOR_CACHE_DIR": "/c"}


# Letters that could spell a secret word (token, password, auth, key ...) or a key prefix
# (hf_, sk-, ghp_, AKIA, ASIA, AIza, xox, eyJ, Bearer, wandb) are left out, and so is "/",
# so no "://"; what remains still makes names, "=", ":", quotes and "@".
SAFE_ALPHABET = "".join(c for c in string.ascii_letters if c.lower() not in "bhiktwxyz") + string.digits + \
    " \t\n.,;:=-_\"'()[]{}@#$%&*+!?<>|"
ORDINARY_WORDS = ["tokenizer", "max_tokens = 5", "num_tokens: 12", "tokens", "pad_token = tokenizer.eos_token",
                  "token_path = 'x'", "https://example.com/repo.git", "git@github.com:org/repo.git",
                  "Bearer authentication", "AWS_ACCESS_KEY_ID", "the keyword", "authors"]
ordinary_text = st.lists(st.one_of(st.text(SAFE_ALPHABET, max_size=30), st.sampled_from(ORDINARY_WORDS)),
                         max_size=12).map(" ".join)

SECRET_FRAGMENTS = [HF_TOKEN, OPENAI_KEY, GITHUB_PAT, AWS_KEY_ID, SERVICE_TOKEN, CORP_ID, PEM, REDACTED,
                    "-----BEGIN RSA PRIVATE KEY-----", "-----END RSA PRIVATE KEY-----", "https://", "bob:", "@",
                    "api_key", "password", "token", "HF_TOKEN", "=", ": ", " = ", '"', "'", "\n", "Bearer ",
                    "args.token", "None", "(", "[", "$", "hf_", "sk-", "?", "&", "-", "_", ".", "://", ":",
                    "Authorization: Basic ", "wandb login " + "0f" * 20, "AIza" + "Q" * 35, "xoxb-", "eyJ",
                    "-----BEGIN PRIVATE KEY-----", "str", "{{", "İ"]
mixed_text = st.lists(st.one_of(st.sampled_from(SECRET_FRAGMENTS), st.text(SAFE_ALPHABET, max_size=12),
                                st.text(ALNUM, max_size=40)), max_size=16).map("".join)


@settings(deadline=None)
@given(ordinary_text)
def test_text_without_secrets_is_unchanged(text: str) -> None:
    assert Redactor(environ={}).text(text) == text


@settings(deadline=None)
@given(mixed_text)
def test_redaction_is_idempotent(text: str) -> None:
    redactor = Redactor(["corp-[0-9]{6}"], environ={"MY_SERVICE_TOKEN": SERVICE_TOKEN})
    once = redactor.text(text)
    assert redactor.text(once) == once


@settings(deadline=None)
@given(st.sampled_from([HF_TOKEN, OPENAI_KEY, GITHUB_PAT, AWS_KEY_ID, SERVICE_TOKEN, CORP_ID]),
       st.text(SAFE_ALPHABET, max_size=40), st.text(SAFE_ALPHABET, max_size=40))
def test_a_secret_between_any_words_is_removed(secret: str, before: str, after: str) -> None:
    redactor = Redactor(["corp-[0-9]{6}"], environ={"MY_SERVICE_TOKEN": SERVICE_TOKEN})
    assert secret not in redactor.text(f"{before} {secret} {after}")


# --- config -------------------------------------------------------------------------------


class Colour(enum.Enum):
    RED = "red"


@dataclasses.dataclass
class Optim:
    lr: float = 3e-4
    betas: tuple[float, float] = (0.9, 0.99)


@dataclasses.dataclass
class TrainConfig:
    optim: Optim = dataclasses.field(default_factory=Optim)
    out: Path = Path("/runs/out")
    colour: Colour = Colour.RED
    tags: frozenset[str] = frozenset({"b", "a"})
    warmup: float = math.inf
    device: object = dataclasses.field(default_factory=object)


def test_config_from_a_dataclass() -> None:
    converted = config_to_dict(TrainConfig())
    assert converted["optim"] == {"lr": 3e-4, "betas": [0.9, 0.99]}
    assert converted["out"] == str(Path("/runs/out"))
    assert converted["colour"] == "red"
    assert converted["tags"] == ["a", "b"]
    assert converted["warmup"] == math.inf
    assert converted["device"].startswith("<object object at")
    json.dumps(converted)


def test_config_from_argparse_and_mappings() -> None:
    namespace = argparse.Namespace(lr=0.1, data=Path("data"), layers=(1, 2), seed=None)
    assert config_to_dict(namespace) == {"lr": 0.1, "data": "data", "layers": [1, 2], "seed": None}
    assert config_to_dict(None) == {}
    cyclic: dict[str, Any] = {"a": 1}
    cyclic["self"] = cyclic
    assert config_to_dict({1: {Colour.RED: {2, 1}}, "c": cyclic}) == {"1": {"red": [1, 2]},
                                                                     "c": {"a": 1, "self": "<cycle>"}}


def test_config_from_omegaconf() -> None:
    omegaconf = pytest.importorskip("omegaconf")
    config = omegaconf.OmegaConf.create({"optim": {"lr": 3e-4, "warm": "${optim.lr}"}, "layers": [1, 2]})
    assert config_to_dict(config) == {"optim": {"lr": 3e-4, "warm": 3e-4}, "layers": [1, 2]}
    assert config_to_dict({"nested": config.optim})["nested"] == {"lr": 3e-4, "warm": 3e-4}
    with pytest.raises(BadInput, match="ListConfig"):
        config_to_dict(omegaconf.OmegaConf.create([1, 2]))


def test_config_from_a_model_dump_and_numpy() -> None:
    class Model:  # what config_to_dict needs of a pydantic model
        def model_dump(self) -> dict[str, Any]:
            return {"lr": 0.1, "path": Path("p")}

    assert config_to_dict(Model()) == {"lr": 0.1, "path": "p"}
    numpy = pytest.importorskip("numpy")
    converted = config_to_dict({"lr": numpy.float32(0.5), "steps": numpy.int64(3), "flag": numpy.bool_(True)})
    assert converted == {"lr": 0.5, "steps": 3, "flag": True}
    assert [type(v) for v in converted.values()] == [float, int, bool]


def test_config_of_another_type_is_refused() -> None:
    with pytest.raises(BadInput, match="config must be a dict, dataclass, argparse namespace or OmegaConf config; "
                                       "got list"):
        config_to_dict([1, 2])
    with pytest.raises(BadInput, match="got type"):
        config_to_dict(TrainConfig)  # the class, not an instance


def test_flatten() -> None:
    assert flatten({"optim": {"lr": 3e-4, "sched": {"name": "cos"}}, "seed": 1, "empty": {}, "layers": [1, 2]}) == {
        "optim.lr": 3e-4, "optim.sched.name": "cos", "seed": 1, "empty": {}, "layers": [1, 2]}
