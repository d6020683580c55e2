"""Student card scan: card codes, the per-session choice, and how each confirmation was made

Revision ID: f5c3a8e2b917
Revises: e4b2c9d1f7a3
Create Date: 2026-11-26 16:00:00

"""
from alembic import op
import sqlalchemy as sa

import portal.database


# revision identifiers, used by Alembic.
revision = 'f5c3a8e2b917'
down_revision = 'e4b2c9d1f7a3'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('student_profiles', schema=None) as batch_op:
        batch_op.add_column(sa.Column('card_code', sa.String(length=128), nullable=True))
    # Every existing student's card holds their student number until told otherwise.
    op.execute("UPDATE student_profiles SET card_code = student_number")
    with op.batch_alter_table('student_profiles', schema=None) as batch_op:
        batch_op.alter_column('card_code', existing_type=sa.String(length=128), nullable=False)
        batch_op.create_unique_constraint(batch_op.f('uq_student_profiles_card_code'), ['card_code'])

    with op.batch_alter_table('attendance_sessions', schema=None) as batch_op:
        batch_op.add_column(sa.Column('require_id_scan', sa.Boolean(), server_default=sa.false(), nullable=False))

    with op.batch_alter_table('attendance_records', schema=None) as batch_op:
        batch_op.add_column(sa.Column('card_check', sa.String(length=16), server_default='not_required',
                                      nullable=False))
        batch_op.add_column(sa.Column('review', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('reviewed_by_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('reviewed_at', portal.database.UTCDateTime(), nullable=True))
        batch_op.create_foreign_key(batch_op.f('fk_attendance_records_reviewed_by_id_users'), 'users',
                                    ['reviewed_by_id'], ['id'])


def downgrade():
    with op.batch_alter_table('attendance_records', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_attendance_records_reviewed_by_id_users'), type_='foreignkey')
        batch_op.drop_column('reviewed_at')
        batch_op.drop_column('reviewed_by_id')
        batch_op.drop_column('review')
        batch_op.drop_column('card_check')

    with op.batch_alter_table('attendance_sessions', schema=None) as batch_op:
        batch_op.drop_column('require_id_scan')

    with op.batch_alter_table('student_profiles', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('uq_student_profiles_card_code'), type_='unique')
        batch_op.drop_column('card_code')
