"""No N+1: the number of SQL statements of a page does not grow with the data."""

from __future__ import annotations

from collections.abc import Iterator
from contextlib import contextmanager

from sqlalchemy import event

from imh_course.extensions import db
from imh_course.roles import Role
from tests.integration.learner_helpers import exercise_for, quiz_for, quiz_form, readings_for


@contextmanager
def counting() -> Iterator[list[str]]:
    statements: list[str] = []

    def record(_conn, _cursor, statement, *_args) -> None:  # noqa: ANN001
        statements.append(statement)

    event.listen(db.engine, "before_cursor_execute", record)
    try:
        yield statements
    finally:
        event.remove(db.engine, "before_cursor_execute", record)


def statements_for(client, url: str) -> int:  # noqa: ANN001
    db.session.remove()  # like a real request: start from an empty session, nothing cached
    with counting() as statements:
        assert client.get(url).status_code == 200
    return len(statements)


def learner_pages(offering_id: int) -> list[str]:
    base = f"/learn/offerings/{offering_id}"
    return [base, f"{base}/sessions/1", f"{base}/sessions/4", f"{base}/transcript"]


def do_lots_of_work(client, offering_id: int) -> None:  # noqa: ANN001
    """Mark every reading, submit every exercise and take two attempts at every quiz."""
    for number in range(1, 12):
        for reading in readings_for(number):
            client.post(f"/learn/offerings/{offering_id}/readings/{reading.key}/complete")
        exercise = exercise_for(number)
        client.post(
            f"/learn/offerings/{offering_id}/exercises/{exercise.key}",
            data={"body": "text", "submit_response": "Submit"},
        )
        quiz = quiz_for(number)
        client.post(
            f"/learn/offerings/{offering_id}/quizzes/{quiz.key}", data=quiz_form(quiz, 1, correct=False)
        )
        client.post(f"/learn/offerings/{offering_id}/quizzes/{quiz.key}", data=quiz_form(quiz, 2))


def test_learner_pages_do_not_grow_with_the_learners_work(client, demo, login, make_user):
    """Dashboard, session page and transcript run as many queries after a term of work as before."""
    login("lcsw@example.org")
    before = {url: statements_for(client, url) for url in learner_pages(demo.offering_id)}
    do_lots_of_work(client, demo.offering_id)
    for n in range(15):  # other learners in the same offering must not matter either
        make_user(Role.LEARNER, email=f"other{n}@example.org")
    after = {url: statements_for(client, url) for url in learner_pages(demo.offering_id)}
    assert after == before


def test_quiz_page_query_count_is_constant(client, demo, login):
    """The quiz page's queries do not grow with the number of attempts."""
    login("lcsw@example.org")
    quiz = quiz_for(2)
    url = f"/learn/offerings/{demo.offering_id}/quizzes/{quiz.key}"
    wrong_first, wrong_second = quiz_form(quiz, 1, correct=False), quiz_form(quiz, 2, correct=False)
    before = statements_for(client, url)
    client.post(url, data=wrong_first)
    client.post(url, data=wrong_second)
    assert statements_for(client, url) == before
