// The run page's metric charts: uPlot over /runs/{id}/series.json.
//
// The server plans the charts (one per metric, or several metrics on one, each with
// every overlaid run) into <script id="chart-plan">; each <figure class="chart"> gets
// data-drawn="true" once uPlot has drawn it, and #charts gets it when all have.
// Zooming (drag across a chart) fetches the zoomed steps at full resolution and
// splices them into the overview; double-click zooms out again. While the run is
// running, each chart fetches its series again every few seconds and redraws (unless
// the reader has zoomed in), so a run logging to a team server is watched live. Axis
// labels come from ticks.js (never the same label twice); those drawn are kept in each
// figure's data-x-ticks and data-y-ticks.
(() => {
  "use strict";
  const planNode = document.getElementById("chart-plan");
  const container = document.getElementById("charts");
  if (!planNode || !container || typeof uPlot === "undefined") return;
  const plan = JSON.parse(planNode.textContent);
  const COLOURS = ["#0b5fff", "#d9480f", "#2b8a3e", "#ae3ec9", "#e67700", "#0c8599", "#c2255c", "#5c940d",
    "#364fc7", "#862e9c"];
  const HEIGHT = 300;
  const running = (document.getElementById("run") || {}).dataset?.status === "running";
  const REFRESH_MS = Number(container.dataset.refreshMs) || 5000;

  container.classList.add("live");
  // The controls only matter with charts; ticking a box applies it at once.
  const controls = document.getElementById("chart-controls");
  if (controls) {
    controls.hidden = false;
    controls.addEventListener("change", (event) => {
      if (event.target.type === "checkbox") controls.requestSubmit();
    });
  }

  const fetchSeries = async (url) => {
    const response = await fetch(url, { headers: { Accept: "application/json" } });
    const body = await response.json().catch(() => ({}));
    if (!response.ok) throw new Error(body.error || `could not load ${url} (HTTP ${response.status})`);
    return body;
  };

  // uPlot's log scale cannot show zero or less: such points become gaps.
  const shown = (values) => (plan.log ? values.map((v) => (v !== null && v > 0 ? v : null)) : values);

  // Overview points outside lo..hi, detail points inside (both ascending by step).
  const splice = (overview, detail, lo, hi) => {
    const xs = [];
    const ys = [];
    let i = 0;
    const ox = overview.steps;
    const oy = overview.values;
    for (; i < ox.length && ox[i] < lo; i++) { xs.push(ox[i]); ys.push(oy[i]); }
    for (let j = 0; j < detail.steps.length; j++) { xs.push(detail.steps[j]); ys.push(detail.values[j]); }
    while (i < ox.length && ox[i] <= hi) i++;
    for (; i < ox.length; i++) { xs.push(ox[i]); ys.push(oy[i]); }
    return { steps: xs, values: ys };
  };

  const aligned = (parts) => uPlot.join(parts.map((p) => [p.steps, shown(p.values)]));

  const describe = (loaded) => loaded.map((d) => {
    const points = d.downsampled
      ? `${d.count.toLocaleString()} of ${d.total.toLocaleString()} points drawn (each stretch keeps its min and max)`
      : `${d.total.toLocaleString()} points`;
    return loaded.length > 1 ? `${d.label}: ${points}` : points;
  }).join(" · ");

  // Roughly 7.5 px a character at uPlot's 12 px axis font, so a long label is not cut off.
  const labelRoom = (u, values) => Math.max(64, 18 + 7.5 * Math.max(0, ...(values || []).map((v) => String(v || "").length)));

  const drawChart = async (spec) => {
    const figure = document.getElementById(spec.id);
    if (!figure) return;
    // Tick labels that never repeat (ticks.js); the ones drawn are kept on the figure.
    const ticks = (name, log) => (u, splits) => {
      const labels = window.upstackTickLabels(splits, { log });
      figure.dataset[name] = JSON.stringify(labels.filter((label) => label !== ""));
      return labels;
    };
    const target = figure.querySelector(".chart-plot");
    const status = document.createElement("p");
    status.className = "chart-status dim";
    status.textContent = "Loading…";
    figure.insertBefore(status, target.nextSibling);
    if (!spec.series.length) {
      status.textContent = "No run here logged this metric.";
      figure.dataset.drawn = "true";
      return;
    }
    const overview = await Promise.all(spec.series.map((s) => fetchSeries(s.url)));
    overview.forEach((d, n) => { d.label = spec.series[n].label; });
    const data = aligned(overview);
    const xs = data[0];
    const extent = [xs[0], xs[xs.length - 1]];
    let rangeKey = `${extent[0]}:${extent[1]}`;
    let detailed = false;
    let timer = null;

    const loadDetail = async (u) => {
      const lo = Math.floor(u.scales.x.min);
      const hi = Math.ceil(u.scales.x.max);
      const key = `${lo}:${hi}`;
      if (key === rangeKey) return;
      rangeKey = key;
      if (lo <= extent[0] && hi >= extent[1]) {
        if (detailed) { detailed = false; u.setData(aligned(overview), false); status.textContent = describe(overview); }
        return;
      }
      if (!overview.some((d) => d.downsampled)) return;
      figure.dataset.detail = "loading";
      const parts = await Promise.all(overview.map((d, n) => (d.downsampled
        ? fetchSeries(`${spec.series[n].url}&start=${lo}&end=${hi}`) : null)));
      if (rangeKey !== key) return; // the reader zoomed again meanwhile
      const merged = overview.map((d, n) => (parts[n] ? splice(d, parts[n], lo, hi) : d));
      detailed = true;
      u.setData(aligned(merged), false);
      u.setScale("x", { min: u.scales.x.min, max: u.scales.x.max }); // fits the y axis to the new points
      figure.dataset.detail = key;
      status.textContent = describe(overview) + ` · steps ${lo.toLocaleString()}–${hi.toLocaleString()} at `
        + (parts.every((p) => !p || !p.downsampled) ? "full resolution" : "finer resolution");
    };

    const opts = {
      width: Math.max(320, target.clientWidth || figure.clientWidth || 800),
      height: HEIGHT,
      scales: { x: { time: false }, y: plan.log ? { distr: 3 } : {} },
      series: [
        { label: "step" },
        ...spec.series.map((s, n) => ({ label: s.label, stroke: COLOURS[n % COLOURS.length], width: 1.25 })),
      ],
      axes: [{ label: "step", values: ticks("xTicks", false) }, { values: ticks("yTicks", plan.log), size: labelRoom }],
      cursor: { sync: { key: "upstack-run-charts" }, drag: { x: true, y: false } },
      hooks: {
        draw: [(u) => {
          if (figure.dataset.drawn !== "true") {
            figure.dataset.drawn = "true";
            figure.dataset.drawMs = String(Math.round(performance.now()));
          }
        }],
        setScale: [(u, scaleKey) => {
          if (scaleKey !== "x") return;
          clearTimeout(timer);
          timer = setTimeout(() => loadDetail(u).catch((error) => { status.textContent = String(error.message || error); }), 150);
        }],
      },
    };
    const plot = new uPlot(opts, data, target);
    const counted = () => {
      figure.dataset.points = String(overview.reduce((sum, d) => sum + d.count, 0));
      figure.dataset.total = String(overview.reduce((sum, d) => sum + d.total, 0));
      figure.dataset.downsampled = String(overview.some((d) => d.downsampled));
      status.textContent = describe(overview);
    };
    counted();
    if (running) {
      const refresh = async () => {
        if (detailed) return; // the reader is looking closer: leave their view alone
        const fresh = await Promise.all(spec.series.map((s) => fetchSeries(s.url)));
        fresh.forEach((d, n) => { d.label = spec.series[n].label; overview[n] = d; });
        const now = aligned(overview);
        extent[0] = now[0][0];
        extent[1] = now[0][now[0].length - 1];
        rangeKey = `${extent[0]}:${extent[1]}`;
        plot.setData(now);
        counted();
      };
      const tick = () => setTimeout(() => refresh().catch(() => {}).finally(tick), REFRESH_MS);
      tick();
    }
    return plot;
  };

  const plots = [];
  const settled = plan.charts.map((spec) => drawChart(spec).then((plot) => { if (plot) plots.push(plot); })
    .catch((error) => {
      const figure = document.getElementById(spec.id);
      if (!figure) return;
      figure.dataset.drawn = "error";
      figure.dataset.error = String(error.message || error);
      const status = figure.querySelector(".chart-status");
      if (status) { status.textContent = figure.dataset.error; status.classList.add("error"); }
    }));
  Promise.all(settled).then(() => { container.dataset.drawn = "true"; });

  let resizing = null;
  window.addEventListener("resize", () => {
    clearTimeout(resizing);
    resizing = setTimeout(() => {
      for (const u of plots) {
        const width = u.root.parentElement.clientWidth;
        if (width && Math.abs(width - u.width) > 4) u.setSize({ width: Math.max(320, width), height: HEIGHT });
      }
    }, 150);
  });
})();
