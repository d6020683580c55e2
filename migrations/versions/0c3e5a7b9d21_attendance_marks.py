"""attendance set by hand: attendance_marks (present, late, excused, absent), kept as a history

Revision ID: 0c3e5a7b9d21
Revises: b8f2d6a41c07
Create Date: 2026-11-27 01:00:00

"""
from alembic import op
import sqlalchemy as sa

from portal.database import UTCDateTime


# revision identifiers, used by Alembic.
revision = '0c3e5a7b9d21'
down_revision = 'b8f2d6a41c07'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'attendance_marks',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('session_id', sa.Integer(), nullable=False),
        sa.Column('student_profile_id', sa.Integer(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('previous_status', sa.String(length=16), nullable=True),
        sa.Column('note', sa.String(length=500), nullable=True),
        sa.Column('marked_by_id', sa.Integer(), nullable=False),
        sa.Column('marked_at', UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['marked_by_id'], ['users.id'], name=op.f('fk_attendance_marks_marked_by_id_users')),
        sa.ForeignKeyConstraint(['session_id'], ['attendance_sessions.id'], ondelete='CASCADE',
                                name=op.f('fk_attendance_marks_session_id_attendance_sessions')),
        sa.ForeignKeyConstraint(['student_profile_id'], ['student_profiles.id'], ondelete='CASCADE',
                                name=op.f('fk_attendance_marks_student_profile_id_student_profiles')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_attendance_marks')),
    )
    with op.batch_alter_table('attendance_marks', schema=None) as batch_op:
        batch_op.create_index('ix_attendance_marks_session_student', ['session_id', 'student_profile_id', 'id'],
                              unique=False)
        batch_op.create_index(batch_op.f('ix_attendance_marks_student_profile_id'), ['student_profile_id'],
                              unique=False)


def downgrade():
    with op.batch_alter_table('attendance_marks', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_attendance_marks_student_profile_id'))
        batch_op.drop_index('ix_attendance_marks_session_student')
    op.drop_table('attendance_marks')
