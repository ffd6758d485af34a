"""outbox secrets: one-time links kept encrypted beside a redacted body, and the links already
stored in plain text redacted

Revision ID: 0028_outbox_secrets
Revises: 0027_mail_sender_trust
Create Date: 2026-11-28 10:30:00

"""
import re

import sqlalchemy as sa
from alembic import op

revision = '0028_outbox_secrets'
down_revision = '0027_mail_sender_trust'
branch_labels = None
depends_on = None

_LINK = re.compile(r"(https?://\S+?/reset/)[A-Za-z0-9_\-]+")
_PLACEHOLDER = r"\1[link removed]"


def upgrade():
    with op.batch_alter_table('outbox_emails') as batch_op:
        batch_op.add_column(sa.Column('secret_encrypted', sa.Text(), nullable=True))
    # Reset and invitation mails written before this revision carry a live link in plain text:
    # whoever reads the table (or the console's outbox) could use it. Those still pending lose
    # their link (the person asks again); none is usable from the table any more.
    outbox = sa.table('outbox_emails', sa.column('id', sa.Integer), sa.column('dedupe_key', sa.String),
                      sa.column('body_text', sa.Text))
    connection = op.get_bind()
    rows = connection.execute(sa.select(outbox.c.id, outbox.c.body_text)
                              .where(outbox.c.dedupe_key.like('password:%'))).all()
    for row_id, body in rows:
        if body and _LINK.search(body):
            connection.execute(outbox.update().where(outbox.c.id == row_id)
                               .values(body_text=_LINK.sub(_PLACEHOLDER, body)))


def downgrade():
    with op.batch_alter_table('outbox_emails') as batch_op:
        batch_op.drop_column('secret_encrypted')
