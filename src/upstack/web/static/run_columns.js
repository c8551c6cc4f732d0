// The runs table's own columns: config keys, metrics (final, best) and summary values the user chose,
// remembered in this browser (localStorage "upstack.runs.columns"): a view preference, not data, so it
// stays with the browser and needs no account, no store and no sync. Each added header links to the
// table sorted by that column (again: descending). #runs gets data-columns with the ids shown.
(() => {
  "use strict";
  const dataNode = document.getElementById("run-columns-data");
  const table = document.getElementById("runs");
  const box = document.getElementById("run-columns");
  const choices = document.getElementById("column-choices");
  if (!dataNode || !table || !box || !choices) return;
  const { available, values } = JSON.parse(dataNode.textContent);
  const STORE = "upstack.runs.columns";
  const read = () => {
    try { return JSON.parse(localStorage.getItem(STORE) || "[]").filter((c) => typeof c === "string"); }
    catch { return []; }
  };
  let chosen = read();
  if (!available.length) return;
  box.hidden = false;

  const sortLink = (id) => {
    const params = new URLSearchParams(location.search);
    const now = params.get("sort") || "";
    params.set("sort", now === id ? `${id} desc` : id);
    return `${location.pathname}?${params}`;
  };

  const draw = () => {
    for (const old of table.querySelectorAll(".user-column")) old.remove();
    const known = new Map(available.map((c) => [c.id, c]));
    const shown = chosen.filter((id) => known.has(id));
    const headRow = table.querySelector("thead tr");
    for (const id of shown) {
      const th = document.createElement("th");
      th.className = "user-column";
      th.dataset.column = id;
      const link = document.createElement("a");
      link.href = sortLink(id);
      link.textContent = known.get(id).label;
      link.title = `sort by ${id}`;
      th.appendChild(link);
      headRow.appendChild(th);
    }
    for (const row of table.querySelectorAll("tbody tr.run")) {
      const cells = values[row.dataset.id] || {};
      for (const id of shown) {
        const td = document.createElement("td");
        td.className = "user-column";
        td.dataset.column = id;
        td.textContent = cells[id] ?? "—";
        row.appendChild(td);
      }
    }
    table.dataset.columns = JSON.stringify(shown);
  };

  for (const column of available) {
    const label = document.createElement("label");
    const tick = document.createElement("input");
    tick.type = "checkbox";
    tick.value = column.id;
    tick.checked = chosen.includes(column.id);
    tick.addEventListener("change", () => {
      chosen = tick.checked ? [...chosen.filter((c) => c !== column.id), column.id] : chosen.filter((c) => c !== column.id);
      localStorage.setItem(STORE, JSON.stringify(chosen));
      draw();
    });
    label.append(tick, ` ${column.label}`);
    label.className = `column-${column.kind}`;
    choices.appendChild(label);
  }
  draw();
})();
