// The pace page: a small uPlot chart per signal over the last weeks, from <script id="pace-history">
// (one value a day, null for a day with none: drawn as a gap, never as a zero); #pace-charts gets
// data-drawn="true" once every chart is drawn. And the check-in form: picking another day fills the
// form with that day's answers so far (from /pace.json), so a missed day is filled in without
// copying today's answers onto it.
(() => {
  "use strict";

  // -- the charts ------------------------------------------------------------------------------
  const source = document.getElementById("pace-history");
  const container = document.getElementById("pace-charts");
  if (source && container && typeof uPlot !== "undefined") {
    const history = JSON.parse(source.textContent);
    // Each day at local noon: uPlot draws times in the reader's zone, so the day never slips.
    const xs = history.days.map((d) => {
      const [y, m, day] = d.split("-").map(Number);
      return new Date(y, m - 1, day, 12).getTime() / 1000;
    });
    const HEIGHT = 180;
    const plots = [];
    const width = (figure) => Math.max(240, figure.querySelector(".chart-plot").clientWidth || figure.clientWidth || 360);
    for (const chart of history.charts) {
      const figure = document.getElementById(`chart-${chart.signal}`);
      if (!figure) continue;
      const digits = chart.range && chart.range[1] <= 3 ? 0 : 1;
      const plot = new uPlot({
        width: width(figure),
        height: HEIGHT,
        scales: { y: chart.range ? { range: chart.range } : { range: (u, lo, hi) => [0, Math.max(1, hi || 0)] } },
        axes: [{}, { size: 40 }],
        series: [
          {},
          { label: chart.label, stroke: chart.source === "log" ? "#6b4fbb" : "#2f6fb0", width: 2,
            spanGaps: false, points: { show: true, size: 4 },
            value: (u, v) => (v == null ? "—" : v.toFixed(digits)) },
        ],
        legend: { show: true },
      }, [xs, chart.values], figure.querySelector(".chart-plot"));
      plots.push(plot);
      figure.dataset.drawn = "true";
    }
    container.dataset.drawn = "true";
    let resizing = null;
    window.addEventListener("resize", () => {
      clearTimeout(resizing);
      resizing = setTimeout(() => {
        for (const plot of plots) plot.setSize({ width: width(plot.root.closest("figure")), height: HEIGHT });
      }, 150);
    });
  }

  // -- the form: another day's answers ---------------------------------------------------------
  const form = document.getElementById("checkin");
  const dayField = document.getElementById("checkin-day");
  if (!form || !dayField) return;
  let asked = 0;
  dayField.addEventListener("change", async () => {
    const day = dayField.value;
    if (!/^\d{4}-\d\d-\d\d$/.test(day)) return;
    const mine = ++asked;
    form.dataset.loading = day;
    try {
      const response = await fetch(`/pace.json?day=${encodeURIComponent(day)}`, { headers: { Accept: "application/json" } });
      if (!response.ok || mine !== asked) return; // a later pick won, or the day is not one to fill in
      const checkin = (await response.json()).checkin;
      for (const [name, value] of Object.entries(checkin.fields)) {
        const field = form.elements.namedItem(name);
        if (field) field.value = value;
      }
      for (const sign of checkin.signs) {
        const field = form.elements.namedItem(sign.field);
        if (field) field.value = sign.value;
      }
      form.dataset.day = day;
      const heading = document.getElementById("checkin-heading");
      if (heading) heading.textContent = `Check-in for ${day === checkin.today ? "today, " : ""}${day}`;
    } finally {
      if (mine === asked) delete form.dataset.loading;
    }
  });
})();
