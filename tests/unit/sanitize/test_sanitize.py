"""sanitize_rich_text: allow-list, script-content removal, link rel, CSS values, idempotency."""

from __future__ import annotations

import warnings
from concurrent.futures import ThreadPoolExecutor

import pytest
from hypothesis import example, given, settings
from hypothesis import strategies as st

from imh_course.security.sanitize import (
    ALLOWED_ATTRIBUTES,
    ALLOWED_CSS_PROPERTIES,
    ALLOWED_PROTOCOLS,
    ALLOWED_TAGS,
    LINK_REL,
    clean_style,
    escape_text,
    sanitize_rich_text,
)
from tests.xss import load_xss_corpus, parse_elements, unsafe_markup

CORPUS = load_xss_corpus()


def links(html: str) -> list[dict[str, str | None]]:
    return [attrs for tag, attrs in parse_elements(html) if tag == "a"]


# --- the corpus -----------------------------------------------------------------------------


def test_corpus_is_large_and_distinct() -> None:
    assert len(CORPUS) >= 220
    assert len(set(CORPUS)) == len(CORPUS)
    assert all(payload.strip() for payload in CORPUS)


@pytest.mark.parametrize("payload", CORPUS)
def test_corpus_payload_is_neutralised(payload: str) -> None:
    cleaned = sanitize_rich_text(payload)
    assert unsafe_markup(cleaned) == [], cleaned
    for tag, attrs in parse_elements(cleaned):
        assert tag in ALLOWED_TAGS, cleaned
        extra = set(attrs) - ALLOWED_ATTRIBUTES.get(tag, frozenset()) - ({"rel"} if tag == "a" else set())
        assert not extra, cleaned
    assert sanitize_rich_text(cleaned) == cleaned


def test_corpus_survives_concurrent_use() -> None:
    """bleach's Cleaner is not thread-safe; the module keeps one per thread."""
    expected = [sanitize_rich_text(payload) for payload in CORPUS]
    with ThreadPoolExecutor(max_workers=8) as pool:
        assert list(pool.map(sanitize_rich_text, CORPUS)) == expected


# --- script-like content disappears, ordinary text stays ---------------------------------------

_ELEMENTS_WITH_CONTENT = [
    "script", "style", "template", "noscript", "noembed", "noframes", "xmp", "iframe", "object",
    "applet", "form", "textarea", "select", "title", "svg", "math",
]  # fmt: skip


@pytest.mark.parametrize("tag", _ELEMENTS_WITH_CONTENT)
def test_content_of_script_like_elements_is_dropped(tag: str) -> None:
    cleaned = sanitize_rich_text(f"<div>before <{tag}>alert(1)</{tag}> after</div>")
    assert cleaned == "before  after"


def test_plaintext_swallows_the_rest_of_the_fragment() -> None:
    assert sanitize_rich_text("<p>kept</p><plaintext><script>alert(1)</script>") == "<p>kept</p>"


@pytest.mark.parametrize(
    ("dirty", "clean"),
    [
        ("<script>alert(1)</script>", ""),
        ("<SCRIPT SRC=//evil.example/x.js></SCRIPT>Hello", "Hello"),
        ("<div>Hello <font color=red>world</font></div>", "Hello world"),
        ("<h1>Title</h1>", "Title"),
        ("<img src=x onerror=alert(1)>caption", "caption"),
        ("<p>a<!-- hidden -->b</p>", "<p>ab</p>"),
        ("<svg><foreignObject><p>x</p></foreignObject></svg>tail", "tail"),
        ("a < b & c > d", "a &lt; b &amp; c &gt; d"),
        ("x\x01y", "x?y"),
        ("<isindex prompt=hi>x", "x"),
        ("<form><label>Password <input name=pw></label><button>Go</button></form>rest", "rest"),
    ],
)
def test_disallowed_markup_is_stripped_to_text(dirty: str, clean: str) -> None:
    assert sanitize_rich_text(dirty) == clean


def test_course_text_survives_unchanged() -> None:
    html = (
        '<h2>Attachment</h2><p>Read <strong>carefully</strong>, <em>then</em> <abbr title="Infant mental'
        ' health">IMH</abbr> notes<sup>1</sup> and H<sub>2</sub>O.</p><ul><li>one</li><li>two</li></ul>'
        '<ol start="3"><li>three</li></ol><blockquote><p>quote</p></blockquote><pre><code>x &lt; 1</code>'
        '</pre><hr><table><thead><tr><th scope="col" style="text-align: left">a</th></tr></thead>'
        '<tbody><tr><td colspan="2">1</td></tr></tbody></table><p><b>b</b><i>i</i><u>u</u><s>s</s><br>'
        '<span style="color: #336699; font-weight: bold">styled</span></p>'
    )
    assert sanitize_rich_text(html) == html


def test_empty_and_non_string_input() -> None:
    assert sanitize_rich_text("") == ""
    with pytest.raises(TypeError, match="needs str"):
        sanitize_rich_text(b"<p>x</p>")  # type: ignore[arg-type]


def test_deeply_nested_input_does_not_hit_the_recursion_limit() -> None:
    cleaned = sanitize_rich_text("<span>" * 5000 + "<script>alert(1)</script>deep")
    assert cleaned == "<span>" * 5000 + "deep" + "</span>" * 5000


# --- links -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    "href",
    ["https://example.org/a?b=1&c=2", "http://example.org", "mailto:team@example.org", "/readings/1", "#s2"],
)
def test_allowed_links_are_kept_with_rel(href: str) -> None:
    [link] = links(sanitize_rich_text(f'<a href="{href}" title="t">x</a>'))
    assert link == {"href": href, "title": "t", "rel": LINK_REL}


def test_existing_rel_and_target_are_replaced() -> None:
    cleaned = sanitize_rich_text('<a href="https://example.org" rel="opener" target="_blank">x</a>')
    assert cleaned == f'<a href="https://example.org" rel="{LINK_REL}">x</a>'


@pytest.mark.parametrize(
    "href",
    [
        "javascript:alert(1)",
        "JavaScript:alert(1)",
        "java\u200bscript:alert(1)",
        "javascript\u200b:alert(1)",
        "jav&#x09;ascript:alert(1)",
        "&#106;avascript:alert(1)",
        "vbscript:msgbox(1)",
        "data:text/html;base64,PHNjcmlwdD4=",
        "ftp://example.org/file",
    ],
)
def test_disallowed_schemes_lose_their_href(href: str) -> None:
    assert links(sanitize_rich_text(f'<a href="{href}">x</a>')) == [{"rel": LINK_REL}]


def test_protocol_allow_list_is_http_https_mailto() -> None:
    assert frozenset({"http", "https", "mailto"}) == ALLOWED_PROTOCOLS


def test_bare_urls_are_not_linkified() -> None:
    assert sanitize_rich_text("see https://example.org") == "see https://example.org"


# --- CSS -------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("style", "kept"),
    [
        ("color: red", "color: red"),
        ("COLOR:Red;font-style:italic", "color: Red; font-style: italic"),
        ("background-color: rgb(10, 20, 30)", "background-color: rgb(10, 20, 30)"),
        ("text-align: center; position: fixed; top: 0", "text-align: center"),
        ("font-weight: 700 !important", "font-weight: 700 !important"),
        ("color: expression(alert(1))", ""),
        ("color: e\\xpression(alert(1))", ""),
        ("background-color: url(javascript:alert(1))", ""),
        ("background-color: u\\rl(https://evil.example/t.png)", ""),
        ("color: rgb(url(x), 0, 0)", ""),
        ("color: var(--x)", ""),
        ("color: 'red'", ""),
        ("behavior: url(x.htc); -moz-binding: url(x.xml)", ""),
        ("color: red; } body { background: red", "color: red"),
        ("@import 'x.css'; color: blue", "color: blue"),
    ],
)
def test_clean_style_checks_properties_and_values(style: str, kept: str) -> None:
    assert clean_style(style) == kept


def test_css_allow_list_is_small() -> None:
    assert frozenset({"color", "background-color", "text-align", "font-weight", "font-style"}) == (
        ALLOWED_CSS_PROPERTIES
    )


def test_style_attribute_emptied_by_the_filter_is_removed() -> None:
    assert sanitize_rich_text('<span style="position: fixed">x</span>') == "<span>x</span>"


def test_style_is_only_kept_where_allowed() -> None:
    assert sanitize_rich_text('<p style="color: red">x</p>') == "<p>x</p>"


def test_cleaner_with_style_raises_no_warning() -> None:
    """bleach warns when style is allowed without a CSS sanitizer; ours configures one."""
    with warnings.catch_warnings():
        warnings.simplefilter("error")
        assert sanitize_rich_text('<span style="color: red">x</span>') == '<span style="color: red">x</span>'


# --- escape_text ---------------------------------------------------------------------------------


def test_escape_text() -> None:
    assert escape_text("<b a=\"1\" b='2'>&</b>") == "&lt;b a=&quot;1&quot; b=&#x27;2&#x27;&gt;&amp;&lt;/b&gt;"


# --- properties ----------------------------------------------------------------------------------

_FRAGMENTS = [
    "<p>", "</p>", "<a href='", "<a href=\"https://example.org\">", "</a>", "javascript:", "\u200b",
    "<script>", "</script>", "<style>", "</style>", "<table>", "<tr>", "<td>", "</table>", "<svg>",
    "<math>", "<mglyph>", "<noscript>", "<template>", "<!--", "-->", "<span style=\"", "color:red",
    "expression(", "url(", "\"", "'", ">", "<", "&", "&amp;", "&lt;", "&#x27;", "&nbsp;", "<br>",
    "<ul><li>", "<b>", "</i>", "<img src=x onerror=alert(1)>", "<plaintext>", "<xmp>", "<textarea>",
    "<select>", "<option>", "<h1>", "<pre>", "<code>", "\n", " ", "\t", "\x00", "x",
]  # fmt: skip

html_like = st.lists(st.one_of(st.sampled_from(_FRAGMENTS), st.text(max_size=8)), max_size=30).map("".join)


@settings(max_examples=300, deadline=None, database=None)
@given(st.one_of(html_like, st.text()))
@example("<pre><h1>")  # bleach turns a stripped block tag into "\n", which <pre> would swallow
@example("<pre>\n\ncode</pre>")
@example("<a href='<a href=\"https://example.org\">'>x</a>")  # single-quoted value re-escaped
def test_sanitize_is_idempotent(source: str) -> None:
    once = sanitize_rich_text(source)
    assert sanitize_rich_text(once) == once


@settings(max_examples=300, deadline=None, database=None)
@given(html_like)
def test_sanitized_output_is_always_safe(source: str) -> None:
    assert unsafe_markup(sanitize_rich_text(source)) == []
