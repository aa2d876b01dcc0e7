"""issue 19 (fleet scale, session 25): drop services' index on jurisdiction_id alone

``ix_services_jurisdiction_id`` (0001) indexes what ``ix_services_jurisdiction_id_id`` (0020)
indexes first: every lookup by jurisdiction can use the pair, and each inserted service paid for
both (bulk registration, ≥ 1,000 services a second at 100,000). The model no longer declares it.
Written to run again harmlessly (IF EXISTS / IF NOT EXISTS): a database whose revision is set
back past this step, or whose index an operator already dropped, migrates without an error.

Revision ID: 0023_services_index
Revises: 0022_spare
"""

from alembic import op
import sqlalchemy as sa  # noqa: F401


revision = '0023_services_index'
down_revision = '0022_spare'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.drop_index('ix_services_jurisdiction_id', table_name='services', if_exists=True)


def downgrade() -> None:
    op.create_index('ix_services_jurisdiction_id', 'services', ['jurisdiction_id'], unique=False, if_not_exists=True)
