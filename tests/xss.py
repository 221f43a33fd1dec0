"""Shared XSS test helpers: the payload corpus and a parser-based checker for sanitised HTML.

Import as ``from tests.xss import load_xss_corpus, unsafe_markup`` (``parse_elements`` lists start
tags with their attributes, for assertions about structure). The checker parses the HTML with
the standard library's ``html.parser`` and inspects tags and attributes rather than grepping, so an
escaped ``&lt;script&gt;`` in text is not a finding while a real ``<script>`` element is.
"""

from __future__ import annotations

import re
import unicodedata
from functools import cache
from html.parser import HTMLParser
from pathlib import Path

CORPUS_PATH = Path(__file__).resolve().parent / "fixtures" / "xss_corpus.txt"

#: Elements that must never appear in sanitised fragments (executable, navigational, or mXSS-prone).
FORBIDDEN_TAGS = frozenset(
    {
        "script", "iframe", "object", "embed", "style", "base", "meta", "form", "link", "frame",
        "frameset", "applet", "portal", "fencedframe", "template", "noscript", "svg", "math",
        "button", "input", "textarea", "select",
    }
)  # fmt: skip

#: Attributes whose value a browser treats as a URL to load or navigate to.
URL_ATTRIBUTES = frozenset(
    {
        "href", "src", "action", "formaction", "xlink:href", "data", "background", "poster",
        "lowsrc", "dynsrc", "codebase", "cite", "longdesc", "usemap", "ping", "manifest", "icon",
        "classid", "archive", "profile", "srcset", "imagesrcset",
    }
)  # fmt: skip

DANGEROUS_SCHEMES = frozenset({"javascript", "vbscript", "data", "livescript", "mocha"})

#: Substrings that must not occur in a normalised style value.
DANGEROUS_CSS = ("expression(", "url(", "javascript:", "vbscript:", "behavior:", "-moz-binding", "@import",
                 "image-set(")  # fmt: skip

_SCHEME_RE = re.compile(r"([a-z][a-z0-9+.\-]*):")
_CSS_COMMENT_RE = re.compile(r"/\*.*?(\*/|$)", re.DOTALL)
_CSS_HEX_ESCAPE_RE = re.compile(r"\\([0-9a-fA-F]{1,6})[ \t\n\r\f]?")
_CSS_CHAR_ESCAPE_RE = re.compile(r"\\(.)", re.DOTALL)


@cache
def _corpus() -> tuple[str, ...]:
    lines = CORPUS_PATH.read_text(encoding="utf-8").splitlines()
    return tuple(line for line in lines if line and not line.startswith("#"))


def load_xss_corpus() -> list[str]:
    """Return the payloads of ``tests/fixtures/xss_corpus.txt`` (comment lines skipped), in file order."""
    return list(_corpus())


def _strip_invisible(value: str) -> str:
    """Drop whitespace, control and format (zero-width, bidi, soft hyphen) characters."""
    return "".join(ch for ch in value if not ch.isspace() and unicodedata.category(ch) not in ("Cc", "Cf"))


def dangerous_scheme(url: str) -> str | None:
    """The scheme of ``url`` if it is script- or data-capable, judged after removing invisible characters.

    ``url`` is an attribute value as the parser returns it, so character references are already
    decoded (``&#106;avascript:`` arrives as ``javascript:``). Deliberately stricter than browsers:
    a zero-width character inside ``javascript:`` still counts.
    """
    match = _SCHEME_RE.match(_strip_invisible(url).lower())
    if match and match.group(1) in DANGEROUS_SCHEMES:
        return match.group(1)
    return None


def _srcset_urls(value: str) -> list[str]:
    return [candidate.strip().split(" ")[0] for candidate in value.split(",")]


def _normalise_css(style: str) -> str:
    style = _CSS_COMMENT_RE.sub("", style)
    style = _CSS_HEX_ESCAPE_RE.sub(lambda m: chr(min(int(m.group(1), 16), 0x10FFFF) or 0xFFFD), style)
    style = _CSS_CHAR_ESCAPE_RE.sub(r"\1", style)
    return _strip_invisible(style).lower()


class _Inspector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.findings: list[str] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        if tag in FORBIDDEN_TAGS:
            self.findings.append(f"<{tag}> element")
        for name, raw_value in attrs:
            value = raw_value or ""
            if name.startswith("on"):
                self.findings.append(f"event handler {name} on <{tag}>")
            elif name == "srcdoc":
                self.findings.append(f"srcdoc on <{tag}>")
            elif name in URL_ATTRIBUTES:
                urls = _srcset_urls(value) if name.endswith("srcset") else [value]
                for url in urls:
                    scheme = dangerous_scheme(url)
                    if scheme:
                        self.findings.append(f"{scheme}: URL in {name} on <{tag}>: {value!r}")
            elif name == "style":
                normalised = _normalise_css(value)
                for needle in DANGEROUS_CSS:
                    if needle in normalised:
                        self.findings.append(f"{needle!r} in style on <{tag}>: {value!r}")

    def handle_comment(self, data: str) -> None:
        self.findings.append(f"comment <!--{data[:40]}-->")


class _ElementCollector(HTMLParser):
    def __init__(self) -> None:
        super().__init__(convert_charrefs=True)
        self.elements: list[tuple[str, dict[str, str | None]]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        self.elements.append((tag, dict(attrs)))


def parse_elements(html: str) -> list[tuple[str, dict[str, str | None]]]:
    """Start tags of ``html`` in document order, each with its (decoded) attributes."""
    collector = _ElementCollector()
    collector.feed(html)
    collector.close()
    return collector.elements


def unsafe_markup(html: str) -> list[str]:
    """List what makes ``html`` unsafe to embed as a sanitised fragment; empty when it is clean."""
    inspector = _Inspector()
    inspector.feed(html)
    inspector.close()
    return inspector.findings
