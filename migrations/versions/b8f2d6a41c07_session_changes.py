"""sessions a lecturer can schedule, repeat, change and cancel; what each email says

attendance_sessions: notify_at, notify_minutes_before, series_id, cancelled_at,
cancelled_by_id, changed_at; email_notifications.kind (invitation, changed, cancelled).

Revision ID: b8f2d6a41c07
Revises: a7d4e1c9b362
Create Date: 2026-11-26 19:00:00

"""
from alembic import op
import sqlalchemy as sa

from portal.database import UTCDateTime


# revision identifiers, used by Alembic.
revision = 'b8f2d6a41c07'
down_revision = 'a7d4e1c9b362'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('attendance_sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('notify_at', UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('notify_minutes_before', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('series_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('cancelled_at', UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('cancelled_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('changed_at', UTCDateTime(), nullable=True))
        batch_op.create_index(batch_op.f('ix_attendance_sessions_notify_at'), ['notify_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_attendance_sessions_series_id'), ['series_id'], unique=False)
        batch_op.create_foreign_key('fk_attendance_sessions_cancelled_by_id_users', 'users',
                                    ['cancelled_by_id'], ['id'])
    with op.batch_alter_table('email_notifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('kind', sa.String(length=16), server_default='invitation', nullable=False))


def downgrade():
    with op.batch_alter_table('email_notifications', schema=None) as batch_op:
        batch_op.drop_column('kind')
    with op.batch_alter_table('attendance_sessions', schema=None) as batch_op:
        batch_op.drop_constraint('fk_attendance_sessions_cancelled_by_id_users', type_='foreignkey')
        batch_op.drop_index(batch_op.f('ix_attendance_sessions_series_id'))
        batch_op.drop_index(batch_op.f('ix_attendance_sessions_notify_at'))
        batch_op.drop_column('changed_at')
        batch_op.drop_column('cancelled_by_id')
        batch_op.drop_column('cancelled_at')
        batch_op.drop_column('series_id')
        batch_op.drop_column('notify_minutes_before')
        batch_op.drop_column('notify_at')
