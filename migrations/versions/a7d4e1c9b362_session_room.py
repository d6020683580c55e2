"""attendance_sessions.room: where the class meets, shown to students

Revision ID: a7d4e1c9b362
Revises: f5c3a8e2b917
Create Date: 2026-11-26 17:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'a7d4e1c9b362'
down_revision = 'f5c3a8e2b917'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('attendance_sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('room', sa.String(length=100), nullable=True))


def downgrade():
    with op.batch_alter_table('attendance_sessions', schema=None) as batch_op:
        batch_op.drop_column('room')
