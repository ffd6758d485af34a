"""update clock: an optional next-response target per priority, and its cycle on each ticket

Revision ID: 0011_update_clock
Revises: 0010_working_hours_notices
Create Date: 2026-11-23 18:40:00

"""
import sqlalchemy as sa
from alembic import op

from autotrack.models.types import UTCDateTime

revision = '0011_update_clock'
down_revision = '0010_working_hours_notices'
branch_labels = None
depends_on = None

_TICKET_MOMENTS = ('next_response_started_at', 'next_response_due_at', 'next_response_warn_at',
                   'next_response_warned_at', 'next_response_breached_at', 'next_response_at')


def _fulltext_kept(alter):
    """MariaDB may rebuild `tickets` for these ALTERs, and with it the FULLTEXT index of migration
    0005, which keeps the stopword setting in force when it is built: keep it off, as 0005 did."""
    mariadb = op.get_bind().dialect.name in ("mysql", "mariadb")
    if mariadb:
        op.execute("SET SESSION innodb_ft_enable_stopword = OFF")
    alter()
    if mariadb:
        op.execute("SET SESSION innodb_ft_enable_stopword = ON")


def upgrade():
    with op.batch_alter_table('priorities', schema=None) as batch_op:
        batch_op.add_column(sa.Column('next_response_minutes', sa.Integer(), nullable=True))

    # Plain ALTER TABLE on `tickets`, not batch_alter_table: on SQLite a batch rebuild would drop
    # the full-text triggers of migration 0005. Both databases add a column in place.
    def alter():
        for name in _TICKET_MOMENTS:
            op.add_column('tickets', sa.Column(name, UTCDateTime(), nullable=True))
        op.add_column('tickets', sa.Column('next_response_cycle', sa.Integer(), nullable=False, server_default='0'))
        op.create_index('ix_tickets_risk_next', 'tickets', ['org_id', 'state', 'next_response_at', 'next_response_warn_at'])
    _fulltext_kept(alter)


def downgrade():
    def alter():
        op.drop_index('ix_tickets_risk_next', table_name='tickets')
        for name in (*_TICKET_MOMENTS, 'next_response_cycle'):
            op.drop_column('tickets', name)  # SQLite >= 3.35 drops a column in place too
    _fulltext_kept(alter)
    with op.batch_alter_table('priorities', schema=None) as batch_op:
        batch_op.drop_column('next_response_minutes')
