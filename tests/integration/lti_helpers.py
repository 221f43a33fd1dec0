"""An in-process LTI 1.3 platform for tests: RSA keys, a loopback JWKS, id_tokens minted with PyJWT."""

from __future__ import annotations

import json
import threading
import time
import uuid
from dataclasses import dataclass, field
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from typing import Any
from urllib.parse import parse_qs, urlsplit

import jwt
from cryptography.hazmat.primitives.asymmetric import rsa

from imh_course.extensions import db
from imh_course.lti.platforms import PlatformData, create_platform
from imh_course.models.audit_chain import Actor
from imh_course.rules.lti import (
    CONTEXT,
    DEPLOYMENT_ID,
    INSTRUCTOR_ROLE,
    LEARNER_ROLE,
    MESSAGE_TYPE,
    RESOURCE_LINK,
    ROLES,
    TARGET_LINK_URI,
    VERSION,
)

BASE = "https://localhost"
ISSUER = "https://lms.example.edu"
CLIENT_ID = "imh-tool-client"
DEPLOYMENT = "deployment-1"
FRAME_ORIGIN = "https://school.example.edu"


def rsa_key() -> rsa.RSAPrivateKey:
    return rsa.generate_private_key(public_exponent=65537, key_size=2048)


def jwk_of(key: rsa.RSAPrivateKey, kid: str) -> dict[str, Any]:
    jwk = json.loads(jwt.algorithms.RSAAlgorithm.to_jwk(key.public_key()))
    jwk.update(kid=kid, alg="RS256", use="sig")
    return jwk


class JwksServer:
    """Serves a JSON Web Key Set on 127.0.0.1 from a thread (counts the fetches)."""

    def __init__(self, jwks: dict[str, Any]) -> None:
        self.jwks = jwks
        self.fetches = 0
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def do_GET(self) -> None:  # noqa: N802
                outer.fetches += 1
                body = json.dumps(outer.jwks).encode()
                self.send_response(200)
                self.send_header("Content-Type", "application/json")
                self.send_header("Content-Length", str(len(body)))
                self.end_headers()
                self.wfile.write(body)

            def log_message(self, *_args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}/jwks"

    def __enter__(self) -> JwksServer:
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


@dataclass
class Platform:
    """The LMS side: registers itself, answers the OIDC login, mints id_tokens."""

    key: rsa.RSAPrivateKey = field(default_factory=rsa_key)
    kid: str = "platform-key-1"
    issuer: str = ISSUER
    client_id: str = CLIENT_ID
    deployment_id: str = DEPLOYMENT
    platform_id: int | None = None

    def jwks(self) -> dict[str, Any]:
        return {"keys": [jwk_of(self.key, self.kid)]}

    def register(self, *, jwks_url: str | None = None, name: str = "Agency Moodle") -> int:
        platform = create_platform(
            Actor.system(),
            PlatformData(
                name=name,
                issuer=self.issuer,
                client_id=self.client_id,
                deployment_ids=[self.deployment_id],
                auth_url=self.issuer + "/mod/lti/auth.php",
                token_url=self.issuer + "/mod/lti/token.php",
                jwks_url=jwks_url,
                jwks_json=None if jwks_url else json.dumps(self.jwks()),
                frame_origins=[FRAME_ORIGIN],
            ),
        )
        db.session.commit()
        self.platform_id = platform.id
        return platform.id

    def claims(self, nonce: str, *, sub: str = "lms-user-1", roles: tuple[str, ...] = (LEARNER_ROLE,),
               link_id: str = "link-1", email: str | None = "pat.learner@lms.example.edu",
               name: str = "Pat Learner", **extra: Any) -> dict[str, Any]:  # fmt: skip
        now = int(time.time())
        claims: dict[str, Any] = {
            "iss": self.issuer,
            "aud": self.client_id,
            "sub": sub,
            "exp": now + 300,
            "iat": now,
            "nonce": nonce,
            "name": name,
            MESSAGE_TYPE: "LtiResourceLinkRequest",
            VERSION: "1.3.0",
            DEPLOYMENT_ID: self.deployment_id,
            TARGET_LINK_URI: BASE + "/lti/launch",
            RESOURCE_LINK: {"id": link_id, "title": "IMH course"},
            ROLES: list(roles),
            CONTEXT: {"id": "course-101", "title": "Infant Mental Health 101"},
        }
        if email:
            claims["email"] = email
        claims.update(extra)
        return {k: v for k, v in claims.items() if v is not None}

    def id_token(
        self, claims: dict[str, Any], key: rsa.RSAPrivateKey | None = None, kid: str | None = None
    ) -> str:
        return jwt.encode(claims, key or self.key, algorithm="RS256", headers={"kid": kid or self.kid})


def start_login(client, platform: Platform, **params: str) -> tuple[str, str]:  # noqa: ANN001
    """The OIDC login initiation: (state, nonce) read from the redirect to the platform."""
    query = {"iss": platform.issuer, "login_hint": "hint-1", "target_link_uri": BASE + "/lti/launch",
             "client_id": platform.client_id, **params}  # fmt: skip
    response = client.get("/lti/login", query_string=query, base_url=BASE)
    assert response.status_code == 302, response.get_data(as_text=True)
    sent = parse_qs(urlsplit(response.headers["Location"]).query)
    return sent["state"][0], sent["nonce"][0]


def launch(client, platform: Platform, *, claims: dict[str, Any] | None = None, token: str | None = None,  # noqa: ANN001
           **claim_args: Any):  # noqa: ANN201  # fmt: skip
    """A full login + launch; ``claims``/``token`` replace what the platform would send."""
    state, nonce = start_login(client, platform)
    token = token or platform.id_token(claims if claims is not None else platform.claims(nonce, **claim_args))
    return client.post("/lti/launch", data={"id_token": token, "state": state}, base_url=BASE)


LEARNER = (LEARNER_ROLE,)
INSTRUCTOR = (INSTRUCTOR_ROLE,)
ADMIN_ONLY = ("http://purl.imsglobal.org/vocab/lis/v2/institution/person#Administrator",)


def unique() -> str:
    return uuid.uuid4().hex


def lti_world(user_id: int) -> dict[str, object]:
    """A registered platform, a launched (unconnected) resource link and an LMS identity of ``user_id``."""
    from imh_course.models import LtiResourceLink, LtiUserLink

    lms = Platform()
    platform_id = lms.register()
    link = LtiResourceLink(platform_id=platform_id, deployment_id=DEPLOYMENT, resource_link_id="matrix-link")
    person = LtiUserLink(issuer=lms.issuer, sub="matrix-sub", user_id=user_id, platform_id=platform_id)
    db.session.add_all([link, person])
    db.session.commit()
    return {
        "platform_id": platform_id,
        "resource_link_id": link.id,
        "user_link_id": person.id,
        "ticket": "forged.ticket",
    }


class ServicesServer:
    """The platform's token endpoint and roster (NRPS) on loopback; checks the tool's client assertion."""

    def __init__(self, tool_jwks: dict[str, Any], members: list[dict[str, Any]], page_size: int = 2) -> None:
        self.tool_jwks = tool_jwks
        self.members = members
        self.page_size = page_size
        self.calls: list[str] = []
        self.line_items: dict[str, dict[str, Any]] = {}
        self.scores: list[dict[str, Any]] = []
        self.fail_scores = 0
        self.assertions: list[dict[str, Any]] = []
        outer = self

        class Handler(BaseHTTPRequestHandler):
            def _json(self, status: int, body: Any, headers: dict[str, str] | None = None) -> None:
                data = json.dumps(body).encode()
                self.send_response(status)
                self.send_header("Content-Type", "application/json")
                for name, value in (headers or {}).items():
                    self.send_header(name, value)
                self.send_header("Content-Length", str(len(data)))
                self.end_headers()
                self.wfile.write(data)

            def do_POST(self) -> None:  # noqa: N802
                length = int(self.headers.get("Content-Length") or 0)
                if self.path != "/token":
                    outer.calls.append("POST " + self.path)
                    if self.headers.get("Authorization") != "Bearer platform-token":
                        self._json(401, {"error": "no token"})
                        return
                    body = json.loads(self.rfile.read(length) or b"{}")
                    if self.path == "/lineitems":
                        item_id = f"{outer.url}/lineitems/{len(outer.line_items) + 1}"
                        outer.line_items[item_id] = body
                        self._json(201, {**body, "id": item_id})
                    elif outer.fail_scores > 0:
                        outer.fail_scores -= 1
                        self._json(503, {"error": "try later"})
                    else:
                        outer.scores.append({"line_item": self.path.removesuffix("/scores"), **body})
                        self._json(200, {})
                    return
                outer.calls.append("token")
                form = parse_qs(self.rfile.read(length).decode())
                assertion = form["client_assertion"][0]
                kid = jwt.get_unverified_header(assertion)["kid"]
                key = jwt.PyJWKSet.from_dict(outer.tool_jwks)[kid].key
                try:
                    claims = jwt.decode(assertion, key, algorithms=["RS256"], audience=outer.url + "/token")
                except jwt.PyJWTError:
                    self._json(401, {"error": "invalid_client"})
                    return
                outer.assertions.append({**claims, "scope": form["scope"][0]})
                self._json(
                    200, {"access_token": "platform-token", "token_type": "Bearer", "expires_in": 3600}
                )

            def do_GET(self) -> None:  # noqa: N802
                outer.calls.append(self.path)
                if self.headers.get("Authorization") != "Bearer platform-token":
                    self._json(401, {"error": "no token"})
                    return
                start = int(parse_qs(urlsplit(self.path).query).get("start", ["0"])[0])
                page = outer.members[start : start + outer.page_size]
                headers = {}
                if start + outer.page_size < len(outer.members):
                    headers["Link"] = f'<{outer.url}/members?start={start + outer.page_size}>; rel="next"'
                self._json(200, {"id": outer.url + "/members", "members": page}, headers)

            def log_message(self, *_args: Any) -> None:
                pass

        self.server = ThreadingHTTPServer(("127.0.0.1", 0), Handler)
        self.thread = threading.Thread(target=self.server.serve_forever, daemon=True)

    @property
    def url(self) -> str:
        return f"http://127.0.0.1:{self.server.server_address[1]}"

    def __enter__(self) -> ServicesServer:
        self.thread.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.server.shutdown()
        self.server.server_close()
        self.thread.join(5)


def linked_platform(app, services: ServicesServer, offering_id: int, claims: dict[str, Any]):  # noqa: ANN001, ANN201
    """A registered LMS whose token endpoint is ``services``, launched once with ``claims`` (an NRPS
    or AGS claim), its resource link connected to the offering. Returns (platform, launching client,
    link)."""
    from sqlalchemy import select

    from imh_course.lti.platforms import connect_resource_link
    from imh_course.models import LtiPlatform, LtiResourceLink, Offering

    lms = Platform()
    lms.register()
    db.session.get(LtiPlatform, lms.platform_id).token_url = services.url + "/token"
    db.session.commit()
    launcher = app.test_client()
    assert launch(launcher, lms, **claims).status_code == 200
    link = db.session.scalar(select(LtiResourceLink))
    connect_resource_link(Actor.system(), link, db.session.get(Offering, offering_id), None)
    db.session.commit()
    return lms, launcher, link
