// Math in entries: the TeX the server kept (web/markdown_math.py) drawn by the vendored KaTeX.
//
// KaTeX and its stylesheet load only on a page that has math, and again for math that htmx
// brings in (the editor's preview). Without JavaScript the TeX stays as written. Each element
// drawn gets the class "rendered"; <html> gets data-math="rendered" once a page's math is done.
(() => {
  "use strict";
  const KATEX = "/static/vendor/katex-0.19.1/";
  let loading = null;

  const load = () => {
    if (loading) return loading;
    loading = new Promise((resolve, reject) => {
      const style = document.createElement("link");
      style.rel = "stylesheet";
      style.href = `${KATEX}katex.min.css`;
      document.head.append(style);
      const script = document.createElement("script");
      script.src = `${KATEX}katex.min.js`;
      script.onload = () => resolve(window.katex);
      script.onerror = () => reject(new Error("KaTeX did not load"));
      document.head.append(script);
    });
    return loading;
  };

  const draw = async (root) => {
    const found = [...root.querySelectorAll(".math:not(.rendered)")];
    if (!found.length) return;
    const katex = await load();
    for (const element of found) {
      const display = element.classList.contains("display");
      const text = element.textContent.trim();
      const marker = text.startsWith("$$") && text.endsWith("$$") && text.length >= 4 ? 2 : 1;
      const tex = text.slice(marker, text.length - marker);
      katex.render(tex, element, { displayMode: display, throwOnError: false, strict: "ignore", trust: false,
                                   output: "htmlAndMathml" });
      element.classList.add("rendered");
    }
  };

  const drawn = () => { document.documentElement.dataset.math = "rendered"; };
  draw(document).then(drawn, (error) => {
    document.documentElement.dataset.math = "failed";
    console.warn(String(error.message || error));
  });
  document.addEventListener("htmx:afterSwap", (event) => { draw(event.detail.target || document).catch(() => {}); });
})();
