#!/usr/bin/env python3
"""`upstack contact match` (issue 16) timed beside `upstack log -n 20` in one run.

    python bench/bench_contacts.py [--entries 100000] [--runs 7]

One workspace: the bench corpus (bench/corpus.py, imported as a jrnl file) and three contacts whose
interests are written the way people write them: one in the corpus's own field (its words are
common there: sparse autoencoders, features, the #sae tag), one half in it, one outside it. Each
`contact match` is a whole process (what a person waits for), timed in turn with `log -n 20` so
that a noisy neighbour slows both alike, the median of ``--runs`` after a warm-up. Target: each
<= 150 ms at 100k entries.
"""

from __future__ import annotations

import argparse
import os
import subprocess
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
import corpus  # noqa: E402
from bench_path import alternately  # noqa: E402
from machine import machine_lines  # noqa: E402

TARGET_MS = 150
CONTACTS = [
    ("Chris Olah", "Sparse autoencoders, dictionary learning, feature splitting and superposition.", "sae"),
    ("Neel Nanda", "Induction heads, name movers in IOI, activation patching, grokking.", "ioi"),
    ("Beth Barnes", "Dangerous capability evaluations, sandbagging, deception, autonomous replication.", "evals"),
]


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=100_000, help="entries in the log (target: 100000)")
    parser.add_argument("--runs", type=int, default=7, help="timed rounds (medians)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    work = Path(tempfile.mkdtemp(prefix="upstack-bench-contacts-"))
    env = {**os.environ, "UPSTACK_HOME": str(work / "home"), "NO_COLOR": "1"}
    env.pop("UPSTACK_DB", None)
    upstack = [sys.executable, "-m", "upstack"]
    started = time.perf_counter()
    corpus.write_jrnl_json(corpus.Generator(args.seed).entries(args.entries), work / "journal.json")
    subprocess.run([*upstack, "import", "jrnl", str(work / "journal.json")], env=env, check=True, capture_output=True)
    for name, interests, tag in CONTACTS:
        subprocess.run([*upstack, "contact", "add", name, "--interests", interests, "--tag", tag], env=env,
                       check=True, capture_output=True)
    print(f"set up in {time.perf_counter() - started:.0f} s", file=sys.stderr)

    slugs = [name.split()[0].lower() for name, _, _ in CONTACTS]
    log_ms, *match_ms = alternately([[*upstack, "log", "-n", "20"],
                                     *[[*upstack, "contact", "match", slug] for slug in slugs]], env, args.runs)
    lines = [f"### bench_contacts: {args.entries:,} entries, median of {args.runs}", ""]
    lines += machine_lines(f"Python {sys.version.split()[0]}")
    lines += ["", "| command | median ms | beside | its ms | ratio | target | result |",
              "|---|---:|---|---:|---:|---|---|"]
    for slug, ms in zip(slugs, match_ms, strict=True):
        lines.append(f"| `upstack contact match {slug}` | {ms:.0f} | `upstack log -n 20` | {log_ms:.0f} | "
                     f"{ms / log_ms:.2f}x | <= {TARGET_MS} ms | {'PASS' if ms <= TARGET_MS else 'MISS'} |")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
