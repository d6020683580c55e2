"""attendance_sessions.register_only: a session without emails or links, marked by hand

Revision ID: 6c0e2a4d8f91
Revises: 5b8d0f2c4e76
Create Date: 2026-12-05 22:40:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '6c0e2a4d8f91'
down_revision = '5b8d0f2c4e76'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('attendance_sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('register_only', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade():
    with op.batch_alter_table('attendance_sessions', schema=None) as batch_op:
        batch_op.drop_column('register_only')
