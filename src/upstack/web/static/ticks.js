// Axis tick labels that never repeat: window.upstackTickLabels(values, {log}) -> strings.
//
// uPlot's own labels keep at most 3 decimals, so a constant 0.001 read
// "0.002, 0.002, 0.001, 0.001, 0". Here a linear axis gets as many decimals as its
// finest tick needs (0, 0.0005, 0.001 ...), the same for every tick; a log axis gives
// each tick its own; very small or very large numbers are written as 1.5e-6. A label
// that would still equal another (more digits than a double holds) is left out
// (an empty string: uPlot draws no text there). Gaps (null) stay empty.
// The server's own SVG charts follow the same rule (domain/run.py tick_labels).
(() => {
  "use strict";
  const MAX_DIGITS = 15;
  const close = (a, b) => Math.abs(a - b) <= Math.abs(b) * 1e-9;

  // The fewest decimals that write v exactly (as far as a double can say).
  const decimals = (v) => {
    for (let d = 0; d < MAX_DIGITS; d++) if (close(Number(v.toFixed(d)), v)) return d;
    return MAX_DIGITS;
  };

  const scientific = (v) => {
    if (v === 0) return "0";
    for (let d = 0; d < MAX_DIGITS; d++) {
      const text = v.toExponential(d);
      if (close(Number(text), v)) return text.replace("e+", "e");
    }
    return v.toExponential().replace("e+", "e");
  };

  const fixed = (d) => {
    const format = new Intl.NumberFormat(undefined, { minimumFractionDigits: d, maximumFractionDigits: d });
    return (v) => format.format(v);
  };

  const tickLabels = (values, { log = false } = {}) => {
    const numbers = values.map((v) => (v == null || !Number.isFinite(v) ? null : v + 0)); // -0 reads 0
    const shown = numbers.filter((v) => v !== null);
    const largest = shown.reduce((most, v) => Math.max(most, Math.abs(v)), 0);
    let format;
    if (largest >= 1e9 || (largest > 0 && largest < 1e-4)) format = scientific;
    else if (log) format = (v) => fixed(decimals(v))(v);
    else format = fixed(shown.reduce((most, v) => Math.max(most, decimals(v)), 0));
    const seen = new Set();
    return numbers.map((v) => {
      if (v === null) return "";
      const label = format(v);
      if (seen.has(label)) return "";
      seen.add(label);
      return label;
    });
  };

  window.upstackTickLabels = tickLabels;
})();
