"""dashboard indexes: the console's SLA dashboard reads three covering indexes

Open backlog by priority, status and age; first responses and resolutions of a period with
whether they breached and how long they took. Each dashboard aggregate scans one index range
and never the 1M-row table.

Revision ID: 0003_dashboard_indexes
Revises: 0002_sla_engine
Create Date: 2026-11-23 11:40:00

"""
from alembic import op

revision = '0003_dashboard_indexes'
down_revision = '0002_sla_engine'
branch_labels = None
depends_on = None

INDEXES = {
    'ix_tickets_backlog': ['org_id', 'state', 'priority_id', 'status_id', 'created_at'],
    'ix_tickets_responded': ['org_id', 'first_response_at', 'first_response_breached_at', 'created_at'],
    'ix_tickets_resolved': ['org_id', 'resolved_at', 'resolution_breached_at', 'created_at'],
}


def upgrade():
    with op.batch_alter_table('tickets') as batch_op:
        for name, columns in INDEXES.items():
            batch_op.create_index(name, columns, unique=False)


def downgrade():
    with op.batch_alter_table('tickets') as batch_op:
        for name in INDEXES:
            batch_op.drop_index(name)
