"""attendance_records.accuracy_m and position_uncertain: the phone's reported error, and a
confirmation let in on it, flagged for the lecturer

Revision ID: 4a7c9e1b3d65
Revises: 3f6b8d0e2a54
Create Date: 2026-12-05 22:10:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '4a7c9e1b3d65'
down_revision = '3f6b8d0e2a54'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('attendance_records', schema=None) as batch_op:
        batch_op.add_column(sa.Column('accuracy_m', sa.Float(), nullable=True))
        batch_op.add_column(sa.Column('position_uncertain', sa.Boolean(), server_default=sa.false(), nullable=False))


def downgrade():
    with op.batch_alter_table('attendance_records', schema=None) as batch_op:
        batch_op.drop_column('position_uncertain')
        batch_op.drop_column('accuracy_m')
