#!/usr/bin/env python3
"""Markdown out and a linked vault (issue 17), timed beside `upstack log -n 20` and `git status` in one run.

    python bench/bench_vault.py [--entries 10000] [--runs 5]

One workspace holding the bench corpus (bench/corpus.py, imported as a jrnl file). Each figure is a whole
process (what a person, or cron, waits for), timed alternately with its peers so a noisy neighbour slows
all alike, the median of ``--runs`` after a warm-up:

| measured | beside | target |
|---|---|---|
| `upstack export --format markdown DIR` (a fresh folder each time) | `upstack log -n 20` | <= 10 s at 10k entries |
| `upstack vault sync` with nothing changed (when `vault` exists) | `git status` on the same vault | <= 1 s at 10k |
"""

from __future__ import annotations

import argparse
import shutil
import subprocess
import sys
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_path import alternately, log_workspace  # noqa: E402
from machine import machine_lines  # noqa: E402

EXPORT_TARGET_MS, SYNC_TARGET_MS = 10_000, 1_000


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("--entries", type=int, default=10_000)
    parser.add_argument("--runs", type=int, default=5)
    parser.add_argument("--seed", type=int, default=17)
    args = parser.parse_args()
    work, env, upstack = log_workspace("vault", args.entries, args.seed)
    try:
        export = [*upstack, "export", "--format", "markdown", str(work / "out-{n}")]
        log, export_ms = alternately([[*upstack, "log", "-n", "20"], export], env, args.runs)
        rows = [("`upstack log -n 20`", log, ""),
                ("`upstack export --format markdown DIR`", export_ms,
                 f"{'PASS' if export_ms <= EXPORT_TARGET_MS else 'FAIL'} (<= {EXPORT_TARGET_MS / 1000:.0f} s), "
                 f"{export_ms / log:.1f}x `log -n 20`")]
        vault = work / "vault"
        has_vault = subprocess.run([*upstack, "vault", "--help"], env=env, capture_output=True).returncode == 0
        if has_vault:
            subprocess.run([*upstack, "vault", "link", str(vault)], env=env, check=True, capture_output=True)
        else:
            shutil.copytree(work / "out-0", vault)
        for argv in (["git", "init", "-q"], ["git", "add", "-A"],
                     ["git", "-c", "user.name=b", "-c", "user.email=b@b", "commit", "-qm", "vault"]):
            subprocess.run(argv, cwd=vault, check=True, capture_output=True)
        notes = sum(1 for _ in vault.rglob("*.md"))
        git = ["git", "-C", str(vault), "status", "--porcelain"]
        if has_vault:
            git_ms, sync_ms = alternately([git, [*upstack, "vault", "sync"]], env, args.runs)
            rows += [("`git status` on the vault", git_ms, ""),
                     ("`upstack vault sync`, nothing changed", sync_ms,
                      f"{'PASS' if sync_ms <= SYNC_TARGET_MS else 'FAIL'} (<= 1 s), "
                      f"{sync_ms / git_ms:.1f}x `git status`")]
        else:
            (git_ms,) = alternately([git], env, args.runs)
            rows += [("`git status` on the vault", git_ms, ""),
                     ("`upstack vault sync`", float("nan"), "not built yet: no `upstack vault` command")]
    finally:
        shutil.rmtree(work, ignore_errors=True)
    print(f"## bench_vault: {args.entries:,} entries ({notes:,} notes in the vault), median of {args.runs} runs\n")
    print("\n".join(machine_lines(f"python {sys.version.split()[0]}, git "
                                  + subprocess.run(["git", "--version"], capture_output=True, text=True)
                                  .stdout.split()[-1])))
    print("\n| command | median ms | verdict |\n|---|---:|---|")
    for name, ms, verdict in rows:
        print(f"| {name} | {ms:,.0f} | {verdict} |")
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
