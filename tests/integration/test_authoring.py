"""Instructors author, preview, version and publish exercises and quiz questions in the browser."""

from __future__ import annotations

import pytest
from sqlalchemy import func, select

from imh_course.extensions import db
from imh_course.models.audit import AuditEvent
from imh_course.models.curriculum import ContentOrigin, Exercise, Quiz, QuizQuestion
from imh_course.models.progress import ExerciseResponse
from imh_course.models.quizzes import QuizAttempt
from imh_course.operations import authoring as ops
from imh_course.operations import quiz_authoring as quiz_ops
from imh_course.security.roles import Role
from tests.integration.authoring_helpers import (
    current_exercise,
    current_quiz_of,
    exercise_form,
    instructor_actor,
    make_response,
    page_findings,
    question_form,
    session_number,
)
from tests.xss import load_xss_corpus, unsafe_markup


@pytest.fixture
def instructor(client, demo, login):
    """The test client signed in as the demo offering's instructor."""
    login("instructor@example.org")
    return client


def base(demo, number: int = 3) -> str:
    return f"/staff/offerings/{demo.offering_id}/sessions/{number}"


def new_exercise_key() -> str:
    return db.session.scalar(
        select(Exercise.key).where(Exercise.origin == ContentOrigin.BROWSER).order_by(Exercise.id.desc())
    )


# --- the demo: author, publish, the learner sees it ----------------------------------------------


def test_instructor_publishes_a_new_exercise_and_question_that_the_learner_then_sees(
    instructor, client, demo, login
):
    """Done-when: a new exercise and quiz question, once published, appear on the learner's pages."""
    url = base(demo)
    response = instructor.post(url + "/exercises/new", data=exercise_form(title="Tracing an Echo"))
    assert response.status_code == 302
    key = new_exercise_key()
    assert key == "s03-tracing-an-echo"
    exercise = current_exercise(key)
    assert (exercise.is_published, exercise.origin, exercise.version) == (False, ContentOrigin.BROWSER, 1)

    quiz = current_quiz_of(3)
    prompt = "What does *ghosts in the nursery* name? (new)"
    response = instructor.post(
        url + "/quiz/questions/new", data=question_form(prompt, base_version=quiz.version)
    )
    assert response.status_code == 302
    assert instructor.post(url + f"/exercises/{key}/publish").status_code == 302

    client.post("/logout")
    login("lcsw@example.org")
    session_html = client.get(f"/learn/offerings/{demo.offering_id}/sessions/3").get_data(as_text=True)
    assert "Tracing an Echo" in session_html
    page = client.get(f"/learn/offerings/{demo.offering_id}/exercises/{key}").get_data(as_text=True)
    assert "Describe <strong>one</strong> moment" in page
    quiz_page = client.get(f"/learn/offerings/{demo.offering_id}/quizzes/{quiz.key}").get_data(as_text=True)
    assert "What does <em>ghosts in the nursery</em> name? (new)" in quiz_page


def test_a_draft_exercise_is_invisible_to_learners_until_published(instructor, client, demo, login):
    """A new exercise starts as a draft: learners neither see it listed nor can open it."""
    instructor.post(base(demo) + "/exercises/new", data=exercise_form(title="Draft Only"))
    key = new_exercise_key()
    client.post("/logout")
    login("nurse@example.org")
    assert "Draft Only" not in client.get(f"/learn/offerings/{demo.offering_id}/sessions/3").get_data(
        as_text=True
    )
    assert client.get(f"/learn/offerings/{demo.offering_id}/exercises/{key}").status_code == 404


def test_authoring_pages_render_for_the_instructor(instructor, demo):
    """The content overview, session page, forms and previews all open for an assigned instructor."""
    quiz = current_quiz_of(3)
    exercise_key = db.session.scalar(
        select(Exercise.key).where(Exercise.session_id == quiz.session_id, Exercise.is_current.is_(True))
    )
    urls = [
        f"/staff/offerings/{demo.offering_id}/content",
        base(demo) + "/content",
        base(demo) + "/exercises/new",
        base(demo) + f"/exercises/{exercise_key}/edit",
        base(demo) + f"/exercises/{exercise_key}/preview",
        base(demo) + "/quiz/settings",
        base(demo) + "/quiz/preview",
        base(demo) + "/quiz/questions/new",
        base(demo) + "/quiz/questions/q1/edit",
    ]
    for url in urls:
        assert instructor.get(url).status_code == 200, url
    staff_home = instructor.get("/staff").get_data(as_text=True)
    assert f"/staff/offerings/{demo.offering_id}/content" in staff_home
    assert f"/staff/offerings/{demo.offering_id}/responses" in staff_home


# --- preview --------------------------------------------------------------------------------------


def test_preview_shows_the_learner_rendering_and_saves_nothing(instructor, demo):
    """Preview renders the learners' partial from the sanitised input; no row is written."""
    count = db.session.scalar(select(func.count(Exercise.id)))
    data = exercise_form(instructions="A **bold** start <script>alert(1)</script>", action="preview")
    response = instructor.post(base(demo) + "/exercises/new", data=data)
    assert response.status_code == 200
    html = response.get_data(as_text=True)
    assert "what learners will see" in html
    assert '<div class="card instructions"><p>A <strong>bold</strong> start &lt;script&gt;' in html
    assert page_findings(html) == []
    assert db.session.scalar(select(func.count(Exercise.id))) == count


def test_question_preview_shows_options_and_feedback_without_saving(instructor, demo):
    """A question preview shows the prompt, options and each option's feedback; the quiz is unchanged."""
    quiz = current_quiz_of(3)
    data = question_form("Preview *me*", action="preview", base_version=quiz.version)
    html = instructor.post(base(demo) + "/quiz/questions/q1/edit", data=data).get_data(as_text=True)
    assert "<p>Preview <em>me</em></p>" in html
    assert "Correct: remembering the <em>affect</em> helps." in html
    assert current_quiz_of(3).id == quiz.id


def test_the_saved_version_preview_is_the_learner_partial(instructor, demo):
    """The preview page of a saved exercise contains its stored HTML exactly as learners get it."""
    exercise = db.session.scalar(
        select(Exercise).where(Exercise.session_id == session_number(3).id, Exercise.is_current.is_(True))
    )
    html = instructor.get(base(demo) + f"/exercises/{exercise.key}/preview").get_data(as_text=True)
    assert f'<div class="card instructions">{exercise.instructions_html}</div>' in html


# --- versions -------------------------------------------------------------------------------------


def test_editing_a_published_exercise_makes_a_new_version_and_responses_keep_theirs(instructor, demo):
    """A saved edit is version 2; a response written on version 1 still points at version 1."""
    session = session_number(3)
    v1 = db.session.scalar(
        select(Exercise).where(Exercise.session_id == session.id, Exercise.is_current.is_(True))
    )
    response = make_response(demo.lcsw_id, demo.offering_id, v1)
    data = exercise_form(title=v1.title, instructions="New instructions.", base_version=v1.version)
    assert instructor.post(base(demo) + f"/exercises/{v1.key}/edit", data=data).status_code == 302

    v2 = current_exercise(v1.key)
    db.session.refresh(v1)
    assert (v2.version, v2.is_published, v2.origin) == (2, True, ContentOrigin.BROWSER)
    assert v2.instructions_html == "<p>New instructions.</p>\n"
    assert v1.is_current is False and v1.instructions_md != "New instructions."
    kept = db.session.get(ExerciseResponse, response.id)
    assert kept.exercise_id == v1.id and kept.exercise.version == 1


def test_saving_without_a_change_makes_no_new_version(instructor, demo):
    """Saving the form unchanged writes nothing (no version, no audit event)."""
    exercise = db.session.scalar(
        select(Exercise).where(Exercise.session_id == session_number(3).id, Exercise.is_current.is_(True))
    )
    events = db.session.scalar(select(func.count(AuditEvent.id)))
    data = exercise_form(
        title=exercise.title,
        kind=exercise.kind,
        minutes=exercise.estimated_minutes,
        instructions=exercise.instructions_md.replace("\n", "\r\n"),  # browsers send CRLF
        base_version=exercise.version,
    )
    assert instructor.post(base(demo) + f"/exercises/{exercise.key}/edit", data=data).status_code == 302
    assert current_exercise(exercise.key).id == exercise.id
    assert db.session.scalar(select(func.count(AuditEvent.id))) == events


def test_editing_a_quiz_question_pins_earlier_attempts_to_their_version(instructor, demo):
    """After a question edit, an earlier attempt keeps its quiz version, its questions and its score."""
    v1 = current_quiz_of(3)
    old_prompts = {q.key: q.prompt_html for q in v1.questions}
    attempt = QuizAttempt(
        user_id=demo.lcsw_id,
        offering_id=demo.offering_id,
        quiz_key=v1.key,
        quiz_id=v1.id,
        attempt_no=1,
        answers={q.key: [q.options[0]["id"]] for q in v1.questions},
        points=4,
        max_points=6,
        percent=66,
        passed=False,
    )
    db.session.add(attempt)
    db.session.commit()

    data = question_form("An edited prompt", base_version=v1.version)
    assert instructor.post(base(demo) + "/quiz/questions/q2/edit", data=data).status_code == 302

    v2 = current_quiz_of(3)
    assert v2.version == v1.version + 1 and v2.id != v1.id and v2.origin is ContentOrigin.BROWSER
    assert [q.key for q in v2.questions] == [q.key for q in v1.questions]
    new_prompts = {q.key: q.prompt_html for q in v2.questions}
    assert new_prompts["q2"] == "<p>An edited prompt</p>\n"
    assert {k: v for k, v in new_prompts.items() if k != "q2"} == {
        k: v for k, v in old_prompts.items() if k != "q2"
    }
    db.session.expire_all()
    pinned = db.session.get(QuizAttempt, attempt.id)
    assert pinned.quiz_id == v1.id
    assert {q.key: q.prompt_html for q in pinned.quiz.questions} == old_prompts
    assert (pinned.points, pinned.max_points, pinned.percent, pinned.passed) == (4, 6, 66, False)
    assert db.session.scalar(select(func.count(QuizQuestion.id)).where(QuizQuestion.quiz_id == v1.id)) == len(
        old_prompts
    )


def test_edited_question_keeps_its_option_ids(instructor, demo):
    """Option ids stay stable across an edit, so answers keep meaning the same option."""
    v1 = current_quiz_of(3)
    old_ids = [o["id"] for o in v1.questions[0].options]
    options = [(o["text"] + " (edited)", o["correct"], o["feedback"]) for o in v1.questions[0].options]
    data = question_form("Edited", options=options, base_version=v1.version)
    instructor.post(base(demo) + "/quiz/questions/q1/edit", data=data)
    assert [o["id"] for o in current_quiz_of(3).questions[0].options] == old_ids


def test_adding_and_removing_questions_makes_versions(instructor, demo):
    """Adding a question appends it as a new version; removing one makes another version."""
    v1 = current_quiz_of(3)
    count = len(v1.questions)
    instructor.post(base(demo) + "/quiz/questions/new", data=question_form(base_version=v1.version))
    v2 = current_quiz_of(3)
    assert len(v2.questions) == count + 1 and v2.questions[-1].key == f"q{count + 1}"
    response = instructor.post(base(demo) + "/quiz/questions/q1/remove", data={"base_version": v2.version})
    assert response.status_code == 302
    v3 = current_quiz_of(3)
    assert v3.version == v1.version + 2 and "q1" not in [q.key for q in v3.questions]


def test_the_last_question_cannot_be_removed(app, demo):
    """A quiz keeps at least one question; the instructor is told to unpublish instead."""
    quiz = current_quiz_of(3)
    actor = instructor_actor(demo.instructor_id)
    for question in quiz.questions[1:]:
        quiz, _changed = quiz_ops.remove_question(actor, quiz, question.key)
    with pytest.raises(ops.AuthoringError, match="at least one question"):
        quiz_ops.remove_question(actor, quiz, quiz.questions[0].key)


def test_quiz_settings_change_makes_a_version(instructor, demo):
    """Changing the pass mark is a new quiz version; blank attempts means unlimited."""
    v1 = current_quiz_of(3)
    data = {
        "title": v1.title,
        "estimated_minutes": "7",
        "pass_mark": "70",
        "max_attempts": "",
        "base_version": str(v1.version),
        "save": "Save",
    }
    assert instructor.post(base(demo) + "/quiz/settings", data=data).status_code == 302
    v2 = current_quiz_of(3)
    assert (v2.version, v2.pass_mark, v2.max_attempts, v2.estimated_minutes) == (v1.version + 1, 70, None, 7)


def test_a_session_without_a_quiz_gets_one_with_its_first_question(instructor, demo):
    """Creating a quiz takes its settings and a first question; it starts as a draft."""
    old = current_quiz_of(5)
    old.is_current = False  # as if the quiz file had been removed and the quiz retired
    db.session.commit()
    settings = {
        "title": "Session 5 check-in",
        "estimated_minutes": "5",
        "pass_mark": "80",
        "max_attempts": "3",
    }
    data = question_form("First *question*", settings=settings)
    response = instructor.post(base(demo, 5) + "/quiz/new", data=data)
    assert response.status_code == 302, response.get_data(as_text=True)
    quiz = current_quiz_of(5)
    assert quiz.key == "session-05-quiz-2"  # keys are never reused
    assert (quiz.title, quiz.version, quiz.is_published, len(quiz.questions)) == (
        "Session 5 check-in",
        1,
        False,
        1,
    )


def test_a_stale_edit_is_refused_with_409(instructor, demo):
    """If someone saved a newer version after the form was opened, the edit is not applied."""
    v1 = current_quiz_of(3)
    instructor.post(
        base(demo) + "/quiz/questions/q1/edit", data=question_form("First", base_version=v1.version)
    )
    response = instructor.post(
        base(demo) + "/quiz/questions/q1/edit", data=question_form("Second", base_version=v1.version)
    )
    assert response.status_code == 409
    assert "newer version" in response.get_data(as_text=True)
    assert current_quiz_of(3).version == v1.version + 1


# --- publish / unpublish --------------------------------------------------------------------------


def test_unpublishing_hides_an_exercise_but_keeps_responses(instructor, client, demo, login):
    """Unpublished: learners cannot open it; their response stays; publishing again restores it."""
    exercise = db.session.scalar(
        select(Exercise).where(Exercise.session_id == session_number(3).id, Exercise.is_current.is_(True))
    )
    response = make_response(demo.lcsw_id, demo.offering_id, exercise)
    assert instructor.post(base(demo) + f"/exercises/{exercise.key}/unpublish").status_code == 302
    client.post("/logout")
    login("lcsw@example.org")
    assert client.get(f"/learn/offerings/{demo.offering_id}/exercises/{exercise.key}").status_code == 404
    assert db.session.get(ExerciseResponse, response.id) is not None
    client.post("/logout")
    login("instructor@example.org")
    instructor.post(base(demo) + f"/exercises/{exercise.key}/publish")
    client.post("/logout")
    login("lcsw@example.org")
    page = client.get(f"/learn/offerings/{demo.offering_id}/exercises/{exercise.key}").get_data(as_text=True)
    assert "my own" in page


def test_unpublishing_a_quiz_hides_it_and_keeps_attempts(instructor, demo):
    """An unpublished quiz is hidden from learners; a version made while hidden stays hidden."""
    quiz = current_quiz_of(3)
    instructor.post(base(demo) + "/quiz/unpublish")
    assert current_quiz_of(3).is_published is False
    instructor.post(base(demo) + "/quiz/questions/q1/edit", data=question_form(base_version=quiz.version))
    assert current_quiz_of(3).is_published is False
    instructor.post(base(demo) + "/quiz/publish")
    assert current_quiz_of(3).is_published is True


def test_every_change_is_an_audit_event_with_the_instructor(instructor, demo):
    """Create, version, publish and unpublish each leave an audit event naming the instructor."""
    instructor.post(base(demo) + "/exercises/new", data=exercise_form(title="Audited"))
    key = new_exercise_key()
    instructor.post(base(demo) + f"/exercises/{key}/publish")
    instructor.post(base(demo) + f"/exercises/{key}/unpublish")
    instructor.post(
        base(demo) + f"/exercises/{key}/edit", data=exercise_form(title="Audited", instructions="Changed.")
    )
    events = db.session.scalars(
        select(AuditEvent).where(AuditEvent.entity_id == key).order_by(AuditEvent.id)
    ).all()
    assert [e.action for e in events] == [
        "content.create",
        "content.publish",
        "content.unpublish",
        "content.version",
    ]
    assert {(e.actor_id, e.actor_role) for e in events} == {(demo.instructor_id, Role.INSTRUCTOR.value)}


# --- bad input ------------------------------------------------------------------------------------


@pytest.mark.parametrize(
    ("kind", "options", "message"),
    [
        ("single", [("A", True, "f"), ("B", True, "f")], "exactly one correct option; 2 are marked correct"),
        ("single", [("A", False, "f"), ("B", False, "f")], "one correct option; none is marked correct"),
        ("true_false", [("True", True, "f"), ("False", False, "f"), ("Maybe", False, "f")], "exactly two"),
        ("multiple", [("A", False, "f"), ("B", False, "f")], "at least one correct option"),
        ("single", [("Only one", True, "f")], "at least 2"),
        ("single", [("A", True, ""), ("B", False, "f")], "Enter the feedback shown for this option."),
        ("single", [("", True, "feedback without text"), ("B", False, "f")], "Enter the option&#39;s text."),
    ],
)
def test_invalid_questions_are_shown_on_the_form_with_400(instructor, demo, kind, options, message):
    """The schema's answer-key rules come back on the form (400), and nothing is saved."""
    quiz = current_quiz_of(3)
    data = question_form(kind=kind, options=options, base_version=quiz.version)
    response = instructor.post(base(demo) + "/quiz/questions/q1/edit", data=data)
    assert response.status_code == 400
    assert message in response.get_data(as_text=True)
    assert current_quiz_of(3).id == quiz.id


def test_an_answer_key_problem_names_the_question_by_its_number(instructor, demo):
    """Shown above the form, "needs exactly one correct option" says which question: "Question 2: …"."""
    quiz = current_quiz_of(3)
    second = sorted(quiz.questions, key=lambda q: q.position)[1]
    none_correct = [("A", False, "f"), ("B", False, "f")]
    data = question_form(options=none_correct, base_version=quiz.version)
    edited = instructor.post(base(demo) + f"/quiz/questions/{second.key}/edit", data=data)
    assert edited.status_code == 400
    assert (
        "<p>Question 2: a single-choice question needs exactly one correct option; "
        "none is marked correct.</p>" in edited.get_data(as_text=True)
    )
    added = instructor.post(base(demo) + "/quiz/questions/new", data=data)
    assert added.status_code == 400
    assert f"<p>Question {len(quiz.questions) + 1}: a single-choice question" in added.get_data(as_text=True)


@pytest.mark.parametrize(
    "data",
    [
        exercise_form(minutes="ten"),
        exercise_form(minutes=0),
        exercise_form(title=""),
        exercise_form(instructions="   "),
        exercise_form(kind="poem"),
        exercise_form(instructions="x" * 20_001),
        exercise_form(title="\x00\x01"),
    ],
)
def test_invalid_exercises_are_refused_with_400(instructor, demo, data):
    """Bad numbers, blanks, unknown kinds, oversize or control-character text: a 400 form, never a 500."""
    count = db.session.scalar(select(func.count(Exercise.id)))
    response = instructor.post(base(demo) + "/exercises/new", data=data)
    assert response.status_code == 400
    assert db.session.scalar(select(func.count(Exercise.id))) == count


@pytest.mark.parametrize(
    "data",
    [
        question_form(points="many"),
        question_form(points=11),
        question_form(kind="essay"),
        question_form(prompt=""),
        question_form(options=[("x" * 301, True, "f"), ("B", False, "f")]),
    ],
)
def test_invalid_question_fields_are_refused_with_400(instructor, demo, data):
    """Field-level problems in the question editor re-render the form with 400."""
    response = instructor.post(base(demo) + "/quiz/questions/new", data=data)
    assert response.status_code == 400


# --- access ---------------------------------------------------------------------------------------


def authoring_urls(demo) -> list[tuple[str, str]]:
    b = base(demo)
    key = db.session.scalar(
        select(Exercise.key).where(Exercise.session_id == session_number(3).id, Exercise.is_current.is_(True))
    )
    return [
        ("GET", f"/staff/offerings/{demo.offering_id}/content"),
        ("GET", b + "/content"),
        ("GET", b + "/exercises/new"),
        ("POST", b + "/exercises/new"),
        ("GET", b + f"/exercises/{key}/edit"),
        ("POST", b + f"/exercises/{key}/edit"),
        ("GET", b + f"/exercises/{key}/preview"),
        ("POST", b + f"/exercises/{key}/publish"),
        ("POST", b + f"/exercises/{key}/unpublish"),
        ("GET", b + "/quiz/new"),
        ("GET", b + "/quiz/settings"),
        ("POST", b + "/quiz/settings"),
        ("GET", b + "/quiz/preview"),
        ("POST", b + "/quiz/publish"),
        ("GET", b + "/quiz/questions/new"),
        ("POST", b + "/quiz/questions/new"),
        ("GET", b + "/quiz/questions/q1/edit"),
        ("POST", b + "/quiz/questions/q1/edit"),
        ("POST", b + "/quiz/questions/q1/remove"),
    ]


def test_an_instructor_of_another_offering_gets_404_everywhere(client, demo, make_user, login):
    """An instructor not assigned to the offering cannot open or change its content (404)."""
    make_user(Role.INSTRUCTOR, email="elsewhere@example.org")
    login("elsewhere@example.org")
    versions = db.session.scalar(select(func.count(Quiz.id)))
    for method, url in authoring_urls(demo):
        data = question_form() if method == "POST" else None
        assert client.open(url, method=method, data=data).status_code == 404, url
    assert db.session.scalar(select(func.count(Quiz.id))) == versions


@pytest.mark.parametrize("email", ["coordinator@example.org", "lcsw@example.org"])
def test_coordinators_and_learners_get_403(client, demo, login, email):
    """Authoring needs the author permission: coordinators and learners get 403."""
    login(email)
    for method, url in authoring_urls(demo):
        assert client.open(url, method=method).status_code == 403, url


def test_anonymous_visitors_are_sent_to_sign_in(client, demo):
    """Signed-out visitors are redirected to the sign-in page."""
    for method, url in authoring_urls(demo):
        response = client.open(url, method=method)
        assert response.status_code == 302 and "/login" in response.headers["Location"], url


def test_unknown_sessions_items_and_questions_are_404(instructor, demo):
    """A session, exercise or question that does not exist is a 404, not an error."""
    assert instructor.get(base(demo, 99) + "/content").status_code == 404
    assert instructor.get(base(demo) + "/exercises/no-such-exercise/edit").status_code == 404
    assert instructor.get(base(demo) + "/quiz/questions/q99/edit").status_code == 404
    assert instructor.get("/staff/offerings/9999/content").status_code == 404


def test_an_exercise_of_another_session_is_404_under_this_session(instructor, demo):
    """Exercise URLs are checked against the session in the URL."""
    key = db.session.scalar(
        select(Exercise.key).where(Exercise.session_id == session_number(4).id, Exercise.is_current.is_(True))
    )
    assert instructor.get(base(demo, 3) + f"/exercises/{key}/edit").status_code == 404


# --- XSS ------------------------------------------------------------------------------------------


def corpus_chunks(size: int = 60) -> list[str]:
    corpus = load_xss_corpus()
    return ["\n\n".join(corpus[i : i + size]) for i in range(0, len(corpus), size)]


def test_the_xss_corpus_is_stored_clean_in_every_rich_text_field(app, demo):
    """Every payload, in instructions, prompts and option feedback, is stored as clean HTML."""
    session = session_number(3)
    actor = instructor_actor(demo.instructor_id)
    for payload in load_xss_corpus():
        exercise = ops.preview_exercise(session, ops.ExerciseDraft("XSS", "applied", 5, payload))
        assert unsafe_markup(exercise.instructions_html) == [], payload
        question = quiz_ops.preview_question(
            quiz_ops.QuestionDraft(
                kind="single",
                prompt=payload,
                options=[quiz_ops.OptionDraft("A", True, payload), quiz_ops.OptionDraft("B", False, "fine")],
            )
        )
        assert unsafe_markup(question.prompt_html) == [], payload
        assert unsafe_markup(question.options[0]["feedback_html"]) == [], payload
    # and through the saving operations, in chunks
    quiz = current_quiz_of(3)
    for chunk in corpus_chunks():
        exercise = ops.create_exercise(actor, session, ops.ExerciseDraft("XSS", "applied", 5, chunk))
        options = [
            quiz_ops.OptionDraft("A", True, chunk[:2_000]),
            quiz_ops.OptionDraft("B", False, chunk[:2_000]),
        ]
        quiz, _key = quiz_ops.add_question(
            actor, quiz, quiz_ops.QuestionDraft("single", chunk[:2_000], options)
        )
        db.session.commit()
        stored = db.session.get(Exercise, exercise.id)
        assert unsafe_markup(stored.instructions_html) == []
        assert unsafe_markup(quiz.questions[-1].prompt_html) == []
        assert unsafe_markup(quiz.questions[-1].options[0]["feedback_html"]) == []


def test_xss_payloads_through_the_forms_never_reach_a_page_as_markup(instructor, client, demo, login):
    """Posted payloads come back escaped on the editor, preview and learner pages; nothing executes."""
    for chunk in corpus_chunks(120):
        data = exercise_form(title="XSS <b>title</b>", instructions=chunk[:20_000], action="preview")
        html = instructor.post(base(demo) + "/exercises/new", data=data).get_data(as_text=True)
        assert page_findings(html) == []
        quiz = current_quiz_of(3)
        options = [("<img src=x onerror=alert(1)>", True, chunk[:2_000]), ("B", False, "f")]
        data = question_form(chunk[:2_000], options=options, base_version=quiz.version)
        assert instructor.post(base(demo) + "/quiz/questions/q1/edit", data=data).status_code == 302
        html = instructor.get(base(demo) + "/quiz/preview").get_data(as_text=True)
        assert page_findings(html) == []
        html = instructor.get(base(demo) + "/quiz/questions/q1/edit").get_data(as_text=True)
        assert page_findings(html) == []
    data = exercise_form(title="XSS exercise", instructions="\n\n".join(load_xss_corpus()[:150]))
    instructor.post(base(demo) + "/exercises/new", data=data)
    key = new_exercise_key()
    instructor.post(base(demo) + f"/exercises/{key}/publish")
    assert page_findings(instructor.get(base(demo) + "/content").get_data(as_text=True)) == []
    client.post("/logout")
    login("lcsw@example.org")
    page = client.get(f"/learn/offerings/{demo.offering_id}/exercises/{key}").get_data(as_text=True)
    assert page_findings(page) == []
