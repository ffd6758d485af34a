"""saved views: a queue's filters under a name, an agent's own or shared with a department

Revision ID: 0018_saved_views
Revises: 0017_merge_and_link
Create Date: 2026-11-23 20:05:00

"""
import sqlalchemy as sa
from alembic import op

from autotrack.models.types import UTCDateTime

revision = '0018_saved_views'
down_revision = '0017_merge_and_link'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'saved_views',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('org_id', sa.Integer(), nullable=False),
        sa.Column('owner_id', sa.Integer(), nullable=False),
        sa.Column('department_id', sa.Integer(), nullable=True),
        sa.Column('name', sa.String(length=80), nullable=False),
        sa.Column('query', sa.String(length=1000), nullable=False),
        sa.Column('created_at', UTCDateTime(), nullable=False),
        sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_saved_views_org_id_organizations')),
        sa.ForeignKeyConstraint(['owner_id'], ['users.id'], name=op.f('fk_saved_views_owner_id_users')),
        sa.ForeignKeyConstraint(['department_id'], ['departments.id'], name=op.f('fk_saved_views_department_id_departments')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_saved_views')),
    )
    op.create_index('ix_saved_views_org_owner', 'saved_views', ['org_id', 'owner_id'])
    op.create_index('ix_saved_views_org_department', 'saved_views', ['org_id', 'department_id'])


def downgrade():
    op.drop_table('saved_views')
