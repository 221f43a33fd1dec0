"""``flask imh …``: the command group, one module per command group (content, users, demo, backup,
audit, certificates, workers); credentials, LTI and bench attach their own groups to :data:`imh`.
"""

from __future__ import annotations

import click

from ..credentials.cli import credentials
from .audit import audit
from .backup import backup, restore
from .certificates import certificates
from .content import content
from .demo import demo
from .users import user
from .workers import outbox, xapi


@click.group("imh")
def imh() -> None:
    """Infant Mental Health course module commands."""


for _command in (content, user, demo, backup, restore, audit, certificates, outbox, xapi, credentials):
    imh.add_command(_command)
