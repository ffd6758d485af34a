"""settings token: a random value renewed whenever an organization's SLA settings change

services/sla.py caches each organization's business calendar, warning percent and escalation
delays in the process, keyed by (organization, token): creating a ticket read them with six
queries, which under gunicorn's threads halved the tickets created per second. The token is
renewed in the same transaction as the change (models/settings_events.py).

Revision ID: 0008_settings_token
Revises: 0007_throttles
Create Date: 2026-11-23 15:15:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0008_settings_token'
down_revision = '0007_throttles'
branch_labels = None
depends_on = None


def upgrade():
    op.add_column('organizations', sa.Column('settings_token', sa.String(length=16), nullable=False,
                                             server_default='0'))
    random = ("lower(hex(randomblob(8)))" if op.get_bind().dialect.name == "sqlite"
              else "substr(md5(concat(rand(), id)), 1, 16)")
    op.execute(f"UPDATE organizations SET settings_token = {random}")


def downgrade():
    with op.batch_alter_table('organizations') as batch_op:
        batch_op.drop_column('settings_token')
