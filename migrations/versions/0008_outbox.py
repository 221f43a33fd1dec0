"""outbox: the durable queue of email messages, written with the event that causes each

Revision ID: 0008
Revises: 0007
Create Date: 2026-12-07 08:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0008'
down_revision = '0007'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'imh_outbox_message',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=40), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('recipient', sa.String(length=254), nullable=False),
        sa.Column('subject', sa.String(length=300), nullable=False),
        sa.Column('message_id', sa.String(length=250), nullable=False),
        sa.Column('content', sa.Text(), nullable=True),
        sa.Column('status', sa.Enum('queued', 'sending', 'sent', 'failed', name='outboxstatus',
                                    native_enum=False, length=30), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_dt', sa.DateTime(timezone=True), nullable=False),
        sa.Column('claimed_by', sa.String(length=64), nullable=True),
        sa.Column('claimed_dt', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_error', sa.String(length=500), nullable=True),
        sa.Column('delivered_via', sa.String(length=10), nullable=True),
        sa.Column('created_dt', sa.DateTime(timezone=True), nullable=False),
        sa.Column('sent_dt', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['imh_user.id'], name=op.f('fk_imh_outbox_message_user_id_imh_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_imh_outbox_message')),
        sa.UniqueConstraint('message_id', name=op.f('uq_imh_outbox_message_message_id')),
    )
    with op.batch_alter_table('imh_outbox_message', schema=None) as batch_op:
        batch_op.create_index('ix_imh_outbox_message_due', ['status', 'next_attempt_dt'], unique=False)
        batch_op.create_index(batch_op.f('ix_imh_outbox_message_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('imh_outbox_message', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_imh_outbox_message_user_id'))
        batch_op.drop_index('ix_imh_outbox_message_due')
    op.drop_table('imh_outbox_message')
