"""Instructors read only the responses learners shared with them, and write feedback learners see."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from imh_course.extensions import db
from imh_course.models.audit import AuditEvent
from imh_course.models.curriculum import Exercise
from imh_course.models.offerings import DeliveryFormat, Enrolment, InstructorAssignment, Offering, Term
from imh_course.models.progress import ResponseFeedback
from imh_course.operations.feedback import FeedbackError, add_feedback
from imh_course.security.roles import Role
from tests.integration.authoring_helpers import instructor_actor, make_response, page_findings, session_number
from tests.xss import load_xss_corpus, unsafe_markup


def exercise_of(number: int = 3) -> Exercise:
    return db.session.scalar(
        select(Exercise).where(
            Exercise.session_id == session_number(number).id, Exercise.is_current.is_(True)
        )
    )


@pytest.fixture
def responses(demo):
    """One shared submitted, one private, one shared draft response in the demo offering."""
    exercise = exercise_of()
    return {
        "shared": make_response(demo.lcsw_id, demo.offering_id, exercise, "A *shared* reflection"),
        "private": make_response(
            demo.lmhc_id, demo.offering_id, exercise, "My private reflection", shared=False
        ),
        "draft": make_response(demo.nurse_id, demo.offering_id, exercise, "A shared draft", submitted=False),
    }


@pytest.fixture
def other_offering(demo, make_user):
    """A second offering with its own instructor and a learner who shared a response there."""
    demo_offering = db.session.get(Offering, demo.offering_id)
    offering = Offering(
        course_id=demo_offering.course_id, term=Term.FALL, year=2099, format=DeliveryFormat.IN_PERSON
    )
    db.session.add(offering)
    db.session.flush()
    teacher = make_user(Role.INSTRUCTOR, email="other-teacher@example.org")
    learner = make_user(Role.LEARNER, email="other-learner@example.org")
    db.session.add(InstructorAssignment(offering_id=offering.id, user_id=teacher.id))
    db.session.add(Enrolment(offering_id=offering.id, user_id=learner.id))
    db.session.commit()
    response = make_response(learner.id, offering.id, exercise_of(), "Elsewhere shared")
    return offering, response


def list_url(demo) -> str:
    return f"/staff/offerings/{demo.offering_id}/responses"


def test_the_list_shows_shared_submitted_responses_only(client, login, demo, responses, other_offering):
    """Private responses, drafts and other offerings' responses never appear in the list."""
    login("instructor@example.org")
    html = client.get(list_url(demo)).get_data(as_text=True)
    assert "Lena Social-Worker" in html
    assert f"/responses/{responses['shared'].id}" in html
    for hidden in (responses["private"], responses["draft"], other_offering[1]):
        assert f"/responses/{hidden.id}" not in html
    assert "Marco Counselor" not in html and "Nia Nurse" not in html


def test_the_response_page_shows_the_sanitised_text(client, login, demo, responses):
    """A shared response opens with the learner's text as rendered at save time."""
    login("instructor@example.org")
    html = client.get(f"{list_url(demo)}/{responses['shared'].id}").get_data(as_text=True)
    assert "<p>A <em>shared</em> reflection</p>" in html


def test_private_draft_and_foreign_responses_are_404(client, login, demo, responses, other_offering):
    """Guessing the id of a private, draft or other offering's response gives 404."""
    login("instructor@example.org")
    for hidden in (responses["private"], responses["draft"], other_offering[1]):
        assert client.get(f"{list_url(demo)}/{hidden.id}").status_code == 404
        assert client.post(f"{list_url(demo)}/{hidden.id}", data={"body": "x"}).status_code == 404
    assert db.session.scalar(select(func.count(ResponseFeedback.id))) == 0


def test_feedback_is_saved_audited_and_shown_to_the_learner(client, login, demo, responses):
    """Posted feedback is stored sanitised, audited, and appears on the learner's exercise page."""
    login("instructor@example.org")
    shared = responses["shared"]
    response = client.post(f"{list_url(demo)}/{shared.id}", data={"body": "Thank you — **well noticed**."})
    assert response.status_code == 302
    feedback = db.session.scalar(select(ResponseFeedback))
    assert feedback.body_html == "<p>Thank you — <strong>well noticed</strong>.</p>\n"
    assert feedback.author_id == demo.instructor_id
    event = db.session.scalar(select(AuditEvent).where(AuditEvent.action == "response.feedback"))
    assert (event.actor_id, event.offering_id, event.learner_id) == (
        demo.instructor_id,
        demo.offering_id,
        demo.lcsw_id,
    )
    assert "well noticed" not in str(event.after)  # the audit trail records the fact, not the text
    assert "<strong>well noticed</strong>" in client.get(f"{list_url(demo)}/{shared.id}").get_data(
        as_text=True
    )

    client.post("/logout")
    login("lcsw@example.org")
    page = client.get(f"/learn/offerings/{demo.offering_id}/exercises/{shared.exercise_key}")
    assert "Thank you — <strong>well noticed</strong>." in page.get_data(as_text=True)


def test_empty_feedback_is_refused_with_400(client, login, demo, responses):
    """Blank feedback re-renders the form with a message; nothing is stored."""
    login("instructor@example.org")
    response = client.post(f"{list_url(demo)}/{responses['shared'].id}", data={"body": "   "})
    assert response.status_code == 400
    assert "Enter your feedback." in response.get_data(as_text=True)
    assert db.session.scalar(select(func.count(ResponseFeedback.id))) == 0


def test_feedback_on_a_response_that_is_no_longer_shared_is_refused(app, demo, responses):
    """If the learner stopped sharing, the operation refuses the feedback."""
    shared = responses["shared"]
    shared.is_shared = False
    db.session.commit()
    with pytest.raises(FeedbackError):
        add_feedback(instructor_actor(demo.instructor_id), shared, "Late feedback")


def test_unsharing_hides_the_response_but_the_learner_keeps_the_feedback(client, login, demo, responses):
    """After unsharing, the instructor gets 404; feedback already given stays with the learner."""
    shared = responses["shared"]
    add_feedback(instructor_actor(demo.instructor_id), shared, "Given before unsharing")
    shared.is_shared = False
    db.session.commit()
    login("instructor@example.org")
    assert client.get(f"{list_url(demo)}/{shared.id}").status_code == 404
    assert "Given before unsharing" not in client.get(list_url(demo)).get_data(as_text=True)
    assert len(shared.feedback) == 1


def test_coordinators_and_learners_cannot_read_responses(client, login, demo, responses):
    """Coordinators see completion, never response text (403); learners get 403 too."""
    for email in ("coordinator@example.org", "lcsw@example.org"):
        login(email)
        assert client.get(list_url(demo)).status_code == 403
        assert client.get(f"{list_url(demo)}/{responses['shared'].id}").status_code == 403
        assert (
            client.post(f"{list_url(demo)}/{responses['shared'].id}", data={"body": "x"}).status_code == 403
        )
        client.post("/logout")


def test_an_instructor_of_another_offering_gets_404(client, login, demo, responses, other_offering):
    """Instructors act only on offerings they are assigned to."""
    login("other-teacher@example.org")
    assert client.get(list_url(demo)).status_code == 404
    assert client.get(f"{list_url(demo)}/{responses['shared'].id}").status_code == 404
    offering, response = other_offering
    assert client.get(f"/staff/offerings/{offering.id}/responses/{response.id}").status_code == 200


def test_anonymous_visitors_are_sent_to_sign_in(client, demo, responses):
    """Signed-out visitors are redirected to sign in."""
    for url in (list_url(demo), f"{list_url(demo)}/{responses['shared'].id}"):
        response = client.get(url)
        assert response.status_code == 302 and "/login" in response.headers["Location"]


def test_the_xss_corpus_in_feedback_is_stored_clean(client, login, demo, responses):
    """Every payload posted as feedback is stored without scripts, handlers, js: links or hostile CSS."""
    login("instructor@example.org")
    shared = responses["shared"]
    for payload in load_xss_corpus()[:80]:
        assert client.post(f"{list_url(demo)}/{shared.id}", data={"body": payload}).status_code in (302, 400)
    actor = instructor_actor(demo.instructor_id)
    for payload in load_xss_corpus()[80:]:
        try:
            add_feedback(actor, shared, payload)
        except FeedbackError:
            continue  # e.g. a payload that is only whitespace once stripped
    db.session.commit()
    stored = db.session.scalars(select(ResponseFeedback.body_html)).all()
    assert len(stored) > 400
    assert [html for html in stored if unsafe_markup(html)] == []
    assert page_findings(client.get(f"{list_url(demo)}/{shared.id}").get_data(as_text=True)) == []
    client.post("/logout")
    login("lcsw@example.org")
    page = client.get(f"/learn/offerings/{demo.offering_id}/exercises/{shared.exercise_key}")
    assert page_findings(page.get_data(as_text=True)) == []
