"""a sync preview is applied once (pending_imports.applied_at, applied_by_id); audit entries
of actions the portal took by itself name it (audit_events.actor_label)

Revision ID: 2e5a7c9d1f43
Revises: 1d4f6b8c0e32
Create Date: 2026-12-05 19:40:00

"""
from alembic import op
import sqlalchemy as sa

from portal.database import UTCDateTime


# revision identifiers, used by Alembic.
revision = '2e5a7c9d1f43'
down_revision = '1d4f6b8c0e32'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('pending_imports', schema=None) as batch_op:
        batch_op.add_column(sa.Column('applied_at', UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('applied_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_pending_imports_applied_by_id_users'), 'users',
                                    ['applied_by_id'], ['id'])
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.add_column(sa.Column('actor_label', sa.String(length=40), nullable=True))


def downgrade():
    with op.batch_alter_table('audit_events', schema=None) as batch_op:
        batch_op.drop_column('actor_label')
    with op.batch_alter_table('pending_imports', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_pending_imports_applied_by_id_users'), type_='foreignkey')
        batch_op.drop_column('applied_by_id')
        batch_op.drop_column('applied_at')
