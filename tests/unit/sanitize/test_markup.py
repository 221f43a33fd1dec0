"""render_markdown (authored readings) and render_learner_text (learner responses)."""

from __future__ import annotations

import pytest
from hypothesis import given, settings
from hypothesis import strategies as st

from imh_course.markup import nest_headings, render_learner_text, render_markdown
from imh_course.security.sanitize import LINK_REL, sanitize_rich_text
from tests.xss import load_xss_corpus, parse_elements, unsafe_markup

CORPUS = load_xss_corpus()


def tags(html: str) -> list[str]:
    return [tag for tag, _ in parse_elements(html)]


def links(html: str) -> list[dict[str, str | None]]:
    return [attrs for tag, attrs in parse_elements(html) if tag == "a"]


# --- the corpus through both renderers ----------------------------------------------------------


@pytest.mark.parametrize("payload", CORPUS)
def test_render_markdown_neutralises_corpus_payload(payload: str) -> None:
    html = render_markdown(payload)
    assert unsafe_markup(html) == [], html


@pytest.mark.parametrize("payload", CORPUS)
def test_render_learner_text_neutralises_corpus_payload(payload: str) -> None:
    html = render_learner_text(payload)
    assert unsafe_markup(html) == [], html
    assert set(tags(html)) <= {"p", "em", "strong", "ul", "ol", "li", "br", "blockquote"}, html


# --- render_markdown ------------------------------------------------------------------------------


def test_headings_are_clamped_to_h2_to_h4() -> None:
    html = render_markdown("# One\n\n## Two\n\n### Three\n\n#### Four\n\n##### Five\n\n###### Six")
    assert tags(html) == ["h2", "h2", "h3", "h4", "h4", "h4"]
    assert "<h2>One</h2>" in html and "<h4>Six</h4>" in html


def test_lists_and_emphasis() -> None:
    html = render_markdown("- *a*\n- **b**\n\n3. three\n4. four\n")
    assert html == (
        "<ul>\n<li><em>a</em></li>\n<li><strong>b</strong></li>\n</ul>\n"
        '<ol start="3">\n<li>three</li>\n<li>four</li>\n</ol>\n'
    )


def test_table_with_alignment() -> None:
    html = render_markdown("| Age | Milestone |\n|:----|---------:|\n| 6 mo | sits |\n")
    assert tags(html) == ["table", "thead", "tr", "th", "th", "tbody", "tr", "td", "td"]
    assert '<th style="text-align: left">Age</th>' in html
    assert '<td style="text-align: right">sits</td>' in html


def test_code_blocks_escape_their_content() -> None:
    html = render_markdown("```python\nif a < b and c > d: print('<script>')\n```\n\nInline `<b>`.")
    assert "<pre><code>if a &lt; b and c &gt; d: print('&lt;script&gt;')\n</code></pre>" in html
    assert "<code>&lt;b&gt;</code>" in html


def test_https_links_are_kept_with_rel() -> None:
    html = render_markdown('[guide](https://example.org/guide "The guide") and <https://example.org/x>')
    assert links(html) == [
        {"href": "https://example.org/guide", "title": "The guide", "rel": LINK_REL},
        {"href": "https://example.org/x", "rel": LINK_REL},
    ]


def test_relative_and_mailto_links_are_kept() -> None:
    html = render_markdown("[next](../session-2/) [mail](mailto:team@example.org)")
    assert [link["href"] for link in links(html)] == ["../session-2/", "mailto:team@example.org"]


@pytest.mark.parametrize(
    "source",
    [
        "[x](javascript:alert(1))",
        "[x](JavaScript:alert(1))",
        "[x](javascript&#58;alert(1))",
        "[x](vbscript:msgbox(1))",
        "[x](data:text/html;base64,PHNjcmlwdD4=)",
        "[x](data:image/png;base64,iVBORw0KGgo=)",
        "<javascript:alert(1)>",
        "[x][bad]\n\n[bad]: javascript:alert(1)",
        "[bad]\n\n[bad]: <javascript:alert(1)> 'title'",
    ],
)
def test_script_and_data_links_are_not_linked(source: str) -> None:
    html = render_markdown(source)
    assert all("href" not in link for link in links(html)), html


def test_reference_links_with_safe_urls_work() -> None:
    html = render_markdown("See [the guide][g].\n\n[g]: https://example.org/g 'Guide'")
    assert links(html) == [{"href": "https://example.org/g", "title": "Guide", "rel": LINK_REL}]


def test_bare_urls_are_not_linkified() -> None:
    assert links(render_markdown("Visit https://example.org today")) == []


def test_raw_html_is_escaped() -> None:
    html = render_markdown('<div class="x">Hi</div>\n\nText <b>bold</b> <img src=x onerror=alert(1)>')
    assert html == (
        '<p>&lt;div class="x"&gt;Hi&lt;/div&gt;</p>\n'
        "<p>Text &lt;b&gt;bold&lt;/b&gt; &lt;img src=x onerror=alert(1)&gt;</p>\n"
    )


def test_images_render_as_alt_text() -> None:
    html = render_markdown("![A *happy* baby](https://example.org/b.png)")
    assert html == "<p>A happy baby</p>\n"


def test_typographer_is_off() -> None:
    assert render_markdown('"quotes" -- (c) ...') == '<p>"quotes" -- (c) ...</p>\n'


def test_markdown_size_cap() -> None:
    assert render_markdown("x" * 100_000) == "<p>" + "x" * 100_000 + "</p>\n"
    with pytest.raises(ValueError, match=r"100,001 characters long; the limit is 100,000"):
        render_markdown("x" * 100_001)
    with pytest.raises(ValueError, match="limit is 10"):
        render_markdown("x" * 11, max_chars=10)


def test_empty_markdown() -> None:
    assert render_markdown("") == ""


# --- render_learner_text ----------------------------------------------------------------------


def test_learner_html_shows_as_literal_text() -> None:
    assert render_learner_text("<b>x</b>") == "<p>&lt;b&gt;x&lt;/b&gt;</p>\n"


def test_learner_emphasis_strong_and_line_breaks() -> None:
    html = render_learner_text("**bold** and *soft*\nnext line")
    assert html == "<p><strong>bold</strong> and <em>soft</em><br>\nnext line</p>\n"


def test_learner_lists_and_blockquote() -> None:
    html = render_learner_text("> quoted\n\n- a\n- b\n\n1. one\n2. two")
    assert tags(html) == ["blockquote", "p", "ul", "li", "li", "ol", "li", "li"]


@pytest.mark.parametrize(
    "source",
    [
        "[site](https://example.org)",
        "<https://example.org>",
        "https://example.org",
        "![pic](https://example.org/p.png)",
        "[x](javascript:alert(1))",
        "[x][r]\n\n[r]: https://example.org",
    ],
)
def test_learner_text_has_no_links_or_images(source: str) -> None:
    html = render_learner_text(source)
    assert set(tags(html)) <= {"p", "br"}, html
    assert "example.org" in html or "javascript" in html or source.startswith("[x][r]")


def test_learner_text_has_no_headings_tables_or_code() -> None:
    html = render_learner_text("# Title\n\n| a | b |\n|---|---|\n| 1 | 2 |\n\n`code`\n\n    indented")
    assert set(tags(html)) <= {"p", "br"}, html
    assert "# Title" in html and "`code`" in html


def test_learner_text_size_cap() -> None:
    render_learner_text("x" * 20_000)
    with pytest.raises(ValueError, match="limit is 20,000"):
        render_learner_text("x" * 20_001)
    with pytest.raises(ValueError, match="limit is 5"):
        render_learner_text("x" * 6, max_chars=5)


# --- properties ----------------------------------------------------------------------------------

_MD_FRAGMENTS = [
    "# ", "## ", "\n", "\n\n", "* ", "1. ", "> ", "[x](", ")", "](", "![a](", "<", ">", "`", "```\n",
    "|a|b|\n|-|-|\n", "**", "_", "&", "&amp;", "javascript:", "https://example.org", "    ", "\t",
    "<b>", "<pre>", "x", "\\", "[r]: ", "<script>",
]  # fmt: skip

_md_piece = st.one_of(st.sampled_from(_MD_FRAGMENTS), st.text(max_size=5))
markdown_like = st.lists(_md_piece, max_size=30).map("".join)


@settings(max_examples=200, deadline=None, database=None)
@given(markdown_like)
def test_rendered_markdown_is_safe_and_stable_under_resanitising(source: str) -> None:
    for render in (render_markdown, render_learner_text):
        html = render(source)
        assert unsafe_markup(html) == []
        assert sanitize_rich_text(html) == html


def test_nest_headings_places_authored_headings_under_a_section_title():
    """A reading shown under an <h3> title gets <h4> for its ``##`` and deeper levels below it."""
    html = render_markdown("## Why it matters\n\ntext\n\n### Detail\n\n#### Deeper")
    expected = "<h4>Why it matters</h4>\n<p>text</p>\n<h5>Detail</h5>\n<h6>Deeper</h6>\n"
    assert nest_headings(html, 3) == expected
    assert nest_headings(html, 1) == html
    assert nest_headings("<p>&lt;h2&gt;typed&lt;/h2&gt;</p>", 3) == "<p>&lt;h2&gt;typed&lt;/h2&gt;</p>"
