"""attendance_sessions.version: an edit and the generation of its emails never interleave

Revision ID: 3f6b8d0e2a54
Revises: 2e5a7c9d1f43
Create Date: 2026-12-05 20:20:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '3f6b8d0e2a54'
down_revision = '2e5a7c9d1f43'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('attendance_sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('version', sa.Integer(), server_default='1', nullable=False))


def downgrade():
    with op.batch_alter_table('attendance_sessions', schema=None) as batch_op:
        batch_op.drop_column('version')
