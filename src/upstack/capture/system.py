"""System metrics over a run's life: CPU, memory and, where there is one, the GPU.

The run's background thread asks ``SystemSampler.sample()`` when one is due; the values are
logged as metrics named ``system/...`` and drawn like any other. psutil is imported when the
first sample is due (on that thread, never in the caller's way, and never by a run shorter
than one interval) and only when sampling is on; a machine without psutil logs no system
metrics and says so once.

The GPU is read through NVML (``nvidia-ml-py``, module ``pynvml``) on a thread of its own,
because a driver call can hang: the sampler only takes the readings that thread has posted.
If NVML is missing, its start fails, a call fails, or a reading is overdue (a hung call), GPU
readings stop and are never tried again in that process: a broken driver costs one try,
never a run.
"""

from __future__ import annotations

import contextlib
import os
import threading
import time
from collections.abc import Callable
from typing import Any

__all__ = ["SystemSampler", "PREFIX"]

PREFIX = "system/"
_OVERDUE = 3  # GPU readings this many intervals old mean a hung driver call
_gpu_broken = False  # NVML failed or hung in this process: later runs in it do not try again


class SystemSampler:
    """Takes one sample of the machine every ``every`` seconds (``due`` says when)."""

    def __init__(self, every: float, say: Callable[[str], None], clock: Callable[[], float] = time.monotonic) -> None:
        self.every = every
        self._say = say
        self._clock = clock
        self._next = clock() + every
        self._psutil: Any = None
        self._process: Any = None
        self._off = False  # psutil is missing: nothing to sample
        self._gpu = _GpuReader(every, say)

    def due(self) -> bool:
        return not self._off and self._clock() >= self._next

    def start(self) -> None:
        """Prime the counters (CPU percentages count from the call before) and start the GPU reader."""
        if self._psutil is None and not self._off:
            try:
                import psutil
            except ImportError:
                self._off = True
                self._say("upstack: system metrics need psutil (pip install psutil); none are logged")
                return
            self._psutil = psutil
            self._process = psutil.Process(os.getpid())
            with contextlib.suppress(Exception):
                psutil.cpu_percent(None)
                self._process.cpu_percent(None)
            self._gpu.start()

    def sample(self) -> dict[str, float]:
        """The machine now: a few ``system/...`` values (fewer where a reading fails).

        The first call only starts (imports psutil, primes its counters, starts the GPU reader)
        and asks again a second later: a run shorter than one interval never imports psutil,
        and a longer one pays for the import after its start, not in it.
        """
        if self._psutil is None and not self._off:
            self.start()
            self._next = self._clock() + min(1.0, self.every)
            return {}
        self._next = self._clock() + self.every
        values: dict[str, float] = {}
        if self._off:
            return values
        psutil, process = self._psutil, self._process
        with contextlib.suppress(Exception):  # a reading the OS refuses (a container's /proc) is left out
            values[PREFIX + "cpu_percent"] = float(psutil.cpu_percent(None))
        with contextlib.suppress(Exception):
            values[PREFIX + "memory_percent"] = float(psutil.virtual_memory().percent)
        with contextlib.suppress(Exception):
            values[PREFIX + "process_cpu_percent"] = float(process.cpu_percent(None))
        with contextlib.suppress(Exception):
            values[PREFIX + "process_rss_mb"] = process.memory_info().rss / 2**20
        values.update(self._gpu.latest())
        return values

    def stop(self) -> None:
        self._gpu.stop()


class _GpuReader:
    """NVML readings on a daemon thread, so a hung driver call never holds up the run."""

    def __init__(self, every: float, say: Callable[[str], None]) -> None:
        self._every = every
        self._say = say
        self._values: dict[str, float] = {}
        self._read_at = 0.0
        self._failed = False
        self._stop = threading.Event()
        self._thread: threading.Thread | None = None

    def start(self) -> None:
        self._failed = self._failed or _gpu_broken
        if self._thread is None and not self._failed:
            self._read_at = time.monotonic()
            self._thread = threading.Thread(target=self._loop, name="upstack-gpu", daemon=True)
            self._thread.start()

    def latest(self) -> dict[str, float]:
        if self._failed or self._thread is None:
            return {}
        if time.monotonic() - self._read_at > _OVERDUE * self._every + 1:
            self._broken()  # a call hangs: the thread is left to it, and nothing more is asked
            self._say("upstack: GPU metrics stopped: the NVML driver did not answer")
            return {}
        return dict(self._values)

    def stop(self) -> None:
        self._stop.set()

    def _broken(self) -> None:
        global _gpu_broken
        self._failed = _gpu_broken = True

    def _loop(self) -> None:
        try:
            import pynvml
        except Exception:  # noqa: BLE001 - not installed (or broken): no GPU metrics, said nowhere
            self._broken()
            return
        try:
            pynvml.nvmlInit()
            handles = [pynvml.nvmlDeviceGetHandleByIndex(i) for i in range(pynvml.nvmlDeviceGetCount())]
        except Exception as exc:  # noqa: BLE001 - no driver, no GPU: said once, never tried again
            self._broken()
            if type(exc).__name__ != "NVMLError_LibraryNotFound":  # a machine without a GPU: nothing to say
                self._say(f"upstack: no GPU metrics ({type(exc).__name__}: {exc})")
            return
        try:
            while not self._stop.is_set():
                values: dict[str, float] = {}
                for number, handle in enumerate(handles):
                    values[f"{PREFIX}gpu{number}_util"] = float(pynvml.nvmlDeviceGetUtilizationRates(handle).gpu)
                    memory = pynvml.nvmlDeviceGetMemoryInfo(handle)
                    values[f"{PREFIX}gpu{number}_memory_mb"] = memory.used / 2**20
                    values[f"{PREFIX}gpu{number}_memory_percent"] = 100.0 * memory.used / max(memory.total, 1)
                self._values, self._read_at = values, time.monotonic()
                self._stop.wait(self._every)
        except Exception as exc:  # noqa: BLE001 - a failing driver call: GPU metrics stop for good
            self._broken()
            self._say(f"upstack: GPU metrics stopped ({type(exc).__name__}: {exc})")
        finally:
            with contextlib.suppress(Exception):
                pynvml.nvmlShutdown()
