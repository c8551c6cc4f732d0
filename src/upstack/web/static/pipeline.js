// The board's drag and drop, over what works without it: each card's own move form. A card dropped
// on another stage's column submits that form with the column's stage, as picking it would (a move
// back is asked again by the server). The ended group takes no drop: a rejection asks what was learned.
(() => {
  const board = document.getElementById("board");
  if (!board) return;
  for (const card of board.querySelectorAll("article.card[data-slug]")) {
    if (!card.querySelector("form.any-stage")) continue;
    card.draggable = true;
    card.addEventListener("dragstart", (event) => {
      event.dataTransfer.setData("text/plain", card.dataset.slug);
      event.dataTransfer.effectAllowed = "move";
      card.classList.add("dragging");
    });
    card.addEventListener("dragend", () => card.classList.remove("dragging"));
  }
  for (const column of board.querySelectorAll("section.column[data-stage]")) {
    if (column.dataset.stage === "ended") continue;
    column.addEventListener("dragover", (event) => {
      event.preventDefault();
      column.classList.add("drop-here");
    });
    column.addEventListener("dragleave", () => column.classList.remove("drop-here"));
    column.addEventListener("drop", (event) => {
      event.preventDefault();
      column.classList.remove("drop-here");
      const card = document.getElementById(`a-${event.dataTransfer.getData("text/plain")}`);
      if (!card || card.dataset.stage === column.dataset.stage) return;
      const form = card.querySelector("form.any-stage");
      const select = form && form.querySelector("select[name=stage]");
      if (!select || ![...select.options].some((option) => option.value === column.dataset.stage)) return;
      select.value = column.dataset.stage;
      form.requestSubmit();
    });
  }
})();
