"""sla recomputes: a change to SLA settings, whose open tickets the next sweep recomputes

Revision ID: 0014_sla_recomputes
Revises: 0013_sla_steps
Create Date: 2026-11-23 19:00:00

"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

from autotrack.models.types import UTCDateTime

revision = '0014_sla_recomputes'
down_revision = '0013_sla_steps'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'sla_recomputes',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('org_id', sa.Integer(), nullable=False),
        sa.Column('before', sa.Text().with_variant(mysql.MEDIUMTEXT(), 'mysql', 'mariadb'), nullable=False),
        sa.Column('all_tickets', sa.Boolean(), nullable=False),
        sa.Column('priority_ids', sa.String(length=2000), nullable=False),
        sa.Column('reason', sa.String(length=255), nullable=False),
        sa.Column('requested_at', UTCDateTime(), nullable=False),
        sa.Column('started_at', UTCDateTime(), nullable=True),
        sa.Column('done_at', UTCDateTime(), nullable=True),
        sa.Column('tickets_changed', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_sla_recomputes_org_id_organizations')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_sla_recomputes')),
    )
    op.create_index('ix_sla_recomputes_pending', 'sla_recomputes', ['done_at', 'id'])


def downgrade():
    op.drop_table('sla_recomputes')
