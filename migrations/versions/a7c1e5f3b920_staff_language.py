"""users.language: the language a staff member reads the portal in (their own choice on /account)

Revision ID: a7c1e5f3b920
Revises: 9f3b5d7e1a24
Create Date: 2026-12-06 06:15:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a7c1e5f3b920'
down_revision = '9f3b5d7e1a24'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=16), nullable=True))


def downgrade():
    # ALTER TABLE … DROP COLUMN in place (SQLite 3.35+): a recreated `users` could not be dropped
    # while other tables refer to it.
    with op.batch_alter_table('users', schema=None, recreate='never') as batch_op:
        batch_op.drop_column('language')
