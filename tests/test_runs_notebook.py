"""A run in a real Jupyter kernel: no reliance on process exit, figures taken from the cell."""

from __future__ import annotations

import warnings
from pathlib import Path

import pytest

from upstack.services import recall
from upstack.services import runs as run_service
from upstack.workspace import Workspace

# nbclient starts the Jupyter kernel, a process of its own that no line here shows (tests/markers.py).
pytestmark = pytest.mark.multiprocess

CELLS = [
    "import matplotlib\nmatplotlib.use('Agg')\nimport matplotlib.pyplot as plt\nimport upstack",
    "run = upstack.run('notebook-sweep', config={'width': 16384}, capture='none')",
    "for step in range(200):\n    run.log({'loss': 1 / (step + 1)}, step=step)",
    "plt.plot([1, 2, 3], [3, 1, 2])\nplt.title('drawn in a cell')\nrun.figure(title='Loss by width')",
    "run.note('From a notebook.')\nrun.finish()\nprint(run.status)",
    # The kernel lives on after the run has ended, and a second run starts cleanly.
    "upstack.init('second', capture='none')\nupstack.log({'acc': 0.5})\nupstack.finish()",
]


def test_a_run_in_a_jupyter_kernel(workspace: Workspace, monkeypatch: pytest.MonkeyPatch, tmp_path: Path) -> None:
    nbformat = pytest.importorskip("nbformat")
    nbclient = pytest.importorskip("nbclient")
    pytest.importorskip("ipykernel")
    monkeypatch.setenv("UPSTACK_HOME", str(workspace.home))
    if workspace.db_url:
        monkeypatch.setenv("UPSTACK_DB", workspace.db_url)
    monkeypatch.setenv("JUPYTER_PLATFORM_DIRS", "1")  # quiets a deprecation notice
    notebook = nbformat.v4.new_notebook(cells=[nbformat.v4.new_code_cell(c) for c in CELLS])
    with warnings.catch_warnings():
        warnings.simplefilter("ignore")  # Jupyter's own deprecation notices are not ours to fail on
        client = nbclient.NotebookClient(notebook, timeout=120, kernel_name="python3",
                                         resources={"metadata": {"path": str(tmp_path)}})
        client.execute()
    assert notebook.cells[4].outputs[0]["text"].strip() == "finished"
    workspace.ingest()  # what the kernel's runs wrote
    first, = run_service.list_runs(workspace, name="notebook-sweep")
    assert first.status == "finished" and len(run_service.series(workspace, first.short, "loss")) == 200
    entry = recall.show(workspace, first.short)
    assert sorted(a.filename for a in entry.attachments) == ["loss-by-width.png", "loss-by-width.svg"]
    png = next(a for a in entry.attachments if a.filename.endswith(".png"))
    assert workspace.blobs.read(png.sha256 or "").startswith(b"\x89PNG")
    assert "From a notebook." in entry.body
    second, = run_service.list_runs(workspace, name="second")
    assert second.status == "finished"
