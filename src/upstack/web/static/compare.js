// The compare page's views of config against a result: parallel coordinates (a small canvas drawing:
// one vertical axis per differing config key and one for the chosen result, each run a line through
// its values, coloured by the result) and a scatter of the result against one config key (uPlot).
// A key whose values are not numbers is a category axis (values in order of first use); a numeric
// axis spanning 100x or more of positive values is logarithmic (learning rates). Each figure gets
// data-drawn="true" (parallel coordinates: data-axes, data-lines) once drawn.
(() => {
  "use strict";
  const dataNode = document.getElementById("compare-views-data");
  if (!dataNode) return;
  const views = JSON.parse(dataNode.textContent);
  const outcomeSelect = document.getElementById("view-outcome");
  const xSelect = document.getElementById("view-x");
  const canvas = document.getElementById("parcoords-canvas");
  const parFigure = document.getElementById("parcoords");

  // An axis: where each value sits, from 0 (bottom) to 1 (top), and its labels.
  const axisOf = (key) => {
    const values = views.runs.map((r) => r.values[key]);
    const present = values.filter((v) => v !== null && v !== undefined);
    if (present.every((v) => typeof v === "number")) {
      let lo = Math.min(...present);
      let hi = Math.max(...present);
      const log = lo > 0 && hi / lo >= 100;
      const f = log ? Math.log10 : (v) => v;
      const a = f(lo);
      const b = f(hi);
      const place = (v) => (v === null || v === undefined ? null : (b === a ? 0.5 : (f(v) - a) / (b - a)));
      if (!present.length) { lo = 0; hi = 0; }
      return { key, place, labels: [[0, String(+lo.toPrecision(3))], [1, String(+hi.toPrecision(3))]], log };
    }
    const categories = [...new Set(present.map(String))];
    const place = (v) => (v === null || v === undefined ? null
      : (categories.length === 1 ? 0.5 : categories.indexOf(String(v)) / (categories.length - 1)));
    return { key, place, labels: categories.map((c, i) => [categories.length === 1 ? 0.5 : i / (categories.length - 1), c]) };
  };

  const colour = (t) => `hsl(${Math.round(240 - 240 * t)}, 75%, 45%)`; // blue (low) to red (high)

  const drawParcoords = () => {
    const outcome = outcomeSelect.value;
    const keys = [...views.config, outcome];
    const axes = keys.map(axisOf);
    const width = Math.max(320, parFigure.clientWidth || 900);
    const height = 320;
    const ratio = window.devicePixelRatio || 1;
    canvas.width = width * ratio;
    canvas.height = height * ratio;
    canvas.style.width = `${width}px`;
    canvas.style.height = `${height}px`;
    const ctx = canvas.getContext("2d");
    ctx.setTransform(ratio, 0, 0, ratio, 0, 0);
    ctx.clearRect(0, 0, width, height);
    const top = 28;
    const bottom = height - 34;
    const left = 60;
    const right = width - 60;
    const xAt = (i) => (axes.length === 1 ? (left + right) / 2 : left + (i * (right - left)) / (axes.length - 1));
    const yAt = (t) => bottom - t * (bottom - top);
    const result = axes[axes.length - 1];
    let drawnLines = 0;
    for (const run of views.runs) {
      const shade = result.place(run.values[outcome]);
      ctx.strokeStyle = shade === null ? "rgba(128,128,128,0.5)" : colour(shade);
      ctx.lineWidth = 1.5;
      ctx.beginPath();
      let started = false;
      axes.forEach((axis, i) => {
        const t = axis.place(run.values[axis.key]);
        if (t === null) { started = false; return; }
        if (started) ctx.lineTo(xAt(i), yAt(t)); else ctx.moveTo(xAt(i), yAt(t));
        started = true;
      });
      ctx.stroke();
      drawnLines += 1;
    }
    ctx.fillStyle = getComputedStyle(parFigure).color || "#222";
    ctx.strokeStyle = ctx.fillStyle;
    ctx.font = "12px system-ui, sans-serif";
    ctx.textAlign = "center";
    axes.forEach((axis, i) => {
      ctx.lineWidth = 1;
      ctx.beginPath();
      ctx.moveTo(xAt(i), top);
      ctx.lineTo(xAt(i), bottom);
      ctx.stroke();
      ctx.fillText(axis.key + (axis.log ? " (log)" : ""), xAt(i), height - 12);
      for (const [t, label] of axis.labels.slice(0, 12)) ctx.fillText(label, xAt(i), yAt(t) + (t >= 1 ? -6 : 14));
    });
    parFigure.dataset.axes = JSON.stringify(keys);
    parFigure.dataset.lines = String(drawnLines);
    parFigure.dataset.drawn = "true";
  };

  let scatterPlot = null;
  const drawScatter = () => {
    const figure = document.getElementById("scatter");
    if (!figure || !xSelect || !window.upstackCharts) return;
    const axis = axisOf(xSelect.value);
    const numeric = views.runs.every((r) => r.values[xSelect.value] === null || typeof r.values[xSelect.value] === "number");
    const categories = numeric ? null : axis.labels.map(([, label]) => label);
    const xs = views.runs.map((r) => {
      const v = r.values[xSelect.value];
      if (v === null || v === undefined) return null;
      return numeric ? v : categories.indexOf(String(v));
    });
    const ys = views.runs.map((r) => r.values[outcomeSelect.value] ?? null);
    if (scatterPlot) scatterPlot.destroy();
    figure.dataset.drawn = "false";
    scatterPlot = window.upstackCharts.scatter(figure, { xs, ys }, {
      xLabel: xSelect.value, yLabel: outcomeSelect.value, logX: numeric && axis.log,
      xValues: numeric ? undefined : (u, splits) => splits.map((s) => (Number.isInteger(s) ? categories[s] ?? "" : "")),
    });
  };

  const redraw = () => { drawParcoords(); drawScatter(); };
  outcomeSelect.addEventListener("change", redraw);
  if (xSelect) xSelect.addEventListener("change", drawScatter);
  redraw();
})();
