"""meeting reminders: the learner's opt-out and the outbox's dedupe key (one message per cause)

Revision ID: 0009
Revises: 0008
Create Date: 2026-12-07 09:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0009'
down_revision = '0008'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('imh_user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('meeting_reminders', sa.Boolean(), server_default=sa.true(),
                                      nullable=False))
    with op.batch_alter_table('imh_outbox_message', schema=None) as batch_op:
        batch_op.add_column(sa.Column('dedupe_key', sa.String(length=120), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_imh_outbox_message_dedupe_key'), ['dedupe_key'])


def downgrade():
    with op.batch_alter_table('imh_outbox_message', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_imh_outbox_message_dedupe_key'), type_='unique')
        batch_op.drop_column('dedupe_key')
    with op.batch_alter_table('imh_user', schema=None) as batch_op:
        batch_op.drop_column('meeting_reminders')
