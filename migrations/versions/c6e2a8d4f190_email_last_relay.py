"""Each email keeps the relay of its latest try (for /metrics, which counted it from the whole
history at every scrape)

Revision ID: c6e2a8d4f190
Revises: b3d9f1c7e520
Create Date: 2026-12-06 11:00:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = 'c6e2a8d4f190'
down_revision = 'b3d9f1c7e520'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('email_notifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('last_relay', sa.String(length=64), nullable=True))
    op.execute("UPDATE email_notifications SET last_relay = (SELECT relay FROM delivery_attempts "
               "WHERE delivery_attempts.notification_id = email_notifications.id "
               "ORDER BY delivery_attempts.id DESC LIMIT 1)")


def downgrade():
    with op.batch_alter_table('email_notifications', schema=None) as batch_op:
        batch_op.drop_column('last_relay')
