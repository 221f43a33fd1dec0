"""course content revision: the key of each worker's cached snapshot of the published content

Every change to a course's sessions, readings, exercises or quizzes writes a new random value in
the same transaction (see ``imh_course/content_snapshot.py``). Existing courses get a random value
too, so no two databases share one (a revision names one state of the content).

Revision ID: 0005
Revises: 0004
Create Date: 2026-11-24 10:00:00

"""
import secrets

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0005'
down_revision = '0004'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('imh_course', schema=None) as batch_op:
        batch_op.add_column(
            sa.Column('content_revision', sa.String(length=32), server_default='initial', nullable=False)
        )
    update = sa.text('UPDATE imh_course SET content_revision = :revision')
    op.execute(update.bindparams(revision=secrets.token_hex(8)))


def downgrade():
    # SQLite >= 3.35 drops a column in place; batch mode would copy imh_course, and dropping the old
    # copy fails on the foreign keys of sessions and offerings (as in 0003).
    bind = op.get_bind()
    if bind.dialect.name == 'sqlite' and bind.dialect.dbapi.sqlite_version_info >= (3, 35):
        op.execute('ALTER TABLE imh_course DROP COLUMN content_revision')
    else:
        with op.batch_alter_table('imh_course', schema=None) as batch_op:
            batch_op.drop_column('content_revision')
