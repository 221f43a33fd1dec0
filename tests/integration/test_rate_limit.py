"""Sign-in throttling per address and per account, ahead of CSRF, shared through Redis (ASVS 2.2.1)."""

from __future__ import annotations

import logging
import os
import re
import uuid

import pytest
from flask import g

from app import create_app
from imh_course.extensions import db
from imh_course.security.roles import Role
from tests.conftest import TEST_PASSWORD

REDIS_URL = os.environ.get("IMH_TEST_REDIS_URL", "redis://127.0.0.1:6379")
WRONG = "not-the-right-password"


def csrf_token(client) -> str:
    # The test's app context outlives requests and Flask-WTF caches the token in g: forget it, so
    # a new client's session really receives one.
    g.pop("csrf_token", None)
    page = client.get("/login").get_data(as_text=True)
    match = re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page)
    assert match, "the sign-in form carries a CSRF token"
    return match.group(1)


def attempt(client, email: str, password: str = WRONG, *, ip: str = "203.0.113.7", token: bool = True):
    data = {"email": email, "password": password}
    if token:
        data["csrf_token"] = csrf_token(client)
    return client.post("/login", data=data, environ_base={"REMOTE_ADDR": ip})


def limited_config(**extra: object) -> dict[str, object]:
    return {
        "RATELIMIT_ENABLED": True,
        "WTF_CSRF_ENABLED": True,
        "RATELIMIT_KEY_PREFIX": f"imh-test-{uuid.uuid4().hex}",
        **extra,
    }


@pytest.fixture
def app_config():
    return limited_config()


@pytest.fixture
def ada(make_user):
    return make_user(Role.LEARNER, email="ada@example.org")


def test_ten_failed_sign_ins_then_a_friendly_429(client, ada):
    """After 10 failed sign-ins the 11th attempt, even with the right password, gets a friendly 429 page."""
    for _ in range(10):
        assert attempt(client, "ada@example.org").status_code == 200
    response = attempt(client, "ada@example.org", TEST_PASSWORD)
    assert response.status_code == 429
    page = response.get_data(as_text=True)
    assert "Too many sign-in attempts" in page and "<html" in page
    assert int(response.headers["Retry-After"]) > 0
    assert "Content-Security-Policy" in response.headers


def test_token_less_posts_are_counted(client, ada):
    """A flood of POSTs without a CSRF token (refused with 400) still uses up the allowance."""
    for _ in range(10):
        assert attempt(client, "ada@example.org", token=False).status_code == 400
    assert attempt(client, "ada@example.org", TEST_PASSWORD).status_code == 429


def test_another_account_from_the_same_address_hits_the_address_limit(client, ada):
    """Guessing across many accounts from one address is stopped by the per-address limit."""
    for n in range(10):
        assert attempt(client, f"guess{n}@example.org").status_code == 200
    assert attempt(client, "ada@example.org", TEST_PASSWORD).status_code == 429


def test_a_distributed_guesser_is_paused_on_every_address_it_used(client, ada):
    """Guessing one account from many addresses: once the account limit is hit, each of them is paused."""
    guessers = [f"198.51.100.{n + 1}" for n in range(10)]
    for n, ip in enumerate(guessers):
        email = "ada@example.org" if n % 2 else "ADA@Example.org "
        assert attempt(client, email, ip=ip).status_code == 200
    for ip in guessers:
        assert attempt(client, "ada@example.org", TEST_PASSWORD, ip=ip).status_code == 429
    # a new address gets one guess, then it is paused too
    assert attempt(client, "ada@example.org", ip="198.51.100.77").status_code == 200
    assert attempt(client, "ada@example.org", ip="198.51.100.77").status_code == 429


def test_a_stranger_cannot_lock_the_learner_out(app, client, ada):
    """Fifteen wrong passwords from a stranger's address: the learner, at her own address, still signs in."""
    statuses = [attempt(client, "ada@example.org", ip="203.0.113.66").status_code for _ in range(15)]
    assert statuses == [200] * 10 + [429] * 5
    assert attempt(app.test_client(), "ada@example.org", TEST_PASSWORD, ip="192.0.2.10").status_code == 302


def test_the_paused_sign_in_page_says_what_happened_when_to_retry_and_about_reset_links(app, client, ada):
    """The 429 is the sign-in page with a notice: why, when to try again, and that a reset link works."""
    for _ in range(10):
        attempt(client, "ada@example.org", ip="203.0.113.66")
    response = attempt(client, "ada@example.org", TEST_PASSWORD, ip="203.0.113.66")
    assert response.status_code == 429 and 1 <= int(response.headers["Retry-After"]) <= 15 * 60
    page = " ".join(response.get_data(as_text=True).split())
    assert 'role="alert"' in page and "Too many sign-in attempts" in page
    assert "too many failed attempts to sign in to this account from this device or network" in page
    assert "Your password has not been changed" in page
    assert re.search(r"Please try again in (1[0-5]|[1-9]) minutes?\.", page)
    assert "a link to set a new password works even while signing in is paused" in page
    assert 'name="email"' in page and 'name="csrf_token"' in page  # the form is there for later
    assert TEST_PASSWORD not in page


def test_a_reset_link_gets_the_learner_in_while_her_address_is_paused(app, client, ada, caplog):
    """Someone on the learner's own network failed ten times; a reset link still lets her sign in there."""
    from imh_course.models.accounts import TokenPurpose
    from imh_course.operations.tokens import issue_token

    caplog.set_level(logging.INFO, logger="imh_course.security")
    shared = "203.0.113.7"
    for _ in range(10):
        attempt(app.test_client(), "ada@example.org", ip=shared)
    assert attempt(client, "ada@example.org", TEST_PASSWORD, ip=shared).status_code == 429
    raw = issue_token(ada, TokenPurpose.RESET)
    db.session.commit()
    url = f"/account/set-password/{raw}"
    new = "seven quiet harbours at dawn"
    data = {"password": new, "confirm": new, "csrf_token": _form_token(client, url)}
    assert client.post(url, data=data, environ_base={"REMOTE_ADDR": shared}).status_code == 302
    assert attempt(client, "ada@example.org", new, ip=shared).status_code == 302
    # the grant was for that browser and that account only, and ends with the sign-in
    assert attempt(app.test_client(), "ada@example.org", new, ip=shared).status_code == 429
    events = [getattr(r, "security_event", None) for r in caplog.records]
    assert "ratelimit.hit" in events and "password.change" in events and "signin.success" in events


def test_a_reset_grant_covers_only_its_own_account(app, client, ada, make_user):
    """The grant from Ada's reset link does not lift the pause on Grace's account from that address."""
    from imh_course.models.accounts import TokenPurpose
    from imh_course.operations.tokens import issue_token

    make_user(Role.LEARNER, email="grace@example.org")
    shared = "203.0.113.7"
    for _ in range(10):
        attempt(app.test_client(), "grace@example.org", ip=shared)
    raw = issue_token(ada, TokenPurpose.RESET)
    db.session.commit()
    url = f"/account/set-password/{raw}"
    new = "seven quiet harbours at dawn"
    data = {"password": new, "confirm": new, "csrf_token": _form_token(client, url)}
    assert client.post(url, data=data, environ_base={"REMOTE_ADDR": shared}).status_code == 302
    assert attempt(client, "grace@example.org", TEST_PASSWORD, ip=shared).status_code == 429


def test_behind_a_proxy_the_forwarded_address_decides(database_url, make_user):
    """With IMH_PROXY_COUNT=1 every request comes from the proxy; X-Forwarded-For tells people apart."""
    app = create_app(
        {
            "IMH_ENV": "testing",
            "SQLALCHEMY_DATABASE_URI": database_url,
            "IMH_PROXY_COUNT": 1,
            **limited_config(),
        }
    )
    with app.app_context():
        make_user(Role.LEARNER, email="ada@example.org")

        def via_proxy(client, password: str, forwarded_for: str):
            data = {"email": "ada@example.org", "password": password, "csrf_token": csrf_token(client)}
            return client.post(
                "/login",
                data=data,
                headers={"X-Forwarded-For": forwarded_for},
                environ_base={"REMOTE_ADDR": "10.0.0.2"},
            )

        stranger = app.test_client()
        assert [via_proxy(stranger, WRONG, "203.0.113.66").status_code for _ in range(11)][-1] == 429
        assert via_proxy(app.test_client(), TEST_PASSWORD, "192.0.2.10").status_code == 302
        db.session.remove()
        db.engine.dispose()


def test_other_people_are_not_locked_out(app, client, ada, make_user):
    """When one address is limited, a person at another address signs in to another account normally."""
    make_user(Role.LEARNER, email="grace@example.org")
    for n in range(10):
        attempt(client, f"guess{n}@example.org")
    assert attempt(client, "guess@example.org").status_code == 429
    elsewhere = app.test_client()
    assert attempt(elsewhere, "grace@example.org", TEST_PASSWORD, ip="192.0.2.50").status_code == 302


def test_successful_sign_ins_are_not_counted(app, ada):
    """A classroom signing in from one shared address is never limited by its successful sign-ins."""
    for _ in range(15):
        assert attempt(app.test_client(), "ada@example.org", TEST_PASSWORD).status_code == 302


def _form_token(client, path: str) -> str:
    g.pop("csrf_token", None)
    page = client.get(path).get_data(as_text=True)
    return re.search(r'name="csrf_token" type="hidden" value="([^"]+)"', page).group(1)


def test_guessing_the_current_password_on_the_change_form_is_limited(client, ada):
    """A hijacked session cannot guess the current password endlessly: 10 tries per person, then 429."""
    # the same address as the requests below: "strong" session protection ends a session that moves
    assert attempt(client, "ada@example.org", TEST_PASSWORD, ip="127.0.0.1").status_code == 302
    token = _form_token(client, "/account/password")
    guess = {"new_password": "seven quiet harbours", "confirm": "seven quiet harbours", "csrf_token": token}
    for n in range(10):
        response = client.post("/account/password", data={**guess, "current_password": f"guess-number-{n}"})
        assert response.status_code == 400
    assert (
        client.post("/account/password", data={**guess, "current_password": TEST_PASSWORD}).status_code == 429
    )


def test_forgot_password_requests_are_limited(client):
    """The forgot-password form answers at most 5 requests a minute per address, then a friendly 429."""
    token = _form_token(client, "/account/forgot")
    for n in range(5):
        assert (
            client.post(
                "/account/forgot", data={"email": f"p{n}@example.org", "csrf_token": token}
            ).status_code
            == 200
        )
    response = client.post("/account/forgot", data={"email": "p9@example.org", "csrf_token": token})
    assert response.status_code == 429 and "Too many attempts" in response.get_data(as_text=True)


class TestStorageOutage:
    @pytest.fixture
    def app_config(self):
        return limited_config(RATELIMIT_STORAGE_URI="redis://127.0.0.1:1")

    def test_sign_in_keeps_working_and_the_outage_is_logged(self, client, ada, caplog):
        """If the rate-limit store is down, people still sign in; a warning says counting is in-process."""
        caplog.set_level(logging.INFO, logger="imh_course.security")
        assert attempt(client, "ada@example.org", TEST_PASSWORD).status_code == 302
        assert any(
            r.levelno == logging.WARNING and "throttle storage unreachable" in r.getMessage()
            for r in caplog.records
        )


@pytest.fixture
def redis_url() -> str:
    """The local Redis; skipped (with the reason) when unreachable unless IMH_REQUIRE_REDIS=1."""
    import redis

    client = redis.Redis.from_url(REDIS_URL, socket_connect_timeout=1, socket_timeout=1)
    try:
        client.ping()
    except redis.RedisError as exc:
        reason = f"Redis not reachable at {REDIS_URL} ({exc})"
        if os.environ.get("IMH_REQUIRE_REDIS") == "1":
            pytest.fail(reason)
        pytest.skip(reason)
    finally:
        client.close()
    return REDIS_URL


def _second_instance(database_url: str, config: dict[str, object]):
    """Another app instance on the same database: a second gunicorn worker, in effect."""
    return create_app({"IMH_ENV": "testing", "SQLALCHEMY_DATABASE_URI": database_url, **config})


def _dispose(instance) -> None:
    with instance.app_context():
        db.session.remove()
        db.engine.dispose()


class TestSharedStorage:
    @pytest.fixture
    def app_config(self, redis_url):
        return limited_config(RATELIMIT_STORAGE_URI=redis_url)

    @pytest.fixture(autouse=True)
    def _clean_redis(self, app_config):
        import redis

        yield
        client = redis.Redis.from_url(app_config["RATELIMIT_STORAGE_URI"])
        for key in client.scan_iter(match=f"*{app_config['RATELIMIT_KEY_PREFIX']}*"):
            client.delete(key)
        client.close()

    def test_two_app_instances_share_the_limit_through_redis(
        self, app, client, ada, database_url, app_config
    ):
        """Failures counted by one worker limit the other: with Redis the limit holds across workers."""
        other = _second_instance(database_url, app_config)
        try:
            other_client = other.test_client()
            for _ in range(10):
                assert attempt(other_client, "ada@example.org").status_code == 200
            assert attempt(client, "ada@example.org", TEST_PASSWORD).status_code == 429
        finally:
            _dispose(other)

    def test_healthz_says_the_limiter_is_ok_with_redis_up(self, client):
        """With Redis answering, /healthz reports the limiter storage as ok."""
        assert client.get("/healthz").get_json() == {"status": "ok", "database": "ok", "limiter": "ok"}

    def test_the_throttle_goes_back_to_redis_when_it_returns(self, app, client, ada, app_config, monkeypatch):
        """Redis lost mid-run: counted in-process, healthz degraded; back: Redis counts again, healthz ok."""
        import redis
        from limits.storage import storage_from_string
        from limits.strategies import MovingWindowRateLimiter

        from imh_course.security.signin_throttle import THROTTLE_EXTENSION

        storage = app.extensions[THROTTLE_EXTENSION].storage
        gone = storage_from_string("redis://127.0.0.1:1")  # as when Redis stops: connections refused
        with monkeypatch.context() as patch:
            patch.setattr(storage, "primary", gone)
            patch.setattr(storage, "_primary", MovingWindowRateLimiter(gone))
            assert attempt(client, "ada@example.org").status_code == 200
            assert client.get("/healthz").get_json()["limiter"] == "degraded" and storage.degraded
        storage.retry_seconds = 0  # the next attempt tries Redis again at once
        for _ in range(10):
            assert attempt(client, "ada@example.org").status_code == 200
        assert not storage.degraded
        assert attempt(client, "ada@example.org", TEST_PASSWORD).status_code == 429
        direct = redis.Redis.from_url(app_config["RATELIMIT_STORAGE_URI"])
        assert any(direct.scan_iter(match=f"*{app_config['RATELIMIT_KEY_PREFIX']}*signin-account*"))
        direct.close()
        assert client.get("/healthz").get_json()["limiter"] == "ok"

    def test_without_shared_storage_each_instance_counts_alone(self, app, client, ada, database_url):
        """The control: with per-process memory storage the other instance's failures are not seen."""
        config = limited_config(RATELIMIT_STORAGE_URI="memory://")
        first = _second_instance(database_url, config)
        second = _second_instance(database_url, config)
        try:
            for _ in range(10):
                assert attempt(first.test_client(), "ada@example.org").status_code == 200
            assert attempt(second.test_client(), "ada@example.org", TEST_PASSWORD).status_code == 302
        finally:
            _dispose(first)
            _dispose(second)
