"""`upstack save`: an attachment comes back out byte for byte, checked against its hash."""

from pathlib import Path

from conftest import CLI


def test_save_writes_the_attached_bytes(run: CLI, tmp_path: Path) -> None:
    figure = tmp_path / "heatmap.png"
    figure.write_bytes(b"\x89PNG\r\n\x1a\n" + bytes(range(256)) * 4)
    entry = run.ok("note", "--attach", str(figure), "Head-by-layer patching heatmap.").strip()
    attachment = run.ok("attach", entry, str(figure)).split()[0]

    out = tmp_path / "out"
    out.mkdir()
    run.ok("save", attachment, str(out))
    assert (out / "heatmap.png").read_bytes() == figure.read_bytes()

    again = run("save", attachment, str(out))  # never overwrites
    assert again.exit_code == 1 and "already exists" in again.stderr


def test_save_refuses_a_corrupted_file(run: CLI, home: Path, tmp_path: Path) -> None:
    data = tmp_path / "runs.csv"
    data.write_text("step,loss\n1,0.5\n")
    entry = run.ok("note", "Loss curve.").strip()
    attachment = run.ok("attach", entry, str(data)).split()[0]
    blob = next(p for p in (home / "blobs").rglob("*") if p.is_file() and not p.name.startswith("."))  # not .lock
    blob.write_text("step,loss\n1,9.9\n")

    result = run("save", attachment, str(tmp_path / "copy.csv"))
    assert result.exit_code == 1 and "corrupted" in result.stderr
    assert not (tmp_path / "copy.csv").exists()
