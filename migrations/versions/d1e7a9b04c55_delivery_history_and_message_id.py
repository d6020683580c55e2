"""delivery history (one row per attempt), Message-ID, index for the retry poller

Revision ID: d1e7a9b04c55
Revises: c0de81f3c2a4
Create Date: 2026-11-26 11:20:00

"""
from alembic import op
import sqlalchemy as sa

import portal.database


# revision identifiers, used by Alembic.
revision = 'd1e7a9b04c55'
down_revision = 'c0de81f3c2a4'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'delivery_attempts',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('notification_id', sa.Integer(), nullable=False),
        sa.Column('attempted_at', portal.database.UTCDateTime(), nullable=False),
        sa.Column('outcome', sa.String(length=32), nullable=False),
        sa.Column('smtp_code', sa.Integer(), nullable=True),
        sa.Column('detail', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['notification_id'], ['email_notifications.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
    )
    with op.batch_alter_table('delivery_attempts', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_delivery_attempts_notification_id'), ['notification_id'], unique=False)

    with op.batch_alter_table('email_notifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('message_id', sa.String(length=255), nullable=True))
        batch_op.create_index('ix_email_notifications_status_next_attempt', ['status', 'next_attempt_at'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('email_notifications', schema=None) as batch_op:
        batch_op.drop_index('ix_email_notifications_status_next_attempt')
        batch_op.drop_column('message_id')

    with op.batch_alter_table('delivery_attempts', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_delivery_attempts_notification_id'))

    op.drop_table('delivery_attempts')
