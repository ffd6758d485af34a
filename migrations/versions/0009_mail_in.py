"""mail in: mailboxes, every received message (unique per organization), answerable outgoing mail

Revision ID: 0009_mail_in
Revises: 0008_settings_token
Create Date: 2026-11-23 16:10:57

"""
import sqlalchemy as sa
from alembic import op
from sqlalchemy.dialects import mysql

import autotrack.models.types

revision = '0009_mail_in'
down_revision = '0008_settings_token'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table('mailboxes',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('name', sa.String(length=80), nullable=False),
    sa.Column('address', sa.String(length=254), nullable=False),
    sa.Column('department_id', sa.Integer(), nullable=False),
    sa.Column('imap_host', sa.String(length=255), nullable=True),
    sa.Column('imap_port', sa.Integer(), nullable=False),
    sa.Column('security', sa.String(length=16), nullable=False),
    sa.Column('username', sa.String(length=254), nullable=True),
    sa.Column('password_encrypted', sa.Text(), nullable=True),
    sa.Column('folder', sa.String(length=255), nullable=False),
    sa.Column('after_import', sa.String(length=8), nullable=False),
    sa.Column('move_folder', sa.String(length=255), nullable=True),
    sa.Column('active', sa.Boolean(), nullable=False),
    sa.Column('last_fetch_at', autotrack.models.types.UTCDateTime(), nullable=True),
    sa.Column('last_error', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['department_id'], ['departments.id'], name=op.f('fk_mailboxes_department_id_departments')),
    sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_mailboxes_org_id_organizations')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_mailboxes')),
    sa.UniqueConstraint('org_id', 'name', name=op.f('uq_mailboxes_org_id_name'))
    )
    with op.batch_alter_table('mailboxes', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_mailboxes_org_id'), ['org_id'], unique=False)

    op.create_table('inbound_messages',
    sa.Column('id', sa.Integer(), nullable=False),
    sa.Column('org_id', sa.Integer(), nullable=False),
    sa.Column('mailbox_id', sa.Integer(), nullable=True),
    sa.Column('message_key', sa.String(length=64), nullable=False),
    sa.Column('message_id', sa.String(length=255), nullable=True),
    sa.Column('sender', sa.String(length=254), nullable=True),
    sa.Column('subject', sa.String(length=255), nullable=True),
    sa.Column('raw', sa.LargeBinary().with_variant(mysql.LONGBLOB(), 'mariadb').with_variant(mysql.LONGBLOB(), 'mysql'), nullable=False),
    sa.Column('status', sa.String(length=16), nullable=False),
    sa.Column('error', sa.Text(), nullable=True),
    sa.Column('ticket_id', sa.Integer(), nullable=True),
    sa.Column('comment_id', sa.Integer(), nullable=True),
    sa.Column('received_at', autotrack.models.types.UTCDateTime(), nullable=False),
    sa.Column('processed_at', autotrack.models.types.UTCDateTime(), nullable=True),
    sa.Column('attempts', sa.Integer(), nullable=False),
    sa.ForeignKeyConstraint(['comment_id'], ['comments.id'], name=op.f('fk_inbound_messages_comment_id_comments')),
    sa.ForeignKeyConstraint(['mailbox_id'], ['mailboxes.id'], name=op.f('fk_inbound_messages_mailbox_id_mailboxes')),
    sa.ForeignKeyConstraint(['org_id'], ['organizations.id'], name=op.f('fk_inbound_messages_org_id_organizations')),
    sa.ForeignKeyConstraint(['ticket_id'], ['tickets.id'], name=op.f('fk_inbound_messages_ticket_id_tickets')),
    sa.PrimaryKeyConstraint('id', name=op.f('pk_inbound_messages')),
    sa.UniqueConstraint('org_id', 'message_key', name=op.f('uq_inbound_messages_org_id_message_key'))
    )
    with op.batch_alter_table('inbound_messages', schema=None) as batch_op:
        batch_op.create_index('ix_inbound_messages_message_id', ['org_id', 'message_id'], unique=False)
        batch_op.create_index('ix_inbound_messages_org', ['org_id', 'id'], unique=False)
        batch_op.create_index('ix_inbound_messages_status', ['status', 'id'], unique=False)
        batch_op.create_index(batch_op.f('ix_inbound_messages_ticket_id'), ['ticket_id'], unique=False)

    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.add_column(sa.Column('email_text', sa.Text().with_variant(mysql.MEDIUMTEXT(), 'mysql', 'mariadb'), nullable=True))

    with op.batch_alter_table('outbox_emails', schema=None) as batch_op:
        batch_op.add_column(sa.Column('ticket_id', sa.Integer(), nullable=True))
        batch_op.add_column(sa.Column('message_id', sa.String(length=255), nullable=True))
        batch_op.create_index('ix_outbox_emails_message_id', ['org_id', 'message_id'], unique=False)
        batch_op.create_foreign_key(batch_op.f('fk_outbox_emails_ticket_id_tickets'), 'tickets', ['ticket_id'], ['id'])



def downgrade():
    with op.batch_alter_table('outbox_emails', schema=None) as batch_op:
        batch_op.drop_constraint(batch_op.f('fk_outbox_emails_ticket_id_tickets'), type_='foreignkey')
        batch_op.drop_index('ix_outbox_emails_message_id')
        batch_op.drop_column('message_id')
        batch_op.drop_column('ticket_id')

    with op.batch_alter_table('comments', schema=None) as batch_op:
        batch_op.drop_column('email_text')

    op.drop_table('inbound_messages')  # its indexes go with it (MariaDB refuses to drop one a foreign key needs)
    op.drop_table('mailboxes')
