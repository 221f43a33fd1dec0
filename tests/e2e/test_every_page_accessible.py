"""Every HTML page, as every person allowed to open it, passes axe at desktop and phone width.

Generated from ``app.url_map`` and the access matrix (``tests/access_world.py``): every GET route
whose ``EXPECTED`` cell is ``ok`` for a persona is opened as that persona in Debian's Chromium, at
1280×800 and at 390×844, and fails on any critical or serious axe-core violation. At 390 px the
page must not scroll sideways either: a wide table belongs in a labelled, focusable scroll region
(the ``scroll_region`` macro), and any box that scrolls sideways must be one. A new GET route is
checked as soon as it has its row in ``EXPECTED`` (which the access-matrix test demands).

Speed: one database, world and live server for the module, one browser, one context per persona
signed in once; pages are visited in sequence. Routes that answer something other than an HTML
page (downloads, JSON, redirects) are skipped with what they answered.
"""

from __future__ import annotations

import os
import shutil
from collections.abc import Iterator
from dataclasses import dataclass, field
from pathlib import Path

import pytest

from app import create_app
from imh_course.extensions import db
from tests.access_world import EMAILS, EXPECTED, NOT_CHECKED, PERSONAS, World, build_world, path_for
from tests.conftest import (
    PG_URL,
    REPO_ROOT,
    TEST_PASSWORD,
    _base_config,
    _truncate_postgres,
    build_demo,
    load_content,
)
from tests.e2e.conftest import BLOCKING_IMPACTS, LiveServer, sign_in

WIDTHS = {"desktop": {"width": 1280, "height": 800}, "phone": {"width": 390, "height": 844}}


#: In the page: does the document scroll sideways, what sticks out, which boxes scroll unlabelled.
#: Phone screenshots of the pages issue 16 asks to see at 390 px (every field visible), saved on
#: each run for a person to look at, never committed (instance/ is ignored by git).
SCREENSHOTS = {"imh.attendance_roster", "imh.completion_matrix", "imh.offering_dashboard", "imh.transcript"}
SCREENSHOT_DIR = Path(os.environ.get("IMH_SCREENSHOT_DIR") or REPO_ROOT / "test-artifacts" / "screenshots")

SIDEWAYS_JS = """() => {
  const vw = window.innerWidth;
  const scrollWidth = document.scrollingElement.scrollWidth;
  const name = (el) => el.tagName.toLowerCase() + (el.id ? '#' + el.id : '')
    + (el.classList.length ? '.' + [...el.classList].join('.') : '')
    + ' "' + (el.textContent || '').trim().replace(/\\s+/g, ' ').slice(0, 40) + '"';
  const scrolls = (el) => ['auto', 'scroll'].includes(getComputedStyle(el).overflowX);
  const clips = (el) => scrolls(el) || ['hidden', 'clip'].includes(getComputedStyle(el).overflowX);
  const region = (el) => scrolls(el) && el.getAttribute('tabindex') === '0'
    && (el.hasAttribute('aria-label') || el.hasAttribute('aria-labelledby'));
  const problems = [];
  const all = [...document.body.querySelectorAll('*')];
  const unclipped = (el) => {
    for (let up = el.parentElement; up && up !== document.body; up = up.parentElement) {
      if (clips(up)) return false;
    }
    return true;
  };
  const innermost = (els) => els.filter((el) => !els.some((o) => o !== el && el.contains(o)));
  if (scrollWidth > vw) {
    // what sticks out: the outermost boxes past the window's edge, the innermost boxes text spills from
    const wide = all.filter((el) => el.getBoundingClientRect().right > vw + 1 && unclipped(el));
    const spilling = all.filter((el) => !clips(el) && el.scrollWidth > el.clientWidth + 1
      && el.getBoundingClientRect().left + el.scrollWidth > vw + 1 && unclipped(el));
    for (const el of wide.filter((el) => !wide.includes(el.parentElement)).slice(0, 4)) {
      problems.push(name(el) + ' reaches ' + Math.round(el.getBoundingClientRect().right) + ' px');
    }
    for (const el of innermost(spilling).slice(0, 4)) {
      problems.push(name(el) + ': its content spills out to '
        + Math.round(el.getBoundingClientRect().left + el.scrollWidth) + ' px');
    }
  }
  for (const el of all) {
    if (scrolls(el) && el.scrollWidth > el.clientWidth + 1 && !region(el)) {
      problems.push(name(el) + ' scrolls sideways but is not a labelled, focusable region'
        + ' (tabindex="0" and aria-label: the scroll_region macro)');
    }
  }
  return {scrollWidth, innerWidth: vw, problems};
}"""


def _checked_pairs() -> list[tuple[str, str]]:
    """(persona, endpoint) for every GET route the access matrix lets that persona open."""
    app = create_app(_base_config("sqlite://"))  # only the url_map is read
    endpoints = sorted(
        {r.endpoint for r in app.url_map.iter_rules() if "GET" in r.methods and r.endpoint not in NOT_CHECKED}
    )
    return [
        (persona, endpoint)
        for persona in PERSONAS
        for endpoint in endpoints
        if endpoint in EXPECTED and EXPECTED[endpoint].split()[PERSONAS.index(persona)] == "ok"
    ]


PAIRS = _checked_pairs()


@dataclass
class Site:
    """The module's live server, world and one signed-in browser page per persona."""

    url: str
    app: object
    world: World
    rules: dict[str, object]
    browser: object
    context_args: dict
    pages: dict[str, object] = field(default_factory=dict)
    answers: dict[tuple[str, str], str] = field(default_factory=dict)  # what a non-page answered

    def page_for(self, persona: str):  # noqa: ANN201
        if persona not in self.pages:
            context = self.browser.new_context(**self.context_args)
            page = context.new_page()
            if persona != "anonymous":
                sign_in(page, self.url, EMAILS[persona], TEST_PASSWORD)
                page.wait_for_url(lambda url: "/login" not in url)
            self.pages[persona] = page
        return self.pages[persona]

    def path(self, endpoint: str) -> str:
        return path_for(self.app, self.rules[endpoint], self.world)


@pytest.fixture(scope="module")
def site(browser, browser_context_args, database_template: str, tmp_path_factory) -> Iterator[Site]:  # noqa: ANN001
    """One migrated database with the access-matrix world, served live with CSRF on, for the module.

    On PostgreSQL the tables are emptied first and no test in this module uses the function-scoped
    ``app`` (whose set-up would empty them again under the live server).
    """
    if PG_URL:
        _truncate_postgres(PG_URL)
        url = PG_URL
    else:
        target = tmp_path_factory.mktemp("every_page") / "test.sqlite3"
        shutil.copyfile(database_template.removeprefix("sqlite:///"), target)
        url = f"sqlite:///{target}"
    app = create_app(_base_config(url, WTF_CSRF_ENABLED=True))
    with app.app_context():
        server = None
        site = None
        try:
            load_content()
            world = build_world(app, app.test_client(), build_demo())
            db.session.remove()  # nothing held open while the server's threads work
            server = LiveServer(app)
            server.start()
            rules = {r.endpoint: r for r in app.url_map.iter_rules()}
            site = Site(server.url, app, world, rules, browser, browser_context_args)
            yield site
        finally:
            if site is not None:
                for page in site.pages.values():
                    page.context.close()
            if server is not None:
                server.stop()
            db.session.remove()
            db.engine.dispose()


def _html_page(site: Site, persona: str, endpoint: str) -> str | None:
    """None when the route answers this persona with an HTML page, else what it answered."""
    key = (persona, endpoint)
    if key not in site.answers:
        response = site.page_for(persona).request.get(site.url + site.path(endpoint), max_redirects=0)
        kind = response.headers.get("content-type", "")
        if response.status == 200 and kind.startswith("text/html"):
            site.answers[key] = ""
        else:
            where = response.headers.get("location", "")
            site.answers[key] = f"answers {response.status} " + (f"to {where}" if where else kind)
        response.dispose()
    return site.answers[key] or None


def _axe_problems(page) -> list[str]:  # noqa: ANN001
    from axe_playwright_python.sync_playwright import Axe

    results = Axe().run(page)
    return [
        f"{v['id']} ({v['impact']}): {v['help']} — " + "; ".join(str(n["target"][0]) for n in v["nodes"][:4])
        for v in results.response["violations"]
        if v.get("impact") in BLOCKING_IMPACTS
    ]


@pytest.mark.parametrize("width", list(WIDTHS))
@pytest.mark.parametrize(
    ("persona", "endpoint"), PAIRS, ids=[f"{p}-{e.removeprefix('imh.')}" for p, e in PAIRS]
)
def test_page_passes_axe_and_fits_a_phone(site: Site, persona: str, endpoint: str, width: str):
    """No critical or serious axe violation; at 390 px nothing scrolls sideways outside a labelled region."""
    answered = _html_page(site, persona, endpoint)
    if answered:
        pytest.skip(f"not an HTML page: {answered}")
    page = site.page_for(persona)
    page.set_viewport_size(WIDTHS[width])
    response = page.goto(site.url + site.path(endpoint))
    assert response is not None, f"{endpoint} as {persona}: no response"
    assert response.status == 200, f"{endpoint} as {persona} answered {response.status} in the browser"
    problems = _axe_problems(page)
    if width == "phone" and endpoint in SCREENSHOTS:
        SCREENSHOT_DIR.mkdir(parents=True, exist_ok=True)
        shot = SCREENSHOT_DIR / f"{endpoint.removeprefix('imh.')}-{persona}-390.png"
        page.screenshot(path=shot, full_page=True)
    if width == "phone":
        sideways = page.evaluate(SIDEWAYS_JS)
        if sideways["scrollWidth"] > sideways["innerWidth"]:
            wide = f"{sideways['scrollWidth']} px wide in a {sideways['innerWidth']} px window"
            problems.append(f"page scrolls sideways ({wide}):")
        problems += sideways["problems"]
    assert problems == [], f"{page.url} as {persona} at {width} width:\n" + "\n".join(problems)


def test_the_generated_list_covers_every_persona_and_page():
    """A route cannot escape: the list is built from url_map and reaches every kind of person."""
    assert len(PAIRS) > 50
    assert {persona for persona, _ in PAIRS} == set(PERSONAS)
    app = create_app(_base_config("sqlite://"))
    get_routes = {r.endpoint for r in app.url_map.iter_rules() if "GET" in r.methods} - NOT_CHECKED
    assert get_routes <= EXPECTED.keys(), "GET routes without an access-matrix row: " + ", ".join(
        sorted(get_routes - EXPECTED.keys())
    )
    opened = {endpoint for _, endpoint in PAIRS}
    assert opened == {e for e in get_routes if "ok" in EXPECTED[e].split()}


def test_every_persona_has_html_pages_to_check(site: Site):
    """The page tests do not all skip: every kind of person opens HTML pages, and many of them."""
    for persona, endpoint in PAIRS:
        _html_page(site, persona, endpoint)
    for persona in PERSONAS:
        pages = [e for p, e in PAIRS if p == persona and not site.answers[(p, e)]]
        assert pages, f"no HTML page was found for {persona}"
    assert sum(1 for answer in site.answers.values() if not answer) > 50


def test_the_checks_themselves_fail_what_they_should(site: Site):
    """A labelled scroll region passes; a bare wide table, an unnamed scroll box, an unlabelled field fail."""
    from flask import render_template_string, url_for

    table = '<table style="width:900px"><tr><th>Learner</th><td>Present</td></tr></table>'
    with site.app.test_request_context():
        css = url_for("imh.static", filename="site.css")
        region = render_template_string(
            '{% from "imh_course/_table_macros.html" import scroll_region %}'
            '{% call scroll_region("Wide table") %}' + table + "{% endcall %}"
        )
    page = site.browser.new_page(viewport=WIDTHS["phone"])
    try:
        verdicts = {}
        for case, body in {
            "region": region,
            "bare": table,
            "unnamed": f'<div style="overflow-x:auto">{table}</div>',
        }.items():
            head = f'<head><link rel="stylesheet" href="{site.url}{css}"></head>'
            page.set_content(f"<html>{head}<body>{body}</body></html>")
            verdicts[case] = page.evaluate(SIDEWAYS_JS)
        page.set_content('<html lang="en"><title>t</title><body><main><input></main></body></html>')
        unlabelled = _axe_problems(page)
    finally:
        page.close()
    assert verdicts["region"]["problems"] == []
    assert verdicts["region"]["scrollWidth"] <= 390
    assert verdicts["bare"]["scrollWidth"] > 390
    assert any(p.startswith("table") and "reaches" in p for p in verdicts["bare"]["problems"])
    assert verdicts["unnamed"]["scrollWidth"] <= 390
    assert any("not a labelled, focusable region" in p for p in verdicts["unnamed"]["problems"])
    assert any(p.startswith("label (critical)") for p in unlabelled), unlabelled
