"""Each email keeps the relay of its latest try (for /metrics, which counted it from the whole
history at every scrape) and the address the relay accepted it for (so that a late bounce about
an address since corrected is known to be about that send)

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
        batch_op.add_column(sa.Column('sent_to', sa.String(length=254), nullable=True))
    op.execute("UPDATE email_notifications SET last_relay = (SELECT relay FROM delivery_attempts "
               "WHERE delivery_attempts.notification_id = email_notifications.id "
               "ORDER BY delivery_attempts.id DESC LIMIT 1)")
    # Emails sent before: the student's address now is the best that is known of where they went.
    op.execute("UPDATE email_notifications SET sent_to = (SELECT users.email FROM student_profiles "
               "JOIN users ON users.id = student_profiles.user_id "
               "WHERE student_profiles.id = email_notifications.student_profile_id) WHERE sent_at IS NOT NULL")


def downgrade():
    with op.batch_alter_table('email_notifications', schema=None) as batch_op:
        batch_op.drop_column('sent_to')
        batch_op.drop_column('last_relay')
