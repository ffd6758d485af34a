"""notification list index: a user's notifications newest first, read or not

The bell's unread count has ix_notifications_user_unread; the notifications page lists all of
a user's notifications by id, which that index (read_at in the middle) cannot order.

Revision ID: 0004_notification_list_index
Revises: 0003_dashboard_indexes
Create Date: 2026-11-23 12:25:00

"""
from alembic import op

revision = '0004_notification_list_index'
down_revision = '0003_dashboard_indexes'
branch_labels = None
depends_on = None


def upgrade():
    with op.batch_alter_table('notifications') as batch_op:
        batch_op.create_index('ix_notifications_user', ['user_id', 'id'], unique=False)


def downgrade():
    with op.batch_alter_table('notifications') as batch_op:
        batch_op.drop_index('ix_notifications_user')
