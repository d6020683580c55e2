"""users.session_version: sign-out, a password change and deactivation end old session cookies

Revision ID: e4b2c9d1f7a3
Revises: d1e7a9b04c55
Create Date: 2026-11-26 14:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'e4b2c9d1f7a3'
down_revision = 'd1e7a9b04c55'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.add_column(sa.Column('session_version', sa.Integer(), server_default='0', nullable=False))


def downgrade():
    with op.batch_alter_table('users', schema=None) as batch_op:
        batch_op.drop_column('session_version')
