"""What a new user tripped on walking issue 20's README (runs, artifacts, compare): each a fix
with its test. Real workspace, real HTTP, the CLI as a user calls it."""

from __future__ import annotations

import json
import re
from pathlib import Path

import upstack
from conftest import CLI
from upstack.workspace import Workspace
from webserver import serve

FIXTURES = Path(__file__).parent / "fixtures"


def _finished(ws: Workspace, name: str, lr: float, **summary: float) -> str:
    with upstack.run(name, home=ws.home, db=ws.db_url, capture="none", config={"lr": lr}) as made:
        made.log({"loss": lr}, step=0)
        made.summary(**summary)
    return made.short


def test_the_web_compare_shows_summary_values_as_the_cli_does(workspace: Workspace, run: CLI) -> None:
    first = _finished(workspace, "a", 0.1, tokens=1e6)
    second = _finished(workspace, "b", 0.4, tokens=2e6, final_w=0.5)
    assert "tokens" in run.ok("compare", first, second)  # the CLI always did
    with serve(workspace.home, workspace.db_url) as server:
        html = server.client().get("/runs/compare", params={"id": [first, second]}).text
    rows = html.split('<tbody id="summary-values">', 1)[1].split("</tbody>", 1)[0]
    assert re.search(r'data-key="tokens"><th scope="row">tokens</th><td>1e\+06</td><td>2e\+06</td>', rows)
    assert re.search(r'data-key="final_w">.*<td>—</td><td>0\.5</td>', rows)  # one run has none: a dash


def test_a_run_without_a_host_shows_no_empty_on(run: CLI) -> None:
    run.ok("import", "mlflow", str(FIXTURES / "mlruns"))
    imported = json.loads(run.ok("runs", "--json"))[0]
    assert imported["host"] == ""  # MLflow's file store does not say
    shown = run.ok("run", "show", imported["id"])
    assert " on ," not in shown and re.search(r"\nstarted \d{4}-\d\d-\d\d \d\d:\d\d, took", shown)


def test_history_never_names_a_start_by_a_later_name_and_lists_resumes(
        workspace: Workspace, run: CLI) -> None:
    first = upstack.run("first-name", home=workspace.home, db=workspace.db_url, capture="none")
    first.log({"loss": 1.0}, step=7)
    first.finish("interrupted")
    with upstack.run(home=workspace.home, db=workspace.db_url, resume=first.id) as again:
        again.log({"loss": 0.5})
    run.ok("run", "rename", first.short, "second-name")
    text = run.ok("run", "history", first.short)
    # it said "started as 'second-name'": a name the run never started with
    assert "started as" not in text and re.search(r"\d\d:\d\d  started\n", text)
    assert "renamed from 'first-name' to 'second-name'" in text
    assert re.search(r"resumed on \S+ after step 7\n", text)
    changes = json.loads(run.ok("run", "history", first.short, "--json"))
    assert [c["change"] for c in changes] == ["started", "resumed", "name"]
    other = _finished(workspace, "kept-name", 0.2)
    assert "started as 'kept-name'" in run.ok("run", "history", other)


def test_saving_an_artifact_by_its_bare_name_says_how(workspace: Workspace, run: CLI, tmp_path: Path) -> None:
    weights = tmp_path / "w.bin"
    weights.write_bytes(b"w" * 10)
    with upstack.run("export", home=workspace.home, db=workspace.db_url, capture="none") as made:
        made.artifact(weights, name="probe", kind="model")
    result = run("save", "probe", str(tmp_path / "copy"))
    assert result.exit_code == 1 and result.stderr.count("\n") == 1
    assert "there is an artifact by that name: upstack save probe:v0 DEST" in result.stderr
    assert not (tmp_path / "copy").exists()
    other = run("save", "zzzzzzz", str(tmp_path / "copy"))  # neither: the attachment error as before
    assert other.exit_code == 1 and "artifact" not in other.stderr


def test_plot_without_runs_names_the_ways_to_choose_them(workspace: Workspace, run: CLI, tmp_path: Path) -> None:
    _finished(workspace, "a", 0.1)
    result = run("plot", "--group", "lr", "loss", "--out", str(tmp_path / "x.png"))
    assert result.exit_code == 1 and result.stderr.count("\n") == 1
    assert "give run ids first, then metric names (or choose the runs with --under or --where)" in result.stderr


def test_where_reads_double_equals_and_refuses_comparing_a_word(workspace: Workspace, run: CLI) -> None:
    low, high = _finished(workspace, "low", 0.1), _finished(workspace, "high", 0.4)
    shown = run.ok("runs", "--where", "lr==0.1")  # as Python and pandas write it: was silently nothing
    assert low in shown and high not in shown
    result = run("runs", "--where", "lr>abc")  # was "No runs match": a typo looked like an empty result
    assert result.exit_code == 1 and result.stderr.count("\n") == 1
    assert "> compares numbers, and 'abc' is not one" in result.stderr
    assert high in run.ok("runs", "--where", "lr>=0.2") and low not in run.ok("runs", "--where", "lr>=0.2")


def test_artifact_show_of_one_version_shows_that_version(workspace: Workspace, run: CLI, tmp_path: Path) -> None:
    weights = tmp_path / "w.bin"
    with upstack.run("export", home=workspace.home, db=workspace.db_url, capture="none") as made:
        for content in (b"first", b"second"):
            weights.write_bytes(content)
            made.artifact(weights, name="probe", kind="model")
    assert [v["version"] for v in json.loads(run.ok("artifact", "show", "probe", "--json"))["versions"]] == [0, 1]
    one = json.loads(run.ok("artifact", "show", "probe:v0", "--json"))["versions"]
    assert [v["version"] for v in one] == [0]
    assert run.ok("artifact", "show", "probe:latest").startswith("probe:v1 ")
    missing = run("artifact", "show", "probe:v5")
    assert missing.exit_code == 1 and "no version v5" in missing.stderr


def test_restoring_a_deleted_runs_result_entry_alone_says_to_restore_the_run(
        workspace: Workspace, run: CLI) -> None:
    short = _finished(workspace, "gone", 0.1)
    run.ok("run", "rm", short)
    for ref in (short, "last"):  # was "restored": the result back, its run still deleted
        result = run("restore", ref)
        assert result.exit_code == 1 and result.stderr.count("\n") == 1
        assert f"upstack run restore {short} brings both back" in result.stderr
    assert short in run.ok("runs", "--deleted")
    run.ok("run", "restore", short)
    assert short in run.ok("runs") and "result" in run.ok("show", short)


def test_plot_band_without_group_is_refused_not_ignored(workspace: Workspace, run: CLI, tmp_path: Path) -> None:
    short = _finished(workspace, "a", 0.1)
    result = run("plot", short, "loss", "--band", "minmax", "--out", str(tmp_path / "x.png"))
    assert result.exit_code == 1 and result.stderr.count("\n") == 1
    assert "--band draws the groups of --group" in result.stderr and not (tmp_path / "x.png").exists()


def test_system_metrics_come_after_the_scripts_in_lists_titles_and_group_tables(
        workspace: Workspace, run: CLI) -> None:
    for lr in (0.1, 0.4):  # named as the run's sampler names them (capture/system.py); logged here, not timed
        with upstack.run("sys", home=workspace.home, db=workspace.db_url, capture="none", config={"lr": lr},
                         system_metrics=False) as made:
            made.log({"loss": lr, "val/acc": 1 - lr, "system/cpu_percent": 50.0, "system/memory_percent": 9.0,
                      "system/process_rss_mb": 30.0}, step=0)
    listed = run.ok("runs")
    # the machine's metrics fill no slot of the line while the script logged its own (counted in "more")
    assert f"{made.short}  " in listed and "loss 0.4, val/acc 0.6, +3 more" in listed
    assert run.ok("show", made.short).split("\n", 1)[0].endswith("loss 0.4, val/acc 0.6.")  # the result's title
    header = run.ok("runs", "--group", "lr").split("\n", 1)[0]
    assert "val/acc final / best" in header and "system/" not in header
    assert "system/cpu_percent" in run.ok("runs", "--group", "lr", "--metric", "system/cpu_percent")


def test_tag_and_move_say_what_changed_and_where(workspace: Workspace, run: CLI) -> None:
    short = _finished(workspace, "a", 0.1)
    node = run.ok("add", "project", "Elsewhere").strip()
    assert run.ok("run", "tag", short, "+x", "+y").strip().endswith("tags +x +y; now: x, y")
    # taking one off printed "tags: +y": read as if y had just been added
    assert run.ok("run", "tag", short, "--", "-x").strip().endswith("tags -x; now: y")
    assert run.ok("run", "tag", short, "--", "-y").strip().endswith("tags -y; now: none")
    moved = run.ok("run", "move", short, "@Elsewhere").strip()  # was "filed under @Elsewhere", as typed
    assert moved.endswith(f"filed under {node} Elsewhere")


def test_a_list_sorted_by_best_shows_the_best_value_it_is_sorted_by(workspace: Workspace, run: CLI) -> None:
    shorts = []
    for peak, last in ((0.9, 0.5), (0.8, 0.7)):  # sorted by best, the final values read as out of order
        with upstack.run("acc", home=workspace.home, db=workspace.db_url, capture="none") as made:
            made.log({"val/acc": peak}, step=0)
            made.log({"val/acc": last}, step=1)
        shorts.append(made.short)
    lines = run.ok("runs", "--sort", "best(val/acc)").splitlines()
    assert [line.split()[0] for line in lines] == shorts
    assert lines[0].endswith("val/acc best 0.9") and lines[1].endswith("val/acc best 0.8")
    assert run.ok("runs", "--sort", "final(val/acc)").splitlines()[0].endswith("val/acc 0.7")
