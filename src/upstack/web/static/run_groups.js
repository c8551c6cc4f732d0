// The group charts: each group's mean line and band, from /runs/groups/series.json (aggregated on
// the server). Each figure gets data-drawn="true" once drawn; #charts gets it when all are.
(() => {
  "use strict";
  const planNode = document.getElementById("group-plan");
  const container = document.getElementById("charts");
  if (!planNode || !container || !window.upstackCharts) return;
  const plan = JSON.parse(planNode.textContent);
  const { fetchJSON, lines } = window.upstackCharts;

  const draw = async (spec) => {
    const figure = document.getElementById(spec.id);
    const loaded = await Promise.all(spec.lines.map((line) => fetchJSON(line.url)));
    lines(figure, loaded.map((data, n) => ({
      label: spec.lines[n].label, xs: data.xs, ys: data.mean, low: data.low, high: data.high,
    })), { x: plan.x });
    figure.dataset.points = String(loaded.reduce((sum, d) => sum + d.total, 0));
  };

  Promise.all(plan.charts.map((spec) => draw(spec).catch((error) => {
    const figure = document.getElementById(spec.id);
    figure.dataset.drawn = "error";
    const note = document.createElement("p");
    note.className = "error";
    note.textContent = String(error.message || error);
    figure.appendChild(note);
  }))).then(() => { container.dataset.drawn = "true"; });
})();
