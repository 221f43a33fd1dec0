"""open badges credentials: signing keys and one stored credential per certificate version

Revision ID: 0013
Revises: 0012
Create Date: 2026-12-07 11:37:37.948662

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0013'
down_revision = '0012'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('imh_signing_key',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('kid', sa.String(length=64), nullable=False),
    sa.Column('algorithm', sa.String(length=16), nullable=False),
    sa.Column('public_jwk', sa.JSON(), nullable=False),
    sa.Column('private_pem', sa.Text(), nullable=False),
    sa.Column('created_dt', sa.DateTime(timezone=True), nullable=False),
    sa.Column('retired_dt', sa.DateTime(timezone=True), nullable=True),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_imh_signing_key')),
    sa.UniqueConstraint('kid', name=op.f('uq_imh_signing_key_kid'))
    )
    with op.batch_alter_table('imh_signing_key', schema=None) as batch_op:
        batch_op.create_index('uq_imh_signing_key_one_active', ['algorithm'], unique=True, sqlite_where=sa.text('retired_dt IS NULL'), postgresql_where=sa.text('retired_dt IS NULL'))

    op.create_table('imh_badge_credential',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('certificate_id', sa.Integer(), nullable=False),
    sa.Column('credential_id', sa.String(length=64), nullable=False),
    sa.Column('status_index', sa.Integer(), nullable=False),
    sa.Column('signing_key_id', sa.Integer(), nullable=False),
    sa.Column('token', sa.Text(), nullable=False),
    sa.Column('issued_dt', sa.DateTime(timezone=True), nullable=False),
    sa.CheckConstraint('status_index >= 0 AND status_index < 131072', name=op.f('ck_imh_badge_credential_status_index_range')),
    sa.ForeignKeyConstraint(['certificate_id'], ['imh_certificate.id'], name=op.f('fk_imh_badge_credential_certificate_id_imh_certificate')),
    sa.ForeignKeyConstraint(['signing_key_id'], ['imh_signing_key.id'], name=op.f('fk_imh_badge_credential_signing_key_id_imh_signing_key')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_imh_badge_credential')),
    sa.UniqueConstraint('certificate_id', name=op.f('uq_imh_badge_credential_certificate_id')),
    sa.UniqueConstraint('credential_id', name=op.f('uq_imh_badge_credential_credential_id')),
    sa.UniqueConstraint('status_index', name=op.f('uq_imh_badge_credential_status_index'))
    )


def downgrade():
    op.drop_table('imh_badge_credential')
    with op.batch_alter_table('imh_signing_key', schema=None) as batch_op:
        batch_op.drop_index('uq_imh_signing_key_one_active', sqlite_where=sa.text('retired_dt IS NULL'), postgresql_where=sa.text('retired_dt IS NULL'))

    op.drop_table('imh_signing_key')
