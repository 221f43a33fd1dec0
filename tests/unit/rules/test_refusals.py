"""Refusal reasons carry a code, the learner's words and the coordinator's (issue 13, defect 4)."""

from __future__ import annotations

import pickle

from imh_course.rules.completion import CertificateKind, CompletionStatus, certificate_eligibility
from imh_course.rules.refusals import (
    ATTESTATION_STALE,
    LICENSE_NUMBER_MISSING,
    ReasonCode,
    sessions_missing,
    staff_reasons,
)

DONE = CompletionStatus(True, (), True)


def test_a_reason_is_the_learners_text_and_has_a_staff_text():
    assert (
        ATTESTATION_STALE == "Your recorded attendance changed after you attested: review it and attest again"
    )
    assert ATTESTATION_STALE.code is ReasonCode.ATTESTATION_STALE
    assert (
        ATTESTATION_STALE.for_staff("Lena M.") == "Lena M. has not re-attested since their attendance changed"
    )
    assert LICENSE_NUMBER_MISSING.for_staff("Lena M.") == (
        "No license number on file for Lena M. (it is printed on the CE certificate)"
    )
    assert (
        sessions_missing(8, 10).for_staff("{name}} x")
        == "{name}} x needs 2 more sessions credited (8 of 10 needed)"
    )


def test_stale_attestation_and_missing_number_are_decided_once():
    result = certificate_eligibility(
        CertificateKind.CE,
        ce_minutes=60,
        completion=DONE,
        evaluation_submitted=True,
        attested=False,
        attestation_stale=True,
        license_numbered=False,
    )
    assert result.reasons == (ATTESTATION_STALE, LICENSE_NUMBER_MISSING)
    assert staff_reasons("Ann", result.reasons) == (
        "Ann has not re-attested since their attendance changed",
        "No license number on file for Ann (it is printed on the CE certificate)",
    )


def test_a_reason_survives_pickling_with_its_staff_text():
    copy = pickle.loads(pickle.dumps(ATTESTATION_STALE))  # noqa: S301 (our own bytes)
    assert copy == ATTESTATION_STALE and copy.for_staff("A") == ATTESTATION_STALE.for_staff("A")
