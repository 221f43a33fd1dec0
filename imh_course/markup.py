"""Markdown to HTML for authored readings and learner responses.

Both renderers escape raw HTML in the source (markdown-it's ``html`` option is off) and then pass
their output through ``sanitize_rich_text`` as a second, independent layer. Render once, when the
text is saved or imported, and store the HTML: rendering plus bleach is too slow for every request.
"""

from __future__ import annotations

import re
from collections.abc import Sequence
from html import escape

from markdown_it import MarkdownIt
from markdown_it.renderer import RendererHTML
from markdown_it.token import Token
from markdown_it.utils import EnvType, OptionsDict

from imh_course.security.sanitize import sanitize_rich_text

__all__ = ["nest_headings", "render_learner_text", "render_markdown"]

#: Heading levels the page layout leaves to content: the template owns <h1>, and the sanitiser's
#: allow-list stops at <h4>, so ``#`` becomes <h2> and ``#####``/``######`` become <h4>.
_MIN_HEADING_LEVEL = 2
_MAX_HEADING_LEVEL = 4

#: Inline/block rules for learner responses: paragraphs (always on in the "zero" preset),
#: emphasis and strong, lists, blockquotes, hard line breaks and backslash escapes.
_LEARNER_RULES = ["emphasis", "list", "blockquote", "newline", "escape"]


def _image_as_alt_text(
    self: RendererHTML, tokens: Sequence[Token], idx: int, options: OptionsDict, env: EnvType
) -> str:
    """Images are not in the allow-list; show their alt text instead of dropping them silently."""
    token = tokens[idx]
    return escape(self.renderInlineAsText(token.children or [], options, env))


def _build_markdown() -> MarkdownIt:
    md = MarkdownIt("js-default", {"typographer": False, "html": False, "linkify": False})
    md.enable("table")
    md.add_render_rule("image", _image_as_alt_text)
    return md


def _build_learner_markdown() -> MarkdownIt:
    # "zero" enables nothing but paragraphs and text, so links, autolinks, images, raw HTML,
    # headings, code and tables stay off; their syntax shows as the literal text typed.
    md = MarkdownIt("zero", {"breaks": True, "html": False, "linkify": False, "typographer": False})
    md.enable(_LEARNER_RULES)
    return md


# MarkdownIt instances hold no per-call state (state lives in the env/token list), so sharing
# them across threads is safe.
_MARKDOWN = _build_markdown()
_LEARNER_MARKDOWN = _build_learner_markdown()


def _check_size(source: str, max_chars: int, what: str) -> None:
    if not isinstance(source, str):
        raise TypeError(f"{what} must be str, not {type(source).__name__}")
    if len(source) > max_chars:
        raise ValueError(f"{what} is {len(source):,} characters long; the limit is {max_chars:,}.")


def _clamp_headings(tokens: list[Token]) -> None:
    for token in tokens:
        if token.type in ("heading_open", "heading_close"):
            level = min(max(int(token.tag[1:]), _MIN_HEADING_LEVEL), _MAX_HEADING_LEVEL)
            token.tag = f"h{level}"


def render_markdown(source: str, *, max_chars: int = 100_000) -> str:
    """Render authored Markdown (CommonMark + tables) to sanitised HTML.

    The size cap bounds rendering time on pathological input; a ``ValueError`` names the limit so
    the content loader can report it against the file.
    """
    _check_size(source, max_chars, "Markdown source")
    env: EnvType = {}
    tokens = _MARKDOWN.parse(source, env)
    _clamp_headings(tokens)
    return sanitize_rich_text(_MARKDOWN.renderer.render(tokens, _MARKDOWN.options, env))


def render_learner_text(source: str, *, max_chars: int = 20_000) -> str:
    """Render a learner's exercise response: emphasis, lists, quotes and line breaks only.

    Anything that looks like HTML, a link or an image is shown as the text the learner typed.
    """
    _check_size(source, max_chars, "Response")
    return sanitize_rich_text(_LEARNER_MARKDOWN.render(source))


_HEADING_TAG = re.compile(r"<(/?)h([1-6])>")


def nest_headings(html: str, under: int) -> str:
    """Shift rendered headings so the top level (``<h2>``) sits just below an ``<h{under}>``.

    Authored Markdown is stored with ``#`` as ``<h2>`` (the page owns ``<h1>``); where a page shows
    it inside a section already titled at ``<h{under}>`` (a reading under its ``<h3>`` title), the
    levels move down so none skips a level (axe ``heading-order``), clamped at ``<h6>``. The input is
    sanitised HTML whose headings carry no attributes, so the tags match exactly.
    """
    shift = under + 1 - _MIN_HEADING_LEVEL
    if shift <= 0:
        return html
    return _HEADING_TAG.sub(lambda m: f"<{m.group(1)}h{min(int(m.group(2)) + shift, 6)}>", html)
