"""xapi statements: the durable queue of statements for a Learning Record Store

Revision ID: 0010
Revises: 0009
Create Date: 2026-12-07 11:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0010'
down_revision = '0009'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'imh_xapi_statement',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('statement_id', sa.String(length=36), nullable=False),
        sa.Column('verb', sa.String(length=20), nullable=False),
        sa.Column('subject', sa.String(length=120), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=True),
        sa.Column('content', sa.Text(), nullable=False),
        sa.Column('status', sa.Enum('queued', 'sending', 'sent', 'failed', name='xapistatus',
                                    native_enum=False, length=30), nullable=False),
        sa.Column('attempts', sa.Integer(), nullable=False),
        sa.Column('next_attempt_dt', sa.DateTime(timezone=True), nullable=False),
        sa.Column('claimed_by', sa.String(length=64), nullable=True),
        sa.Column('claimed_dt', sa.DateTime(timezone=True), nullable=True),
        sa.Column('last_error', sa.String(length=500), nullable=True),
        sa.Column('created_dt', sa.DateTime(timezone=True), nullable=False),
        sa.Column('sent_dt', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['imh_user.id'], name=op.f('fk_imh_xapi_statement_user_id_imh_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_imh_xapi_statement')),
        sa.UniqueConstraint('statement_id', name=op.f('uq_imh_xapi_statement_statement_id')),
    )
    with op.batch_alter_table('imh_xapi_statement', schema=None) as batch_op:
        batch_op.create_index('ix_imh_xapi_statement_due', ['status', 'next_attempt_dt'], unique=False)
        batch_op.create_index(batch_op.f('ix_imh_xapi_statement_subject'), ['subject'], unique=False)
        batch_op.create_index(batch_op.f('ix_imh_xapi_statement_user_id'), ['user_id'], unique=False)


def downgrade():
    with op.batch_alter_table('imh_xapi_statement', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_imh_xapi_statement_user_id'))
        batch_op.drop_index(batch_op.f('ix_imh_xapi_statement_subject'))
        batch_op.drop_index('ix_imh_xapi_statement_due')
    op.drop_table('imh_xapi_statement')
