"""student_profiles.language: the language a student reads the portal's emails and pages in

Revision ID: 9f3b5d7e1a24
Revises: 8e2a4c6b0d13
Create Date: 2026-12-06 04:30:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '9f3b5d7e1a24'
down_revision = '8e2a4c6b0d13'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('student_profiles', schema=None) as batch_op:
        batch_op.add_column(sa.Column('language', sa.String(length=16), nullable=True))


def downgrade():
    with op.batch_alter_table('student_profiles', schema=None) as batch_op:
        batch_op.drop_column('language')
