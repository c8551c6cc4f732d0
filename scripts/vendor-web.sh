#!/usr/bin/env bash
# Refresh the vendored front-end files from the npm registry (run from the repository root).
set -euo pipefail
HTMX=2.0.11
UPLOT=1.6.32
SWAGGER=5.35.0
out=src/upstack/web/static/vendor
work=$(mktemp -d)
trap 'rm -rf "$work"' EXIT
(cd "$work" && npm pack "htmx.org@$HTMX" "uplot@$UPLOT" "swagger-ui-dist@$SWAGGER" >/dev/null)
tar xzf "$work/htmx.org-$HTMX.tgz" -C "$work" && mv "$work/package" "$work/htmx"
tar xzf "$work/uplot-$UPLOT.tgz" -C "$work" && mv "$work/package" "$work/uplot"
tar xzf "$work/swagger-ui-dist-$SWAGGER.tgz" -C "$work" && mv "$work/package" "$work/swagger"
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
echo "vendored htmx $HTMX, uPlot $UPLOT and Swagger UI $SWAGGER into $out"
