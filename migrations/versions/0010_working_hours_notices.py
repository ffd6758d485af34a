"""working-hours notices: an escalation rule may hold its emails until the next working period

Revision ID: 0010_working_hours_notices
Revises: 0009_mail_in
Create Date: 2026-11-23 17:10:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0010_working_hours_notices'
down_revision = '0009_mail_in'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('escalation_rules', schema=None) as batch_op:
        batch_op.add_column(sa.Column('working_hours_only', sa.Boolean(), nullable=False, server_default=sa.false()))


def downgrade():
    with op.batch_alter_table('escalation_rules', schema=None) as batch_op:
        batch_op.drop_column('working_hours_only')
