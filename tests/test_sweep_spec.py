"""A sweep file read and checked (one line naming the bad key), its trials drawn the same every time,
and what a trial tells `upstack.run` through UPSTACK_SWEEP. No process is started here (test_sweep.py
runs sweeps)."""

from __future__ import annotations

import json
import math
import textwrap
from pathlib import Path
from typing import Any

import pytest

import upstack
from conftest import CLI
from upstack.errors import BadInput
from upstack.services import runs as run_service
from upstack.services import sweep as sweep_service
from upstack.services import tree
from upstack.services.sweep_env import SWEEP_VARIABLE, SweepTrial, current_trial
from upstack.services.sweep_spec import parse_spec, read_spec, trial_argv, trials
from upstack.workspace import Workspace


def _file(tmp_path: Path, text: str, name: str = "sweep.yaml") -> Path:
    path = tmp_path / name
    path.write_text(textwrap.dedent(text))
    return path


def test_a_grid_runs_every_combination_in_the_order_written(tmp_path: Path) -> None:
    spec = read_spec(_file(tmp_path, """
        command: python train.py --steps 5
        parameters:
          lr: {values: [1e-3, 3e-4]}
          width: [64, 128]
          seed: 0
    """))
    assert spec.name == "sweep" and spec.method == "grid"
    found = [t.params for t in trials(spec)]
    # 1e-3 is a number here (PyYAML alone reads it as text), the last parameter varies fastest.
    assert found == [{"lr": 0.001, "width": 64, "seed": 0}, {"lr": 0.001, "width": 128, "seed": 0},
                     {"lr": 0.0003, "width": 64, "seed": 0}, {"lr": 0.0003, "width": 128, "seed": 0}]
    assert trial_argv(spec.command, found[1]) == ["python", "train.py", "--steps", "5", "--lr=0.001",
                                                  "--width=128", "--seed=0"]


def test_random_draws_are_the_same_for_the_same_seed_and_stay_in_their_ranges(tmp_path: Path) -> None:
    text = """
        name: probe-random
        command: [python, train.py]
        method: random
        count: 40
        seed: 7
        parameters:
          lr: {values: [0.1, 0.01]}
          dropout: {min: 0, max: 0.5}
          wd: {min: 1e-5, max: 1e-2, log: true}
          layers: {min: 1, max: 4}
    """
    first = trials(read_spec(_file(tmp_path, text)))
    again = trials(read_spec(_file(tmp_path, text)))
    assert [t.params for t in first] == [t.params for t in again] and len(first) == 40
    more = trials(read_spec(_file(tmp_path, text.replace("count: 40", "count: 50"))))
    assert [t.params for t in more[:40]] == [t.params for t in first]  # a larger count keeps the first draws
    other = trials(read_spec(_file(tmp_path, text.replace("seed: 7", "seed: 8"))))
    assert [t.params for t in other] != [t.params for t in first]
    for trial in first:
        p = trial.params
        assert p["lr"] in (0.1, 0.01) and 0 <= p["dropout"] <= 0.5 and 1e-5 <= p["wd"] <= 1e-2
        assert isinstance(p["layers"], int) and 1 <= p["layers"] <= 4
    # log: spread over the decades, not crowded at the top as a uniform draw would be
    assert sum(t.params["wd"] < 1e-3 for t in first) >= 10
    assert {t.params["layers"] for t in first} == {1, 2, 3, 4}
    assert {t.params["lr"] for t in first} == {0.1, 0.01}


def test_placeholders_take_their_parameter_and_the_rest_are_appended_one_argument_each() -> None:
    spec = parse_spec({"command": "python train.py lr={lr} --name 'a b'", "parameters": {
        "lr": [0.5], "tag": ["two words; rm -rf /"], "flag": [True], "optim.name": ["adam"]}})
    [trial] = trials(spec)
    assert trial_argv(spec.command, trial.params) == [
        "python", "train.py", "lr=0.5", "--name", "a b", "--tag=two words; rm -rf /", "--flag=true",
        "--optim.name=adam"]
    # Braces that name no parameter are the user's own.
    assert trial_argv(("echo", "{x}", "{lr}"), {"lr": 1}) == ["echo", "{x}", "1"]


@pytest.mark.parametrize(("text", "said"), [
    ("command: x\nparameters: {lr: {vals: [1]}}", "parameters.lr.vals: unknown key"),
    ("command: x\nparameters: {lr: [1]}\nmetod: grid", "metod: unknown key"),
    ("parameters: {lr: [1]}", "command: give the command to run"),
    ("command: x\nmethod: hyperband\nparameters: {lr: [1]}", "method: input should be 'grid' or 'random'"),
    ("command: x\nmethod: random\nparameters: {lr: [1]}", "count: method random needs it"),
    ("command: x\ncount: 3\nparameters: {lr: [1]}", "count: is for method random"),
    ("command: x\nmethod: random\ncount: 0\nparameters: {lr: [1]}",
     "count: input should be greater than or equal to 1"),
    ("command: x\nparameters: {lr: {min: 0, max: 1}}", "parameters.lr: a grid needs values"),
    ("command: x\nmethod: random\ncount: 2\nparameters: {lr: {min: 0, max: 1, log: true}}",
     "parameters.lr: log: a log range needs min above 0"),
    ("command: x\nmethod: random\ncount: 2\nparameters: {lr: {min: 2, max: 1}}",
     "parameters.lr: min must be a number no greater than max"),
    ("command: x\nmethod: random\ncount: 2\nparameters: {lr: {min: 1}}", "parameters.lr: give values"),
    ("command: x\nparameters: {lr: {values: [1], min: 0}}", "parameters.lr: give values, or value, or min"),
    ("command: x\nparameters: {lr: []}", "parameters.lr.values: list should have at least 1 item"),
    ("command: x\nparameters: {}", "parameters: dictionary should have at least 1 item"),
    ("command: x\nparameters: {lr: [{a: 1}]}", "parameters.lr.values.0"),
    ("command: x\nparameters: {'--lr': [1]}", "parameters: '--lr' is not a parameter name"),
    ("command: ''\nparameters: {lr: [1]}", "command is empty"),
    ("command: x\nparameters: {a: [1,2,3,4,5,6,7,8,9,10], b: [1,2,3,4,5,6,7,8,9,10], c: [1,2,3,4,5,6,7,8,9,10],"
     " d: [1,2,3,4,5,6,7,8,9,10], e: [1,2,3,4,5,6,7,8,9,10]}", "the grid has 100,000 trials"),
    ("- just\n- a list", "a sweep file is a mapping"),
    ("command: [unclosed", "not valid YAML"),
])
def test_a_bad_sweep_file_is_one_line_naming_what_is_wrong(tmp_path: Path, text: str, said: str) -> None:
    if "100,000" in said:
        text = text.replace("e: [", "e: [11, ")  # 10^4 * 11 = 110,000 trials
        said = "the grid has 110,000 trials"
    with pytest.raises(BadInput) as raised:
        read_spec(_file(tmp_path, text))
    message = str(raised.value)
    assert message.startswith("sweep.yaml: ") and said in message and "\n" not in message, message


def test_toml_reads_the_same(tmp_path: Path) -> None:
    path = _file(tmp_path, """
        command = "python train.py"
        [parameters]
        lr = [0.1, 0.01]
        wd = {values = [0.0]}
    """, name="sweep.toml")
    assert [t.params for t in trials(read_spec(path))] == [{"lr": 0.1, "wd": 0.0}, {"lr": 0.01, "wd": 0.0}]
    with pytest.raises(BadInput, match="not valid TOML"):
        read_spec(_file(tmp_path, "command = ", name="bad.toml"))


def test_a_bad_file_on_the_command_line_is_one_line_and_makes_nothing(tmp_path: Path, home: Path) -> None:
    cli = CLI(home, None)
    with Workspace(home=home) as ws:
        question = tree.add_node(ws, "question", "Which lr?").short
    bad = _file(tmp_path, "command: python t.py\nparameters: {lr: {vals: [1]}}\n")
    for args in (["sweep", "start", str(bad), "--under", question], ["sweep", "plan", str(bad)],
                 ["sweep", "trial", str(bad), "0"],
                 ["sweep", "start", str(tmp_path / "missing.yaml"), "--under", question]):
        result = cli(*args)
        assert result.exit_code == 1 and result.stderr.count("\n") == 1, result.output
        assert result.stderr.startswith("upstack: error: "), result.stderr
    assert "parameters.lr.vals: unknown key" in cli("sweep", "plan", str(bad)).stderr
    good = _file(tmp_path, "command: python t.py\nparameters: {lr: [1, 2]}\n", name="good.yaml")
    assert "there is no trial 2" in cli("sweep", "trial", str(good), "2").stderr
    assert "needs --under NODE" in cli("sweep", "start", str(good)).stderr
    assert "no node" in cli("sweep", "start", str(good), "--under", "nosuchnode").stderr.lower()
    with Workspace(home=home) as ws:
        [row] = tree.tree(ws)
        assert row.node.kind == "question" and row.children == []  # no experiment made for a sweep refused
    assert json.loads(cli.ok("sweep", "list", "--json")) == []
    assert not (home / "sweeps").exists() or not list((home / "sweeps").glob("*.json"))


def test_plan_lists_the_trials_and_their_commands(tmp_path: Path, home: Path) -> None:
    path = _file(tmp_path, "command: python train.py\nparameters: {lr: [0.1, 0.01], seed: 3}\n")
    out = CLI(home, None).ok("sweep", "plan", str(path))
    assert "sweep: grid, 2 trials (0 to 1)" in out and "1  python train.py --lr=0.01 --seed=3" in out
    data = json.loads(CLI(home, None).ok("sweep", "plan", str(path), "--json"))
    assert [t["params"] for t in data["trials"]] == [{"lr": 0.1, "seed": 3}, {"lr": 0.01, "seed": 3}]
    assert data["key"] == read_spec(path).key


def test_a_trial_says_its_sweep_through_one_variable(tmp_path: Path) -> None:
    path = _file(tmp_path, "command: python train.py\nparameters: {lr: [0.1, 0.01]}\n")
    argv, env = sweep_service.trial_command(path, 1, under="k3x9q2a")
    assert argv[1:] == ["train.py", "--lr=0.01"]
    trial = current_trial(env)
    assert trial == SweepTrial(sweep_id=read_spec(path).key, name="sweep", index=1, params={"lr": 0.01},
                               node="k3x9q2a")
    assert current_trial({}) is None
    with pytest.raises(BadInput, match=f"{SWEEP_VARIABLE} is not a sweep's trial"):
        current_trial({SWEEP_VARIABLE: "{not json"})


def test_the_scripts_own_config_wins_and_a_difference_is_said() -> None:
    trial = SweepTrial("s1", "probe", 0, params={"lr": 0.5, "width": 64, "optim.beta": 0.9, "seed": 1})
    said: list[str] = []
    merged = trial.merged_config({"lr": 0.05, "width": 64.0, "optim": {"name": "adam"}}, said.append)
    assert merged == {"lr": 0.05, "width": 64.0, "optim": {"name": "adam", "beta": 0.9}, "seed": 1}
    assert len(said) == 1 and "set lr=0.5 but the run's config says 0.05" in said[0] and "--lr" in said[0]


def test_a_run_in_a_trial_is_filed_under_the_sweeps_node_tagged_and_reported(
        workspace: Workspace, tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> None:
    question = tree.add_node(workspace, "question", "Which lr?")
    elsewhere = tree.add_node(workspace, "question", "Something else")
    experiment = tree.add_node(workspace, "experiment", "lr sweep", under=question.id)
    runs_file = tmp_path / "trial-0.runs"
    trial = SweepTrial("s1abcde", "lr sweep", 0, params={"lr": 0.5, "width": 64}, node=experiment.id,
                       runs_file=str(runs_file))
    monkeypatch.setenv(SWEEP_VARIABLE, trial.to_json())
    with upstack.run("probe", under=elsewhere.id, config={"lr": 0.5}, tags=["mine"], home=workspace.home,
                     db=workspace.db_url, capture="none") as run:
        run.log({"loss": 1.0})
    assert runs_file.read_text().split() == [run.id]
    workspace.ingest()
    info = run_service.get_run(workspace, run.id)
    assert info.node_id == experiment.id  # the sweep's node, whatever `under` the script passed
    assert info.config == {"lr": 0.5, "width": 64} and set(info.tags) == {"mine", "sweep/s1abcde"}
    assert [r.id for r in run_service.list_runs(workspace, under=question.id)] == [run.id]


def _values(found: list[dict[str, Any]], key: str) -> list[Any]:
    return [t["params"][key] for t in found]


def test_a_prepared_sweep_makes_one_experiment_and_the_same_file_finds_it_again(
        workspace: Workspace, tmp_path: Path) -> None:
    question = tree.add_node(workspace, "question", "Which lr?")
    path = _file(tmp_path, "name: lr sweep\ncommand: python train.py\nparameters: {lr: [0.1, 0.01]}\n")
    state, resumed = sweep_service.prepare_sweep(workspace, path, under=question.short)
    assert not resumed and len(state.trials) == 2 and math.isclose(state.trials[1].params["lr"], 0.01)
    node = tree.get_node(workspace, state.node_id)
    assert (node.kind, node.title, node.parent_id) == ("experiment", "lr sweep", question.id)
    again, resumed = sweep_service.prepare_sweep(workspace, path, under=question.short)
    assert resumed and again.id == state.id  # not finished: the same sweep, not a second one
    # Under an experiment node, the sweep files its runs there.
    own, _ = sweep_service.prepare_sweep(workspace, _file(tmp_path, path.read_text() + "seed: 1\n", "b.yaml"),
                                         under=node.short)
    assert own.node_id == node.id
    assert _values([t.__dict__ for t in own.trials], "lr") == [0.1, 0.01]


def test_a_wandb_sweep_file_reads_as_wandb_means_it(tmp_path: Path) -> None:
    spec = read_spec(_file(tmp_path, """
        program: train.py
        method: random
        count: 20
        description: from W&B
        metric: {name: val/acc, goal: maximize}
        parameters:
          optimizer: {distribution: categorical, values: [adam, sgd]}
          epochs: {distribution: constant, value: 3}
          lr: {distribution: log_uniform_values, min: 1e-5, max: 1e-1}
          dropout: {distribution: uniform, min: 0, max: 1}
          layers: {distribution: int_uniform, min: 1, max: 3}
    """))
    assert spec.command == ("python", "train.py") and (spec.metric, spec.goal) == ("val/acc", "max")
    found = trials(spec)
    assert {t.params["optimizer"] for t in found} == {"adam", "sgd"} and {t.params["epochs"] for t in found} == {3}
    assert all(isinstance(t.params["dropout"], float) for t in found)  # uniform over 0..1: not integers
    assert {t.params["layers"] for t in found} <= {1, 2, 3} and all(isinstance(t.params["layers"], int) for t in found)
    assert sum(t.params["lr"] < 1e-3 for t in found) >= 5  # log: the small decades get their share
    for text, said in [("method: bayes", "method: bayes needs W&B's sweep service"),
                       ("early_terminate: {type: hyperband}", "early_terminate needs W&B's sweep service")]:
        with pytest.raises(BadInput, match=said):
            parse_spec({"program": "t.py", "parameters": {"lr": [1]}, **_yaml(text)})
    with pytest.raises(BadInput, match="parameters.lr.distribution: input should be .categorical., .constant."):
        parse_spec({"program": "t.py", "method": "random", "count": 1,
                    "parameters": {"lr": {"distribution": "normal", "mu": 0, "sigma": 1}}})
    with pytest.raises(BadInput, match="distribution categorical needs values"):
        parse_spec({"program": "t.py", "parameters": {"lr": {"distribution": "categorical", "value": 1}}})
    with pytest.raises(BadInput, match="command: give the command to run"):
        parse_spec({"program": "t.py", "command": "python t.py", "parameters": {"lr": [1]}})


def _yaml(text: str) -> dict[str, Any]:
    import yaml

    return dict(yaml.safe_load(text))


@pytest.mark.parametrize(("arguments", "argv"), [
    ("flags", ["python", "train.py", "seed=1", "--lr=0.1"]),
    ("hydra", ["python", "train.py", "seed=1", "lr=0.1"]),  # Hydra's overrides
    ("none", ["python", "train.py", "seed=1"]),  # the script reads UPSTACK_SWEEP, or only placeholders
])
def test_how_parameters_join_the_command(arguments: str, argv: list[str]) -> None:
    spec = parse_spec({"command": "python train.py seed={seed}", "arguments": arguments,
                       "parameters": {"seed": 1, "lr": 0.1}})
    assert trial_argv(spec.command, trials(spec)[0].params, spec.arguments) == argv


def test_a_trials_change_is_a_line_appended_and_a_line_cut_short_never_happened(
        workspace: Workspace, tmp_path: Path) -> None:
    from upstack.services import sweep_state

    question = tree.add_node(workspace, "question", "Which lr?")
    path = _file(tmp_path, "command: python train.py\nparameters: {lr: [0.1, 0.01, 0.001]}\n")
    state, _ = sweep_service.prepare_sweep(workspace, path, under=question.short)
    whole = (sweep_state.sweeps_folder(workspace) / f"{state.id}.json").read_bytes()
    state.trials[1].status, state.trials[1].pid = "running", 4242
    sweep_state.save_trial(workspace, state, state.trials[1])
    state.trials[1].status, state.trials[1].exit_code, state.trials[1].pid = "finished", 0, None
    sweep_state.save_trial(workspace, state, state.trials[1])
    state.trials[2].status = "running"
    sweep_state.save_trial(workspace, state, state.trials[2])
    changes = sweep_state.sweeps_folder(workspace) / f"{state.id}.trials"
    changes.write_text(changes.read_text()[:-20])  # the last change, cut short as the machine died
    assert (sweep_state.sweeps_folder(workspace) / f"{state.id}.json").read_bytes() == whole  # untouched
    loaded = sweep_state.load(workspace, state.id)
    assert [(t.status, t.exit_code) for t in loaded.trials] == [("pending", None), ("finished", 0), ("pending", None)]
    sweep_state.save(workspace, loaded)  # written whole: the lines are folded in, and gone
    assert not changes.exists()
    assert [t.status for t in sweep_state.load(workspace, state.id).trials] == ["pending", "finished", "pending"]
