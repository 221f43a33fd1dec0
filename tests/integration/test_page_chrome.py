"""Page furniture every screen shares: the site icon and keyboard-reachable scrolling tables."""

from __future__ import annotations

from html.parser import HTMLParser
from pathlib import Path

import pytest

ICON_TYPES = {"image/svg+xml", "image/x-icon", "image/vnd.microsoft.icon", "image/png"}
TEMPLATES = Path(__file__).resolve().parents[2] / "imh_course" / "templates" / "imh_course"


class _Collector(HTMLParser):
    """Collects the attributes of ``<link rel=icon>`` and of every ``div.table-scroll``."""

    def __init__(self) -> None:
        super().__init__()
        self.icons: list[dict[str, str | None]] = []
        self.scrollers: list[dict[str, str | None]] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:
        found = dict(attrs)
        if tag == "link" and "icon" in (found.get("rel") or "").split():
            self.icons.append(found)
        if "table-scroll" in (found.get("class") or "").split():
            self.scrollers.append(found)


def _collect(html: str) -> _Collector:
    collector = _Collector()
    collector.feed(html)
    return collector


def test_every_page_links_an_icon_that_answers(client, demo):
    """Browsers ask for a site icon on every page; the link must point at one that exists (no 404)."""
    for path in ("/", "/login"):
        icons = _collect(client.get(path).get_data(as_text=True)).icons
        assert icons, f"{path} links no icon"
        for icon in icons:
            response = client.get(icon["href"])
            assert response.status_code == 200, icon["href"]
            assert response.mimetype in ICON_TYPES
            response.close()


def _assert_scrollers_reachable(html: str, where: str) -> int:
    scrollers = _collect(html).scrollers
    for found in scrollers:
        assert found.get("tabindex") == "0", f"{where}: scrolling table not reachable by keyboard: {found}"
        assert found.get("role") == "region", f"{where}: scrolling table is not a region: {found}"
        assert (found.get("aria-label") or "").strip(), f"{where}: scrolling table has no name: {found}"
    return len(scrollers)


def test_no_template_writes_a_bare_scrolling_wrapper():
    """Every scrolling table goes through the one macro, so new tables are reachable and named too."""
    bare = [
        str(path.relative_to(TEMPLATES))
        for path in TEMPLATES.rglob("*.html")
        if path.name != "_table_macros.html" and 'class="table-scroll"' in path.read_text(encoding="utf-8")
    ]
    assert bare == []


@pytest.mark.parametrize(
    ("email", "paths"),
    [
        (
            "coordinator@example.org",
            (
                "/",
                "/staff/audit",
                "/staff/offerings/{o}",
                "/staff/offerings/{o}/matrix",
                "/staff/offerings/{o}/enrolments",
                "/staff/offerings/{o}/learners/{lcsw}",
            ),
        ),
        ("lcsw@example.org", ("/learn/offerings/{o}", "/learn/offerings/{o}/transcript")),
    ],
)
def test_scrolling_tables_are_focusable_labelled_regions(client, demo, login, email, paths):
    """axe `scrollable-region-focusable`: a keyboard user must be able to reach and scroll each table."""
    login(email)
    seen = 0
    for template in paths:
        path = template.format(o=demo.offering_id, lcsw=demo.lcsw_id)
        response = client.get(path)
        assert response.status_code == 200, path
        seen += _assert_scrollers_reachable(response.get_data(as_text=True), path)
    assert seen > 0


class _Headings(HTMLParser):
    """The heading levels of a page, in document order."""

    def __init__(self) -> None:
        super().__init__()
        self.levels: list[int] = []

    def handle_starttag(self, tag: str, attrs: list[tuple[str, str | None]]) -> None:  # noqa: ARG002
        if len(tag) == 2 and tag[0] == "h" and tag[1] in "123456":
            self.levels.append(int(tag[1]))


def test_session_page_headings_never_skip_a_level(client, demo, login):
    """axe `heading-order`: a reading's own headings sit under its title, so none jumps a level."""
    login("lcsw@example.org")
    for number in (1, 2, 5):
        html = client.get(f"/learn/offerings/{demo.offering_id}/sessions/{number}").get_data(as_text=True)
        parser = _Headings()
        parser.feed(html)
        levels = parser.levels
        assert levels and levels[0] == 1
        skips = [(a, b) for a, b in zip(levels, levels[1:], strict=False) if b > a + 1]
        assert skips == [], f"session {number}: heading levels {levels}"
