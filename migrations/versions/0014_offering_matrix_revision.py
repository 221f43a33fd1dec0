"""offering matrix revision: the key of each worker's cached completion matrix of the offering

Every write that changes what the offering's completion matrix shows (attendance, progress, quiz
attempts, enrolments, certificates, evaluation, attestation, meetings, approvals, learners'
profiles) writes a new random value in the same transaction (``imh_course/reports/matrix_snapshot.py``).
Existing offerings get a random value each, so no two databases share one.

Revision ID: 0014
Revises: 0013
Create Date: 2026-12-07 12:00:00

"""
import secrets

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0014'
down_revision = '0013'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('imh_offering', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('matrix_revision', sa.String(length=32), server_default='initial', nullable=False)
        )
    bind = op.get_bind()
    for (offering_id,) in bind.execute(sa.text('SELECT id FROM imh_offering')).all():
        update = sa.text('UPDATE imh_offering SET matrix_revision = :revision WHERE id = :id')
        bind.execute(update.bindparams(revision=secrets.token_hex(8), id=offering_id))


def downgrade():
    # As 0005: SQLite >= 3.35 drops a column in place (batch mode would copy the table, and dropping
    # the old copy fails on the foreign keys pointing at offerings).
    bind = op.get_bind()
    if bind.dialect.name == 'sqlite' and bind.dialect.dbapi.sqlite_version_info >= (3, 35):
        op.execute('ALTER TABLE imh_offering DROP COLUMN matrix_revision')
    else:
        with op.batch_alter_table('imh_offering', schema=None) as batch_op:
            batch_op.drop_column('matrix_revision')
