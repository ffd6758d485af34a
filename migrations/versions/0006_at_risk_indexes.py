"""at-risk indexes: the agent's at-risk queue reads only the tickets past a warning point

It used to walk every running ticket of the organization (new or open, ~38,000 at a million
tickets) to test each one's warning points: 91 ms p95. One index per clock lets SQLite and
MariaDB combine the two ranges of the OR instead. The SLA sweep does not write these columns.

Revision ID: 0006_at_risk_indexes
Revises: 0005_ticket_text_search
Create Date: 2026-11-23 14:55:00

"""
from alembic import op

revision = '0006_at_risk_indexes'
down_revision = '0005_ticket_text_search'
branch_labels = None
depends_on = None


def upgrade():
    # Plain CREATE INDEX, not batch_alter_table: on SQLite a batch rebuild of `tickets` would
    # drop the full-text triggers of migration 0005.
    op.create_index('ix_tickets_risk_resolution', 'tickets', ['org_id', 'state', 'resolution_warn_at'])
    op.create_index('ix_tickets_risk_first', 'tickets', ['org_id', 'state', 'first_response_at',
                                                         'first_response_warn_at'])


def downgrade():
    op.drop_index('ix_tickets_risk_first', table_name='tickets')
    op.drop_index('ix_tickets_risk_resolution', table_name='tickets')
