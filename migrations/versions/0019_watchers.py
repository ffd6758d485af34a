"""watchers and notification preferences: staff follow a ticket, a requester copies colleagues;
each user chooses per topic whether notices come by email and in the app

Revision ID: 0019_watchers
Revises: 0018_saved_views
Create Date: 2026-11-27 11:00:00

"""
import sqlalchemy as sa
from alembic import op

from autotrack.models.types import UTCDateTime

revision = '0019_watchers'
down_revision = '0018_saved_views'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'ticket_watchers',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('org_id', sa.Integer(), nullable=False),
        sa.Column('ticket_id', sa.Integer(), nullable=False),
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('kind', sa.String(length=8), nullable=False),
        sa.Column('added_by_id', sa.Integer(), nullable=True),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_ticket_watchers_org_id_organizations')),
        sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_ticket_watchers_ticket_id_tickets')),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_ticket_watchers_user_id_users')),
        sa.ForeignKeyConstraint(['added_by_id'], ['users.id'], name=op.f('fk_ticket_watchers_added_by_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_ticket_watchers')),
        sa.UniqueConstraint('ticket_id', 'user_id', name=op.f('uq_ticket_watchers_ticket_id_user_id')),
    )
    op.create_index('ix_ticket_watchers_user', 'ticket_watchers', ['user_id', 'kind', 'ticket_id'])
    op.create_index(op.f('ix_ticket_watchers_org_id'), 'ticket_watchers', ['org_id'])
    op.create_table(
        'notification_preferences',
        sa.Column('user_id', sa.Integer(), nullable=False),
        sa.Column('topic', sa.String(length=20), nullable=False),
        sa.Column('email', sa.Boolean(), nullable=False),
        sa.Column('in_app', sa.Boolean(), nullable=False),
        sa.ForeignKeyConstraint(['user_id'], ['users.id'], name=op.f('fk_notification_preferences_user_id_users')),
        sa.PrimaryKeyConstraint('user_id', 'topic', name=op.f('pk_notification_preferences')),
    )


def downgrade():
    op.drop_table('notification_preferences')
    op.drop_table('ticket_watchers')
