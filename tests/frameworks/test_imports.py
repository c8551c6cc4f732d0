"""With the frameworks installed: an integration module imports nothing but what it names from its
framework (and upstack's own light modules), and the package still loads none of them until one
of its modules is imported."""

from __future__ import annotations

import ast
import json
import subprocess
import sys
from pathlib import Path

INTEGRATIONS = Path(__file__).resolve().parents[2] / "src" / "upstack" / "integrations"
NAMES = ("transformers", "lightning", "keras", "optuna")


def _framework_imports(path: Path) -> list[str]:
    """The module's own import statements of its framework, as source."""
    tree = ast.parse(path.read_text(encoding="utf-8"))
    return [ast.unparse(node) for node in tree.body if isinstance(node, ast.Import | ast.ImportFrom)
            and (node.module if isinstance(node, ast.ImportFrom) else node.names[0].name).split(".")[0] in NAMES]


def test_the_integrations_add_nothing_to_their_frameworks_imports() -> None:
    framework_lines = [line for name in NAMES for line in _framework_imports(INTEGRATIONS / f"{name}.py")]
    assert len(framework_lines) >= len(NAMES)
    probe = "\n".join([
        "import sys, json",
        "import upstack, upstack.integrations",
        "light = {n.split('.')[0] for n in sys.modules}",
        *framework_lines,
        "before = {n.split('.')[0] for n in sys.modules}",
        *(f"import upstack.integrations.{name}" for name in NAMES),
        "after = {n.split('.')[0] for n in sys.modules}",
        f"print(json.dumps({{'light': sorted(light & set({NAMES!r})), 'added': sorted(after - before)}}))"])
    done = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    assert json.loads(done.stdout.strip().splitlines()[-1]) == {"light": [], "added": []}
