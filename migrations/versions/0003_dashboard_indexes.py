"""dashboard indexes: the console's SLA dashboard reads covering indexes only

Open backlog by priority, status and age; first responses and resolutions of a period with
whether they breached and how long they took; breaches and escalations of a period by
department, which sla_events now records itself (the department when the moment fired;
existing rows take the ticket's current one). Each dashboard aggregate scans one index range
and never the 1M-row tickets table.

Revision ID: 0003_dashboard_indexes
Revises: 0002_sla_engine
Create Date: 2026-11-23 11:40:00

"""
from alembic import op
import sqlalchemy as sa

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
    with op.batch_alter_table('sla_events') as batch_op:
        batch_op.add_column(sa.Column('department_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(op.f('fk_sla_events_department_id_departments'), 'departments',
                                    ['department_id'], ['id'])
    op.execute('UPDATE sla_events SET department_id = '
               '(SELECT tickets.department_id FROM tickets WHERE tickets.id = sla_events.ticket_id)')
    with op.batch_alter_table('sla_events') as batch_op:
        # The new index leads with org_id, so MariaDB's foreign key keeps an index when the old goes.
        batch_op.create_index('ix_sla_events_period', ['org_id', 'fired_at', 'kind', 'clock', 'department_id'],
                              unique=False)
        batch_op.drop_index('ix_sla_events_org_time')


def downgrade():
    with op.batch_alter_table('sla_events') as batch_op:
        batch_op.create_index('ix_sla_events_org_time', ['org_id', 'fired_at'], unique=False)
        batch_op.drop_index('ix_sla_events_period')
        batch_op.drop_constraint(op.f('fk_sla_events_department_id_departments'), type_='foreignkey')
        batch_op.drop_column('department_id')
    with op.batch_alter_table('tickets') as batch_op:
        for name in INDEXES:
            batch_op.drop_index(name)
