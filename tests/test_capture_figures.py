"""Figures and tables become files: real matplotlib, plotly, PIL, numpy and pandas objects."""

from __future__ import annotations

import csv
import html
import io
import json
import re
import subprocess
import sys
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest

from upstack.capture.figures import Rendered, render_figure, render_table, table_markdown
from upstack.errors import BadInput

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
HEAVY_LIBRARIES = ("matplotlib", "numpy", "PIL", "pandas", "plotly")


def _loaded_after(code: str) -> list[str]:
    """Which heavy libraries a fresh interpreter has loaded after running ``code``."""
    probe = (f"import sys\n{code}\n"
             f"print(sorted({{name.split('.')[0] for name in sys.modules}} & set({HEAVY_LIBRARIES!r})))")
    result = subprocess.run([sys.executable, "-c", probe], capture_output=True, text=True, check=True)
    return json.loads(result.stdout.strip().replace("'", '"'))


@pytest.fixture
def pyplot() -> Iterator[Any]:
    matplotlib = pytest.importorskip("matplotlib")
    matplotlib.use("Agg")
    import matplotlib.pyplot as plt

    plt.close("all")
    yield plt
    plt.close("all")


def _read_png(data: bytes) -> Any:
    """Pixels as a numpy array, decoded by PIL (not by our encoder)."""
    image_module = pytest.importorskip("PIL.Image")
    numpy = pytest.importorskip("numpy")
    return numpy.asarray(image_module.open(io.BytesIO(data)))


# --- import lightness -------------------------------------------------------------------


def test_importing_the_module_loads_no_plotting_or_array_library() -> None:
    assert _loaded_after("import upstack.capture.figures") == []


def test_an_array_is_encoded_without_loading_pil_or_matplotlib() -> None:
    pytest.importorskip("numpy")
    code = ("import numpy\nfrom upstack.capture.figures import render_figure\n"
            "render_figure(numpy.zeros((2, 3), dtype=numpy.uint8))")
    assert _loaded_after(code) == ["numpy"]


# --- matplotlib -------------------------------------------------------------------------


def test_matplotlib_figure_gives_png_then_svg(pyplot: Any) -> None:
    figure, axes = pyplot.subplots()
    axes.plot([1, 2, 3], [0.3, 0.2, 0.1])
    axes.set_title("Reconstruction loss vs width")

    png, svg = render_figure(figure)

    assert (png.suffix, png.media_type) == (".png", "image/png")
    assert png.data.startswith(PNG_SIGNATURE)
    assert _read_png(png.data).ndim == 3
    assert (svg.suffix, svg.media_type) == (".svg", "image/svg+xml")
    assert svg.data.startswith(b"<?xml") or b"<svg" in svg.data


def test_matplotlib_axes_is_drawn_through_its_figure(pyplot: Any) -> None:
    _, axes = pyplot.subplots()
    axes.bar(["a", "b"], [1, 2])

    assert [item.suffix for item in render_figure(axes)] == [".png", ".svg"]


def test_matplotlib_figure_made_without_pyplot() -> None:
    matplotlib_figure = pytest.importorskip("matplotlib.figure")
    figure = matplotlib_figure.Figure(figsize=(2, 1))
    figure.add_subplot().plot([0, 1])

    png = render_figure(figure)[0]

    assert png.data.startswith(PNG_SIGNATURE)


def test_no_figure_takes_the_current_pyplot_figure(pyplot: Any) -> None:
    pyplot.figure(figsize=(2, 1))
    pyplot.plot([1, 2])

    rendered = render_figure()

    assert [item.suffix for item in rendered] == [".png", ".svg"]
    assert rendered[0].data.startswith(PNG_SIGNATURE)


def test_no_figure_and_nothing_open_is_bad_input(pyplot: Any) -> None:
    with pytest.raises(BadInput, match="no figure given and no open matplotlib figure"):
        render_figure()


def test_no_figure_and_pyplot_never_imported_is_bad_input(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.delitem(sys.modules, "matplotlib.pyplot", raising=False)
    with pytest.raises(BadInput, match="no open matplotlib figure"):
        render_figure(None)


# --- plotly -----------------------------------------------------------------------------


@pytest.fixture
def plotly_figure() -> Any:
    graph_objects = pytest.importorskip("plotly.graph_objects")
    return graph_objects.Figure(graph_objects.Scatter(x=[1024, 2048], y=[0.18, 0.14], name="loss"))


def test_plotly_without_static_export_gives_its_json(plotly_figure: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    def no_kaleido(self: Any, **kwargs: Any) -> bytes:
        raise RuntimeError("Image export requires the Kaleido package")

    monkeypatch.setattr(type(plotly_figure), "to_image", no_kaleido)

    (plotly_json,) = render_figure(plotly_figure)

    assert (plotly_json.suffix, plotly_json.media_type) == (".plotly.json", "application/vnd.plotly.v1+json")
    assert json.loads(plotly_json.data)["data"][0]["y"] == [0.18, 0.14]


def test_plotly_with_static_export_puts_the_png_first(plotly_figure: Any, monkeypatch: pytest.MonkeyPatch) -> None:
    def fake_png(self: Any, **kwargs: Any) -> bytes:
        assert kwargs == {"format": "png"}
        return PNG_SIGNATURE + b"rest"

    monkeypatch.setattr(type(plotly_figure), "to_image", fake_png)

    rendered = render_figure(plotly_figure)

    assert [item.suffix for item in rendered] == [".png", ".plotly.json"]
    assert rendered[0] == Rendered(".png", PNG_SIGNATURE + b"rest", "image/png")


# --- PIL --------------------------------------------------------------------------------


def test_pil_image_round_trips() -> None:
    image_module = pytest.importorskip("PIL.Image")
    image = image_module.new("RGB", (3, 2), (10, 20, 30))
    image.putpixel((2, 1), (200, 100, 0))

    (png,) = render_figure(image)

    back = image_module.open(io.BytesIO(png.data))
    assert png.suffix == ".png" and back.size == (3, 2)
    assert back.getpixel((0, 0)) == (10, 20, 30) and back.getpixel((2, 1)) == (200, 100, 0)


def test_pil_image_in_a_mode_png_lacks_is_converted() -> None:
    image_module = pytest.importorskip("PIL.Image")

    (png,) = render_figure(image_module.new("CMYK", (2, 2)))

    assert image_module.open(io.BytesIO(png.data)).mode == "RGBA"


# --- numpy arrays through the hand-written PNG encoder ----------------------------------


def test_grayscale_array_reads_back_in_matplotlib() -> None:
    numpy = pytest.importorskip("numpy")
    matplotlib_image = pytest.importorskip("matplotlib.image")
    pixels = numpy.arange(12, dtype=numpy.uint8).reshape(3, 4) * 20

    (png,) = render_figure(pixels)

    assert png.data.startswith(PNG_SIGNATURE)
    back = matplotlib_image.imread(io.BytesIO(png.data))  # floats in [0, 1] for an 8-bit PNG
    assert back.shape == (3, 4)
    assert numpy.array_equal(numpy.rint(back * 255).astype(numpy.uint8), pixels)


@pytest.mark.parametrize("channels", [3, 4])
def test_colour_arrays_keep_their_channels(channels: int) -> None:
    numpy = pytest.importorskip("numpy")
    pixels = numpy.random.default_rng(7).integers(0, 256, size=(5, 6, channels), dtype=numpy.uint8)

    (png,) = render_figure(pixels)

    assert numpy.array_equal(_read_png(png.data), pixels)


def test_float_array_scales_zero_one_and_clips() -> None:
    numpy = pytest.importorskip("numpy")
    values = numpy.array([[0.0, 0.5, 1.0], [numpy.nan, 2.0, -1.0], [numpy.inf, -numpy.inf, 0.25]])

    (png,) = render_figure(values)

    assert _read_png(png.data).tolist() == [[0, 128, 255], [0, 255, 0], [255, 0, 64]]


def test_integer_and_boolean_arrays() -> None:
    numpy = pytest.importorskip("numpy")

    (ints,) = render_figure(numpy.array([[-5, 7, 300]], dtype=numpy.int16))
    (mask,) = render_figure(numpy.array([[True, False]]))

    assert _read_png(ints.data).tolist() == [[0, 7, 255]]
    assert _read_png(mask.data).tolist() == [[255, 0]]


@pytest.mark.parametrize("shape", [(4,), (2, 2, 2), (2, 2, 3, 1), (0, 3)])
def test_arrays_that_are_not_images_are_bad_input(shape: tuple[int, ...]) -> None:
    numpy = pytest.importorskip("numpy")
    with pytest.raises(BadInput, match="image array"):
        render_figure(numpy.zeros(shape))


def test_non_numeric_array_is_bad_input() -> None:
    numpy = pytest.importorskip("numpy")
    with pytest.raises(BadInput, match="must hold numbers"):
        render_figure(numpy.zeros((2, 2), dtype=complex))


# --- files and everything else ----------------------------------------------------------


def test_file_path_gives_its_bytes_and_media_type(tmp_path: Path) -> None:
    path = tmp_path / "Loss.PNG"
    path.write_bytes(PNG_SIGNATURE + b"payload")

    assert render_figure(path) == [Rendered(".png", PNG_SIGNATURE + b"payload", "image/png")]
    assert render_figure(str(path))[0].data == PNG_SIGNATURE + b"payload"


def test_svg_file_path(tmp_path: Path) -> None:
    path = tmp_path / "chart.svg"
    path.write_text("<svg xmlns='http://www.w3.org/2000/svg'/>")

    assert render_figure(path)[0].media_type == "image/svg+xml"


def test_missing_file_is_bad_input(tmp_path: Path) -> None:
    missing = tmp_path / "nope.png"
    with pytest.raises(BadInput, match=f"figure file not found: {re.escape(str(missing))}"):
        render_figure(missing)


@pytest.mark.parametrize("thing", [42, object(), {"a": 1}])
def test_unknown_object_is_bad_input(thing: object) -> None:
    with pytest.raises(BadInput) as caught:
        render_figure(thing)
    message = str(caught.value)
    assert message.startswith("run.figure() takes a matplotlib, plotly or PIL figure, an image array or a file path")
    assert message.endswith(f"got builtins.{type(thing).__qualname__}")


# --- tables -----------------------------------------------------------------------------


def _csv_rows(rendered: list[Rendered]) -> list[list[str]]:
    (csv_file,) = rendered
    assert (csv_file.suffix, csv_file.media_type) == (".csv", "text/csv")
    return list(csv.reader(io.StringIO(csv_file.data.decode("utf-8"))))


def test_list_of_dicts_unions_keys_in_first_seen_order() -> None:
    rows = [{"width": 1024, "loss": 0.18234567}, {"width": 2048, "note": "wide|r", "loss": None}]

    files, columns, display = render_table(rows)

    assert columns == ["width", "loss", "note"]
    assert display == [["1024", "0.182346", ""], ["2048", "", "wide|r"]]
    assert _csv_rows(files) == [["width", "loss", "note"], ["1024", "0.18234567", ""], ["2048", "", "wide|r"]]


def test_list_of_rows_gets_numbered_columns() -> None:
    files, columns, display = render_table([[1, 2.5, "ä"], (3, float("nan"))])

    assert columns == ["0", "1", "2"]
    assert display == [["1", "2.5", "ä"], ["3", "nan", ""]]
    assert _csv_rows(files)[1] == ["1", "2.5", "ä"]


def test_dict_of_columns_with_infinities() -> None:
    files, columns, display = render_table({"l1": [5e-4, 1e-3], "loss": [float("inf"), float("-inf")]})

    assert columns == ["l1", "loss"]
    assert display == [["0.0005", "inf"], ["0.001", "-inf"]]
    assert _csv_rows(files)[1:] == [["0.0005", "inf"], ["0.001", "-inf"]]


def test_dict_of_numpy_columns_shows_numpy_floats_like_floats() -> None:
    numpy = pytest.importorskip("numpy")

    _, _, display = render_table({"width": numpy.array([1024]), "loss": numpy.array([1 / 3], dtype=numpy.float32)})

    assert display == [["1024", "0.333333"]]


def test_dataframe_with_nan() -> None:
    pandas = pytest.importorskip("pandas")
    frame = pandas.DataFrame({"width": [1024, 2048], "loss": [0.5, float("nan")], "name": ["small", "wide"]})

    files, columns, display = render_table(frame)

    assert columns == ["width", "loss", "name"]
    assert display == [["1024", "0.5", "small"], ["2048", "nan", "wide"]]
    assert _csv_rows(files) == [["width", "loss", "name"], ["1024", "0.5", "small"], ["2048", "", "wide"]]


@pytest.mark.parametrize("rows, message", [
    ([], "empty table"),
    ({}, "empty table"),
    ([{}], "empty table"),
    ({"a": []}, "empty table"),
    ({"a": [1, 2], "b": [3]}, "equal lengths; got a=2, b=1"),
    ({"a": 1}, "must map column names to lists"),
    ([{"a": 1}, [1]], "all dicts or all lists"),
    ("a,b\n1,2", "got builtins.str"),
    (None, "got builtins.NoneType"),
])
def test_tables_that_cannot_be_read_are_bad_input(rows: Any, message: str) -> None:
    with pytest.raises(BadInput, match=re.escape(message)):
        render_table(rows)


def test_empty_dataframe_is_bad_input() -> None:
    pandas = pytest.importorskip("pandas")
    with pytest.raises(BadInput, match="empty DataFrame"):
        render_table(pandas.DataFrame({"a": []}))


# --- Markdown ---------------------------------------------------------------------------


def _rendered_cells(markdown: str) -> list[list[str]]:
    """The cells a GFM renderer sees, row by row, with <br> kept as a newline."""
    from markdown_it import MarkdownIt

    page = MarkdownIt("commonmark").enable("table").render(markdown)
    rows = re.findall(r"<tr>(.*?)</tr>", page, flags=re.S)
    return [[html.unescape(cell.replace("<br>", "\n")) for cell in re.findall(r"<t[hd]>(.*?)</t[hd]>", row, re.S)]
            for row in rows]


def test_markdown_escapes_pipes_newlines_and_backslashes() -> None:
    cells = [["a|b", "two\nlines", "C:\\runs\\|x"]]

    markdown = table_markdown(["name", "why", "path"], cells)

    assert markdown.splitlines()[:2] == ["| name | why | path |", "| --- | --- | --- |"]
    assert _rendered_cells(markdown) == [["name", "why", "path"], *cells]
    assert "more row" not in markdown


def test_markdown_cuts_long_tables_and_says_how_many_are_left() -> None:
    rows = [[str(index)] for index in range(23)]

    markdown = table_markdown(["step"], rows, limit=20)

    assert markdown.endswith("\n\n… and 3 more rows (full table attached)")
    assert _rendered_cells(markdown)[1:] == rows[:20]


def test_markdown_one_row_left_out() -> None:
    assert table_markdown(["a"], [["1"], ["2"]], limit=1).endswith("… and 1 more row (full table attached)")


def test_markdown_of_a_rendered_table() -> None:
    _, columns, display = render_table([{"width": 1024, "loss": 0.18234567}])

    assert table_markdown(columns, display) == "| width | loss |\n| --- | --- |\n| 1024 | 0.182346 |"
