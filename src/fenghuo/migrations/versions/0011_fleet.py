"""issue 19 (fleet scale): indexes and columns for listing and ingest at 100,000 services

Reserved in the chain so that work on several issues at once adds its schema changes without
branching the history; an empty upgrade is a valid step.

Revision ID: 0011_fleet
Revises: 0010_compliance
"""

from alembic import op
import sqlalchemy as sa


revision = '0011_fleet'
down_revision = '0010_compliance'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # services.sector: attributes["sector"] as a column, filled from the attribute for existing rows
    with op.batch_alter_table('services', schema=None) as batch_op:
        batch_op.add_column(sa.Column('sector', sa.String(length=32), nullable=True))
    bind = op.get_bind()
    if bind.dialect.name == 'sqlite':
        op.execute("UPDATE services SET sector = json_extract(attributes, '$.sector')")
    else:
        op.execute("UPDATE services SET sector = attributes::json ->> 'sector'")
    # keyset pages: WHERE <filter> AND id > :after ORDER BY id LIMIT n
    op.create_index('ix_services_sector_id', 'services', ['sector', 'id'])
    op.create_index('ix_services_grade_id', 'services', ['grade', 'id'])
    op.create_index('ix_switch_states_state', 'switch_states', ['state'])


def downgrade() -> None:
    op.drop_index('ix_switch_states_state', table_name='switch_states')
    op.drop_index('ix_services_grade_id', table_name='services')
    op.drop_index('ix_services_sector_id', table_name='services')
    with op.batch_alter_table('services', schema=None) as batch_op:
        batch_op.drop_column('sector')
