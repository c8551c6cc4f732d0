// Chart panels, wherever they are: a project's grid (figure.panel with data-url), a run page's panels
// (their data asked with the page's run), and panels embedded in an entry (a.panel-embed links the
// Markdown renderer makes of ![caption](upstack:panel/ID), replaced here by the live chart).
// Each figure gets data-drawn="true" once drawn (data-lines: how many lines it drew); the grid or
// container gets it when every panel has.
(() => {
  "use strict";
  if (!window.upstackCharts) return;
  const { fetchJSON, lines } = window.upstackCharts;

  const draw = async (figure) => {
    const data = await fetchJSON(figure.dataset.url);
    const spec = data.panel.spec;
    lines(figure, data.lines.map((line) => ({ label: line.label, xs: line.xs, ys: line.ys })),
      { log: spec.log, x: spec.x, smoothing: spec.smoothing });
    figure.dataset.runs = JSON.stringify([...new Set(data.lines.map((line) => line.run))]);
    if (!data.lines.length) {
      const note = document.createElement("p");
      note.className = "dim panel-empty";
      note.textContent = "No run you may see logged these metrics.";
      figure.appendChild(note);
    }
  };

  const failed = (figure, error) => {
    figure.dataset.drawn = "error";
    const note = document.createElement("p");
    note.className = "error";
    note.textContent = String(error.message || error);
    figure.appendChild(note);
  };

  // Embeds: each link becomes a figure drawn in its place.
  for (const link of document.querySelectorAll("a.panel-embed")) {
    const ref = (link.getAttribute("href") || "").split("/").pop();
    if (!/^[0-9A-Za-z]+$/.test(ref)) continue;
    const figure = document.createElement("figure");
    figure.className = "chart panel panel-embedded";
    figure.dataset.url = `/panels/${ref}/data.json`;
    figure.dataset.panel = ref;
    figure.dataset.drawn = "false";
    const caption = document.createElement("figcaption");
    const title = document.createElement("a");
    title.href = `/panels/${ref}`;
    title.textContent = link.textContent || "panel";
    caption.appendChild(title);
    const plot = document.createElement("div");
    plot.className = "chart-plot";
    figure.append(caption, plot);
    link.replaceWith(figure);
  }

  const figures = [...document.querySelectorAll("figure.panel[data-url]")];
  const pageRun = document.getElementById("run")?.dataset.id;
  Promise.all(figures.map((figure) => {
    if (pageRun && !figure.classList.contains("panel-embedded")) figure.dataset.url += `?run=${encodeURIComponent(pageRun)}`;
    return draw(figure).catch((error) => failed(figure, error));
  })).then(() => {
    for (const holder of document.querySelectorAll("#panel-grid, .markdown")) holder.dataset.panelsDrawn = "true";
    const grid = document.getElementById("panel-grid");
    if (grid) grid.dataset.drawn = "true";
  });
})();
