#!/usr/bin/env bash
# Refresh the vendored front-end files from the npm registry (run from the repository root).
set -euo pipefail
HTMX=2.0.11
UPLOT=1.6.32
SWAGGER=5.35.0
KATEX=0.19.1
AXE=4.14.1
out=src/upstack/web/static/vendor
tests_out=tests/vendor  # for the tests only: never served
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack "htmx.org@$HTMX" "uplot@$UPLOT" "swagger-ui-dist@$SWAGGER" "katex@$KATEX" \
    "axe-core@$AXE" >/dev/null)
tar xzf "$work/htmx.org-$HTMX.tgz" -C "$work" && mv "$work/package" "$work/htmx"
tar xzf "$work/uplot-$UPLOT.tgz" -C "$work" && mv "$work/package" "$work/uplot"
tar xzf "$work/swagger-ui-dist-$SWAGGER.tgz" -C "$work" && mv "$work/package" "$work/swagger"
tar xzf "$work/katex-$KATEX.tgz" -C "$work" && mv "$work/package" "$work/katex"
tar xzf "$work/axe-core-$AXE.tgz" -C "$work" && mv "$work/package" "$work/axe"
cp "$work/htmx/dist/htmx.min.js" "$out/htmx-$HTMX.min.js"
cp "$work/htmx/LICENSE" "$out/htmx.LICENSE"
cp "$work/uplot/dist/uPlot.iife.min.js" "$out/uPlot-$UPLOT.iife.min.js"
cp "$work/uplot/dist/uPlot.min.css" "$out/uPlot-$UPLOT.min.css"
cp "$work/uplot/LICENSE" "$out/uPlot.LICENSE"
cp "$work/swagger/swagger-ui-bundle.js" "$out/swagger-ui-bundle-$SWAGGER.js"
cp "$work/swagger/swagger-ui-bundle.js.LICENSE.txt" "$out/swagger-ui-bundle-$SWAGGER.js.LICENSE.txt"
cp "$work/swagger/swagger-ui.css" "$out/swagger-ui-$SWAGGER.css"
cp "$work/swagger/LICENSE" "$out/swagger-ui.LICENSE"
cp "$work/swagger/NOTICE" "$out/swagger-ui.NOTICE"
# KaTeX: its script, stylesheet and fonts (the WOFF2 ones: every browser the app supports reads them,
# and the stylesheet names them first), in a folder of their own since the stylesheet finds fonts/ beside it.
rm -rf "$out/katex-"*
mkdir -p "$out/katex-$KATEX/fonts"
cp "$work/katex/dist/katex.min.js" "$work/katex/dist/katex.min.css" "$out/katex-$KATEX/"
cp "$work/katex/dist/fonts/"*.woff2 "$out/katex-$KATEX/fonts/"
cp "$work/katex/LICENSE" "$out/katex.LICENSE"
mkdir -p "$tests_out"
cp "$work/axe/axe.min.js" "$tests_out/axe-$AXE.min.js"
cp "$work/axe/LICENSE" "$tests_out/axe.LICENSE"
echo "vendored htmx $HTMX, uPlot $UPLOT, Swagger UI $SWAGGER and KaTeX $KATEX into $out; axe-core $AXE into $tests_out"
