"""The tool's own addresses (login, launch, key set, site) as the LMS must be given them.

Kept apart from the admin views so the deep-linking response can name the launch URL without
importing a route module (which would tie the LTI services to ``views/``).
"""

from __future__ import annotations

from ..mail.notify import external_url


def tool_urls() -> dict[str, str]:
    return {
        "login": external_url("imh.lti_login"),
        "launch": external_url("imh.lti_launch"),
        "jwks": external_url("imh.lti_jwks"),
        "site": external_url("imh.course_page"),
    }
