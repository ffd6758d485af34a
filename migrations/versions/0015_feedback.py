"""feedback: the requester's rating of a resolution, and what a low rating does

Revision ID: 0015_feedback
Revises: 0014_sla_recomputes
Create Date: 2026-11-23 19:10:00

"""
import sqlalchemy as sa
from alembic import op

from autotrack.models.types import UTCDateTime

revision = '0015_feedback'
down_revision = '0014_sla_recomputes'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'feedback',
        sa.Column('id', sa.Integer(), nullable=False),
        sa.Column('org_id', sa.Integer(), nullable=False),
        sa.Column('ticket_id', sa.Integer(), nullable=False),
        sa.Column('requester_id', sa.Integer(), nullable=False),
        sa.Column('department_id', sa.Integer(), nullable=True),
        sa.Column('agent_id', sa.Integer(), nullable=True),
        sa.Column('token_hash', sa.String(length=64), nullable=False),
        sa.Column('asked_at', UTCDateTime(), nullable=False),
        sa.Column('rated_at', UTCDateTime(), nullable=True),
        sa.Column('rating', sa.Integer(), nullable=True),
        sa.Column('comment', sa.Text(), nullable=True),
        sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_feedback_org_id_organizations')),
        sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_feedback_ticket_id_tickets')),
        sa.ForeignKeyConstraint(['requester_id'], ['users.id'], name=op.f('fk_feedback_requester_id_users')),
        sa.ForeignKeyConstraint(['department_id'], ['departments.id'], name=op.f('fk_feedback_department_id_departments')),
        sa.ForeignKeyConstraint(['agent_id'], ['users.id'], name=op.f('fk_feedback_agent_id_users')),
        sa.PrimaryKeyConstraint('id', name=op.f('pk_feedback')),
        sa.UniqueConstraint('token_hash', name=op.f('uq_feedback_token_hash')),
    )
    op.create_index('ix_feedback_ticket', 'feedback', ['ticket_id', 'id'])
    op.create_index('ix_feedback_report', 'feedback', ['org_id', 'rated_at'])
    op.add_column('organizations', sa.Column('low_rating_action', sa.String(length=16), nullable=False,
                                             server_default='notify_manager'))


def downgrade():
    with op.batch_alter_table('organizations', schema=None) as batch_op:
        batch_op.drop_column('low_rating_action')
    op.drop_table('feedback')
