"""`upstack review`: a digest per project, Markdown or one self-contained page; never private."""

from __future__ import annotations

import re
from pathlib import Path

from conftest import CLI

PNG = bytes.fromhex(
    "89504e470d0a1a0a0000000d4948445200000001000000010806000000"
    "1f15c4890000000d49444154789c6360f8cf000000030101005d8d3b6b0000000049454e44ae426082")


def _log(run: CLI, tmp_path: Path) -> dict[str, str]:
    figure = tmp_path / "heatmap.png"
    figure.write_bytes(PNG)
    agenda = run.ok("add", "agenda", "Oversight", "--why", "See inside models.").strip()
    project = run.ok("add", "project", "IOI circuit", "--under", agenda, "--why", "a").strip()
    question = run.ok("add", "question", "Is 5.1 a name mover?", "--under", project,
                      "--why", "b").strip()
    run.ok("add", "experiment", "Path-patch 5.1", "--under", question, "--why", "c")
    run.ok("focus", question)
    run.ok("note", "--kind", "result", "--attach", str(figure), "--expected", "a drop",
           "--happened", "a 60% drop", "--outcome", "as-expected", "Head patching heatmap.")
    run.ok("note", "--kind", "decision", "Use path patching from now on.")
    run.ok("note", "--kind", "question", "Ask Neel whether 5.1 is a backup.")
    run.ok("note", "--kind", "learning", "Padding side matters.")
    run.ok("note", "--private", "Slept badly; SECRET-CHECKIN.")
    idea = run.ok("idea", "Steer with SAE features.").strip()
    run.ok("prune", idea, "--reason", "Already published by others.")
    run.ok("focus", "--clear")
    run.ok("note", "Unfiled musing.")
    return {"project": project}


def test_markdown_digest_per_project(run: CLI, tmp_path: Path) -> None:
    _log(run, tmp_path)
    text = run.ok("review")
    assert text.startswith("# Research review,")
    ioi = text.split("## IOI circuit", 1)[1].split("\n## ", 1)[0]
    for heading, item in [("### What was done", "Head patching heatmap."),
                          ("### What was learned", "Padding side matters."),
                          ("### Decisions", "Use path patching from now on."),
                          ("### Open questions", "Ask Neel whether 5.1 is a backup."),
                          ("### Open questions", "Is 5.1 a name mover?"),
                          ("### Next steps", "Path-patch 5.1")]:
        assert heading in ioi and item in ioi.split(heading, 1)[1]
    assert "upstack:" not in text  # a reference only upstack reads: shown nowhere else
    assert "Figure: heatmap.png (`upstack show " in ioi
    # Written to a file, its figures go in a folder beside it, linked by path.
    assert run.ok("review", "--out", str(tmp_path / "week.md")).strip() == \
        f"review written to {tmp_path / 'week.md'}, its figures in week files/"
    written = (tmp_path / "week.md").read_text()
    assert "![heatmap.png](week%20files/heatmap.png)" in written
    assert (tmp_path / "week files" / "heatmap.png").read_bytes()[:4] == b"\x89PNG"
    assert "expected a drop; happened a 60% drop (as-expected)" in ioi
    assert "Steer with SAE features, pruned: Already published by others." in text
    assert "## (no project)" in text and "Unfiled musing." in text
    assert "SECRET-CHECKIN" not in text
    only = run.ok("review", "--project", "ioi circuit")
    assert "Unfiled musing." not in only and "Head patching heatmap." in only


def test_html_is_one_safe_self_contained_page(run: CLI, tmp_path: Path) -> None:
    _log(run, tmp_path)
    run.ok("note", "--kind", "result", '<script>alert("x")</script> Injected title.')
    out = tmp_path / "review.html"
    run.ok("review", "--format", "html", "--out", str(out))
    page = out.read_text(encoding="utf-8")
    assert page.startswith("<!doctype html>")
    assert "data:image/png;base64," in page
    assert not re.search(r"<script", page, re.IGNORECASE)
    assert not re.search(r'src="(?!data:)', page)  # nothing fetched from elsewhere
    assert "SECRET-CHECKIN" not in page
    assert run("review", "--since", "not a date").exit_code == 1
