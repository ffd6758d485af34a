"""department lane index: a department's tickets newest first, read backwards from the index

The newest-first queue reads each of an agent's departments apart on MariaDB (the lane
candidates of services/tickets/queues.py), ORDER BY id DESC LIMIT a page. ix_tickets_queue
continues with state and deadline, and MariaDB passed over the foreign key's index on
department_id alone: it walked the primary key backwards past every newer ticket of the other
departments (21,376 rows read for a page after 62,000 tickets, more as tickets accumulate).
(org_id, department_id, id, state) reads a page and stops, whatever the table's size, and
the state at its end lets a view of active tickets check it without reading the row
(bench/queue_lanes.py, 1M tickets, the newest 100,000 in other departments: 101,001 rows read
and 46-88 ms before, 51 rows and 0.25 ms after).

Revision ID: 0029_department_lane_index
Revises: 0028_outbox_secrets
Create Date: 2026-12-02 18:00:00

"""
from alembic import op

revision = '0029_department_lane_index'
down_revision = '0028_outbox_secrets'
branch_labels = None
depends_on = None


def upgrade():
    # Plain CREATE INDEX, not batch_alter_table: on SQLite a batch rebuild of `tickets` would
    # drop the full-text triggers of migration 0005.
    op.create_index('ix_tickets_department', 'tickets', ['org_id', 'department_id', 'id', 'state'])


def downgrade():
    op.drop_index('ix_tickets_department', table_name='tickets')
