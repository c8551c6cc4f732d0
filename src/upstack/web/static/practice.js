// The practice page's chart: the share of the rolling last first attempts at mediums solved
// unaided within the target, after each one, with the bar as a flat line. #bar-chart gets
// data-drawn="true" once uPlot has drawn it.
(() => {
  const figure = document.getElementById("bar-chart");
  const source = document.getElementById("bar-chart-data");
  if (!figure || !source || typeof uPlot === "undefined") return;
  const chart = JSON.parse(source.textContent);
  const xs = chart.points.map((p) => Date.parse(p.at) / 1000);
  const shares = chart.points.map((p) => p.share);
  const line = chart.points.map(() => chart.line);
  const target = figure.querySelector(".chart-plot");
  const width = () => Math.max(240, Math.min(900, target.clientWidth || figure.clientWidth || 640));
  const plot = new uPlot({
    width: width(),
    height: 260,
    scales: { y: { range: [0, 1] } },
    axes: [{}, { values: (u, splits) => splits.map((v) => `${Math.round(v * 100)}%`) }],
    series: [
      {},
      { label: `share of the last ${chart.window}`, stroke: "#2f6fb0", width: 2, points: { show: true },
        value: (u, v) => (v == null ? "" : `${Math.round(v * 100)}%`) },
      { label: "the bar", stroke: "#b0462f", dash: [6, 4], width: 1, points: { show: false },
        value: (u, v) => (v == null ? "" : `${Math.round(v * 100)}%`) },
    ],
  }, [xs, shares, line], target);
  window.addEventListener("resize", () => plot.setSize({ width: width(), height: 260 }));
  figure.dataset.drawn = "true";
})();
