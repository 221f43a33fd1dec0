"""account tokens (invitations, password resets) and the erasure timestamp

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-23 23:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'imh_account_token',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('purpose', sa.Enum('invite', 'reset', name='tokenpurpose', native_enum=False, length=30), nullable=False),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('created_dt', sa.DateTime(timezone=True), nullable=False),
        sa.Column('expires_dt', sa.DateTime(timezone=True), nullable=False),
        sa.Column('used_dt', sa.DateTime(timezone=True), nullable=True),
        sa.ForeignKeyConstraint(['user_id'], ['imh_user.id'], name=op.f('fk_imh_account_token_user_id_imh_user')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_imh_account_token')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_imh_account_token_token_hash')),
    )
    with op.batch_alter_table('imh_account_token', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_imh_account_token_user_id'), ['user_id'], unique=False)
    with op.batch_alter_table('imh_user', schema=None) as batch_op:
        batch_op.add_column(sa.Column('erased_dt', sa.DateTime(timezone=True), nullable=True))


def downgrade():
    with op.batch_alter_table('imh_user', schema=None) as batch_op:
        batch_op.drop_column('erased_dt')
    with op.batch_alter_table('imh_account_token', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_imh_account_token_user_id'))
    op.drop_table('imh_account_token')
