// Shared chart drawing for the group charts, the panels and the compare scatter (uPlot).
//
// window.upstackCharts.lines(figure, lines, options) draws lines (each {label, xs, ys}, and for a
// band also {low, high}) on one uPlot chart in figure's .chart-plot, with uPlot `bands` filling
// between each line's low and high. The figure gets data-drawn="true" once uPlot has drawn it.
// options: {log, x: "step"|"time", smoothing: 0..0.99 (exponential moving average, debiased)}.
(() => {
  "use strict";
  if (typeof uPlot === "undefined") return;
  const COLOURS = ["#0b5fff", "#d9480f", "#2b8a3e", "#ae3ec9", "#e67700", "#0c8599", "#c2255c", "#5c940d",
    "#364fc7", "#862e9c"];
  const HEIGHT = 300;

  const fetchJSON = async (url) => {
    const response = await fetch(url, { headers: { Accept: "application/json" } });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(body.error || `could not load ${url} (HTTP ${response.status})`);
    return body;
  };

  // Hex colour with an alpha, for a band's fill.
  const faded = (hex, alpha) => {
    const n = parseInt(hex.slice(1), 16);
    return `rgba(${(n >> 16) & 255},${(n >> 8) & 255},${n & 255},${alpha})`;
  };

  // TensorBoard's smoothing: an exponential moving average, debiased at the start; gaps stay gaps.
  const smooth = (ys, weight) => {
    if (!weight) return ys;
    let last = 0;
    let kept = 0;
    return ys.map((y) => {
      if (y === null || !Number.isFinite(y)) return y;
      last = last * weight + (1 - weight) * y;
      kept += 1;
      return last / (1 - weight ** kept);
    });
  };

  const positive = (ys) => ys.map((v) => (v !== null && v > 0 ? v : null));

  const lines = (figure, given, options = {}) => {
    const target = figure.querySelector(".chart-plot") || figure;
    const log = Boolean(options.log);
    const shown = (ys) => (log ? positive(ys) : ys);
    const parts = [];
    const series = [{ label: options.x === "time" ? "seconds" : "step" }];
    const bands = [];
    given.forEach((line, n) => {
      const colour = COLOURS[n % COLOURS.length];
      const at = parts.length + 1;
      parts.push([line.xs, shown(smooth(line.ys, options.smoothing || 0))]);
      series.push({ label: line.label, stroke: colour, width: 1.5 });
      if (line.low && line.high) {
        parts.push([line.xs, shown(line.high)], [line.xs, shown(line.low)]);
        series.push({ label: `${line.label} high`, stroke: faded(colour, 0.35), width: 0.5, band: true },
          { label: `${line.label} low`, stroke: faded(colour, 0.35), width: 0.5, band: true });
        bands.push({ series: [at + 1, at + 2], fill: faded(colour, 0.18) });
      }
    });
    figure.dataset.lines = String(given.length);
    figure.dataset.bands = String(bands.length);
    if (!parts.length) {
      figure.dataset.drawn = "true";
      figure.dataset.empty = "true";
      return null;
    }
    const data = parts.length === 1 ? [parts[0][0], parts[0][1]] : uPlot.join(parts);
    const ticks = (name, isLog) => (u, splits) => {
      const labels = window.upstackTickLabels ? window.upstackTickLabels(splits, { log: isLog }) : splits.map(String);
      figure.dataset[name] = JSON.stringify(labels.filter((label) => label !== ""));
      return labels;
    };
    const opts = {
      width: Math.max(320, options.width || target.clientWidth || figure.clientWidth || 800),
      height: options.height || HEIGHT,
      scales: { x: { time: false }, y: log ? { distr: 3 } : {} },
      series,
      bands,
      axes: [{ label: series[0].label, values: ticks("xTicks", false) },
        { values: ticks("yTicks", log), size: 70 }],
      cursor: { drag: { x: true, y: false } },
      hooks: {
        draw: [() => {
          if (figure.dataset.drawn !== "true") {
            figure.dataset.drawn = "true";
            figure.dataset.drawMs = String(Math.round(performance.now()));
          }
        }],
      },
    };
    const plot = new uPlot(opts, data, target);
    // A band's edges are series to uPlot, but not lines to the reader: no legend rows for them (three
    // groups made nine rows, six of them "lr=0.3 (n=3) high: --").
    const rows = plot.root.querySelectorAll(".u-legend .u-series");
    series.forEach((s, i) => { if (s.band && rows[i]) rows[i].style.display = "none"; });
    return plot;
  };

  // A scatter of points: xs, ys (one point a run), drawn as uPlot points with no line between them
  // (x sorted first, as uPlot's aligned data wants). For config against a result.
  const scatter = (figure, points, options = {}) => {
    const target = figure.querySelector(".chart-plot") || figure;
    const order = points.xs.map((x, i) => i).filter((i) => points.xs[i] !== null && points.ys[i] !== null)
      .sort((a, b) => points.xs[a] - points.xs[b]);
    const xs = order.map((i) => points.xs[i]);
    const ys = order.map((i) => points.ys[i]);
    figure.dataset.points = String(xs.length);
    if (target.firstChild) target.replaceChildren();
    const opts = {
      width: Math.max(320, target.clientWidth || 600),
      height: options.height || HEIGHT,
      scales: { x: { time: false, distr: options.logX ? 3 : 1 }, y: {} },
      legend: { show: false },
      series: [{ label: options.xLabel || "x" }, { label: options.yLabel || "y", stroke: COLOURS[0],
        paths: () => null, points: { show: true, size: 9, fill: faded(COLOURS[0], 0.6) } }],
      axes: [{ label: options.xLabel || "x", values: options.xValues }, { label: options.yLabel || "y", size: 70 }],
      hooks: { draw: [() => { figure.dataset.drawn = "true"; }] },
    };
    return new uPlot(opts, [xs, ys], target);
  };

  window.upstackCharts = { COLOURS, fetchJSON, lines, scatter, smooth };
})();
