// The keyboard, and the quick switcher. Every page works without it.
//
//   /        the search box (the search page's, or the search page)
//   j / k    the next / previous entry in a list of entries (the timeline, a node, search results)
//   Enter    open the entry j or k is on
//   n        a new note (the timeline's capture box)
//   Ctrl-K   the quick switcher (⌘-K on a Mac; "Jump to…" in the header too): any entry,
//            node or run by a part of its title, from /switch.json as you type
//
// Single keys do nothing while the reader types in a field, or with Ctrl, Alt or ⌘ held.
(() => {
  "use strict";

  const typing = (target) => target instanceof Element
    && (target.closest("input, textarea, select, [contenteditable=''], [contenteditable='true']") !== null);

  // -- j / k through a list of entries --------------------------------------------------------
  const items = () => [...document.querySelectorAll("main li.entry, main li.result")];
  const current = () => {
    const active = document.activeElement;
    return active instanceof Element ? active.closest("li.entry, li.result") : null;
  };
  const move = (step) => {
    const all = items();
    if (!all.length) return;
    const at = all.indexOf(current());
    const next = all[at < 0 ? (step > 0 ? 0 : all.length - 1) : Math.min(Math.max(at + step, 0), all.length - 1)];
    next.tabIndex = -1;
    next.focus({ preventScroll: true });
    next.scrollIntoView({ block: "nearest" });
  };
  const open = () => {
    const item = current();
    if (!item || document.activeElement !== item) return false;
    const link = item.querySelector("a.title") || item.querySelector("a[href]");
    if (link) window.location.assign(link.href);
    return Boolean(link);
  };

  // -- n: a new note ----------------------------------------------------------------------------
  const capture = () => document.getElementById("capture-text");
  const newNote = () => {
    const box = capture();
    if (!box) { window.location.assign("/#new-note"); return; } // no element has that id: nothing takes the focus back
    box.scrollIntoView({ block: "center" });
    box.focus();
  };
  if (window.location.hash === "#new-note" && capture()) newNote();

  // -- /: search ---------------------------------------------------------------------------------
  const search = () => {
    const box = document.querySelector("main input[type='search']");
    if (!box) { window.location.assign("/search"); return; }
    box.focus();
    box.select();
  };

  // -- the quick switcher ------------------------------------------------------------------------
  let dialog = null;
  const build = () => {
    dialog = document.createElement("dialog");
    dialog.className = "switcher";
    dialog.setAttribute("aria-label", "Jump to an entry, node or run");
    const input = document.createElement("input");
    input.className = "switcher-input";
    input.type = "text";
    input.autocomplete = "off";
    input.spellcheck = false;
    input.placeholder = "Jump to: part of the title of an entry, a node or a run";
    input.setAttribute("role", "combobox");
    input.setAttribute("aria-label", "Jump to");
    input.setAttribute("aria-autocomplete", "list");
    input.setAttribute("aria-controls", "switcher-results");
    input.setAttribute("aria-expanded", "false");
    const list = document.createElement("ol");
    list.id = "switcher-results";
    list.className = "switcher-results";
    list.setAttribute("role", "listbox");
    list.setAttribute("aria-label", "Matches");
    const status = document.createElement("p");
    status.className = "switcher-status";
    status.setAttribute("aria-live", "polite");
    const hint = "Type the start of any word of a title. ↑ ↓ to choose, Enter to open, Esc to close.";
    status.textContent = hint;
    dialog.append(input, list, status);
    document.body.append(dialog);

    let selected = -1;
    let asked = 0;
    let timer = null;
    let controller = null;
    const options = () => [...list.querySelectorAll("[role='option']")];
    const select = (index) => {
      const all = options();
      selected = all.length ? (index + all.length) % all.length : -1;
      all.forEach((option, n) => option.setAttribute("aria-selected", String(n === selected)));
      if (selected >= 0) {
        input.setAttribute("aria-activedescendant", all[selected].id);
        all[selected].scrollIntoView({ block: "nearest" });
      } else {
        input.removeAttribute("aria-activedescendant");
      }
    };
    const show = (query, results) => {
      list.replaceChildren(...results.map((r, n) => {
        const item = document.createElement("li");
        item.id = `switcher-option-${n}`;
        item.setAttribute("role", "option");
        const link = document.createElement("a");
        link.href = r.href;
        link.tabIndex = -1;
        const what = document.createElement("span");
        what.className = "what kind";
        what.textContent = r.kind === r.detail ? r.kind : `${r.kind} · ${r.detail}`;
        const name = document.createElement("span");
        name.className = "name";
        name.textContent = r.title;
        const short = document.createElement("span");
        short.className = "short";
        short.textContent = r.short;
        link.append(what, name, short);
        item.append(link);
        return item;
      }));
      input.setAttribute("aria-expanded", String(results.length > 0));
      select(0);
      status.textContent = !query.trim() ? hint
        : results.length ? `${results.length} match${results.length === 1 ? "" : "es"}. Enter opens the one chosen.`
          : "Nothing you can open has a title with these words.";
      dialog.dataset.shown = query;
    };
    const ask = async (query) => {
      const mine = ++asked;
      if (controller) controller.abort();
      if (!query.trim()) { show(query, []); return; }
      controller = new AbortController();
      try {
        const response = await fetch(`/switch.json?q=${encodeURIComponent(query)}`,
          { headers: { Accept: "application/json" }, signal: controller.signal });
        const body = await response.json();
        if (mine !== asked) return; // an older answer, after a newer question
        if (!response.ok) { show(query, []); status.textContent = body.error || "Could not look that up."; return; }
        show(query, body.results);
      } catch (error) {
        if (error.name !== "AbortError" && mine === asked) status.textContent = "Could not look that up.";
      }
    };
    input.addEventListener("input", () => {
      clearTimeout(timer);
      timer = setTimeout(() => ask(input.value), 80);
    });
    input.addEventListener("keydown", (event) => {
      if (event.key === "ArrowDown" || (event.key === "n" && event.ctrlKey)) { event.preventDefault(); select(selected + 1); }
      else if (event.key === "ArrowUp" || (event.key === "p" && event.ctrlKey)) { event.preventDefault(); select(selected - 1); }
      else if (event.key === "Enter") {
        event.preventDefault();
        const link = options()[selected]?.querySelector("a");
        if (link) window.location.assign(link.href);
      }
    });
    dialog.addEventListener("click", (event) => { if (event.target === dialog) dialog.close(); }); // the backdrop
    dialog.addEventListener("close", () => { document.documentElement.classList.remove("switching"); });
  };
  const openSwitcher = () => {
    if (!dialog) build();
    if (dialog.open) return;
    const input = dialog.querySelector("input");
    dialog.showModal();
    document.documentElement.classList.add("switching");
    input.select();
    input.focus();
  };
  const jump = document.getElementById("jump");
  if (jump) {
    jump.addEventListener("click", (event) => {
      if (event.button !== 0 || event.ctrlKey || event.metaKey || event.shiftKey || event.altKey) return; // a new tab: the page
      event.preventDefault();
      openSwitcher();
    });
    if (/Mac|iPhone|iPad/.test(navigator.platform || navigator.userAgent)) {
      const hint = jump.querySelector(".hint");
      if (hint) hint.textContent = "⌘ K";
    }
  }

  // -- the keys ------------------------------------------------------------------------------------
  document.addEventListener("keydown", (event) => {
    if ((event.ctrlKey || event.metaKey) && !event.altKey && !event.shiftKey && event.key.toLowerCase() === "k") {
      event.preventDefault();
      openSwitcher();
      return;
    }
    if (event.defaultPrevented || event.ctrlKey || event.metaKey || event.altKey || event.isComposing) return;
    if ((dialog && dialog.open) || typing(event.target)) return;
    if (event.key === "/") { event.preventDefault(); search(); }
    else if (event.key === "j") { event.preventDefault(); move(1); }
    else if (event.key === "k") { event.preventDefault(); move(-1); }
    else if (event.key === "n") { event.preventDefault(); newNote(); }
    else if (event.key === "Enter" && open()) event.preventDefault();
  });
})();
