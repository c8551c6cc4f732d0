"""Turn what a training script hands to ``run.figure`` and ``run.table`` into files to store.

Capture must stay import-light: no plotting, image or array library is imported when
this module loads, and none that the caller did not pass. Objects are recognised by the
modules their classes come from (``type(obj).__mro__``), then drawn with their own methods.

Example:
    >>> [item.suffix for item in render_figure(fig)]  # doctest: +SKIP
    ['.png', '.svg']
    >>> files, columns, rows = render_table([{"width": 1024, "loss": 0.182}])
    >>> columns, rows
    (['width', 'loss'], [['1024', '0.182']])
"""

from __future__ import annotations

import contextlib
import csv
import io
import mimetypes
import numbers
import os
import struct
import sys
import zlib
from collections.abc import Mapping, Sequence
from dataclasses import dataclass
from pathlib import Path
from typing import Any

from upstack.errors import BadInput

__all__ = ["Rendered", "render_figure", "render_table", "table_markdown"]

_PNG = "image/png"
_PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
# PNG colour type by channel count: grayscale, RGB, RGBA (all 8 bits per sample).
_PNG_COLOUR_TYPES = {1: 0, 3: 2, 4: 6}
_FIGURE_TYPES = "run.figure() takes a matplotlib, plotly or PIL figure, an image array or a file path"
_TABLE_TYPES = "run.table() takes a list of dicts, a list of rows, a dict of columns or a pandas DataFrame"


@dataclass(frozen=True)
class Rendered:
    """One file made from a figure or a table.

    Attributes:
        suffix: How the file name ends, e.g. ``".png"`` or ``".plotly.json"``.
        data: The file's bytes.
        media_type: Its MIME type, e.g. ``"image/png"``.
    """

    suffix: str
    data: bytes
    media_type: str


def render_figure(figure: Any = None) -> list[Rendered]:
    """Render a figure into files; the first is the picture to show inline (PNG where possible).

    Args:
        figure: A matplotlib Figure or Axes, a plotly Figure, a PIL Image, a numpy array of
            shape (H, W), (H, W, 3) or (H, W, 4), or a path to an existing file. ``None``
            takes pyplot's current figure, for notebooks that just drew one.

    Raises:
        BadInput: Nothing to capture, a missing file, or an object of another kind.
    """
    if figure is None:
        return _render_matplotlib(_current_pyplot_figure())
    if isinstance(figure, str | os.PathLike):
        return [_render_file(figure)]
    matplotlib_figure = _matplotlib_figure(figure)
    if matplotlib_figure is not None:
        return _render_matplotlib(matplotlib_figure)
    if _comes_from(figure, "plotly") and hasattr(figure, "to_json"):
        return _render_plotly(figure)
    if _comes_from(figure, "PIL") and hasattr(figure, "save"):
        return [_render_pil(figure)]
    if _has_base(figure, "numpy", "ndarray"):
        return [_render_array(figure)]
    raise BadInput(f"{_FIGURE_TYPES}; got {_describe(figure)}")


def render_table(rows: Any) -> tuple[list[Rendered], list[str], list[list[str]]]:
    """Render a table as CSV, with its column names and every row as display strings.

    Args:
        rows: A list of dicts (columns in first-seen key order), a list of lists or tuples
            (columns ``"0"``, ``"1"``, ...), a dict of equal-length columns, or a pandas DataFrame.

    Raises:
        BadInput: An empty table, ragged columns, or an object of another kind.
    """
    if _has_base(rows, "pandas", "DataFrame"):
        return _render_dataframe(rows)
    columns, records = _table_records(rows)
    buffer = io.StringIO()
    # "\n" rather than csv's "\r\n", so lists and DataFrames give the same bytes.
    writer = csv.writer(buffer, lineterminator="\n")
    writer.writerow(columns)
    writer.writerows(records)
    csv_file = Rendered(".csv", buffer.getvalue().encode("utf-8"), "text/csv")
    return [csv_file], columns, [[_display(value) for value in record] for record in records]


def table_markdown(columns: list[str], rows: list[list[str]], limit: int = 20) -> str:
    """A GitHub-flavoured Markdown table of the first ``limit`` rows, noting any left out.

    Example:
        >>> print(table_markdown(["a", "b"], [["1", "x|y"]]))
        | a | b |
        | --- | --- |
        | 1 | x\\|y |
    """
    if not columns:
        return ""
    width = len(columns)
    shown = rows[: max(limit, 0)]
    lines = [_markdown_row(columns), "| " + " | ".join(["---"] * width) + " |"]
    lines += [_markdown_row((list(row) + [""] * width)[:width]) for row in shown]
    hidden = len(rows) - len(shown)
    if hidden > 0:
        # The blank line ends the table; without it GFM would read the note as one more row.
        lines += ["", f"… and {hidden} more {'row' if hidden == 1 else 'rows'} (full table attached)"]
    return "\n".join(lines)


# --- recognising objects without importing their libraries -----------------------------


def _describe(obj: object) -> str:
    kind = type(obj)
    return f"{kind.__module__}.{kind.__qualname__}"


def _comes_from(obj: object, library: str) -> bool:
    """Whether the class of ``obj``, or a base class, is defined in ``library`` or its submodules."""
    return any(_module_of(cls) == library or _module_of(cls).startswith(library + ".") for cls in type(obj).__mro__)


def _has_base(obj: object, library: str, name: str) -> bool:
    """Whether ``obj`` is an instance of ``library``'s class ``name``, a subclass included."""
    return any(cls.__name__ == name and _module_of(cls).split(".")[0] == library for cls in type(obj).__mro__)


def _module_of(cls: type) -> str:
    module = getattr(cls, "__module__", None)
    return module if isinstance(module, str) else ""


# --- figures ----------------------------------------------------------------------------


def _current_pyplot_figure() -> Any:
    # Only look: importing pyplot here would pick a backend behind the user's back.
    pyplot = sys.modules.get("matplotlib.pyplot")
    if pyplot is None or not pyplot.get_fignums():
        raise BadInput("no figure given and no open matplotlib figure")
    return pyplot.gcf()


def _matplotlib_figure(obj: object) -> Any:
    """The matplotlib Figure behind ``obj``, or ``None``; Axes (and seaborn's grids) keep it in ``.figure``."""
    for candidate in (obj, getattr(obj, "figure", None)):
        if candidate is not None and _comes_from(candidate, "matplotlib") and hasattr(candidate, "savefig"):
            return candidate
    return None


def _render_matplotlib(figure: Any) -> list[Rendered]:
    rendered = []
    for image_format, media_type in (("png", _PNG), ("svg", "image/svg+xml")):
        buffer = io.BytesIO()
        figure.savefig(buffer, format=image_format, dpi=100, bbox_inches="tight")
        rendered.append(Rendered(f".{image_format}", buffer.getvalue(), media_type))
    return rendered


def _render_plotly(figure: Any) -> list[Rendered]:
    rendered = []
    # Static export needs kaleido (and a browser it can drive); without them the figure's own
    # JSON still carries the whole figure, so a failure only skips the PNG. (A self-contained
    # HTML page would add 4.8 MB of plotly.js to every figure.)
    with contextlib.suppress(Exception):
        rendered.append(Rendered(".png", bytes(figure.to_image(format="png")), _PNG))
    rendered.append(Rendered(".plotly.json", figure.to_json().encode("utf-8"), "application/vnd.plotly.v1+json"))
    return rendered


def _render_pil(image: Any) -> Rendered:
    buffer = io.BytesIO()
    try:
        image.save(buffer, format="PNG")
    except OSError:
        # PNG has no CMYK, float or premultiplied modes; RGBA keeps colour and transparency.
        buffer = io.BytesIO()
        try:
            image.convert("RGBA").save(buffer, format="PNG")
        except (OSError, ValueError) as exc:
            raise BadInput(f"cannot save a PIL image of mode {image.mode} as PNG: {exc}") from exc
    return Rendered(".png", buffer.getvalue(), _PNG)


def _render_array(array: Any) -> Rendered:
    import numpy  # the caller passed an ndarray, so numpy is loaded already

    shape = tuple(array.shape)
    if len(shape) == 2:
        channels = 1
    elif len(shape) == 3 and shape[2] in (3, 4):
        channels = shape[2]
    else:
        raise BadInput(f"an image array must have shape (H, W), (H, W, 3) or (H, W, 4); got {shape}")
    if shape[0] == 0 or shape[1] == 0:
        raise BadInput(f"an image array must not be empty; got shape {shape}")
    kind = array.dtype.kind
    if kind not in "biuf":
        raise BadInput(f"an image array must hold numbers; got dtype {array.dtype}")
    values = numpy.asarray(array, dtype=numpy.float64)
    if kind == "f":
        # Floats are intensities in [0, 1]; NaN has no colour, so it is drawn black.
        values = numpy.clip(numpy.nan_to_num(values, nan=0.0, posinf=1.0, neginf=0.0), 0.0, 1.0) * 255.0
    elif kind == "b":
        values = values * 255.0  # a mask: False black, True white
    pixels = numpy.rint(numpy.clip(values, 0.0, 255.0)).astype(numpy.uint8)
    return Rendered(".png", _encode_png(pixels.tobytes(), shape[1], shape[0], channels), _PNG)


def _encode_png(pixels: bytes, width: int, height: int, channels: int) -> bytes:
    """An 8-bit PNG from row-major pixel bytes; made by hand so that arrays need no PIL."""
    stride = width * channels
    # Each scanline starts with its filter type; 0 stores the bytes as they are.
    scanlines = b"".join(b"\x00" + pixels[row * stride : (row + 1) * stride] for row in range(height))
    header = struct.pack(">IIBBBBB", width, height, 8, _PNG_COLOUR_TYPES[channels], 0, 0, 0)
    return (_PNG_SIGNATURE + _png_chunk(b"IHDR", header) + _png_chunk(b"IDAT", zlib.compress(scanlines, 6))
            + _png_chunk(b"IEND", b""))


def _png_chunk(tag: bytes, data: bytes) -> bytes:
    return struct.pack(">I", len(data)) + tag + data + struct.pack(">I", zlib.crc32(tag + data) & 0xFFFFFFFF)


def _render_file(figure: str | os.PathLike[str]) -> Rendered:
    path = Path(figure).expanduser()
    if not path.is_file():
        raise BadInput(f"figure file not found: {path}")
    try:
        data = path.read_bytes()
    except OSError as exc:
        raise BadInput(f"cannot read figure file {path}: {exc.strerror or exc}") from exc
    media_type = mimetypes.guess_type(path.name)[0] or "application/octet-stream"
    return Rendered(path.suffix.lower(), data, media_type)


# --- tables -----------------------------------------------------------------------------


def _render_dataframe(frame: Any) -> tuple[list[Rendered], list[str], list[list[str]]]:
    if frame.shape[0] == 0 or frame.shape[1] == 0:
        raise BadInput(f"run.table() got an empty DataFrame (shape {tuple(frame.shape)})")
    csv_text = frame.to_csv(index=False, lineterminator="\n")
    columns = [str(name) for name in frame.columns]
    rows = [[_display(value) for value in record] for record in frame.itertuples(index=False, name=None)]
    return [Rendered(".csv", csv_text.encode("utf-8"), "text/csv")], columns, rows


def _table_records(rows: Any) -> tuple[list[str], list[list[Any]]]:
    """Column names and raw row values from a list of dicts, a list of rows or a dict of columns."""
    if isinstance(rows, Mapping):
        return _from_columns(rows)
    if not isinstance(rows, list | tuple):
        raise BadInput(f"{_TABLE_TYPES}; got {_describe(rows)}")
    if not rows:
        raise BadInput("run.table() got an empty table")
    if all(isinstance(row, Mapping) for row in rows):
        return _from_dicts(rows)
    if all(isinstance(row, list | tuple) for row in rows):
        return _from_lists(rows)
    raise BadInput("run.table() rows must be all dicts or all lists/tuples; got a mix or something else")


def _from_dicts(rows: Sequence[Mapping[Any, Any]]) -> tuple[list[str], list[list[Any]]]:
    keys: dict[Any, None] = {}  # a dict keeps first-seen order and drops repeats
    for row in rows:
        keys.update(dict.fromkeys(row))
    if not keys:
        raise BadInput("run.table() got an empty table (the dicts have no keys)")
    return [str(key) for key in keys], [[row.get(key, "") for key in keys] for row in rows]


def _from_lists(rows: Sequence[Sequence[Any]]) -> tuple[list[str], list[list[Any]]]:
    width = max(len(row) for row in rows)
    if width == 0:
        raise BadInput("run.table() got an empty table (the rows have no cells)")
    return [str(index) for index in range(width)], [list(row) + [""] * (width - len(row)) for row in rows]


def _from_columns(table: Mapping[Any, Any]) -> tuple[list[str], list[list[Any]]]:
    columns: list[list[Any]] = []
    for name, values in table.items():
        if not _is_column(values):
            raise BadInput(f"a dict passed to run.table() must map column names to lists; "
                           f"{name!r} is {_describe(values)}")
        columns.append(list(values))
    if not columns:
        raise BadInput("run.table() got an empty table")
    lengths = {len(values) for values in columns}
    if len(lengths) > 1:
        sizes = ", ".join(f"{name}={len(values)}" for name, values in zip(table, columns, strict=True))
        raise BadInput(f"run.table() columns must have equal lengths; got {sizes}")
    if lengths == {0}:
        raise BadInput("run.table() got an empty table (the columns have no values)")
    return [str(name) for name in table], [list(record) for record in zip(*columns, strict=True)]


def _is_column(values: object) -> bool:
    # Lists, tuples, numpy arrays and pandas Series all qualify; text and scalars do not.
    if isinstance(values, str | bytes | Mapping):
        return False
    return hasattr(values, "__len__") and hasattr(values, "__iter__")


def _display(value: Any) -> str:
    """How one cell reads in Markdown: six significant digits for floats, nothing for None."""
    if value is None:
        return ""
    if isinstance(value, str):
        return value
    # numbers.Real covers numpy's floats too; format() spells NaN and infinities "nan", "inf", "-inf".
    if isinstance(value, numbers.Real) and not isinstance(value, numbers.Integral):
        return format(float(value), ".6g")
    return str(value)


def _markdown_row(cells: Sequence[str]) -> str:
    return "| " + " | ".join(_markdown_cell(cell) for cell in cells) + " |"


def _markdown_cell(text: str) -> str:
    # Backslashes first, so a literal "\" before "|" cannot unescape the pipe.
    escaped = str(text).replace("\\", "\\\\").replace("|", "\\|")
    return escaped.replace("\r\n", "<br>").replace("\r", "<br>").replace("\n", "<br>")
