"""The demo's figures and tables as real files, made without plotting libraries.

SVG charts are written as text, the PNG heatmap with zlib and struct (and a 3 × 5
pixel font for its axes), the tables with :mod:`csv`. The numbers are the ones the
demo story quotes.

Example:
    >>> write_figures(Path("figures"))["head_patching_heatmap.png"]  # doctest: +SKIP
    PosixPath('figures/head_patching_heatmap.png')
"""

from __future__ import annotations

import csv
import html
import random
import struct
import zlib
from collections.abc import Sequence
from pathlib import Path

from upstack.domain.run import tick_labels

__all__ = ["write_figures", "curve_svg"]


# Fraction of logit diff recovered by patching the clean resid_pre into the ABC run.
_RESID_S2 = [0.98, 0.97, 0.97, 0.96, 0.95, 0.95, 0.93, 0.81, 0.55, 0.31, 0.08, 0.02]
_RESID_END = [0.00, 0.00, 0.01, 0.01, 0.02, 0.03, 0.05, 0.19, 0.58, 0.84, 0.98, 1.00]

_HEAD_ROLES = {
    (9, 9): (0.55, "name mover"), (9, 6): (0.38, "name mover"), (10, 0): (0.22, "name mover"),
    (10, 7): (-0.31, "negative name mover"), (11, 10): (-0.24, "negative name mover"),
    (7, 3): (0.09, "S-inhibition"), (7, 9): (0.12, "S-inhibition"),
    (8, 6): (0.15, "S-inhibition"), (8, 10): (0.11, "S-inhibition"),
    (5, 5): (0.03, "induction"), (6, 9): (0.02, "induction"),
    (0, 1): (0.01, "duplicate token"), (3, 0): (0.02, "duplicate token"),
}

_ABLATIONS = [
    ("full model", 3.52), ("− name movers", 0.98), ("− S-inhibition", 1.41),
    ("− duplicate token", 2.47), ("− induction", 2.61), ("− previous token", 2.88),
    ("− negative name movers", 4.07),
]

# width, l1, L0, normalised MSE, dead fraction, CE loss recovered, tokens
_SAE_SWEEP = [
    (1024, 5e-4, 61, 0.182, 0.01, 0.89), (2048, 5e-4, 55, 0.141, 0.02, 0.91),
    (4096, 5e-4, 49, 0.109, 0.04, 0.93), (8192, 5e-4, 46, 0.087, 0.11, 0.95),
    (16384, 5e-4, 44, 0.079, 0.27, 0.96), (32768, 5e-4, 43, 0.074, 0.41, 0.96),
]


def _head_effects() -> list[list[float]]:
    """The 12 × 12 (layer × head) patching effects behind the heatmap and its CSV."""
    noise = random.Random(1729)
    return [[_HEAD_ROLES[(layer, head)][0] if (layer, head) in _HEAD_ROLES
             else round(noise.uniform(-0.025, 0.025), 3) for head in range(12)]
            for layer in range(12)]


def write_figures(folder: Path) -> dict[str, Path]:
    """Write the demo's figures and tables into ``folder``; name → path."""
    effects = _head_effects()
    widths = [f"{w // 1024}k" for w, *_ in _SAE_SWEEP]
    files: dict[str, str | bytes] = {
        "logit_diff_by_layer.svg": _svg_line_chart(
            "Residual-stream patching, clean → ABC", [str(n) for n in range(12)],
            {"resid_pre at S2": _RESID_S2, "resid_pre at END": _RESID_END},
            x_title="layer", y_title="fraction of logit diff recovered", y_max=1.0),
        "head_patching_heatmap.png": _heatmap_png(effects, limit=0.6),
        "ablation_by_class.svg": _svg_bar_chart(
            "Logit diff after mean-ablating each head class", _ABLATIONS,
            x_title="logit diff (IO − S), 650 prompts"),
        "sae_width_sweep.svg": _svg_line_chart(
            "SAE on resid_pre layer 8: width sweep (no resampling)", widths,
            {"normalised MSE": [row[3] for row in _SAE_SWEEP],
             "dead fraction": [row[4] for row in _SAE_SWEEP]},
            x_title="dictionary width", y_title="fraction", y_max=0.5),
    }
    paths = {}
    for name, content in files.items():
        path = folder / name
        if isinstance(content, bytes):
            path.write_bytes(content)
        else:
            path.write_text(content, encoding="utf-8")
        paths[name] = path
    paths["head_patching_effects.csv"] = _write_csv(
        folder / "head_patching_effects.csv", ["layer", "head", "fraction_recovered", "role"],
        [[layer, head, effects[layer][head], _HEAD_ROLES.get((layer, head), (0, ""))[1]]
         for layer in range(12) for head in range(12)])
    paths["sae_sweep.csv"] = _write_csv(
        folder / "sae_sweep.csv",
        ["width", "l1_coefficient", "l0", "normalised_mse", "dead_fraction", "ce_recovered"],
        [list(row) for row in _SAE_SWEEP])
    return paths


def _write_csv(path: Path, header: list[str], rows: list[list[object]]) -> Path:
    with open(path, "w", newline="", encoding="utf-8") as handle:
        writer = csv.writer(handle)
        writer.writerow(header)
        writer.writerows(rows)
    return path


# -- SVG charts, written as text -------------------------------------------------------

_COLORS = ("#1f77b4", "#d62728", "#2ca02c", "#9467bd")
_SVG_FONT = 'font-family="Helvetica, Arial, sans-serif"'


def _svg(width: int, height: int, parts: list[str]) -> str:
    return (f'<svg xmlns="http://www.w3.org/2000/svg" width="{width}" height="{height}" '
            f'viewBox="0 0 {width} {height}" {_SVG_FONT} font-size="12">\n'
            f'<rect width="100%" height="100%" fill="white"/>\n' + "\n".join(parts) + "\n</svg>\n")


def _text(x: float, y: float, text: str, **attrs: str | float) -> str:
    extra = "".join(f' {k.replace("_", "-")}="{v}"' for k, v in attrs.items())
    return f'<text x="{x:.1f}" y="{y:.1f}"{extra}>{html.escape(text)}</text>'


def curve_svg(title: str, values: Sequence[float], *, y_title: str, y_max: float, points: int = 25) -> str:
    """One metric's curve as an SVG line chart, thinned to ``points`` points."""
    every = max(1, len(values) // points)
    kept = list(range(0, len(values), every))
    return _svg_line_chart(title, [str(i) if n % 5 == 0 else "" for n, i in enumerate(kept)],
                           {y_title: [values[i] for i in kept]}, x_title="step", y_title=y_title, y_max=y_max)


def _svg_line_chart(title: str, x_labels: Sequence[str], series: dict[str, Sequence[float]], *,
                   x_title: str, y_title: str, y_max: float, y_ticks: int = 5) -> str:
    """A line chart with evenly spaced categories on x and a linear y from 0 to ``y_max``."""
    width, height = 680, 400
    left, right, top, bottom = 70, 170, 50, 60
    plot_w, plot_h = width - left - right, height - top - bottom
    step = plot_w / max(len(x_labels) - 1, 1)

    def x_at(i: int) -> float:
        return left + i * step

    def y_at(value: float) -> float:
        return top + plot_h * (1 - value / y_max)

    parts = [_text(width / 2, 28, title, text_anchor="middle", font_size=15, font_weight="bold")]
    ticks = [y_max * tick / y_ticks for tick in range(y_ticks + 1)]
    for value, label in zip(ticks, tick_labels(ticks), strict=True):
        y = y_at(value)
        parts.append(f'<line x1="{left}" y1="{y:.1f}" x2="{left + plot_w}" y2="{y:.1f}" '
                     'stroke="#e5e5e5"/>')
        parts.append(_text(left - 8, y + 4, label, text_anchor="end"))
    for i, label in enumerate(x_labels):
        parts.append(_text(x_at(i), top + plot_h + 18, label, text_anchor="middle"))
    parts.append(f'<path d="M{left} {top} V{top + plot_h} H{left + plot_w}" fill="none" '
                 'stroke="#333"/>')
    parts.append(_text(left + plot_w / 2, height - 16, x_title, text_anchor="middle"))
    parts.append(_text(18, top + plot_h / 2, y_title, text_anchor="middle",
                       transform=f"rotate(-90 18 {top + plot_h / 2:.1f})"))
    for n, (name, values) in enumerate(series.items()):
        color = _COLORS[n % len(_COLORS)]
        points = " ".join(f"{x_at(i):.1f},{y_at(v):.1f}" for i, v in enumerate(values))
        parts.append(f'<polyline points="{points}" fill="none" stroke="{color}" '
                     'stroke-width="2.5"/>')
        parts.extend(f'<circle cx="{x_at(i):.1f}" cy="{y_at(v):.1f}" r="3.5" fill="{color}"/>'
                     for i, v in enumerate(values))
        legend_y = top + 10 + 22 * n
        parts.append(f'<line x1="{left + plot_w + 16}" y1="{legend_y}" '
                     f'x2="{left + plot_w + 40}" y2="{legend_y}" stroke="{color}" '
                     'stroke-width="2.5"/>')
        parts.append(_text(left + plot_w + 46, legend_y + 4, name))
    return _svg(width, height, parts)


def _svg_bar_chart(title: str, bars: Sequence[tuple[str, float]], *, x_title: str) -> str:
    """Horizontal bars, the first one (the reference) in grey, each labelled with its value."""
    bar_h, gap = 26, 10
    left, right, top = 170, 60, 50
    plot_w = 420
    width = left + plot_w + right
    height = top + len(bars) * (bar_h + gap) + 50
    scale = plot_w / max(value for _, value in bars)
    parts = [_text(width / 2, 28, title, text_anchor="middle", font_size=15, font_weight="bold")]
    for i, (label, value) in enumerate(bars):
        y = top + i * (bar_h + gap)
        color = "#999999" if i == 0 else _COLORS[0]
        parts.append(f'<rect x="{left}" y="{y}" width="{value * scale:.1f}" height="{bar_h}" '
                     f'fill="{color}"/>')
        parts.append(_text(left - 8, y + bar_h / 2 + 4, label, text_anchor="end"))
        parts.append(_text(left + value * scale + 6, y + bar_h / 2 + 4, f"{value:.2f}"))
    reference = bars[0][1] * scale + left
    bottom = top + len(bars) * (bar_h + gap)
    parts.append(f'<line x1="{reference:.1f}" y1="{top - 6}" x2="{reference:.1f}" '
                 f'y2="{bottom}" stroke="#555" stroke-dasharray="4 3"/>')
    parts.append(f'<line x1="{left}" y1="{top - 6}" x2="{left}" y2="{bottom}" stroke="#333"/>')
    parts.append(_text(left + plot_w / 2, bottom + 28, x_title, text_anchor="middle"))
    return _svg(width, height, parts)


# -- a PNG heatmap, written with zlib and struct ---------------------------------------

# 3 × 5 pixel glyphs, rows top to bottom: just what the axes need.
_GLYPHS = {
    "0": "111 101 101 101 111", "1": "010 110 010 010 111", "2": "111 001 111 100 111",
    "3": "111 001 111 001 111", "4": "101 101 111 001 001", "5": "111 100 111 001 111",
    "6": "111 100 111 101 111", "7": "111 001 001 001 001", "8": "111 101 111 101 111",
    "9": "111 101 111 001 111", "-": "000 000 111 000 000", ".": "000 000 000 000 010",
    "+": "000 010 111 010 000", " ": "000 000 000 000 000", "L": "100 100 100 100 111",
    "A": "010 101 111 101 101", "Y": "101 101 010 010 010", "E": "111 100 110 100 111",
    "R": "110 101 110 101 101", "H": "101 101 111 101 101", "D": "110 101 101 101 110",
}

_Color = tuple[int, int, int]


class _Canvas:
    def __init__(self, width: int, height: int) -> None:
        self.width, self.height = width, height
        self.pixels = bytearray(b"\xff" * (width * height * 3))

    def rect(self, x: int, y: int, width: int, height: int, color: _Color) -> None:
        row_bytes = bytes(color) * width
        for row in range(y, y + height):
            start = (row * self.width + x) * 3
            self.pixels[start:start + width * 3] = row_bytes

    def text(self, x: int, y: int, text: str, scale: int = 2,
             color: _Color = (40, 40, 40)) -> None:
        for n, char in enumerate(text):
            for row, bits in enumerate(_GLYPHS[char].split()):
                for col, bit in enumerate(bits):
                    if bit == "1":
                        self.rect(x + (n * 4 + col) * scale, y + row * scale, scale, scale, color)

    def png(self) -> bytes:
        stride = self.width * 3
        raw = b"".join(b"\x00" + bytes(self.pixels[r * stride:(r + 1) * stride])
                       for r in range(self.height))
        header = struct.pack(">IIBBBBB", self.width, self.height, 8, 2, 0, 0, 0)
        return (b"\x89PNG\r\n\x1a\n" + _png_chunk(b"IHDR", header)
                + _png_chunk(b"IDAT", zlib.compress(raw, 9)) + _png_chunk(b"IEND", b""))


def _png_chunk(kind: bytes, data: bytes) -> bytes:
    return (struct.pack(">I", len(data)) + kind + data
            + struct.pack(">I", zlib.crc32(kind + data) & 0xFFFFFFFF))


def _diverging(value: float, limit: float) -> _Color:
    """White at 0, red for positive, blue for negative (like RdBu), clipped at ±limit."""
    t = max(-1.0, min(1.0, value / limit))
    end = (178, 24, 43) if t > 0 else (33, 102, 172)
    return tuple(round(255 + (c - 255) * abs(t)) for c in end)  # type: ignore[return-value]


def _heatmap_png(values: list[list[float]], *, limit: float, cell: int = 22) -> bytes:
    """Rows are layers (0 at the top), columns heads, with tick labels and a colour bar."""
    rows, cols = len(values), len(values[0])
    left, top = 44, 30
    grid_w, grid_h = cols * cell, rows * cell
    bar_x = left + grid_w + 16
    canvas = _Canvas(bar_x + 14 + 48, top + grid_h + 48)
    canvas.text(4, 8, "LAYER")
    for layer in range(rows):
        canvas.text(left - 8 - len(str(layer)) * 8, top + layer * cell + 6, str(layer))
        for head in range(cols):
            canvas.rect(left + head * cell + 1, top + layer * cell + 1, cell - 1, cell - 1,
                        _diverging(values[layer][head], limit))
    for head in range(cols):
        label = str(head)
        canvas.text(left + head * cell + (cell - len(label) * 8 + 2) // 2, top + grid_h + 6,
                    label)
    canvas.text(left + grid_w // 2 - 16, top + grid_h + 28, "HEAD")
    for y in range(grid_h):
        canvas.rect(bar_x, top + y, 14, 1, _diverging(limit * (1 - 2 * y / grid_h), limit))
    for text, y in ((f"+{limit:g}", top), ("0", top + grid_h // 2 - 5),
                    (f"-{limit:g}", top + grid_h - 10)):
        canvas.text(bar_x + 18, y, text)
    return canvas.png()
