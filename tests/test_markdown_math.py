"""Math in Markdown (web/markdown_math.py): kept as TeX, untouched by Markdown, escaped, in elements
static/math.js hands to KaTeX. How it looks in a browser, with and without JavaScript, is in
tests/test_web_design.py."""

from __future__ import annotations

from hostile import PAYLOADS, inert_problems
from upstack.web.markdown import render


def test_inline_math_is_kept_whole_for_katex() -> None:
    html = render(r"The logit difference is $\ell_{IO} - \ell_S$ and $a_1 * b_2 * c_3$ too.")
    assert r'<span class="math inline">$\ell_{IO} - \ell_S$</span>' in html
    assert '<span class="math inline">$a_1 * b_2 * c_3$</span>' in html  # no <em>: the stars are TeX's
    assert "<em>" not in html


def test_a_display_block_keeps_its_backslashes_and_lines() -> None:
    html = render("Before.\n\n$$\n\\begin{aligned} a &= b \\\\ c &= d \\end{aligned}\n$$\n\nAfter.")
    assert '<div class="math display">$$\n\\begin{aligned} a &amp;= b \\\\ c &amp;= d \\end{aligned}\n$$</div>' in html
    assert "<p>Before.</p>" in html and "<p>After.</p>" in html
    assert render("$$ \\int_0^1 f(x)\\,dx $$") == '<div class="math display">$$\n \\int_0^1 f(x)\\,dx \n$$</div>\n'
    assert '<span class="math display">$$x^2$$</span>' in render("So $$x^2$$ in a sentence.")


def test_dollars_that_are_not_math_stay_text() -> None:
    for text, shown in [("It costs $5 and $10.", "It costs $5 and $10."),
                        ("Escaped: \\$x\\$ stays.", "Escaped: $x$ stays."),
                        ("A $ sign alone, and $ spaced $ dollars.", "A $ sign alone, and $ spaced $ dollars."),
                        ("$x$2 is not math.", "$x$2 is not math."),
                        ("$$\nnever closed", "$$\nnever closed")]:
        html = render(text)
        assert 'class="math' not in html, text
        assert shown in html, (text, html)
    assert render("`$x$` in code") == "<p><code>$x$</code> in code</p>\n"
    assert render("```\n$$\nx\n$$\n```") == "<pre><code>$$\nx\n$$\n</code></pre>\n"


def test_math_in_a_table_cell_and_a_list() -> None:
    html = render("| model | $\\Delta$ |\n|---|--:|\n| GPT-2 | 3.5 |\n\n- item $k = 1$")
    assert '<th class="align-right"><span class="math inline">$\\Delta$</span></th>' in html
    assert '<li>item <span class="math inline">$k = 1$</span></li>' in html


def test_markup_in_math_is_escaped_and_hostile_input_stays_inert() -> None:
    html = render('$<img src=x onerror="alert(1)">$ and $$</div><script>alert(1)</script>$$')
    assert "<img" not in html and "<script" not in html and "</div><" not in html
    assert '<span class="math inline">$&lt;img src=x onerror="alert(1)"&gt;$</span>' in html
    for payload in PAYLOADS:
        for text in (f"${payload}$", f"$$\n{payload}\n$$", f"$x$ {payload} $y$"):
            assert not inert_problems(render(text)), text
