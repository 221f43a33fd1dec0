"""Session binding (issue 14 item 11): a learner whose phone changes network stays signed in.

Flask-Login's "strong" protection hashes the client address with the user agent, so a phone
moving from Wi-Fi to mobile data mid-quiz was signed out. The address is now bound only when
``IMH_SESSION_BIND_ADDRESS`` is on; the user-agent check stays.
"""

from __future__ import annotations

import pytest

from imh_course.extensions import db
from imh_course.models.quizzes import QuizAttempt
from tests.conftest import TEST_PASSWORD
from tests.integration.learner_helpers import quiz_for, quiz_form

WIFI = {"REMOTE_ADDR": "192.0.2.10", "HTTP_USER_AGENT": "PhoneBrowser/1.0"}
MOBILE = {"REMOTE_ADDR": "198.51.100.77", "HTTP_USER_AGENT": "PhoneBrowser/1.0"}
OTHER_BROWSER = {"REMOTE_ADDR": "192.0.2.10", "HTTP_USER_AGENT": "SomeoneElse/9.9"}


def _sign_in(client) -> None:
    response = client.post(
        "/login", data={"email": "lcsw@example.org", "password": TEST_PASSWORD}, environ_base=WIFI
    )
    assert response.status_code == 302


def _signed_in(client, environ: dict[str, str]) -> bool:
    """Whether my dashboard opens (signed out, it sends me to the sign-in page)."""
    response = client.get("/learn", environ_base=environ)
    return response.status_code == 200 or (
        response.status_code == 302 and not response.headers["Location"].startswith("/login")
    )


def test_a_new_network_mid_quiz_keeps_me_signed_in(app, client, demo):
    """Default: the quiz I started on Wi-Fi is graded when I submit it from mobile data."""
    quiz = quiz_for(1)
    url = f"/learn/offerings/{demo.offering_id}/quizzes/{quiz.key}"
    _sign_in(client)
    assert client.get(url, environ_base=WIFI).status_code == 200
    response = client.post(url, data=quiz_form(quiz, 1), environ_base=MOBILE)
    assert response.status_code == 302
    assert "/login" not in response.headers["Location"]
    assert db.session.query(QuizAttempt).filter_by(user_id=demo.lcsw_id).count() == 1
    assert _signed_in(client, MOBILE)


def test_another_user_agent_still_signs_the_cookie_out(app, client, demo):
    """A copied cookie used from another browser is not signed in (the user-agent check stays)."""
    _sign_in(client)
    assert _signed_in(client, WIFI)
    assert not _signed_in(client, OTHER_BROWSER)


class TestAddressBindingOn:
    @pytest.fixture
    def app_config(self) -> dict[str, object]:
        return {"IMH_SESSION_BIND_ADDRESS": True}

    def test_a_new_address_signs_me_out_when_binding_is_on(self, app, client, demo):
        _sign_in(client)
        assert _signed_in(client, WIFI)
        assert not _signed_in(client, MOBILE)
        assert not _signed_in(client, WIFI)  # the session was ended, not just refused once
