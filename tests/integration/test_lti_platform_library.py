"""The tool against a real platform implementation: lti1p3platform 0.1.8, driven over loopback HTTP.

The tool runs on a live server on 127.0.0.1. The "LMS" is another loopback server whose every
endpoint is a class of lti1p3platform: its OIDC login initiation (``OIDCLoginAbstract``) starts
the login at the tool; its auth endpoint answers with ``LTIAdvantageMessageLaunchAbstract``
(validating the tool's auth request, signing the id_token with the platform key, adding the
deep-linking, NRPS and AGS claims); its token endpoint is ``LTI1P3PlatformConfAbstract.
get_access_token`` (it checks the tool's client assertion against the tool's published JWKS,
fetched over HTTP); the deep-linking return URL is ``validate_deeplinking_resp``; the roster is
``NamesRoleProvisioningService`` and the gradebook ``AssignmentsGradesService``, each checking the
bearer token the tool got. The "browser" is a requests session following redirects and posting
the auto-submitted forms, as a browser does.
"""

from __future__ import annotations

import html
import json
import re
import socketserver
import threading
from collections.abc import Iterator
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qsl, urlsplit

import jwt
import pytest
import requests
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric import rsa
from lti1p3platform.exceptions import LtiException, LtiServiceException
from lti1p3platform.ltiplatform import LTI1P3PlatformConfAbstract
from lti1p3platform.membership import Context
from lti1p3platform.message_launch import LTIAdvantageMessageLaunchAbstract
from lti1p3platform.oidc_login import OIDCLoginAbstract
from lti1p3platform.registration import Registration
from lti1p3platform.request import Request, TRequest
from lti1p3platform.response import Response
from lti1p3platform.score import UpdateScoreStatus
from lti1p3platform.service_connector import AssignmentsGradesService, NamesRoleProvisioningService
from sqlalchemy import func, select
from werkzeug.serving import make_server

from imh_course.extensions import db
from imh_course.lti import grades, keys
from imh_course.lti.platforms import PlatformData, create_platform
from imh_course.lti.roster import sync_roster
from imh_course.models import (
    AuditEvent,
    Enrolment,
    InstructorAssignment,
    LtiResourceLink,
    LtiScore,
    Offering,
    ScoreStatus,
    User,
)
from imh_course.models.audit_chain import Actor
from imh_course.rules.lti import INSTRUCTOR_ROLE, LEARNER_ROLE

ISSUER = "https://moodle.example.edu"
CLIENT_ID = "lib-client-7"
DEPLOYMENT = "lib-deployment-1"
CONTEXT_ID = "course-lib-1"
MEMBERS = [
    {"user_id": "lib-learner-1", "roles": [LEARNER_ROLE], "name": "Lee Library",
     "email": "lee@moodle.example.edu"},
    {"user_id": "lib-learner-2", "roles": [LEARNER_ROLE], "name": "Max Member",
     "email": "max@moodle.example.edu"},
    {"user_id": "lib-teacher-1", "roles": [INSTRUCTOR_ROLE], "name": "Tess Teacher"},
]  # fmt: skip


# --- the tool on loopback, and a browser ----------------------------------------------------------
class ToolServer:
    """The Flask app on 127.0.0.1 (a random port), serving requests from threads."""

    def __init__(self, app) -> None:  # noqa: ANN001
        self._server = make_server("127.0.0.1", 0, app, threaded=True)
        self._server.daemon_threads = False
        self._server.block_on_close = True
        self.url = f"http://127.0.0.1:{self._server.server_port}"
        self._thread = threading.Thread(target=self._server.serve_forever, daemon=True)

    def __enter__(self) -> ToolServer:
        self._thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self._server.shutdown()
        self._thread.join(10)
        threads = self._server._threads
        for thread in list(threads) if isinstance(threads, list) else []:
            thread.join(5)
        socketserver.TCPServer.server_close(self._server)


class Browser(requests.Session):
    """Sends ``Secure`` cookies back to http://127.0.0.1, as browsers do for loopback addresses
    (a potentially trustworthy origin); requests itself keeps them for https only."""

    def request(self, *args: Any, **kwargs: Any) -> requests.Response:
        for cookie in self.cookies:
            if cookie.domain.startswith("127.0.0.1"):
                cookie.secure = False
        return super().request(*args, **kwargs)


def browser() -> requests.Session:
    return Browser()


def form_of(page: str) -> tuple[str, dict[str, str]]:
    """(action, hidden fields) of the page's first form, as an auto-submitting page posts it."""
    action = html.unescape(re.search(r'<form[^>]*action="([^"]*)"', page).group(1))
    fields = {}
    for tag in re.findall(r"<input[^>]*>", page):
        name, value = re.search(r'name="([^"]+)"', tag), re.search(r'value="([^"]*)"', tag)
        if name and 'type="hidden"' in tag:
            fields[html.unescape(name.group(1))] = html.unescape(value.group(1)) if value else ""
    return action, fields


# --- lti1p3platform's classes, made concrete --------------------------------------------------------
def _pem_pair() -> tuple[str, str]:
    key = rsa.generate_private_key(public_exponent=65537, key_size=2048)
    private = key.private_bytes(
        serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8, serialization.NoEncryption()
    ).decode()
    public = (
        key.public_key()
        .public_bytes(serialization.Encoding.PEM, serialization.PublicFormat.SubjectPublicKeyInfo)
        .decode()
    )
    return private, public


class PlatformConf(LTI1P3PlatformConfAbstract):
    def init_platform_config(self, **kwargs: Any) -> None:
        private, public = _pem_pair()
        self._registration = (
            Registration()
            .set_iss(ISSUER)
            .set_client_id(CLIENT_ID)
            .set_deployment_id(DEPLOYMENT)
            .set_oidc_login_url(kwargs["tool"] + "/lti/login")
            .set_launch_url(kwargs["tool"] + "/lti/launch")
            .set_deeplink_launch_url(kwargs["tool"] + "/lti/launch")
            .set_tool_key_set_url(kwargs["tool"] + "/lti/jwks.json")
            .set_platform_private_key(private)
            .set_platform_public_key(public)
        )

    def get_registration_by_params(self, **kwargs: Any) -> Registration:
        return self._registration


class HandlerRequest(Request):
    """lti1p3platform's view of one request to the loopback platform."""

    def build_metadata(self, request: Any) -> TRequest:
        handler, body = request
        url = urlsplit(handler.path)
        content_type = handler.headers.get("Content-Type")
        form = dict(parse_qsl(body.decode())) if content_type == "application/x-www-form-urlencoded" else {}
        return {
            "method": handler.command,
            "form_data": form,
            "get_data": dict(parse_qsl(url.query)),
            "headers": dict(handler.headers.items()),
            "content_type": content_type,
            "path": url.path,
            "json": json.loads(body) if body and not form else None,
        }


class OidcLogin(OIDCLoginAbstract):
    def set_lti_message_hint(self, **kwargs: Any) -> None:
        self._lti_message_hint = kwargs["hint"]

    def get_redirect(self, url: str) -> str:
        return url


class MessageLaunch(LTIAdvantageMessageLaunchAbstract):
    def render_launch_form(self, launch_data: dict[str, Any], **kwargs: Any) -> str:
        fields = "".join(
            f'<input type="hidden" name="{name}" value="{html.escape(launch_data[name])}">'
            for name in ("id_token", "state")
        )
        action = html.escape(launch_data["launch_url"])
        script = "<script>document.forms[0].submit()</script>"
        return f'<form method="post" action="{action}">{fields}</form>{script}'


@dataclass
class Gradebook:
    line_items: dict[str, dict[str, Any]] = field(default_factory=dict)
    scores: list[dict[str, Any]] = field(default_factory=list)


class Ags(AssignmentsGradesService):
    gradebook: Gradebook

    def find_lineitems(self, page: int = 1, limit: int | None = None, **filters: Any) -> dict[str, Any]:
        return {"content": list(self.gradebook.line_items.values()), "has_next": False, "next": None}

    def find_lineitem(self, line_item_id: str) -> dict[str, Any]:
        return self.gradebook.line_items[line_item_id]

    def create_lineitem(self, creation_data: dict[str, Any]) -> dict[str, Any]:
        item_id = f"{self.ags.lineitems_url}/{len(self.gradebook.line_items) + 1}"
        self.gradebook.line_items[item_id] = {**creation_data, "id": item_id}
        return self.gradebook.line_items[item_id]

    def update_lineitem(self, update_data: dict[str, Any]) -> dict[str, Any]:
        self.gradebook.line_items[update_data["id"]].update(update_data)
        return self.gradebook.line_items[update_data["id"]]

    def delete_lineitem(self, line_item_id: str) -> None:
        self.gradebook.line_items.pop(line_item_id)

    def update_score(self, line_item_id: str, score: dict[str, Any]) -> UpdateScoreStatus:
        assert line_item_id in self.gradebook.line_items
        self.gradebook.scores.append({"line_item": line_item_id, **score})
        return UpdateScoreStatus.SUCCESS

    def get_results(self, line_item_id: str, page: int = 1, **filters: Any) -> dict[str, Any]:
        return {"content": [], "has_next": False, "next": None}


class Nrps(NamesRoleProvisioningService):
    served: list[str]

    def get_member_data_page(self, page: int = 1, limit: int | None = None, **filters: Any) -> dict[str, Any]:
        self.served.append("members")
        return {"content": [dict(m) for m in MEMBERS], "has_next": False, "next": None}

    def get_context_by_id(self) -> Context:
        return Context(id=CONTEXT_ID, label="IMH-LIB", title="Infant Mental Health (library LMS)")


class LibraryLms:
    """A loopback LMS whose endpoints are lti1p3platform's classes."""

    def __init__(self, tool_url: str) -> None:
        self.tool = tool_url
        self.gradebook = Gradebook()
        self.members_served: list[str] = []
        self.tokens_issued: list[str] = []
        self.deep_link_items: list[dict[str, Any]] = []
        self.refusals: list[str] = []
        self.last_launch_form: tuple[str, dict[str, str]] = ("", {})
        self.launch_setup = lambda launch: None  # the test says who launches and what
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def _send(self, status: int, body: str, media_type: str) -> None:
                data = body.encode()
                self.send_response(status)
                self.send_header("Content-Type", media_type)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def _answer(self, response: Response) -> None:
                body = "" if response.result is None else json.dumps(response.result)
                self._send(response.code, body, response.media_type)

            def _handle(self) -> None:
                length = int(self.headers.get("Content-Length") or 0)
                request = HandlerRequest((self, self.rfile.read(length)))
                conf = outer.conf()
                path = request.path
                try:
                    if path == "/jwks":
                        self._send(200, json.dumps(conf.get_jwks()), "application/json")
                    elif path == "/auth":  # the tool's OIDC auth request → the launch form
                        launch = MessageLaunch(request, conf)
                        outer.launch_setup(launch)
                        self._send(200, launch.lti_launch(), "text/html; charset=utf-8")
                    elif path == "/token":
                        token = conf.get_access_token(request.form_data)
                        outer.tokens_issued.append(token["scope"])
                        self._send(200, json.dumps(token), "application/json")
                    elif path == "/deep-link-return":
                        items = conf.validate_deeplinking_resp(request.form_data)
                        outer.deep_link_items.extend(items)
                        self._send(200, "<p>Placed.</p>", "text/html")
                    elif path == "/members":
                        service = Nrps(request, conf, outer.url + "/members")
                        service.served = outer.members_served
                        self._answer(service.handle_resp(service.handle_get_members))
                    elif path == "/lineitems":
                        service = outer.ags(request, conf)
                        self._answer(service.handle_resp(service.handle_create_lineitem))
                    elif path.startswith("/lineitems/") and path.endswith("/scores"):
                        service = outer.ags(request, conf)
                        line_item = outer.url + path.removesuffix("/scores")
                        self._answer(service.handle_resp(service.handle_update_score, line_item_id=line_item))
                    else:
                        self._send(404, "", "text/plain")
                # lti1p3platform lets PyJWT's errors out of its token check (a forged bearer token):
                # a platform answers 401 to those too.
                except (LtiException, LtiServiceException, jwt.PyJWTError, AssertionError, ValueError) as exc:
                    outer.refusals.append(f"{path}: {type(exc).__name__} {exc}")
                    self._send(401, json.dumps({"error": str(exc)}), "application/json")

            do_GET = do_POST = _handle  # noqa: N815

            def log_message(self, *_args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)
        self._conf = PlatformConf(tool=tool_url)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def conf(self) -> PlatformConf:
        return self._conf

    def ags(self, request: Request, conf: PlatformConf) -> Ags:
        service = Ags(request, conf, self.url + "/lineitems")
        service.gradebook = self.gradebook
        return service

    def register_at_the_tool(self) -> int:
        """What the admin types in "Register a platform" (the platform's JWKS by URL)."""
        platform = create_platform(
            Actor.system(),
            PlatformData(
                name="Library Moodle", issuer=ISSUER, client_id=CLIENT_ID, deployment_ids=[DEPLOYMENT],
                auth_url=self.url + "/auth", token_url=self.url + "/token", jwks_url=self.url + "/jwks",
                jwks_json=None, frame_origins=[],
            ),
        )  # fmt: skip
        db.session.commit()
        return platform.id

    def start(self, person: requests.Session, *, hint: str) -> requests.Response:
        """The LMS page's "launch" link: lti1p3platform's OIDC login initiation, followed by the browser
        to the tool, back to the platform's auth endpoint and its auto-posted form, to the tool."""
        login = OidcLogin(None, self._conf)
        login.set_lti_message_hint(hint=hint)
        preflight = login.initiate_login(hint)
        auth = person.get(preflight, allow_redirects=True, timeout=10)  # tool → 302 → platform /auth
        assert auth.status_code == 200 and auth.url.startswith(self.url + "/auth"), auth.text[:500]
        self.last_launch_form = form_of(auth.text)
        action, fields = self.last_launch_form
        return person.post(action, data=fields, timeout=10)

    def __enter__(self) -> LibraryLms:
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


# --- the tests --------------------------------------------------------------------------------------
@pytest.fixture
def lms(app) -> Iterator[LibraryLms]:
    keys.rotate(Actor.system())
    db.session.commit()
    with ToolServer(app) as tool, LibraryLms(tool.url) as platform:
        platform.register_at_the_tool()
        yield platform


def _learner_setup(
    lms: LibraryLms, sub: str, name: str, email: str, *, link_id: str, custom: dict | None = None
):  # noqa: ANN202, E501
    def setup(launch: MessageLaunch) -> None:
        launch.set_user_data(sub, [LEARNER_ROLE], full_name=name, email_address=email)
        launch.set_resource_link_claim(link_id, title="IMH course")
        launch.set_launch_context_claim(CONTEXT_ID, context_title="Infant Mental Health (library LMS)")
        launch.set_nrps(lms.url + "/members")
        launch.set_ags(lms.url + "/lineitems")
        if custom:
            launch.set_custom_parameters_claim(custom)

    return setup


def test_oidc_login_and_launch_from_the_library_platform_are_accepted(lms):
    """OIDC initiation (the library's preflight URL) → the tool's auth request, validated by the
    library → the id_token it signs, verified by the tool against the platform's JWKS over HTTP."""
    lms.launch_setup = _learner_setup(lms, "lib-learner-1", "Lee Library", "lee@moodle.example.edu",
                                      link_id="lib-link-1")  # fmt: skip
    person = browser()
    page = lms.start(person, hint="lib-learner-1")
    assert page.status_code == 200, page.text[:500]
    assert "signed in as <strong>Lee Library</strong> from Library Moodle" in page.text
    assert "(Infant Mental Health (library LMS))" in page.text  # the context claim the library sent
    db.session.commit()  # a new transaction: see what the tool committed
    lee = db.session.scalar(select(User).where(User.email == "lee@moodle.example.edu"))
    assert lee is not None and lee.full_name == "Lee Library"
    link = db.session.scalar(select(LtiResourceLink).where(LtiResourceLink.resource_link_id == "lib-link-1"))
    assert link.memberships_url == lms.url + "/members" and link.lineitems_url == lms.url + "/lineitems"

    # The same auto-posted form again (a replayed id_token): refused, its nonce is spent.
    action, fields = lms.last_launch_form
    replay = person.post(action, data=fields, timeout=10)
    assert replay.status_code == 401 and "nonce" in replay.text, replay.text[:500]
    assert lms.refusals == []


def test_deep_link_response_is_validated_by_the_library_and_the_placed_link_opens(lms, demo):
    """The library sends an LtiDeepLinkingRequest; the tool's signed response, auto-posted to the
    deep-link return URL, passes ``validate_deeplinking_resp`` (key fetched from the tool's JWKS)."""

    def teacher(launch: MessageLaunch) -> None:
        launch.set_user_data("lib-teacher-1", [INSTRUCTOR_ROLE], full_name="Tess Teacher",
                             email_address="tess@moodle.example.edu")  # fmt: skip
        launch.set_launch_context_claim(CONTEXT_ID, context_title="Infant Mental Health (library LMS)")
        launch.set_dl(lms.url + "/deep-link-return", title="Add IMH", accept_types={"ltiResourceLink"})

    lms.launch_setup = teacher
    person = browser()
    first = lms.start(person, hint="lib-teacher-1")
    assert first.status_code == 200 and "You do not teach an offering here yet" in first.text
    db.session.commit()  # a new transaction: see what the tool committed
    tess = db.session.scalar(select(User).where(User.email == "tess@moodle.example.edu"))
    db.session.add(InstructorAssignment(offering_id=demo.offering_id, user_id=tess.id))
    db.session.commit()

    picker = lms.start(person, hint="lib-teacher-1")
    assert picker.status_code == 200 and "Place this link in the LMS course" in picker.text
    _action, fields = form_of(picker.text)
    placed = person.post(lms.tool + "/lti/deep-link", timeout=10,
                         data={**fields, "offering_id": demo.offering_id, "session_number": 3})  # fmt: skip
    assert placed.status_code == 200, placed.text[:500]
    action, fields = form_of(placed.text)
    assert action == lms.url + "/deep-link-return"
    returned = person.post(action, data=fields, timeout=10)
    assert returned.status_code == 200, lms.refusals
    (item,) = lms.deep_link_items
    assert item["type"] == "ltiResourceLink" and item["url"] == lms.tool + "/lti/launch"
    assert item["title"].startswith("Session 3: ")

    # The LMS launches the placed link with the custom parameters the tool put in the item.
    lms.launch_setup = _learner_setup(lms, "lib-learner-2", "Max Member", "max@moodle.example.edu",
                                      link_id="placed-lib-1", custom=item["custom"])  # fmt: skip
    opened = lms.start(browser(), hint="lib-learner-2")
    assert opened.status_code == 200, opened.text[:500]
    db.session.commit()  # a new transaction: see what the tool committed
    link = db.session.scalar(
        select(LtiResourceLink).where(LtiResourceLink.resource_link_id == "placed-lib-1")
    )
    assert link.offering_id == demo.offering_id and link.session.number == 3
    max_ = db.session.scalar(select(User).where(User.email == "max@moodle.example.edu"))
    assert db.session.scalar(select(Enrolment.id).where(Enrolment.user_id == max_.id)) is not None


def test_roster_and_grades_go_through_the_librarys_services(lms, demo, app):
    """NRPS and AGS answered by the library's service classes, which check the bearer token the
    library's token endpoint issued for the tool's client assertion."""
    lms.launch_setup = _learner_setup(lms, "lib-learner-1", "Lee Library", "lee@moodle.example.edu",
                                      link_id="lib-link-1")  # fmt: skip
    assert lms.start(browser(), hint="lib-learner-1").status_code == 200
    db.session.commit()  # a new transaction: see what the tool committed
    link = db.session.scalar(select(LtiResourceLink).where(LtiResourceLink.resource_link_id == "lib-link-1"))
    link.offering_id = demo.offering_id
    db.session.commit()

    report = sync_roster(Actor.system(), link)
    db.session.commit()
    assert lms.members_served == ["members"] and lms.refusals == []
    assert "https://purl.imsglobal.org/spec/lti-nrps/scope/contextmembership.readonly" in lms.tokens_issued
    assert sorted(u.full_name for u in report.new) == ["Lee Library", "Max Member"]  # not the teacher
    enrolled = set(db.session.scalars(select(User.email).join(Enrolment).where(
        Enrolment.offering_id == demo.offering_id)))  # fmt: skip
    assert {"lee@moodle.example.edu", "max@moodle.example.edu"} <= enrolled
    assert db.session.scalar(select(func.count()).where(AuditEvent.action == "lti.roster_sync")) == 1

    # A token the library did not issue is refused by its NRPS service.
    forged = requests.get(lms.url + "/members", headers={"Authorization": "Bearer forged"}, timeout=10)
    assert forged.status_code == 401

    grades.scan()
    db.session.commit()
    queued = db.session.scalar(select(func.count()).where(LtiScore.status == ScoreStatus.QUEUED))
    sessions = len(db.session.get(Offering, demo.offering_id).course.sessions)
    assert queued == 2 * (sessions + 1)  # Lee and Max, every column
    assert grades.send_due("lib-worker", limit=100) == (queued, 0), lms.refusals
    assert len(lms.gradebook.line_items) == sessions + 1
    labels = {item["label"] for item in lms.gradebook.line_items.values()}
    assert "Course complete (independent learning; not CE)" in labels
    assert {s["userId"] for s in lms.gradebook.scores} == {"lib-learner-1", "lib-learner-2"}
    course = next(i for i, item in lms.gradebook.line_items.items() if item["resourceId"] == "imh-course")
    lee_course = [
        s for s in lms.gradebook.scores if s["line_item"] == course and s["userId"] == "lib-learner-1"
    ]
    assert lee_course[-1]["scoreGiven"] == 0 and lee_course[-1]["scoreMaximum"] == sessions
    assert "CE certificate: " in lee_course[-1]["comment"]
