#!/usr/bin/env python3
"""Opportunities, applications and contacts (issue 16), timed beside the log's own timeline in one run.

    python bench/bench_pipeline.py [--entries 100000] [--opportunities 1000] [--applications 300]
                                   [--contacts 60] [--runs 7]

One workspace: the bench corpus (bench/corpus.py, imported as a jrnl file), then, through the
services in this process, ``--opportunities`` opportunities (a third with a kept posting of
realistic length), ``--applications`` applications spread over every stage with dated moves and
follow-ups, and ``--contacts`` contacts with research interests and exchanges, among them three
whose interests are written the way people write them (``MATCHED``): one in the corpus's own field
(its words are common there), one half in it, one outside it. Every figure is a whole process
(what a person waits for at the prompt), timed in turn with ``upstack log -n 20`` so that a noisy
neighbour slows both alike, the median of ``--runs`` after a warm-up. Target: `upstack due`,
`upstack apply list` (the pipeline) and `upstack contact match NAME` (each of the three) each
<= 150 ms at 100k entries, 1,000 opportunities and 300 applications; `upstack opp list` is shown
beside them.
"""

from __future__ import annotations

import argparse
import random
import sys
import time
from datetime import date, timedelta
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent))
from bench_path import alternately, log_workspace  # noqa: E402
from machine import machine_lines  # noqa: E402

TARGET_MS = 150
KINDS = ("job", "fellowship", "grant", "programme", "collaboration")
ORGS = ("Redwood Research", "Apollo Research", "METR", "FAR AI", "Anthropic", "Google DeepMind", "OpenAI",
        "UK AISI", "Conjecture", "EleutherAI", "MATS", "Open Philanthropy", "LTFF", "Goodfire", "Transluce")
ROLES = ("Research Engineer", "Research Scientist", "Interpretability Researcher", "Evals Engineer",
         "Summer Fellow", "Scholar", "Career Development Grant", "Red-teaming Contractor", "Residency")
AREAS = ("interpretability", "evals", "red-teaming", "oversight", "control", "sparse autoencoders",
         "activation patching", "probing", "scalable oversight", "model organisms")
MATCHED = [  # (name, interests, tag): `contact match` is timed on each
    ("Chris Olah", "Sparse autoencoders, dictionary learning, feature splitting and superposition.", "sae"),
    ("Neel Nanda", "Induction heads, name movers in IOI, activation patching, grokking.", "ioi"),
    ("Beth Barnes", "Dangerous capability evaluations, sandbagging, deception, autonomous replication.", "evals"),
]
POSTING = ("We are hiring a {role} to work on {area}. You will design experiments, write code that "
           "others can build on, and communicate results clearly. Experience with PyTorch and "
           "transformer internals helps; publications are not required. ") * 6


def seed_pipeline(home: Path, args: argparse.Namespace) -> list[str]:
    """The opportunities, applications and contacts; returns the slugs `contact match` is timed on."""
    from upstack.services import applications, contacts, opportunities
    from upstack.workspace import Workspace

    rng = random.Random(args.seed)
    today = date.today()
    with Workspace(home=home) as ws:
        items = []
        for n in range(args.opportunities):
            org, role, area = rng.choice(ORGS), rng.choice(ROLES), rng.choice(AREAS)
            fields = {"kind": rng.choice(KINDS), "organisation": f"{org} {n // len(ORGS)}", "role": role,
                      "link": f"https://jobs.example/{n}", "areas": [area, rng.choice(AREAS)],
                      "deadline": (today + timedelta(days=rng.randint(-30, 120))).isoformat(),
                      "source": rng.choice(("80,000 Hours", "LessWrong", "Alignment Forum", "a friend"))}
            posting = {"text": POSTING.format(role=role, area=area)} if n % 3 == 0 else None
            items.append((fields, posting))
        added = opportunities.add_many(ws, items)
        stages = applications.stage_order(ws)
        ends = ("rejected", "withdrawn", "no-answer")
        for added_one in added[:args.applications]:
            slug = added_one.opportunity.slug
            day = today - timedelta(days=rng.randint(20, 200))
            applications.add(ws, slug, stage="applied", when=day.isoformat(),
                             stretch=rng.choice(("reach", "fit", "safe")))
            for stage in stages[2:rng.randint(2, len(stages))]:
                day += timedelta(days=rng.randint(1, 9))
                if day >= today:
                    break
                applications.move(ws, slug, stage, when=day.isoformat())
            if rng.random() < 0.4 and day < today:
                applications.move(ws, slug, rng.choice(ends), when=day.isoformat(), force=True)
            if rng.random() < 0.3:
                applications.follow_up(ws, slug, (today + timedelta(days=rng.randint(-5, 20))).isoformat())
        matched = [contacts.add(ws, name, interests=interests, tags=[tag]).slug for name, interests, tag in MATCHED]
        for n in range(args.contacts):
            interests = ", ".join(rng.sample(AREAS, 3)) + ", induction heads, attention patterns"
            person = contacts.add(ws, f"Contact {n}", interests=interests, tags=[rng.choice(AREAS).split()[0]])
            for _ in range(rng.randint(0, 4)):
                contacts.log_exchange(ws, person.slug, rng.choice(("sent", "reply", "call")), "Hello ...",
                                      follow_up=(today + timedelta(days=rng.randint(1, 30))).isoformat())
    return matched


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--entries", type=int, default=100_000, help="entries in the log (target: 100000)")
    parser.add_argument("--opportunities", type=int, default=1000)
    parser.add_argument("--applications", type=int, default=300)
    parser.add_argument("--contacts", type=int, default=60)
    parser.add_argument("--runs", type=int, default=7, help="timed rounds (medians)")
    parser.add_argument("--seed", type=int, default=7)
    args = parser.parse_args()
    if args.applications > args.opportunities:
        parser.error("--applications must be at most --opportunities (one application per opportunity)")
    started = time.perf_counter()
    work, env, upstack = log_workspace("pipeline", args.entries, args.seed)
    matched = seed_pipeline(work / "home", args)
    print(f"set up in {time.perf_counter() - started:.0f} s", file=sys.stderr)

    commands = {"upstack due": ["due"], "upstack apply list": ["apply", "list"],
                **{f"upstack contact match {slug}": ["contact", "match", slug] for slug in matched},
                "upstack opp list": ["opp", "list"]}
    times = alternately([[*upstack, "log", "-n", "20"], *[[*upstack, *argv] for argv in commands.values()]],
                        env, args.runs)
    log_ms = times[0]
    lines = [f"### bench_pipeline: {args.entries:,} entries, {args.opportunities:,} opportunities, "
             f"{args.applications} applications, {args.contacts} contacts, median of {args.runs}", ""]
    lines += machine_lines(f"Python {sys.version.split()[0]}")
    lines += ["", "| command | median ms | beside | its ms | ratio | target | result |",
              "|---|---:|---|---:|---:|---|---|"]
    for (name, _), ms in zip(commands.items(), times[1:], strict=True):
        targeted = not name.startswith("upstack opp list")
        verdict = ("PASS" if ms <= TARGET_MS else "MISS") if targeted else ""
        lines.append(f"| `{name}` | {ms:.0f} | `upstack log -n 20` | {log_ms:.0f} | {ms / log_ms:.2f}x | "
                     f"{f'<= {TARGET_MS} ms' if targeted else ''} | {verdict} |")
    print("\n".join(lines))
    return 0


if __name__ == "__main__":
    raise SystemExit(main())
