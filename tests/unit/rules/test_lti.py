"""LTI claim rules: which LMS roles mean something here, and what a launch must carry."""

from __future__ import annotations

import pytest

from imh_course.rules.lti import (
    DEPLOYMENT_ID,
    INSTRUCTOR_ROLE,
    LEARNER_ROLE,
    MESSAGE_TYPE,
    RESOURCE_LINK,
    ROLES,
    TARGET_LINK_URI,
    VERSION,
    ClaimProblem,
    CourseRole,
    check_audience,
    check_launch,
    course_roles,
)

MEMBERSHIP = "http://purl.imsglobal.org/vocab/lis/v2/membership"


@pytest.mark.parametrize(
    ("lms_roles", "expected"),
    [
        ([INSTRUCTOR_ROLE], {CourseRole.INSTRUCTOR}),
        ([LEARNER_ROLE], {CourseRole.LEARNER}),
        ([INSTRUCTOR_ROLE, LEARNER_ROLE], {CourseRole.INSTRUCTOR, CourseRole.LEARNER}),
        ([MEMBERSHIP + "#Administrator"], set()),
        ([MEMBERSHIP + "/Instructor#TeachingAssistant"], set()),
        ([MEMBERSHIP + "#ContentDeveloper", MEMBERSHIP + "#Mentor"], set()),
        (["http://purl.imsglobal.org/vocab/lis/v2/institution/person#Administrator"], set()),
        (["http://purl.imsglobal.org/vocab/lis/v2/system/person#Administrator"], set()),
        (["Instructor", "instructor", {"x": 1}, None], set()),
        ([], set()),
    ],
)
def test_only_instructor_and_learner_context_roles_grant_anything(lms_roles, expected):
    assert course_roles(lms_roles) == frozenset(expected)


@pytest.mark.parametrize(
    ("payload", "ok"),
    [
        ({"aud": "tool"}, True),
        ({"aud": ["tool"]}, True),
        ({"aud": ["tool", "other"], "azp": "tool"}, True),
        ({"aud": ["tool", "other"]}, False),
        ({"aud": ["tool"], "azp": "other"}, False),
        ({"aud": "other"}, False),
        ({}, False),
    ],
)
def test_audience_and_azp(payload, ok):
    if ok:
        check_audience(payload, "tool")
    else:
        with pytest.raises(ClaimProblem) as refused:
            check_audience(payload, "tool")
        assert refused.value.status == 401


def _payload(**changes: object) -> dict[str, object]:
    base: dict[str, object] = {
        "iss": "https://lms.example",
        "sub": "u1",
        MESSAGE_TYPE: "LtiResourceLinkRequest",
        VERSION: "1.3.0",
        DEPLOYMENT_ID: "d1",
        TARGET_LINK_URI: "https://tool/lti/launch",
        RESOURCE_LINK: {"id": "r1", "title": "  Week 1  "},
        ROLES: [LEARNER_ROLE],
        "given_name": "Ann",
        "family_name": "Lee",
        "email": "Ann.Lee@Example.ORG",
    }
    base.update(changes)
    return {k: v for k, v in base.items() if v is not None}


def test_a_valid_launch_gives_its_facts():
    launch = check_launch(_payload(), ["d1"])
    assert (launch.sub, launch.deployment_id, launch.resource_link_id) == ("u1", "d1", "r1")
    assert launch.resource_link_title == "Week 1"
    assert launch.name == "Ann Lee" and launch.email == "ann.lee@example.org"
    assert launch.roles == {CourseRole.LEARNER}


@pytest.mark.parametrize(
    ("changes", "reason"),
    [
        ({MESSAGE_TYPE: "LtiDeepLinkingResponse"}, "unsupported LTI message type"),
        ({MESSAGE_TYPE: None}, "unsupported LTI message type"),
        ({VERSION: "1.3.1"}, "unsupported LTI version"),
        ({DEPLOYMENT_ID: "d2"}, "unknown deployment id"),
        ({DEPLOYMENT_ID: None}, "no deployment id"),
        ({"sub": ""}, "no user id"),
        ({RESOURCE_LINK: {"title": "x"}}, "no resource link id"),
        ({ROLES: "Learner"}, "no roles claim"),
        ({TARGET_LINK_URI: None}, "no target link URI"),
    ],
)
def test_a_launch_missing_or_wrong_is_refused_with_its_reason(changes, reason):
    with pytest.raises(ClaimProblem) as refused:
        check_launch(_payload(**changes), ["d1"])
    assert reason in refused.value.reason
