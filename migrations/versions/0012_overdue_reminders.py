"""overdue reminders: an escalation rule may remind its people by digest, once per period

Revision ID: 0012_overdue_reminders
Revises: 0011_update_clock
Create Date: 2026-11-23 19:10:00

"""
import sqlalchemy as sa
from alembic import op

from autotrack.models.types import UTCDateTime

revision = '0012_overdue_reminders'
down_revision = '0011_update_clock'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('escalation_rules', schema=None) as batch_op:
        batch_op.add_column(sa.Column('reminder', sa.String(length=16), nullable=True))
    op.create_table(
        'sla_digest_runs',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('org_id', sa.Integer(), nullable=False),
        sa.Column('period', sa.String(length=40), nullable=False),
        sa.Column('ran_at', UTCDateTime(), nullable=False),
        sa.Column('emails', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_sla_digest_runs_org_id_organizations')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_sla_digest_runs')),
        sa.UniqueConstraint('org_id', 'period', name=op.f('uq_sla_digest_runs_org_id_period')),
    )


def downgrade():
    op.drop_table('sla_digest_runs')
    with op.batch_alter_table('escalation_rules', schema=None) as batch_op:
        batch_op.drop_column('reminder')
