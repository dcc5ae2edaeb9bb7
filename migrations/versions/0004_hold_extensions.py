"""a booker may ask for more time on a hold (WCAG 2.2.1)

Revision ID: 0004
Revises: 0003
Create Date: 2026-11-30 08:50:00

"""
from alembic import op
import sqlalchemy as sa


# revision identifiers, used by Alembic.
revision = '0004'
down_revision = '0003'
branch_labels = None
depends_on = None


def upgrade():
    # How many times the booker asked for more time; existing holds start at none.
    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.add_column(sa.Column('hold_extensions', sa.Integer(), server_default='0', nullable=False))


def downgrade():
    with op.batch_alter_table('booking', schema=None) as batch_op:
        batch_op.drop_column('hold_extensions')
