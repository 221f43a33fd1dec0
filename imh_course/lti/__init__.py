"""LTI 1.3 Advantage tool: the course launched from an agency's LMS (Moodle, Canvas, Brightspace).

:mod:`.verify` (OIDC login, id_token checks) · :mod:`.provision` (accounts, roles, resource links)
· :mod:`.keys` (the tool's keys, ``flask imh lti keys rotate``) · :mod:`.embedding` (iframe
headers and cookies, LTI routes only) · :mod:`.views` and :mod:`.views_admin` (routes) ·
:mod:`.platforms` (registrations, audited). The claim rules are pure: ``rules/lti.py``.
"""

from __future__ import annotations

from flask import Flask


def register(app: Flask) -> None:
    from ..cli import imh
    from . import embedding
    from .cli import lti

    embedding.register(app)
    if "lti" not in imh.commands:
        imh.add_command(lti)
