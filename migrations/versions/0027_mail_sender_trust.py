"""mail sender trust: the mailbox's trusted authserv-ids, and who released a held message

Revision ID: 0027_mail_sender_trust
Revises: 0026_heartbeats
Create Date: 2026-11-28 10:00:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0027_mail_sender_trust'
down_revision = '0026_heartbeats'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('mailboxes') as batch_op:
        batch_op.add_column(sa.Column('trusted_authserv_ids', sa.String(length=255), nullable=True))
    with op.batch_alter_table('inbound_messages') as batch_op:
        batch_op.add_column(sa.Column('released_by_id', sa.Integer(), nullable=True))
        batch_op.create_foreign_key(op.f('fk_inbound_messages_released_by_id_users'), 'users',
                                    ['released_by_id'], ['id'])


def downgrade():
    with op.batch_alter_table('inbound_messages') as batch_op:
        batch_op.drop_constraint(op.f('fk_inbound_messages_released_by_id_users'), type_='foreignkey')
        batch_op.drop_column('released_by_id')
    with op.batch_alter_table('mailboxes') as batch_op:
        batch_op.drop_column('trusted_authserv_ids')
