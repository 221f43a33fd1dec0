"""Every locked re-read goes through ``database.locked`` (FOR UPDATE + populate_existing).

A bare ``with_for_update()`` returns the identity-map copy a view already loaded, so on PostgreSQL
a writer that waited for the lock computes from stale values (issue 14 items 1-2).
"""

from __future__ import annotations

from pathlib import Path

import imh_course

PACKAGE = Path(imh_course.__file__).parent


def test_no_with_for_update_outside_the_helper() -> None:
    offenders = [
        str(path.relative_to(PACKAGE))
        for path in PACKAGE.rglob("*.py")
        if path.name != "database.py"
        and ("with_for_update" in path.read_text() or "populate_existing" in path.read_text())
    ]
    assert offenders == []
