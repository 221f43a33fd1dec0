"""OIDC login initiation and id_token verification, with PyJWT (see docs/LTI.md for why not pylti1p3).

Login (third-party initiated, LTI 1.3 §5.1.1): the platform names itself (``iss``, ``client_id``);
the tool answers with a redirect to the platform's auth URL carrying a fresh ``state`` and
``nonce``. The state is a token signed with the app secret holding the platform id and the nonce
(so any worker can check it; nothing is kept in process memory), and its hash is also set as a
``SameSite=None; Secure`` cookie that binds the launch to the browser that started the login.

Launch: the id_token is verified in full — RS256 signature with the platform's key (its JWKS URL
or a pasted key set), ``iss``, ``aud``/``azp``, ``exp``/``iat``, the nonce of this login used
once (a unique row), then the LTI claims (:mod:`imh_course.rules.lti`). Every refusal is a
:class:`~imh_course.rules.lti.ClaimProblem` with a reason; nothing here raises anything else.
"""

from __future__ import annotations

import hashlib
import hmac
import json
import secrets
from typing import Any
from urllib.parse import urlencode

import jwt
from flask import current_app
from itsdangerous import BadSignature, SignatureExpired, URLSafeTimedSerializer
from sqlalchemy import select
from sqlalchemy.exc import IntegrityError

from ..extensions import db
from ..models.lti import LtiNonce, LtiPlatform
from ..rules.lti import ClaimProblem, Launch, check_audience, check_launch

STATE_SALT = "imh-lti-state"
STATE_MAX_AGE = 600
STATE_COOKIE = "imh_lti_state"
#: clock skew allowed between the platform and this server
LEEWAY_SECONDS = 60
JWKS_TIMEOUT_SECONDS = 5
_CLIENTS = "imh_lti_jwks_clients"


def _serializer() -> URLSafeTimedSerializer:
    return URLSafeTimedSerializer(current_app.config["SECRET_KEY"], salt=STATE_SALT)


def state_hash(state: str) -> str:
    return hashlib.sha256(state.encode("utf-8")).hexdigest()


def find_platform(issuer: str, client_id: str | None) -> LtiPlatform:
    """The enabled registration for ``issuer`` (and ``client_id`` when the platform sends one)."""
    query = select(LtiPlatform).where(LtiPlatform.issuer == issuer, LtiPlatform.is_enabled.is_(True))
    if client_id:
        query = query.where(LtiPlatform.client_id == client_id)
    found = list(db.session.scalars(query.limit(2)))
    if not found:
        raise ClaimProblem(f"no registered platform for issuer {issuer[:200]!r}", 403)
    if len(found) > 1:
        raise ClaimProblem("several registrations share this issuer: the platform must send client_id", 403)
    return found[0]


def login_redirect(params: dict[str, str], launch_url: str) -> tuple[str, str]:
    """(the platform's auth URL with the OIDC request, the state) for a login initiation."""
    issuer = params.get("iss", "")
    login_hint = params.get("login_hint", "")
    if not issuer:
        raise ClaimProblem("the login request names no issuer (iss)", 403)
    if not login_hint:
        raise ClaimProblem("the login request has no login_hint", 403)
    platform = find_platform(issuer, params.get("client_id"))
    nonce = secrets.token_urlsafe(24)
    retry = {
        k: params[k][:1000] for k in ("iss", "login_hint", "lti_message_hint", "client_id") if params.get(k)
    }
    state = _serializer().dumps({"p": platform.id, "n": nonce, "r": retry})
    query = {
        "scope": "openid",
        "response_type": "id_token",
        "response_mode": "form_post",
        "prompt": "none",
        "client_id": platform.client_id,
        "redirect_uri": launch_url,
        "login_hint": login_hint,
        "state": state,
        "nonce": nonce,
    }
    if params.get("lti_message_hint"):
        query["lti_message_hint"] = params["lti_message_hint"]
    separator = "&" if "?" in platform.auth_url else "?"
    return platform.auth_url + separator + urlencode(query), state


def _read_state(state: str, cookie: str | None) -> tuple[LtiPlatform, str]:
    if not state:
        raise ClaimProblem("the launch has no state: start it from the LMS", 401)
    try:
        data = _serializer().loads(state, max_age=STATE_MAX_AGE)
    except SignatureExpired:
        raise ClaimProblem(
            "the login took too long (state expired): launch again from the LMS", 401
        ) from None
    except BadSignature:
        raise ClaimProblem("the launch's state was not issued by this tool", 401) from None
    if not cookie or not hmac.compare_digest(cookie, state_hash(state)):
        retry = data.get("r") if isinstance(data, dict) and isinstance(data.get("r"), dict) else None
        raise ClaimProblem(
            "this browser did not send back the login cookie (it blocks cookies inside the LMS frame): "
            "open the course in a new window",
            401,
            retry=retry,
        )
    platform = db.session.get(LtiPlatform, data.get("p")) if isinstance(data, dict) else None
    if platform is None or not platform.is_enabled:
        raise ClaimProblem("the platform of this launch is no longer registered", 403)
    return platform, str(data.get("n", ""))


def _jwks_client(url: str) -> jwt.PyJWKClient:
    """One caching client per JWKS URL in this worker (a cache: losing it only costs a fetch)."""
    clients: dict[str, jwt.PyJWKClient] = current_app.extensions.setdefault(_CLIENTS, {})
    if url not in clients:
        clients[url] = jwt.PyJWKClient(url, lifespan=300, timeout=JWKS_TIMEOUT_SECONDS)
    return clients[url]


def platform_key(platform: LtiPlatform, token: str) -> Any:
    """The platform's public key named by the token's ``kid``."""
    try:
        header = jwt.get_unverified_header(token)
    except jwt.PyJWTError:
        raise ClaimProblem("the id_token is not a JWT", 401) from None
    if header.get("alg") != "RS256":
        raise ClaimProblem(f"id_token algorithm {header.get('alg')!r} is not RS256", 401)
    kid = header.get("kid")
    try:
        if platform.jwks_json:
            keys = jwt.PyJWKSet.from_json(platform.jwks_json).keys
            matching = [k for k in keys if kid is None or k.key_id == kid]
            if not matching:
                raise ClaimProblem(f"the platform's pasted key set has no key {kid!r}", 401)
            return matching[0].key
        if not platform.jwks_url:
            raise ClaimProblem("the platform has neither a JWKS URL nor a pasted key set", 403)
        return _jwks_client(platform.jwks_url).get_signing_key_from_jwt(token).key
    except ClaimProblem:
        raise
    except jwt.PyJWKClientConnectionError as exc:
        raise ClaimProblem(f"the platform's key set could not be fetched ({exc})", 401) from None
    except (jwt.PyJWTError, json.JSONDecodeError, ValueError) as exc:
        raise ClaimProblem(f"no usable platform key for this id_token ({exc})", 401) from None


def verify_id_token(token: str, state: str, cookie: str | None) -> tuple[LtiPlatform, Launch]:
    """The platform and the launch's facts, after every check; the nonce is then spent."""
    platform, nonce = _read_state(state, cookie)
    if not token:
        raise ClaimProblem("the launch has no id_token", 401)
    key = platform_key(platform, token)
    try:
        payload = jwt.decode(
            token,
            key,
            algorithms=["RS256"],
            issuer=platform.issuer,
            options={"require": ["iss", "aud", "exp", "iat", "nonce"], "verify_aud": False},
            leeway=LEEWAY_SECONDS,
        )
    except jwt.ExpiredSignatureError:
        raise ClaimProblem("the id_token has expired", 401) from None
    except jwt.ImmatureSignatureError:
        raise ClaimProblem("the id_token was issued in the future (iat)", 401) from None
    except jwt.InvalidIssuerError:
        raise ClaimProblem("the id_token's issuer is not the platform of this login", 401) from None
    except jwt.MissingRequiredClaimError as exc:
        raise ClaimProblem(f"the id_token has no {exc.claim} claim", 401) from None
    except jwt.InvalidSignatureError:
        raise ClaimProblem("the id_token's signature does not match the platform's key", 401) from None
    except jwt.PyJWTError as exc:
        raise ClaimProblem(f"the id_token is invalid ({exc})", 401) from None
    check_audience(payload, platform.client_id)
    if not hmac.compare_digest(str(payload.get("nonce")), nonce):
        raise ClaimProblem("the id_token's nonce is not the one this login issued", 401)
    launch = check_launch(payload, platform.deployment_ids)
    spend_nonce(platform.issuer, nonce)
    return platform, launch


def spend_nonce(issuer: str, nonce: str) -> None:
    """Record ``nonce`` as used; a second use (even racing) is refused by the unique key."""
    try:
        with db.session.begin_nested():
            db.session.add(LtiNonce(issuer=issuer[:300], nonce=nonce[:255]))
    except IntegrityError:
        raise ClaimProblem("this launch was already used (replayed nonce)", 401) from None
