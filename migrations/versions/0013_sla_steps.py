"""sla steps: every change to a ticket's SLA clock with its arithmetic, for the SLA timeline

Tickets raised before this migration have no steps; their timeline says so and shows what the
ticket row holds.

Revision ID: 0013_sla_steps
Revises: 0012_overdue_reminders
Create Date: 2026-11-23 18:40:00

"""
import sqlalchemy as sa
from alembic import op

from autotrack.models.types import UTCDateTime

revision = '0013_sla_steps'
down_revision = '0012_overdue_reminders'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'sla_steps',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('org_id', sa.Integer(), nullable=False),
        sa.Column('ticket_id', sa.Integer(), nullable=False),
        sa.Column('clock', sa.String(length=16), nullable=False),
        sa.Column('cycle', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('at', UTCDateTime(), nullable=False),
        sa.Column('base_at', UTCDateTime(), nullable=True),
        sa.Column('working_us', sa.BigInteger(), nullable=True),
        sa.Column('calendar', sa.String(length=16), nullable=True),
        sa.Column('target_minutes', sa.Integer(), nullable=True),
        sa.Column('due_at', UTCDateTime(), nullable=True),
        sa.Column('warn_at', UTCDateTime(), nullable=True),
        sa.Column('detail', sa.String(length=255), nullable=True),
        sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_sla_steps_org_id_organizations')),
        sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_sla_steps_ticket_id_tickets')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_sla_steps')),
    )
    op.create_index('ix_sla_steps_ticket', 'sla_steps', ['ticket_id', 'id'])
    op.create_index('ix_sla_steps_report', 'sla_steps', ['org_id', 'clock', 'kind', 'at'])


def downgrade():
    op.drop_table('sla_steps')  # and its index (MariaDB will not drop an index its foreign key uses)
