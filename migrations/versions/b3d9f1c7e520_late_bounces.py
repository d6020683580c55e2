"""Late bounces: each email's return-path token, bounce reports in its history, a student's
bouncing address, and how far the bounce mailbox has been read

Revision ID: b3d9f1c7e520
Revises: a7c1e5f3b920
Create Date: 2026-12-06 09:00:00

"""
from alembic import op
import sqlalchemy as sa

import portal.database


# revision identifiers, used by Alembic.
revision = 'b3d9f1c7e520'
down_revision = 'a7c1e5f3b920'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('email_notifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('bounce_token', sa.String(length=32), nullable=True))
    # Every email already made gets its own random token (80 bits, as portal.models.new_bounce_token).
    if op.get_bind().dialect.name == 'postgresql':
        op.execute("UPDATE email_notifications SET bounce_token = substr(md5(random()::text || id::text), 1, 20)")
    else:
        op.execute("UPDATE email_notifications SET bounce_token = lower(hex(randomblob(10)))")
    with op.batch_alter_table('email_notifications', schema=None) as batch_op:
        batch_op.create_unique_constraint(batch_op.f('uq_email_notifications_bounce_token'), ['bounce_token'])

    with op.batch_alter_table('delivery_attempts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('report_id', sa.String(length=255), nullable=True))
        batch_op.create_unique_constraint(batch_op.f('uq_delivery_attempts_report_id'), ['report_id'])

    with op.batch_alter_table('student_profiles', schema=None) as batch_op:
        batch_op.add_column(sa.Column('bounced_email', sa.String(length=254), nullable=True))
        batch_op.add_column(sa.Column('bounced_at', portal.database.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('bounce_reason', sa.Text(), nullable=True))

    op.create_table(
        'bounce_mailboxes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('account', sa.String(length=255), nullable=False),
        sa.Column('uidvalidity', sa.BigInteger(), nullable=False),
        sa.Column('last_uid', sa.BigInteger(), nullable=False),
        sa.Column('checked_at', portal.database.UTCDateTime(), nullable=True),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_bounce_mailboxes')),
        sa.UniqueConstraint('account', name=op.f('uq_bounce_mailboxes_account')),
    )


def downgrade():
    op.drop_table('bounce_mailboxes')
    with op.batch_alter_table('student_profiles', schema=None) as batch_op:
        batch_op.drop_column('bounce_reason')
        batch_op.drop_column('bounced_at')
        batch_op.drop_column('bounced_email')
    with op.batch_alter_table('delivery_attempts', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_delivery_attempts_report_id'), type_='unique')
        batch_op.drop_column('report_id')
    with op.batch_alter_table('email_notifications', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_email_notifications_bounce_token'), type_='unique')
        batch_op.drop_column('bounce_token')
