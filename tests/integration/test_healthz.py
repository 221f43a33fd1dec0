"""/healthz for load balancers."""

from __future__ import annotations

import pytest
from sqlalchemy.exc import OperationalError

from imh_course.extensions import db


def test_healthz_reports_the_database(client):
    """A healthy app answers 200 with the database checked (rate limits are off in tests)."""
    response = client.get("/healthz")
    assert response.status_code == 200
    assert response.get_json() == {"status": "ok", "database": "ok", "limiter": "disabled"}


@pytest.mark.parametrize("app_config", [{"RATELIMIT_ENABLED": True}])
def test_healthz_reports_the_limiter_storage(client):
    """With rate limits on and their storage answering, the limiter is reported ok."""
    response = client.get("/healthz")
    assert response.status_code == 200 and response.get_json()["limiter"] == "ok"


def test_healthz_is_503_when_the_database_fails(client, monkeypatch):
    """When the database does not answer, /healthz says 503 so the balancer takes the node out."""

    def broken(*_args, **_kwargs):
        raise OperationalError("SELECT 1", {}, Exception("down"))

    monkeypatch.setattr(db.session, "execute", broken)
    response = client.get("/healthz")
    assert response.status_code == 503 and response.get_json()["database"] == "error"


def test_proxy_fix_is_applied_when_configured(tmp_path):
    """Behind a proxy, the client address comes from X-Forwarded-For."""
    from app import create_app

    app = create_app(
        {"IMH_ENV": "testing", "SQLALCHEMY_DATABASE_URI": f"sqlite:///{tmp_path}/p.db", "IMH_PROXY_COUNT": 1}
    )
    seen = {}

    @app.get("/_ip")
    def _ip():
        from flask import request

        seen["ip"] = request.remote_addr
        return "ok"

    app.test_client().get("/_ip", headers={"X-Forwarded-For": "203.0.113.7"})
    assert seen["ip"] == "203.0.113.7"
