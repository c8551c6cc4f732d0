"""A JSON import takes attachment names from someone else's file: never a path, as at the sync door
(found by an attack on 2026-12-04: `../../../../tmp/x` was stored as given)."""

from __future__ import annotations

import json
from pathlib import Path

from upstack.services import capture, recall
from upstack.services.jsondump import export_json, import_json
from upstack.workspace import Workspace


def test_an_imported_attachment_name_is_a_name_not_a_path(workspace: Workspace, tmp_path: Path) -> None:
    source = tmp_path / "figure.png"
    source.write_bytes(b"\x89PNG not really")
    entry = capture.note(workspace, "With a figure", attach=[source])
    dump_path = tmp_path / "dump.json"
    with dump_path.open("w", encoding="utf-8") as out:
        export_json(workspace, out)
    dump = json.loads(dump_path.read_text(encoding="utf-8"))
    for row in dump["tables"]["attachments"]:
        row["filename"] = "../../../../tmp/pwned"
    dump_path.write_text(json.dumps(dump), encoding="utf-8")
    with Workspace(home=tmp_path / "other") as other:
        import_json(other, dump_path)
        names = [a.filename for a in recall.show(other, entry.id).attachments]
    assert names == ["pwned"]
