"""delivery_attempts.relay: which relay (MAIL_RELAYS_FILE) each attempt went through

Revision ID: 7d1f3b5a9c02
Revises: 6c0e2a4d8f91
Create Date: 2026-12-06 00:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '7d1f3b5a9c02'
down_revision = '6c0e2a4d8f91'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('delivery_attempts', schema=None) as batch_op:
        batch_op.add_column(sa.Column('relay', sa.String(length=64), nullable=True))


def downgrade():
    with op.batch_alter_table('delivery_attempts', schema=None) as batch_op:
        batch_op.drop_column('relay')
