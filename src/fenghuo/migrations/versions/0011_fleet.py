"""issue 19 (fleet scale): indexes and columns for listing and ingest at 100,000 services

Reserved in the chain so that work on several issues at once adds its schema changes without
branching the history; an empty upgrade is a valid step.

Revision ID: 0011_fleet
Revises: 0010_compliance
"""

from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


revision = '0011_fleet'
down_revision = '0010_compliance'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
