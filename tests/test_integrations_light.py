"""upstack.integrations stays light: ``import upstack`` and ``import upstack.integrations`` load no
training framework, and each integration module imports its own framework and no other (read with
``ast``, so this runs without the frameworks; tests/frameworks/ runs them with the real libraries)."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

INTEGRATIONS = Path(__file__).resolve().parent.parent / "src" / "upstack" / "integrations"
FRAMEWORKS = {"transformers": {"transformers"}, "lightning": {"lightning"}, "keras": {"keras"},
              "optuna": {"optuna"}}
HEAVY = ("torch", "transformers", "lightning", "pytorch_lightning", "keras", "tensorflow", "jax", "optuna",
         "numpy")


def test_importing_upstack_and_its_integrations_loads_no_framework() -> None:
    probe = ("import sys, json\nimport upstack, upstack.integrations, upstack.integrations._run\n"
             f"print(json.dumps(sorted({{n.split('.')[0] for n in sys.modules}} & set({HEAVY!r}))))")
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert json.loads(done.stdout) == []


def _third_party(path: Path) -> set[str]:
    """The top-level packages a module imports (anywhere in it) that are neither upstack nor the
    standard library."""
    names = set()
    for node in ast.walk(ast.parse(path.read_text(encoding="utf-8"))):
        if isinstance(node, ast.Import):
            names |= {a.name.split(".")[0] for a in node.names}
        elif isinstance(node, ast.ImportFrom) and node.module:
            names.add(node.module.split(".")[0])
    return {n for n in names if n != "upstack" and n not in sys.stdlib_module_names and n != "__future__"}


def test_each_integration_imports_its_own_framework_and_no_other() -> None:
    modules = {p.stem: p for p in INTEGRATIONS.glob("*.py") if not p.stem.startswith("_")}
    assert set(modules) == set(FRAMEWORKS)
    for name, path in modules.items():
        assert _third_party(path) == FRAMEWORKS[name], name
    for shared in ("__init__", "_run"):
        assert _third_party(INTEGRATIONS / f"{shared}.py") == set(), shared
