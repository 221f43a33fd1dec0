"""Every route × every kind of person → the expected outcome (ASVS 4.1.1, 4.1.3, 4.2.1).

Generated from ``app.url_map``: each endpoint must have a row in ``EXPECTED`` (in
tests/access_world.py, shared with the every-page accessibility test); a new route without one
fails ``test_every_route_has_an_expectation`` until someone decides who may open it. Routes are
requested with real identifiers from one world (``build_world``): the demo offering, a second
offering taught by someone else, and objects (quiz attempt, certificate, shared response) owned
by the learner.

Outcomes: ``ok`` (served or acted on: 2xx, 3xx, or 400 for a form missing its fields), ``login``
(sent to sign in), ``401`` (an LTI launch without a valid id_token), ``403`` (refused), ``404``
(hidden: not yours / not there). GET is requested
for routes that answer GET, POST (without form fields, CSRF off) for POST-only routes.
"""

from __future__ import annotations

import pytest

from tests.access_world import (
    EMAILS,
    EXPECTED,
    NOT_CHECKED,
    PERSONAS,
    World,
    build_world,
    module_rules,
    outcome,
    path_for,
)


@pytest.fixture
def world(app, client, demo) -> World:
    """The access-matrix world (``tests.access_world.build_world``)."""
    return build_world(app, client, demo)


def probe(app, client, world: World) -> dict[str, str]:  # noqa: ANN001
    """The outcome of every route for the client's current sign-in (GETs first, sign-out last)."""
    found = {}
    for rule in module_rules(app):
        path = path_for(app, rule, world)
        response = client.get(path) if "GET" in rule.methods else client.post(path, data={})
        response.get_data()  # finish streamed downloads before the next request
        response.close()
        found[rule.endpoint] = outcome(response)
    return found


def test_every_route_has_an_expectation(app):
    """A route missing from the table (or a row for a route that no longer exists) fails here."""
    endpoints = {rule.endpoint for rule in app.url_map.iter_rules()} - NOT_CHECKED
    missing = sorted(endpoints - EXPECTED.keys())
    stale = sorted(EXPECTED.keys() - endpoints)
    where = "add them to EXPECTED in tests/access_world.py"
    assert missing == [], f"routes without an access expectation ({where}): " + ", ".join(missing)
    assert stale == [], "expectations for routes that no longer exist: " + ", ".join(stale)


def test_table_rows_are_well_formed():
    """Each row names an outcome for each of the seven kinds of person."""
    for endpoint, row in EXPECTED.items():
        cells = row.split()
        assert len(cells) == len(PERSONAS), endpoint
        assert set(cells) <= {"ok", "login", "401", "403", "404"}, endpoint


@pytest.mark.parametrize("persona", PERSONAS)
def test_every_route_answers_each_person_as_expected(app, client, login, world, persona):
    """Each kind of person gets exactly the expected outcome on every route: allowed, sign-in, 403 or 404."""
    if persona != "anonymous":
        login(EMAILS[persona])
    actual = probe(app, client, world)
    column = PERSONAS.index(persona)
    wrong = [
        f"{endpoint}: expected {EXPECTED[endpoint].split()[column]}, got {got}"
        for endpoint, got in actual.items()
        if endpoint in EXPECTED and EXPECTED[endpoint].split()[column] != got
    ]
    assert wrong == [], f"{persona}:\n" + "\n".join(wrong)
