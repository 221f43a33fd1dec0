"""HTML sanitising for rich text: the only module in the project that imports bleach.

Why one module: bleach 6.4.0 is pinned but declared unmaintained, so every caller goes through
``sanitize_rich_text()`` and a later switch (nh3 is the measured candidate, see
``tests/unit/sanitize/test_bleach_vs_nh3.py``) touches this file only.

Why the extra steps around ``bleach.Cleaner``:

* With ``strip=True`` bleach removes disallowed tags but keeps their text, so
  ``<script>alert(1)</script>`` would show "alert(1)" to learners. A pre-pass parses the fragment the
  way a browser does and drops script-like elements (and foreign SVG/MathML content, where mXSS
  lives) *with* their content. The stock Cleaner still runs afterwards and is the security gate.
* bleach's ``CSSSanitizer`` checks property names only, so ``color: expression(...)`` or
  ``background-color: url(javascript:...)`` would survive; ``_StrictCSSSanitizer`` also checks values.
* Links get ``rel="noopener noreferrer"`` from a stream filter instead of bleach's linkify, which
  would turn plain text into links.
"""

from __future__ import annotations

import threading
from collections.abc import Iterator, Mapping
from html import escape as _html_escape
from types import MappingProxyType
from typing import Any
from xml.etree import ElementTree

import tinycss2
from bleach import html5lib_shim
from bleach.css_sanitizer import CSSSanitizer
from bleach.sanitizer import Cleaner

__all__ = [
    "ALLOWED_ATTRIBUTES",
    "ALLOWED_CSS_PROPERTIES",
    "ALLOWED_PROTOCOLS",
    "ALLOWED_TAGS",
    "CONTENT_DROPPING_TAGS",
    "LINK_REL",
    "clean_style",
    "escape_text",
    "sanitize_rich_text",
]

#: Tags kept in course text. Everything else is stripped (its text stays, see CONTENT_DROPPING_TAGS).
#: ``s`` is included because Markdown ``~~strike~~`` renders to it.
ALLOWED_TAGS: frozenset[str] = frozenset(
    {
        "p", "br", "hr", "strong", "em", "b", "i", "u", "s", "sup", "sub",
        "ul", "ol", "li", "blockquote", "code", "pre", "h2", "h3", "h4",
        "a", "abbr", "span",
        "table", "thead", "tbody", "tr", "th", "td",
    }
)  # fmt: skip

#: Attributes allowed per tag. ``style`` on th/td carries Markdown table alignment; ``start`` keeps
#: the numbering of ordered lists that start above 1. ``rel`` is not allowed: it is always set.
ALLOWED_ATTRIBUTES: Mapping[str, frozenset[str]] = MappingProxyType(
    {
        "a": frozenset({"href", "title"}),
        "abbr": frozenset({"title"}),
        "span": frozenset({"style"}),
        "ol": frozenset({"start"}),
        "th": frozenset({"style", "colspan", "rowspan", "scope"}),
        "td": frozenset({"style", "colspan", "rowspan"}),
    }
)

#: URL schemes allowed in href; relative URLs and ``#fragment`` links stay allowed.
ALLOWED_PROTOCOLS: frozenset[str] = frozenset({"http", "https", "mailto"})

#: CSS properties allowed in ``style``; values are further limited by ``_StrictCSSSanitizer``.
ALLOWED_CSS_PROPERTIES: frozenset[str] = frozenset(
    {"color", "background-color", "text-align", "font-weight", "font-style"}
)

#: Elements removed together with everything inside them: their content is code, raw text, a nested
#: document, a form (a phishing surface; html5lib also turns obsolete <isindex> into one), or
#: foreign SVG/MathML markup, never course prose.
CONTENT_DROPPING_TAGS: frozenset[str] = frozenset(
    {
        "script", "style", "template", "noscript", "noembed", "noframes", "xmp", "plaintext",
        "iframe", "frame", "frameset", "object", "embed", "applet", "param",
        "form", "textarea", "select", "option", "datalist", "title", "head", "svg", "math",
    }
)  # fmt: skip

#: Elements whose first newline the HTML parser drops (see _PreNewlineFilter).
_NEWLINE_EATING_TAGS = frozenset({"pre", "listing", "textarea"})

#: Value of ``rel`` on every link, so a linked page cannot reach ``window.opener`` or see the referrer.
LINK_REL = "noopener noreferrer"

#: CSS functions whose arguments may only be numbers/percentages (colours); any other function
#: (``expression``, ``url``, ``var``, ``image-set`` …) drops the whole declaration.
_ALLOWED_CSS_FUNCTIONS = frozenset({"rgb", "rgba", "hsl", "hsla"})
_SAFE_CSS_TOKEN_TYPES = frozenset({"whitespace", "ident", "hash", "number", "percentage", "dimension"})
_SAFE_CSS_LITERALS = frozenset({",", "/"})


def _css_value_is_safe(tokens: list[Any], *, inside_function: bool = False) -> bool:
    """Allow keywords, colours and numbers only, so no value can load a URL or run code."""
    for token in tokens:
        if token.type in _SAFE_CSS_TOKEN_TYPES:
            if inside_function and token.type in ("ident", "hash"):
                return False
            continue
        if token.type == "literal" and token.value in _SAFE_CSS_LITERALS:
            continue
        if (
            token.type == "function"
            and not inside_function
            and token.lower_name in _ALLOWED_CSS_FUNCTIONS
            and _css_value_is_safe(token.arguments, inside_function=True)
        ):
            continue
        return False
    return True


def clean_style(style: str, allowed_properties: frozenset[str] = ALLOWED_CSS_PROPERTIES) -> str:
    """Keep only allowed declarations whose values are plain keywords, colours or numbers.

    Independent of bleach (tinycss2 only), so a switch to nh3 can reuse it as an attribute filter.
    """
    kept = [
        node
        for node in tinycss2.parse_declaration_list(style, skip_comments=True, skip_whitespace=True)
        if node.type == "declaration"
        and node.lower_name in allowed_properties
        and _css_value_is_safe(node.value)
    ]
    return "; ".join(
        f"{node.lower_name}: {tinycss2.serialize(node.value).strip()}{' !important' * node.important}"
        for node in kept
    )


class _StrictCSSSanitizer(CSSSanitizer):
    """bleach's CSSSanitizer filters property names only; this one also vets each value."""

    def sanitize_css(self, style: str) -> str:
        return clean_style(style, frozenset(self.allowed_css_properties))


class _PostCleanFilter(html5lib_shim.Filter):
    """Runs after bleach's sanitizer: set ``rel`` on links and drop ``style`` left empty."""

    def __iter__(self) -> Iterator[dict[str, Any]]:
        for token in super().__iter__():
            if token["type"] in ("StartTag", "EmptyTag"):
                attrs = {
                    key: value
                    for key, value in (token.get("data") or {}).items()
                    if not (key == (None, "style") and not value.strip())
                }
                if token["name"] == "a":
                    attrs[(None, "rel")] = LINK_REL
                token["data"] = attrs
            yield token


class _PreNewlineFilter(html5lib_shim.Filter):
    """Double a newline that opens <pre>, because parsers drop the first one.

    Without this, ``<pre>`` content starting with a line break would lose it on every pass, and
    sanitising would not be idempotent.
    """

    def __iter__(self) -> Iterator[dict[str, Any]]:
        after_pre = False
        for token in super().__iter__():
            if after_pre and token["type"] in ("Characters", "SpaceCharacters") and token["data"][:1] == "\n":
                token = {**token, "data": "\n" + token["data"]}
            after_pre = token["type"] == "StartTag" and token["name"] in _NEWLINE_EATING_TAGS
            yield token


def _local_name(tag: object) -> str:
    """``{http://www.w3.org/2000/svg}script`` -> ``script``; comments have a callable tag."""
    if not isinstance(tag, str):
        return ""
    return tag.rsplit("}", 1)[-1].lower()


def _drop_content_elements(root: ElementTree.Element) -> None:
    """Remove CONTENT_DROPPING_TAGS with their subtree, keeping the text that follows each one.

    Iterative, because a hostile fragment can nest thousands of elements deep.
    """
    stack = [root]
    while stack:
        parent = stack.pop()
        # Walk backwards so a removed child's tail can join its (not yet visited) previous sibling.
        for index in range(len(parent) - 1, -1, -1):
            child = parent[index]
            if _local_name(child.tag) not in CONTENT_DROPPING_TAGS:
                stack.append(child)
                continue
            tail = child.tail or ""
            if index == 0:
                parent.text = (parent.text or "") + tail
            else:
                previous = parent[index - 1]
                previous.tail = (previous.tail or "") + tail
            del parent[index]


class _Sanitizer:
    """Per-thread parser, serializer and Cleaner: bleach documents its Cleaner as not thread-safe."""

    def __init__(self) -> None:
        # scripting=True below parses <noscript> as a browser with JavaScript does (as bleach does).
        self._parser = html5lib_shim.HTMLParser(namespaceHTMLElements=False)
        self._walker = html5lib_shim.getTreeWalker("etree")
        self._serializer = html5lib_shim.HTMLSerializer(
            quote_attr_values="always",
            use_best_quote_char=False,
            omit_optional_tags=False,
            escape_lt_in_attrs=True,
        )
        self._cleaner = Cleaner(
            tags=ALLOWED_TAGS,
            attributes={tag: list(attrs) for tag, attrs in ALLOWED_ATTRIBUTES.items()},
            protocols=ALLOWED_PROTOCOLS,
            strip=True,
            strip_comments=True,
            filters=[_PostCleanFilter, _PreNewlineFilter],
            css_sanitizer=_StrictCSSSanitizer(
                allowed_css_properties=ALLOWED_CSS_PROPERTIES, allowed_svg_properties=frozenset()
            ),
        )
        # bleach 6.4.0 re-escapes "&" in attribute values only when they are double-quoted, so a value
        # containing '"' (serialised with single quotes) would gain "amp;" on every pass. Always
        # double-quoting (and escaping '"' as &quot;) keeps sanitising idempotent.
        self._cleaner.serializer.use_best_quote_char = False

    def drop_dangerous_content(self, fragment: str) -> str:
        tree = self._parser.parseFragment(fragment, scripting=True)
        _drop_content_elements(tree)
        return self._serializer.render(_PreNewlineFilter(self._walker(tree)))

    def clean(self, fragment: str) -> str:
        return self._cleaner.clean(self.drop_dangerous_content(fragment))


_local = threading.local()


def _sanitizer() -> _Sanitizer:
    sanitizer = getattr(_local, "sanitizer", None)
    if sanitizer is None:
        sanitizer = _local.sanitizer = _Sanitizer()
    return sanitizer


def sanitize_rich_text(html: str) -> str:
    """Return ``html`` reduced to the course allow-list; safe to render with ``|safe``.

    Call it on save and store the result. Disallowed tags are stripped (their text kept),
    script-like elements vanish with their content, and the result is stable: sanitising
    sanitised HTML returns it unchanged.
    """
    if not isinstance(html, str):
        raise TypeError(f"sanitize_rich_text() needs str, not {type(html).__name__}")
    if not html:
        return ""
    return _sanitizer().clean(html)


def escape_text(text: str) -> str:
    """Escape plain text for HTML (element content or quoted attribute), for text that is not markup."""
    return _html_escape(text, quote=True)
