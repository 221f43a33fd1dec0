"""Open Badges 3.0 credentials end to end, checked by an independent verifier (PyJWT, not joserfc).

The learner downloads the signed credential from their certificate page; PyJWT, with the key
fetched from the published JWKS, accepts it; changing the hours breaks it; after a revocation or
a reissue the signed status list sets its bit; /verify explains every failure without a 500.
"""

from __future__ import annotations

import base64
import gzip
import hashlib
import io
import json
import threading

import jwt
import pytest
from cryptography.hazmat.primitives.asymmetric import ec
from sqlalchemy import select

from imh_course.extensions import db
from imh_course.models import AuditEvent, BadgeCredential, Certificate, SigningKey, User
from imh_course.models.audit_chain import Actor
from imh_course.operations.certificates import reissue_certificate, revoke_certificate
from tests.conftest import TEST_PASSWORD
from tests.integration.certificate_helpers import attend, attest, evaluate, finish_independent_work

MEDIA = "application/vc+jwt"


def coordinator() -> Actor:
    return Actor(
        user=db.session.scalar(select(User).where(User.email == "coordinator@example.org")),
        role="coordinator",
    )


def issue_for(app, client, login, demo, user_id: int, email: str) -> Certificate:  # noqa: ANN001
    attend(demo.offering_id, user_id, 10)
    finish_independent_work(demo.offering_id, user_id)
    login(email)
    assert evaluate(client, demo.offering_id).status_code == 302
    assert attest(client, app, demo.offering_id, user_id).status_code == 302
    login("coordinator@example.org")
    assert client.post(f"/staff/offerings/{demo.offering_id}/certificates/{user_id}/issue").status_code == 302
    client.post("/logout")
    return db.session.scalar(select(Certificate).where(Certificate.user_id == user_id))


@pytest.fixture
def key(runner) -> None:
    result = runner.invoke(args=["imh", "credentials", "keys", "create"])
    assert result.exit_code == 0, result.output


@pytest.fixture
def lcsw(app, client, login, demo, key) -> Certificate:  # noqa: ARG001
    return issue_for(app, client, login, demo, demo.lcsw_id, "lcsw@example.org")


def download(client, login, certificate: Certificate, email: str = "lcsw@example.org") -> str:  # noqa: ANN001
    login(email)
    response = client.get(f"/learn/certificates/{certificate.public_id}.jwt")
    assert response.status_code == 200, response.status_code
    assert response.mimetype == MEDIA
    assert "attachment" in response.headers["Content-Disposition"]
    client.post("/logout")
    return response.get_data(as_text=True)


def independent_decode(client, token: str) -> dict:  # noqa: ANN001
    """PyJWT with the key taken from the published JWKS by the header's kid."""
    header = jwt.get_unverified_header(token)
    assert header["alg"] == "ES256" and header["typ"] == "vc+jwt"
    jwks = client.get("/credentials/jwks.json").get_json()
    (jwk,) = [k for k in jwks["keys"] if k["kid"] == header["kid"]]
    assert "d" not in jwk  # never the private half
    return jwt.decode(token, jwt.PyJWK(jwk).key, algorithms=["ES256"])


def status_bit(client, credential: dict) -> bool:  # noqa: ANN001
    """Fetch the status list the credential names, verify it with PyJWT and read the credential's bit."""
    entry = credential["credentialStatus"]
    assert entry["type"] == "BitstringStatusListEntry" and entry["statusPurpose"] == "revocation"
    path = entry["statusListCredential"].split("://", 1)[1].split("/", 1)[1]
    response = client.get("/" + path)
    assert response.status_code == 200 and response.mimetype == MEDIA
    status_list = independent_decode(client, response.get_data(as_text=True))
    assert status_list["type"] == ["VerifiableCredential", "BitstringStatusListCredential"]
    encoded = status_list["credentialSubject"]["encodedList"]
    assert encoded[0] == "u"
    bits = gzip.decompress(base64.urlsafe_b64decode(encoded[1:] + "=" * (-len(encoded[1:]) % 4)))
    assert len(bits) >= 16 * 1024  # 131,072 entries at least
    index = int(entry["statusListIndex"])
    return bool(bits[index // 8] & (0x80 >> (index % 8)))


def verify_page(client, token: str) -> tuple[int, str]:  # noqa: ANN001
    response = client.post("/verify", data={"credential": token})
    return response.status_code, response.get_data(as_text=True)


def test_an_independent_verifier_accepts_a_fresh_credential_with_the_certified_facts(client, login, lcsw):
    token = download(client, login, lcsw)
    vc = independent_decode(client, token)
    facts = lcsw.facts
    assert vc["@context"] == [
        "https://www.w3.org/ns/credentials/v2",
        "https://purl.imsglobal.org/spec/ob/v3p0/context-3.0.3.json",
    ]
    assert "OpenBadgeCredential" in vc["type"]
    assert vc["issuer"]["name"] == facts["provider_name"]
    assert facts["provider_number"] in [i["identifier"] for i in vc["issuer"]["otherIdentifier"]]
    subject = vc["credentialSubject"]
    assert subject["name"] == facts["learner_name"]
    assert subject["achievement"]["name"] == facts["course_title"]
    assert subject["achievement"]["creditsAvailable"] == float(facts["ce_hours"])
    results = {r["resultDescription"]: r["value"] for r in subject["result"]}
    assert results["#ce-contact-hours"] == facts["ce_hours"]
    assert results["#face-to-face-hours"] == facts["face_to_face_hours"]
    assert results["#independent-hours"] == facts["independent_hours"]
    assert status_bit(client, vc) is False
    # Made once: the same bytes on every download, and the learner's download is an audit event.
    assert download(client, login, lcsw) == token
    assert db.session.scalar(select(AuditEvent).where(AuditEvent.action == "certificate.credential"))


def test_the_learners_email_is_only_a_salted_hash(client, login, lcsw, demo):
    token = download(client, login, lcsw)
    vc = independent_decode(client, token)
    email = db.session.get(User, demo.lcsw_id).email
    text = json.dumps(vc, ensure_ascii=False).casefold()
    assert email.casefold() not in text and "@example.org" not in text
    (hashed,) = [i for i in vc["credentialSubject"]["identifier"] if i["identityType"] == "emailAddress"]
    expected = hashlib.sha256((email.casefold() + hashed["salt"]).encode()).hexdigest()
    assert hashed == {**hashed, "hashed": True, "identityHash": f"sha256${expected}"}


def _tamper(token: str, change) -> str:  # noqa: ANN001
    header, payload, signature = token.split(".")
    claims = json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4)))
    change(claims)
    body = base64.urlsafe_b64encode(json.dumps(claims).encode()).decode().rstrip("=")
    return f"{header}.{body}.{signature}"


def _more_hours(claims: dict) -> None:
    claims["credentialSubject"]["achievement"]["creditsAvailable"] = 16.5
    for result in claims["credentialSubject"]["result"]:
        result["value"] = "16.50"
    claims["imhCertificate"]["ceHours"] = "16.50"


def test_a_credential_with_its_hours_changed_is_rejected(client, login, lcsw):
    tampered = _tamper(download(client, login, lcsw), _more_hours)
    with pytest.raises(jwt.InvalidSignatureError):
        independent_decode(client, tampered)
    status, page = verify_page(client, tampered)
    assert status == 200 and "Not valid." in page and "tampered" in page and "16.50" not in page


def test_after_revocation_the_status_list_says_revoked(client, login, lcsw):
    vc = independent_decode(client, download(client, login, lcsw))
    revoke_certificate(coordinator(), lcsw, "Attendance recorded for the wrong person")
    db.session.commit()
    assert status_bit(client, vc) is True
    status, page = verify_page(client, download_token(lcsw))
    assert status == 200 and "Not valid." in page and "revoked" in page


def download_token(certificate: Certificate) -> str:
    return db.session.scalar(
        select(BadgeCredential.token).where(BadgeCredential.certificate_id == certificate.id)
    )


def test_the_learners_data_export_holds_her_credential_and_no_one_elses(app, client, login, demo, lcsw):
    token = download(client, login, lcsw)
    login("lcsw@example.org")
    mine = client.get("/learn/my-data.json").get_json()["credentials"]
    assert [(c["certificate_id"], c["token"]) for c in mine] == [(lcsw.public_id, token)]
    assert mine[0]["credential_id"] and mine[0]["issued"]
    client.post("/logout")
    other = issue_for(app, client, login, demo, demo.lmhc_id, "lmhc@example.org")
    download(client, login, other, "lmhc@example.org")
    login("lmhc@example.org")
    theirs = client.get("/learn/my-data.json").get_json()["credentials"]
    assert [c["certificate_id"] for c in theirs] == [other.public_id]  # hers, not the LCSW's


def test_a_reissue_revokes_the_earlier_credentials_status_entry(app, client, login, lcsw):
    old = independent_decode(client, download(client, login, lcsw))
    with app.test_request_context():
        new_certificate = reissue_certificate(coordinator(), lcsw, "Name corrected")
        db.session.commit()
    assert status_bit(client, old) is True
    assert "superseded" in verify_page(client, download_token(lcsw))[1]
    # The superseded version can no longer be downloaded; the new one has its own, clear entry.
    login("lcsw@example.org")
    assert client.get(f"/learn/certificates/{lcsw.public_id}.jwt").status_code == 404
    client.post("/logout")
    new = independent_decode(client, download(client, login, new_certificate))
    assert new["credentialStatus"]["statusListIndex"] != old["credentialStatus"]["statusListIndex"]
    assert status_bit(client, new) is False and status_bit(client, old) is True


def test_a_certificate_of_completion_carries_no_ce_credits(app, client, login, demo, key):  # noqa: ARG001
    certificate = issue_for(app, client, login, demo, demo.nurse_id, "nurse@example.org")
    vc = independent_decode(client, download(client, login, certificate, "nurse@example.org"))
    subject = vc["credentialSubject"]
    assert "creditsAvailable" not in subject["achievement"] and "creditsEarned" not in subject
    assert all(r["resultDescription"] != "#ce-contact-hours" for r in subject["result"])
    f2f = next(d for d in subject["achievement"]["resultDescription"] if d["id"] == "#face-to-face-hours")
    assert "not CE" in f2f["name"]
    assert vc["imhCertificate"]["ceHours"] is None
    page = verify_page(client, download_token(certificate))[1]
    assert "(not CE credit)" in page and "CE contact hours" not in page


def test_verify_shows_the_facts_of_a_pasted_or_uploaded_credential(client, login, lcsw):
    token = download(client, login, lcsw)
    status, page = verify_page(client, token)
    assert status == 200 and "Valid." in page
    for value in (lcsw.facts["learner_name"], lcsw.facts["ce_hours"], lcsw.facts["certificate_id"]):
        assert value in page
    assert lcsw.facts["license_number"] not in page
    upload = client.post(
        "/verify",
        data={"file": (io.BytesIO(token.encode()), "credential.jwt")},
        content_type="multipart/form-data",
    )
    assert upload.status_code == 200 and "Valid." in upload.get_data(as_text=True)


def _segments(header: dict, payload: dict) -> str:
    def encode(value: dict) -> str:
        return base64.urlsafe_b64encode(json.dumps(value).encode()).decode().rstrip("=")

    return f"{encode(header)}.{encode(payload)}.AAAA"


def test_verify_says_why_a_credential_is_invalid_and_never_fails(client, login, lcsw):
    token = download(client, login, lcsw)
    header, payload, signature = token.split(".")
    flipped = signature[:10] + ("A" if signature[10] != "A" else "B") + signature[11:]
    stranger = jwt.encode(
        json.loads(base64.urlsafe_b64decode(payload + "=" * (-len(payload) % 4))),
        ec.generate_private_key(ec.SECP256R1()),
        algorithm="ES256",
        headers={"kid": "https://elsewhere.test/jwks.json#not-our-key", "typ": "vc+jwt"},
    )
    deep = base64.urlsafe_b64encode(b"[" * 5000 + b"]" * 5000).decode()  # json's recursion limit
    cases = {
        f"{header}.{payload}.{flipped}": "bad signature",
        stranger: "unknown key",
        "not a credential": "three parts",
        "a.b.c": "malformed",
        '{"@context": []}': "JSON, not a signed credential",
        "eyJhbGciOiJub25lIn0.e30.": "three parts",
        "eyJhbGciOiJub25lIn0.e30.AAAA": "algorithm",
        _segments({"alg": "ES256", "kid": "#\u0000"}, {"id": "urn:uuid:\u0000"}): "unknown key",
        _segments({"alg": "\ud800"}, {}): "algorithm",
        f"eyJhbGciOiJFUzI1NiJ9.{deep}.AAAA": "malformed",
        "eyJhbGciOiJFUzI1NiJ9.e30.AAAA": "unknown key",
    }
    for text, reason in cases.items():
        status, page = verify_page(client, text)
        assert status == 200 and "Not valid." in page and reason in page, (text, reason)


def test_verify_refuses_an_empty_or_oversized_submission(client):
    assert client.get("/verify").status_code == 200
    status, page = verify_page(client, "")
    assert status == 400 and "Paste a credential" in page
    status, page = verify_page(client, "e" * (64 * 1024 + 1))
    assert status == 400 and "Keep the credential to 65,536 characters or fewer." in page
    big = client.post(
        "/verify",
        data={"file": (io.BytesIO(b"e" * (64 * 1024 + 1)), "x.jwt")},
        content_type="multipart/form-data",
    )
    assert big.status_code == 400 and "larger than 64 KB" in big.get_data(as_text=True)


def test_only_the_learner_downloads_their_credential(client, login, lcsw):
    login("lmhc@example.org")
    assert client.get(f"/learn/certificates/{lcsw.public_id}.jwt").status_code == 404
    login("coordinator@example.org")
    assert client.get(f"/learn/certificates/{lcsw.public_id}.jwt").status_code == 403
    assert db.session.scalar(select(BadgeCredential)) is None


def test_without_a_key_the_learner_is_told_and_nothing_is_made(app, client, login, demo):
    certificate = issue_for(app, client, login, demo, demo.lcsw_id, "lcsw@example.org")
    login("lcsw@example.org")
    response = client.get(f"/learn/certificates/{certificate.public_id}.jwt", follow_redirects=True)
    assert "not available" in response.get_data(as_text=True)
    assert db.session.scalar(select(BadgeCredential)) is None
    assert client.get("/credentials/status-list.jwt").status_code == 404
    assert client.get("/credentials/jwks.json").get_json() == {"keys": []}


def test_keys_are_encrypted_rotated_and_old_ones_still_verify(runner, client, login, lcsw):
    old_token = download(client, login, lcsw)
    (first,) = db.session.scalars(select(SigningKey)).all()
    assert first.private_pem.startswith("-----BEGIN ENCRYPTED PRIVATE KEY-----")
    again = runner.invoke(args=["imh", "credentials", "keys", "create"])
    assert again.exit_code != 0 and "already active" in again.output
    rotated = runner.invoke(args=["imh", "credentials", "keys", "rotate"])
    assert rotated.exit_code == 0 and "retired" in rotated.output
    db.session.expire_all()
    keys = db.session.scalars(select(SigningKey).order_by(SigningKey.id)).all()
    assert len(keys) == 2 and keys[0].retired_dt is not None and keys[1].retired_dt is None
    assert len(client.get("/credentials/jwks.json").get_json()["keys"]) == 2
    independent_decode(client, old_token)  # the retired key is still published
    status, page = verify_page(client, old_token)
    assert "Valid." in page and "earlier key" in page
    status_list = client.get("/credentials/status-list.jwt").get_data(as_text=True)
    assert jwt.get_unverified_header(status_list)["kid"].endswith("#" + keys[1].kid)
    listing = runner.invoke(args=["imh", "credentials", "keys", "list"])
    assert "active" in listing.output and "retired" in listing.output


def test_ten_first_downloads_at_once_make_one_credential(app, client, login, lcsw):
    """The learner's devices racing on the first download all get the same credential; one row, one event."""
    url = f"/learn/certificates/{lcsw.public_id}.jwt"
    clients = []
    for _ in range(10):
        c = app.test_client()
        signed_in = c.post("/login", data={"email": "lcsw@example.org", "password": TEST_PASSWORD})
        assert signed_in.status_code == 302
        clients.append(c)
    db.session.remove()
    barrier = threading.Barrier(len(clients))
    bodies: list[tuple[int, str]] = []

    def get(c) -> None:  # noqa: ANN001
        barrier.wait()
        response = c.get(url)
        bodies.append((response.status_code, response.get_data(as_text=True)))

    threads = [threading.Thread(target=get, args=(c,)) for c in clients]
    for t in threads:
        t.start()
    for t in threads:
        t.join(timeout=120)
    assert [status for status, _ in bodies] == [200] * 10
    assert len({body for _, body in bodies}) == 1
    assert len(db.session.scalars(select(BadgeCredential)).all()) == 1
    events = db.session.scalars(select(AuditEvent).where(AuditEvent.action == "certificate.credential")).all()
    assert len(events) == 1
