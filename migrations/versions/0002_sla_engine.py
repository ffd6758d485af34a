"""sla engine: warning points, next check, sla events, ticket version, long texts, templated outbox

The sweep reads one index (sla_next_check_at) instead of scanning every running clock;
sla_events holds each warning, breach and escalation level once (unique ticket + key).
tickets.version is the optimistic lock against lost concurrent updates. On MariaDB, long
user texts become MEDIUMTEXT (TEXT holds 64 KiB: too little for 20,000 emoji).

Revision ID: 0002_sla_engine
Revises: 0001_initial
Create Date: 2026-11-23 09:46:50.069018

"""
from alembic import op
import sqlalchemy as sa
from sqlalchemy.dialects import mysql

import autotrack.models.types

# revision identifiers, used by Alembic.
revision = '0002_sla_engine'
down_revision = '0001_initial'
branch_labels = None
depends_on = None

# table, column, nullable after this revision
LONG_TEXTS = [('comments', 'body', False), ('outbox_emails', 'body_text', True),
              ('outbox_emails', 'body_html', True), ('tickets', 'description', False)]


def _is_mysql():
    return op.get_bind().dialect.name in ('mysql', 'mariadb')


def upgrade():
    op.create_table('sla_events',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('ticket_id', sa.Integer(), nullable=False),
    sa.Column('key', sa.String(length=40), nullable=False),
    sa.Column('kind', sa.String(length=16), nullable=False),
    sa.Column('clock', sa.String(length=16), nullable=False),
    sa.Column('level', sa.Integer(), nullable=False),
    sa.Column('due_at', autotrack.models.types.UTCDateTime(), nullable=False),
    sa.Column('fired_at', autotrack.models.types.UTCDateTime(), nullable=False),
    sa.Column('sweep_id', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_sla_events_org_id_organizations')),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_sla_events_ticket_id_tickets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_sla_events')),
    sa.UniqueConstraint('ticket_id', 'key', name=op.f('uq_sla_events_ticket_id_key')),
    mysql_charset='utf8mb4', mysql_collate='utf8mb4_unicode_ci',
    )
    with op.batch_alter_table('sla_events', schema=None) as batch_op:
        batch_op.create_index('ix_sla_events_org_time', ['org_id', 'fired_at'], unique=False)

    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.add_column(sa.Column('first_response_warn_at', autotrack.models.types.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('resolution_warn_at', autotrack.models.types.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('sla_next_check_at', autotrack.models.types.UTCDateTime(), nullable=True))
        batch_op.add_column(sa.Column('version', sa.Integer(), server_default='1', nullable=False))
        batch_op.drop_index(batch_op.f('ix_tickets_sweep_first_response'))
        batch_op.drop_index(batch_op.f('ix_tickets_sweep_resolution'))
        batch_op.create_index('ix_tickets_sla_next_check', ['sla_next_check_at'], unique=False)

    # Outbox rows may carry a template and its context instead of rendered bodies.
    with op.batch_alter_table('outbox_emails', schema=None) as batch_op:
        batch_op.add_column(sa.Column('template', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('context', sa.Text().with_variant(mysql.MEDIUMTEXT(), 'mysql', 'mariadb'),
                                      nullable=True))
        if not _is_mysql():
            batch_op.alter_column('body_text', existing_type=sa.Text(), nullable=True)

    if _is_mysql():  # SQLite's TEXT has no such limit
        for table, column, nullable in LONG_TEXTS:
            op.alter_column(table, column, existing_type=mysql.TEXT(), type_=mysql.MEDIUMTEXT(),
                            nullable=nullable)


def downgrade():
    if _is_mysql():
        for table, column, _nullable in LONG_TEXTS:
            op.alter_column(table, column, existing_type=mysql.MEDIUMTEXT(), type_=mysql.TEXT(),
                            nullable=column == 'body_html')
    with op.batch_alter_table('outbox_emails', schema=None) as batch_op:
        if not _is_mysql():
            batch_op.alter_column('body_text', existing_type=sa.Text(), nullable=False)
        batch_op.drop_column('context')
        batch_op.drop_column('template')

    with op.batch_alter_table('tickets', schema=None) as batch_op:
        batch_op.drop_index('ix_tickets_sla_next_check')
        batch_op.create_index(batch_op.f('ix_tickets_sweep_resolution'), ['state', 'resolution_due_at'], unique=False)
        batch_op.create_index(batch_op.f('ix_tickets_sweep_first_response'), ['state', 'first_response_due_at'], unique=False)
        batch_op.drop_column('version')
        batch_op.drop_column('sla_next_check_at')
        batch_op.drop_column('resolution_warn_at')
        batch_op.drop_column('first_response_warn_at')

    op.drop_table('sla_events')  # its indexes go with it (MariaDB refuses to drop one an FK uses)
