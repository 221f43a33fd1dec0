"""audit trail: refuse TRUNCATE on PostgreSQL

The row triggers of 0001 stop UPDATE and DELETE, but TRUNCATE fires no row triggers: on
PostgreSQL it emptied imh_audit_event and `flask imh audit verify` then reported "intact: 0
events". A statement-level BEFORE TRUNCATE trigger refuses it. SQLite has no TRUNCATE; its
"DELETE FROM t" (the truncate optimisation) is disabled by any trigger on the table, so the row
trigger of 0001 already refuses it. Removing the newest events with the triggers off (a database
superuser) is what `flask imh audit verify --anchor` detects.

Revision ID: 0006
Revises: 0005
Create Date: 2026-12-07 08:30:00

"""
from alembic import op


# revision identifiers, used by Alembic.
revision = '0006'
down_revision = '0005'
branch_labels = None
depends_on = None


def upgrade():
    if op.get_bind().dialect.name == 'postgresql':
        # Its own function, so this migration does not depend on the one from 0001.
        op.execute(
            "CREATE FUNCTION imh_audit_event_refuse_truncate() RETURNS trigger AS $$ "
            "BEGIN RAISE EXCEPTION 'imh_audit_event is append-only: TRUNCATE refused'; END; $$ "
            "LANGUAGE plpgsql"
        )
        op.execute(
            "CREATE TRIGGER imh_audit_event_no_truncate BEFORE TRUNCATE ON imh_audit_event "
            "FOR EACH STATEMENT EXECUTE FUNCTION imh_audit_event_refuse_truncate()"
        )


def downgrade():
    if op.get_bind().dialect.name == 'postgresql':
        op.execute('DROP TRIGGER IF EXISTS imh_audit_event_no_truncate ON imh_audit_event')
        op.execute('DROP FUNCTION IF EXISTS imh_audit_event_refuse_truncate()')
