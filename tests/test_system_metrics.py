"""System metrics: sampled by a run's background thread, logged as system/... metrics, and a
missing or broken GPU driver (NVML) never breaks or holds up a run."""

from __future__ import annotations

import os
import subprocess
import sys
import textwrap
from pathlib import Path

import pytest

from conftest import script_env
from upstack.services import runs as run_service
from upstack.workspace import Workspace

# Logs until the run's folder holds `samples` samples of system/cpu_percent, then ends; `runs` times.
TRAIN = """
    import sys
    import upstack

    for number in range(int(sys.argv[2])):  # runs one after another
        run = upstack.run("sampled", capture="none")
        metrics = run.directory / "metrics.bin"
        step = 0
        while metrics.read_bytes().count(b"system/cpu_percent") < int(sys.argv[1]):
            run.log({"loss": float(step)})
            step += 1
        run.finish()
    print(run.id, step, "psutil" in sys.modules, flush=True)
"""

FAKE_NVML = {
    # nvmlInit fails (no driver): tried once, never again.
    "failing": """
        import os

        def nvmlInit():
            with open(os.environ["NVML_CALLS"], "a") as calls:
                calls.write("init\\n")
            raise RuntimeError("NVML Shared Library Not Found")
    """,
    # A driver call that never returns.
    "hanging": """
        import os
        import threading

        def nvmlInit():
            with open(os.environ["NVML_CALLS"], "a") as calls:
                calls.write("init\\n")

        def nvmlDeviceGetCount():
            return 1

        def nvmlDeviceGetHandleByIndex(index):
            return index

        def nvmlDeviceGetUtilizationRates(handle):
            with open(os.environ["NVML_CALLS"], "a") as calls:
                calls.write("utilization\\n")
            threading.Event().wait()

        def nvmlShutdown():
            pass
    """,
    # A GPU that answers: its readings are logged like the rest.
    "working": """
        class _Rates:
            gpu = 37

        class _Memory:
            used = 512 * 2**20
            total = 2048 * 2**20

        def nvmlInit():
            pass

        def nvmlDeviceGetCount():
            return 1

        def nvmlDeviceGetHandleByIndex(index):
            return index

        def nvmlDeviceGetUtilizationRates(handle):
            return _Rates()

        def nvmlDeviceGetMemoryInfo(handle):
            return _Memory()

        def nvmlShutdown():
            pass
    """,
}


def _env(ws: Workspace, **extra: str) -> dict[str, str]:
    return script_env(ws, **{"UPSTACK_RUN_FLUSH_SECONDS": "0.05", "UPSTACK_RUN_SYSTEM_SECONDS": "0.1", **extra})


def _train(tmp_path: Path, ws: Workspace, samples: int, runs: int = 1,
           **env: str) -> subprocess.CompletedProcess[str]:
    script = tmp_path / "train.py"
    script.write_text(textwrap.dedent(TRAIN))
    done = subprocess.run([sys.executable, str(script), str(samples), str(runs)], env=_env(ws, **env),
                          capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    return done


def _with_fake_nvml(tmp_path: Path, kind: str) -> dict[str, str]:
    folder = tmp_path / f"nvml-{kind}"
    folder.mkdir()
    (folder / "pynvml.py").write_text(textwrap.dedent(FAKE_NVML[kind]))
    return {"PYTHONPATH": os.pathsep.join([str(folder), os.environ.get("PYTHONPATH", "")]),
            "NVML_CALLS": str(tmp_path / f"calls-{kind}")}


def test_a_run_logs_system_metrics_without_moving_its_steps(workspace: Workspace, tmp_path: Path) -> None:
    done = _train(tmp_path, workspace, 3, **_with_fake_nvml(tmp_path, "working"))
    run_id, steps, imported = done.stdout.split()
    assert imported == "True"
    workspace.ingest()
    info = run_service.get_run(workspace, run_id)
    keys = {m.key for m in info.metrics}
    assert {"system/cpu_percent", "system/memory_percent", "system/process_rss_mb",
            "system/process_cpu_percent", "system/gpu0_util", "system/gpu0_memory_mb"} <= keys
    loss = run_service.series(workspace, run_id, "loss")
    assert list(loss.steps) == list(range(int(steps)))  # sampling never took a step
    rss = run_service.series(workspace, run_id, "system/process_rss_mb")
    assert len(rss) >= 3 and all(v > 1 for v in rss.values)
    assert set(run_service.series(workspace, run_id, "system/gpu0_util").values) == {37.0}
    assert all(0 <= s < int(steps) for s in rss.steps)  # at the step the run had reached


@pytest.mark.parametrize("kind", ["failing", "hanging"])
def test_a_broken_gpu_driver_never_breaks_a_run_and_is_not_asked_again(workspace: Workspace, tmp_path: Path,
                                                                       kind: str) -> None:
    # Hanging: readings are overdue after 3 intervals and a second; 40 samples at 0.1 s go past it.
    done = _train(tmp_path, workspace, 40, 2, **_with_fake_nvml(tmp_path, kind))  # two runs, one after the other
    run_id, steps, _ = done.stdout.split()
    calls = tmp_path / f"calls-{kind}"
    said = calls.read_text().splitlines()
    assert said.count("init") == 1  # tried once, never every tick, nor by the process's next run
    if kind == "hanging":
        assert said.count("utilization") == 1 and "GPU metrics stopped" in done.stderr
    else:
        assert "no GPU metrics (RuntimeError: NVML Shared Library Not Found)" in done.stderr
    workspace.ingest()
    info = run_service.get_run(workspace, run_id)
    assert info.status == "finished"
    keys = {m.key for m in info.metrics}
    assert "system/cpu_percent" in keys and not any(k.startswith("system/gpu") for k in keys)
    assert list(run_service.series(workspace, run_id, "loss").steps) == list(range(int(steps)))


def test_switched_off_nothing_is_sampled_or_imported(workspace: Workspace, tmp_path: Path) -> None:
    script = tmp_path / "off.py"
    script.write_text(textwrap.dedent("""
        import os
        import sys
        import upstack

        with upstack.run("quiet", capture="none", system_metrics=False) as run:
            for step in range(2_000):
                run.log({"loss": 1.0})
        os.environ["UPSTACK_RUN_SYSTEM_SECONDS"] = "0"
        with upstack.run("quiet too", capture="none") as other:
            other.log({"loss": 1.0})
        print("psutil" in sys.modules, "pynvml" in sys.modules)
    """))
    env = _env(workspace, **_with_fake_nvml(tmp_path, "working"))
    done = subprocess.run([sys.executable, str(script)], env=env, capture_output=True, text=True, timeout=600)
    assert done.returncode == 0, done.stderr
    assert done.stdout.split() == ["False", "False"]
    workspace.ingest()
    assert all(not m.key.startswith("system/") for r in run_service.list_runs(workspace)
               for m in run_service.get_run(workspace, r.id).metrics)
