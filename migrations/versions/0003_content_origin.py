"""content origin (file | browser) and the Markdown source of quiz prompts

Browser-authored content must survive the next ``flask imh content sync``: sync retires only
``origin = 'file'`` items. Existing rows were all loaded from the files, hence the server default.
``prompt_md`` keeps the authored source of a question's prompt so ``flask imh content export`` can
write it back exactly; rows synced before this revision get it on the next sync.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-23 22:54:14.419150

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0003'
down_revision = '0002'
branch_labels = None
depends_on = None

VERSIONED_TABLES = ('imh_reading', 'imh_exercise', 'imh_quiz')


def _origin_column():
    return sa.Column(
        'origin',
        sa.Enum('file', 'browser', name='contentorigin', native_enum=False, length=10),
        server_default='file',
        nullable=False,
    )


def upgrade():
    for table in VERSIONED_TABLES:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.add_column(_origin_column())

    with op.batch_alter_table('imh_quiz_question', schema=None) as batch_op:
        batch_op.add_column(sa.Column('prompt_md', sa.Text(), nullable=True))


def _drop_column(table, column):
    """SQLite >= 3.35 drops a column in place; batch mode would copy the table, and dropping the
    old copy fails on foreign keys as soon as attempts or responses reference it."""
    bind = op.get_bind()
    if bind.dialect.name == 'sqlite' and bind.dialect.dbapi.sqlite_version_info >= (3, 35):
        op.execute(f'ALTER TABLE {table} DROP COLUMN {column}')
    else:
        with op.batch_alter_table(table, schema=None) as batch_op:
            batch_op.drop_column(column)


def downgrade():
    _drop_column('imh_quiz_question', 'prompt_md')
    for table in reversed(VERSIONED_TABLES):
        _drop_column(table, 'origin')
