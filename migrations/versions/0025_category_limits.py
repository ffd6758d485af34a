"""category limits: the top-level categories a role, or a department's people, may raise
tickets in

Revision ID: 0025_category_limits
Revises: 0024_two_factor
Create Date: 2026-11-27 13:30:00

"""
import sqlalchemy as sa
from alembic import op

revision = '0025_category_limits'
down_revision = '0024_two_factor'
branch_labels = None
depends_on = None


def upgrade():
    op.create_table(
        'role_categories',
        sa.Column('role_id', sa.Integer(), nullable=False),
        sa.Column('category_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['role_id'], ['roles.id'], name=op.f('fk_role_categories_role_id_roles'),
                                ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['category_id'], ['categories.id'],
                                name=op.f('fk_role_categories_category_id_categories'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('role_id', 'category_id', name=op.f('pk_role_categories')),
    )
    op.create_table(
        'department_categories',
        sa.Column('department_id', sa.Integer(), nullable=False),
        sa.Column('category_id', sa.Integer(), nullable=False),
        sa.ForeignKeyConstraint(['department_id'], ['departments.id'],
                                name=op.f('fk_department_categories_department_id_departments'), ondelete='CASCADE'),
        sa.ForeignKeyConstraint(['category_id'], ['categories.id'],
                                name=op.f('fk_department_categories_category_id_categories'), ondelete='CASCADE'),
        sa.PrimaryKeyConstraint('department_id', 'category_id', name=op.f('pk_department_categories')),
    )


def downgrade():
    op.drop_table('department_categories')
    op.drop_table('role_categories')
