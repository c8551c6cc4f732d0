"""Issue 20's run views in Chromium: the group chart's band, the panels (drawn, arranged, saved, embedded),
the compare page's parallel coordinates and scatter, and the runs table's remembered columns."""

from __future__ import annotations

import json

from playwright.sync_api import Page, expect

import upstack
from browser import (  # noqa: F401 - the fixtures register under their short names
    page_fixture,
    page_problems_fixture,
    server_fixture,
    sign_in,
    sqlite_workspace_fixture,
)
from upstack.services import capture, tree
from upstack.services import panels as panel_service
from upstack.workspace import Workspace
from webserver import Server

# How many distinct colours a canvas holds and how many pixels are inked (not background).
_CANVAS_PIXELS = """(figure) => {
  const canvas = figure.querySelector("canvas");
  const ctx = canvas.getContext("2d");
  const { data } = ctx.getImageData(0, 0, canvas.width, canvas.height);
  const colours = new Set();
  let inked = 0;
  for (let i = 0; i < data.length; i += 4) {
    if (data[i + 3] === 0) continue;
    inked += 1;
    colours.add((data[i] << 16) | (data[i + 1] << 8) | data[i + 2]);
  }
  return { colours: colours.size, inked };
}"""


def _sweep(ws: Workspace, under: str | None = None) -> list[str]:
    shorts = []
    for lr in (0.1, 0.01):
        for seed in range(3):
            with upstack.run("sweep", home=ws.home, capture="none", config={"lr": lr, "seed": seed, "opt": "adam"},
                             under=under) as run:
                for step in range(400):
                    run.log({"loss": (1 + seed / 10) / (1 + step * lr)}, step=step)
                run.summary(acc=0.5 + lr + seed / 100)
            shorts.append(run.short)
    ws.ingest()
    return shorts


def test_the_group_chart_draws_each_groups_mean_with_a_band(page: Page, server: Server,
                                                           sqlite_workspace: Workspace) -> None:
    _sweep(sqlite_workspace)
    sign_in(page, server, "/runs/groups?by=-seed&band=minmax")
    expect(page.locator("#run-groups li")).to_have_count(2)
    chart = page.locator("figure.group-chart").first
    expect(chart).to_have_attribute("data-drawn", "true")
    expect(page.locator("#charts")).to_have_attribute("data-drawn", "true")
    assert chart.get_attribute("data-lines") == "2" and chart.get_attribute("data-bands") == "2"
    assert chart.get_attribute("data-points") == str(6 * 400)
    drawn = chart.evaluate(_CANVAS_PIXELS)
    assert drawn["colours"] > 4 and drawn["inked"] > 1000, drawn  # two lines and two translucent bands
    # The legend names the step and each group's mean, not the band's edges ("... high", "... low")
    legend = chart.locator(".u-legend .u-series:visible")
    expect(legend).to_have_count(3)
    assert not any(t.endswith((" high", " low")) for t in legend.locator(".u-label").all_inner_texts())


def test_panels_are_drawn_arranged_saved_and_embedded(page: Page, server: Server,
                                                     sqlite_workspace: Workspace) -> None:
    project = tree.add_node(sqlite_workspace, "project", "Probing", why="To see.")
    runs = _sweep(sqlite_workspace, under=project.short)
    sign_in(page, server, f"/panels?under={project.short}")
    expect(page.locator("#no-panels")).to_be_visible()

    add = page.locator("#add-panel form")
    add.locator("input[name=title]").fill("Loss of two")
    add.locator("input[name=keys]").fill("loss")
    add.locator("input[name=runs]").fill(f"{runs[0]} {runs[3]}")
    add.locator("input[name=log]").check()
    add.locator("button[type=submit]").click()
    first = page.locator("figure.panel").first
    expect(first).to_have_attribute("data-drawn", "true")
    assert json.loads(first.get_attribute("data-runs") or "[]") == [runs[0], runs[3]]
    assert first.get_attribute("data-lines") == "2"

    add = page.locator("#add-panel form")
    add.locator("input[name=title]").fill("Newest")
    add.locator("input[name=keys]").fill("loss")
    add.locator("button[type=submit]").click()
    expect(page.locator("figure.panel")).to_have_count(2)
    expect(page.locator("#panel-grid")).to_have_attribute("data-drawn", "true")
    titles = page.locator("figure.panel figcaption")
    expect(titles).to_have_text(["Loss of two", "Newest"])

    # arranged: the second moves first, and stays there on a fresh load (saved)
    page.locator("figure.panel").nth(1).locator("button.move-earlier").click()
    expect(titles).to_have_text(["Newest", "Loss of two"])
    page.reload()
    expect(page.locator("figure.panel figcaption")).to_have_text(["Newest", "Loss of two"])
    expect(page.locator("#panel-grid")).to_have_attribute("data-drawn", "true")

    # settings saved: smoothing and x by time on the first
    newest = page.locator("figure.panel").first
    newest.locator("details.panel-edit summary").click()
    newest.locator("input[name=smoothing]").fill("0.8")
    newest.locator("select[name=x]").select_option("time")
    newest.locator("details.panel-edit button[type=submit]").click()
    expect(page.locator("figure.panel").first).to_have_attribute("data-x", "time")
    assert page.locator("figure.panel").first.get_attribute("data-smoothing") == "0.8"

    # embedded in an entry: drawn live there
    panel = panel_service.list_panels(sqlite_workspace, project.id)[1]
    entry = capture.note(sqlite_workspace, f"Curves today.\n\n![the loss](upstack:panel/{panel.short})",
                         under=project.short)
    page.goto(f"{server.url}/e/{entry.short}")
    embedded = page.locator("figure.panel-embedded")
    expect(embedded).to_have_attribute("data-drawn", "true")
    expect(embedded.locator("figcaption")).to_have_text("the loss")
    assert embedded.evaluate(_CANVAS_PIXELS)["inked"] > 500

    # the run page shows the project's panels, a panel naming no runs drawing that run
    page.goto(f"{server.url}/runs/{runs[1]}")
    expect(page.locator("#panel-grid")).to_have_attribute("data-drawn", "true")
    assert json.loads(page.locator("#panel-grid figure.panel").first.get_attribute("data-runs") or "[]") == [runs[1]]


def test_compare_draws_parallel_coordinates_and_a_scatter(page: Page, server: Server,
                                                         sqlite_workspace: Workspace) -> None:
    runs = _sweep(sqlite_workspace)
    sign_in(page, server, "/runs/compare?" + "&".join(f"id={r}" for r in runs))
    parcoords = page.locator("#parcoords")
    expect(parcoords).to_have_attribute("data-drawn", "true")
    assert json.loads(parcoords.get_attribute("data-axes") or "[]") == ["lr", "seed", "best(loss)"]
    assert parcoords.get_attribute("data-lines") == "6"
    assert parcoords.evaluate("(f) => { const c = f.querySelector('canvas'); const d = c.getContext('2d')"
                              ".getImageData(0, 0, c.width, c.height).data; let n = 0;"
                              " for (let i = 3; i < d.length; i += 4) if (d[i]) n++; return n; }") > 2000
    page.select_option("#view-outcome", "summary(acc)")
    expect(parcoords).to_have_attribute("data-axes", json.dumps(["lr", "seed", "summary(acc)"], separators=(",", ":")))
    scatter = page.locator("#scatter")
    expect(scatter).to_have_attribute("data-drawn", "true")
    assert scatter.get_attribute("data-points") == "6"


def test_the_runs_table_remembers_chosen_columns(page: Page, server: Server, sqlite_workspace: Workspace) -> None:
    _sweep(sqlite_workspace)
    sign_in(page, server, "/runs")
    page.locator("#run-columns summary").click()
    page.locator("#column-choices input[value='lr']").check()
    page.locator("#column-choices input[value='best(loss)']").check()
    expect(page.locator("#runs thead th.user-column")).to_have_text(["lr", "loss (best)"])
    expect(page.locator("#runs tbody tr.run").first.locator("td.user-column").first).to_have_text("0.01")
    page.goto(f"{server.url}/runs")
    expect(page.locator("#runs thead th.user-column")).to_have_text(["lr", "loss (best)"])
    sort = page.locator("#runs thead th.user-column a").nth(1)
    assert sort.get_attribute("href", timeout=1000).endswith("sort=best%28loss%29")
