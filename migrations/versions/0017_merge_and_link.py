"""merge and link: a duplicate points at the ticket it was merged into; tickets link as related or parent/child

Revision ID: 0017_merge_and_link
Revises: 0016_canned_replies
Create Date: 2026-11-23 19:30:00

"""
import sqlalchemy as sa
from alembic import op

from autotrack.models.types import UTCDateTime

revision = '0017_merge_and_link'
down_revision = '0016_canned_replies'
branch_labels = None
depends_on = None


def _fulltext_kept(alter):
    """MariaDB may rebuild `tickets` (and the FULLTEXT index of 0005, which keeps the stopword
    setting in force when built): keep stopwords off, as 0005 did. See 0011."""
    mariadb = op.get_bind().dialect.name in ("mysql", "mariadb")
    if mariadb:
        op.execute("SET SESSION innodb_ft_enable_stopword = OFF")
    alter()
    if mariadb:
        op.execute("SET SESSION innodb_ft_enable_stopword = ON")


def upgrade():
    # In place, and without a foreign key (see the model): no batch rebuild of tickets on SQLite.
    _fulltext_kept(lambda: op.add_column('tickets', sa.Column('merged_into_id', sa.Integer(), nullable=True)))
    op.create_table(
        'ticket_links',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('org_id', sa.Integer(), nullable=False),
        sa.Column('from_ticket_id', sa.Integer(), nullable=False),
        sa.Column('to_ticket_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=16), nullable=False),
        sa.Column('created_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_ticket_links_org_id_organizations')),
        sa.ForeignKeyConstraint(['from_ticket_id'], ['tickets.id'], name=op.f('fk_ticket_links_from_ticket_id_tickets')),
        sa.ForeignKeyConstraint(['to_ticket_id'], ['tickets.id'], name=op.f('fk_ticket_links_to_ticket_id_tickets')),
        sa.ForeignKeyConstraint(['created_by_id'], ['users.id'], name=op.f('fk_ticket_links_created_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_ticket_links')),
        sa.UniqueConstraint('from_ticket_id', 'to_ticket_id', name=op.f('uq_ticket_links_from_ticket_id_to_ticket_id')),
    )
    op.create_index('ix_ticket_links_to', 'ticket_links', ['to_ticket_id'])


def downgrade():
    op.drop_table('ticket_links')

    _fulltext_kept(lambda: op.drop_column('tickets', 'merged_into_id'))
