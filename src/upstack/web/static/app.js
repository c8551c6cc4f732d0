// Light progressive enhancement; every page works without it.
document.addEventListener("htmx:configRequest", (event) => {
  const csrf = document.querySelector('input[name="csrf"]');
  if (csrf) event.detail.headers["X-CSRF-Token"] = csrf.value;
});

// Paste or drop an image on an entry page to attach it.
(() => {
  const form = document.querySelector("form[data-paste-target]");
  if (!form) return;
  const send = async (files) => {
    if (!files.length) return;
    const data = new FormData();
    data.append("csrf", form.querySelector('input[name="csrf"]').value);
    for (const file of files) data.append("file", file, file.name || "pasted.png");
    const response = await fetch(form.action, { method: "POST", body: data, headers: { Accept: "application/json" } });
    if (response.ok) window.location.reload();
    else alert((await response.json().catch(() => ({}))).error || "Could not attach the file.");
  };
  document.addEventListener("paste", (event) => {
    const files = [...(event.clipboardData?.files || [])].filter((f) => f.type.startsWith("image/"));
    if (files.length) { event.preventDefault(); send(files); }
  });
  document.addEventListener("dragover", (event) => event.preventDefault());
  document.addEventListener("drop", (event) => {
    event.preventDefault();
    send([...(event.dataTransfer?.files || [])]);
  });
})();
