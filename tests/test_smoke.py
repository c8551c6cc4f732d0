def test_note_then_log_and_search(run):
    short = run.ok("note", "Patching layer 5 kills the effect. Next: try head 5.1 #patching #ioi")
    short = short.strip()
    assert len(short) == 7
    log = run.ok("log")
    assert short in log and "Patching layer 5 kills the effect." in log
    found = run.ok("search", "head 5.1")
    assert short in found


def test_capture_knows_the_latest_schema_version():
    from upstack.store import SCHEMA_VERSION
    from upstack.store.schema import LATEST

    assert SCHEMA_VERSION == LATEST
