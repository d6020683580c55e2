"""email_notifications.deadline: when an email should be out, if not when its session starts

Revision ID: 8e2a4c6b0d13
Revises: 7d1f3b5a9c02
Create Date: 2026-12-06 01:00:00

"""
from alembic import op
import sqlalchemy as sa

from portal.database import UTCDateTime


# revision identifiers, used by Alembic.
revision = '8e2a4c6b0d13'
down_revision = '7d1f3b5a9c02'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('email_notifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('deadline', UTCDateTime(), nullable=True))


def downgrade():
    with op.batch_alter_table('email_notifications', schema=None) as batch_op:
        batch_op.drop_column('deadline')
