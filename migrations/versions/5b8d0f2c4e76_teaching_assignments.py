"""teaching_assignments: which lecturers teach which courses; each lecturer is assigned to the
courses they already have sessions of, so nothing they do today stops working

Revision ID: 5b8d0f2c4e76
Revises: 4a7c9e1b3d65
Create Date: 2026-12-05 22:20:00

"""
from datetime import datetime, timezone

from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '5b8d0f2c4e76'
down_revision = '4a7c9e1b3d65'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'teaching_assignments',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('course_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('assigned_at', sa.DateTime(), nullable=False),
        sa.ForeignKeyConstraint(['course_id'], ['courses.id'], ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('course_id', 'user_id'),
    )
    with op.batch_alter_table('teaching_assignments', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_teaching_assignments_course_id'), ['course_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_teaching_assignments_user_id'), ['user_id'], unique=False)
    pairs = op.get_bind().execute(sa.text(
        "SELECT DISTINCT s.course_id, s.lecturer_id FROM attendance_sessions s "
        "JOIN users u ON u.id = s.lecturer_id WHERE u.role = 'lecturer'")).all()
    now = datetime.now(timezone.utc).replace(tzinfo=None)  # stored as naive UTC, as the model does
    table = sa.table('teaching_assignments', sa.column('course_id', sa.Integer), sa.column('user_id', sa.Integer),
                     sa.column('assigned_at', sa.DateTime))
    op.bulk_insert(table, [{"course_id": course_id, "user_id": user_id, "assigned_at": now}
                           for course_id, user_id in pairs])


def downgrade():
    with op.batch_alter_table('teaching_assignments', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_teaching_assignments_user_id'))
        batch_op.drop_index(batch_op.f('ix_teaching_assignments_course_id'))
    op.drop_table('teaching_assignments')
