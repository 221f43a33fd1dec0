"""account last sign-in: when each person last signed in, shown on the admin's account list

Revision ID: 0007
Revises: 0006
Create Date: 2026-12-07 08:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0007'
down_revision = '0006'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('imh_user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_signin_dt', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    # SQLite >= 3.35 drops a column in place; batch mode would copy imh_user, which many tables
    # reference (as in 0005).
    bind = op.get_bind()
    if bind.dialect.name == 'sqlite' and bind.dialect.dbapi.sqlite_version_info >= (3, 35):
        op.execute('ALTER TABLE imh_user DROP COLUMN last_signin_dt')
    else:
        with op.batch_alter_table('imh_user', schema=None) as batch_op:
            batch_op.drop_column('last_signin_dt')
