"""Friendly error pages in the site's layout; nothing a user types may produce a bare 500."""

from __future__ import annotations

import logging

from flask import Flask, g, render_template, request
from flask_wtf.csrf import CSRFError
from sqlalchemy.exc import OperationalError, SQLAlchemyError
from werkzeug.exceptions import HTTPException

from .extensions import db, login_manager

log = logging.getLogger("imh_course.errors")

MESSAGES = {
    400: ("Something in that request was not right", "Please go back, check the form and try again."),
    403: ("You do not have access to this page", "If you think you should, ask the course coordinator."),
    404: ("Page not found", "The page you asked for does not exist or is not available to you."),
    405: ("That action is not allowed here", "Please use the buttons and links on the page."),
    413: ("That upload is too large", "Please send a smaller file."),
    429: ("Too many attempts", "Please wait a minute and try again."),
    500: ("Something went wrong on our side", "The problem has been logged. Please try again shortly."),
    503: (
        "The service is briefly unavailable",
        "Nothing you entered was half-saved. Please try again in a minute.",
    ),
}


def _render(status: int, title: str | None = None, detail: str | None = None):  # noqa: ANN202
    default_title, default_detail = MESSAGES.get(status, (f"Error {status}", ""))
    context = {"status": status, "title": title or default_title, "detail": detail or default_detail}
    try:
        return render_template("imh_course/error.html", **context), status
    except SQLAlchemyError:
        # The layout asks who is signed in, which may need the database that just failed: draw the
        # page as for a visitor rather than answer with an empty 500.
        try:
            db.session.rollback()
        except SQLAlchemyError:
            log.warning("rollback failed while drawing the error page", exc_info=True)
        g._login_user = login_manager.anonymous_user()
        return render_template("imh_course/error.html", **context), status


def register(app: Flask) -> None:
    if not app.config.get("IMH_REGISTER_ERROR_PAGES", True):
        return

    @app.errorhandler(CSRFError)
    def _csrf(error: CSRFError):  # noqa: ANN202
        return _render(400, "Your form expired", "Please reload the page and submit the form again.")

    @app.errorhandler(HTTPException)
    def _http(error: HTTPException):  # noqa: ANN202
        if error.code is None or error.code < 400:
            return error
        # An abort(…, description=…) written for the reader replaces the generic text.
        custom = error.description if error.description != type(error).description else None
        response = _render(error.code, detail=custom)
        if error.code == 405 and getattr(error, "valid_methods", None):
            return response[0], 405, {"Allow": ", ".join(error.valid_methods)}
        return response

    @app.errorhandler(OperationalError)
    def _db_down(error: OperationalError):  # noqa: ANN202
        log.error("database unavailable during %s %s: %s", request.method, request.path, error.orig)
        db.session.rollback()
        return _render(503)

    @app.errorhandler(Exception)
    def _unexpected(error: Exception):  # noqa: ANN202
        if isinstance(error, HTTPException):
            return _http(error)
        log.exception("unhandled error during %s %s", request.method, request.path)
        db.session.rollback()
        return _render(500)
