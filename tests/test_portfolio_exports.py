"""The portfolio's exports checked by their real consumers: JSON Resume's official schema (vendored from
the npm package @jsonresume/schema, tests/vendor/jsonresume-schema/) and RenderCV 2.3's data model; and a
JSON Resume read back in (`upstack portfolio import`)."""

from __future__ import annotations

import json
from pathlib import Path
from typing import Any

import jsonschema
import pytest
import yaml

from conftest import CLI, assert_refused_unchanged

SCHEMA = Path(__file__).parent / "vendor" / "jsonresume-schema" / "schema.json"
KINDS = ("write-up", "repository", "result", "talk", "fellowship", "job", "grant")


def _full_portfolio(run: CLI) -> None:
    run.ok("portfolio", "profile", "--name", "Ada Lovelace", "--headline", "Interpretability researcher",
           "--email", "ada@example.org", "--summary", "I find *circuits* in [small] models.",
           "--link", "GitHub=https://github.com/ada", "--link", "LinkedIn=https://www.linkedin.com/in/ada-l",
           "--link", "Blog=https://ada.dev", "--link", "Scholar=https://scholar.example.org/ada?x=1")
    run.ok("portfolio", "add", "write-up", "The IOI circuit, replicated", "--url", "https://ada.dev/ioi",
           "--date", "2026-04-02", "--org", "LessWrong", "--summary", "Path patching on GPT-2 small.")
    run.ok("portfolio", "add", "repository", "sae-toy", "--url", "https://github.com/ada/sae-toy", "--date", "2026-05")
    run.ok("portfolio", "add", "result", "Features form a pentagon", "--date", "2026")
    run.ok("portfolio", "add", "talk", "Circuits in ten minutes", "--org", "AI safety meetup", "--date", "2026-06")
    run.ok("portfolio", "add", "fellowship", "MATS scholar", "--org", "MATS", "--date", "2026-01", "--end", "2026-03")
    run.ok("portfolio", "add", "job", "Research engineer", "--org", "A lab", "--date", "2026-07")
    run.ok("portfolio", "add", "grant", "Independent research grant", "--org", "LTFF", "--date", "2025-11")


def _validate_json_resume(document: dict[str, Any]) -> None:
    schema = json.loads(SCHEMA.read_text())
    jsonschema.Draft7Validator(schema, format_checker=jsonschema.Draft7Validator.FORMAT_CHECKER).validate(document)


def test_the_vendored_schema_is_the_official_one_and_can_fail() -> None:
    schema = json.loads(SCHEMA.read_text())
    assert schema["$schema"].startswith("http://json-schema.org/draft-07") and "basics" in schema["properties"]
    assert (SCHEMA.parent / "LICENSE.md").exists() and "1.3.1" in (SCHEMA.parent / "VERSION").read_text()
    with pytest.raises(jsonschema.ValidationError):
        _validate_json_resume({"basics": {"email": "not an address"}})
    with pytest.raises(jsonschema.ValidationError):
        _validate_json_resume({"work": [{"startDate": "May 2026"}]})


def test_json_resume_export_is_valid_and_holds_every_kind(run: CLI, tmp_path: Path) -> None:
    _full_portfolio(run)
    out = tmp_path / "resume.json"
    run.ok("portfolio", "export", "--format", "jsonresume", "-o", str(out))
    document = json.loads(out.read_text())
    _validate_json_resume(document)
    assert document["basics"]["name"] == "Ada Lovelace" and document["basics"]["url"] == "https://ada.dev"
    assert [w["position"] for w in document["work"]] == ["Research engineer", "MATS scholar"]
    assert document["publications"][0] == {"name": "The IOI circuit, replicated", "publisher": "LessWrong",
                                           "releaseDate": "2026-04-02", "url": "https://ada.dev/ioi",
                                           "summary": "Path patching on GPT-2 small."}
    assert {p["type"] for p in document["projects"]} == {"repository", "result", "talk"}
    assert document["awards"][0]["awarder"] == "LTFF"


def test_rendercv_export_is_valid_for_rendercv_2_3(run: CLI, tmp_path: Path) -> None:
    from rendercv import __version__ as rendercv_version
    from rendercv.data import validate_input_dictionary_and_return_the_data_model

    assert rendercv_version == "2.3"
    _full_portfolio(run)
    out = tmp_path / "cv.yaml"
    run.ok("portfolio", "export", "--format", "rendercv", "-o", str(out))
    text = out.read_text()
    assert text.startswith("# RenderCV 2.3 input")
    model = validate_input_dictionary_and_return_the_data_model(yaml.safe_load(text))
    assert model.cv.name == "Ada Lovelace"
    assert {(s.network, s.username) for s in model.cv.social_networks or []} == \
        {("GitHub", "ada"), ("LinkedIn", "ada-l")}
    assert str(model.cv.website) == "https://ada.dev/"
    sections = {s.title: s for s in model.cv.sections}
    assert set(sections) == {"Summary", "Experience", "Publications", "Projects", "Talks", "Grants", "Links"}
    assert [e.position for e in sections["Experience"].entries] == ["Research engineer", "MATS scholar"]
    assert sections["Publications"].entries[0].authors == ["Ada Lovelace"]
    assert "\\*circuits\\*" in text  # the person's text stays text, not RenderCV Markdown


def test_rendercv_model_refuses_a_broken_file() -> None:
    from pydantic import ValidationError
    from rendercv.data import validate_input_dictionary_and_return_the_data_model

    with pytest.raises(ValidationError):  # the check can fail: a website that is no address
        validate_input_dictionary_and_return_the_data_model({"cv": {"name": "A", "website": "not a url"}})


def test_an_empty_portfolio_exports_valid_files(run: CLI) -> None:
    from rendercv.data import validate_input_dictionary_and_return_the_data_model

    _validate_json_resume(json.loads(run.ok("portfolio", "export", "--format", "jsonresume")))
    validate_input_dictionary_and_return_the_data_model(
        yaml.safe_load(run.ok("portfolio", "export", "--format", "rendercv")))


def test_a_json_resume_seeds_the_portfolio_and_comes_back_out(run: CLI, tmp_path: Path, engine: str,
                                                              make_pg_url: Any) -> None:
    _full_portfolio(run)
    exported = run.ok("portfolio", "export", "--format", "jsonresume")
    fresh = CLI(tmp_path / "fresh", make_pg_url() if engine == "postgresql" else None)
    source = tmp_path / "resume.json"
    source.write_text(exported)
    assert "imported 7 accomplishments and the profile of Ada Lovelace" in fresh.ok("portfolio", "import", str(source))
    held = json.loads(fresh.ok("portfolio", "--json"))
    assert sorted(i["kind"] for i in held["items"]) == sorted(KINDS)
    again = json.loads(fresh.ok("portfolio", "export", "--format", "jsonresume"))
    before = json.loads(exported)
    for document in (again, before):
        document.pop("meta")
    assert again == before


@pytest.mark.parametrize("content, message", [
    ("{not json", "not JSON"),
    ("[1, 2]", "it is not a JSON object"),
    ('{"work": [{"name": "Lab"}]}', "work[0] has no position"),
    ('{"work": [{"position": "RE", "startDate": "May 2026x"}]}', "work[0].date 'May 2026x' is not a date"),
    ('{"projects": [{"name": "x", "url": "javascript:alert(1)"}]}', "projects[0].url"),
    ('{"basics": {"name": "A", "email": "nope"}}', "basics.email"),
    ('{"publications": [{"name": "Fine"}, {"name": 3}]}', "publications[1].name is not text"),
])
def test_a_bad_resume_is_named_in_one_line_and_imports_nothing(run: CLI, tmp_path: Path, content: str,
                                                               message: str) -> None:
    bad = tmp_path / "resume.json"
    bad.write_text(content)
    run.ok("portfolio", "add", "talk", "Already here")
    assert_refused_unchanged(run, ["portfolio", "import", str(bad)], message)
