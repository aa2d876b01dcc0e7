"""issue 19 (fleet scale, session 6): jurisdiction paths on listed rows, if the listings need them

Reserved in the chain so that work on several issues at once adds its schema changes without
branching the history; an empty upgrade is a valid step.

Revision ID: 0020_listing_paths
Revises: 0019_monitor_columns
"""

from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


revision = '0020_listing_paths'
down_revision = '0019_monitor_columns'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
