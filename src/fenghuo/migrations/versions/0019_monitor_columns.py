"""issue 19 (fleet scale, session 5): column-wise indicator windows, if they keep state

Reserved in the chain so that work on several issues at once adds its schema changes without
branching the history; an empty upgrade is a valid step.

Revision ID: 0019_monitor_columns
Revises: 0018_fleet_lists
"""

from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


revision = '0019_monitor_columns'
down_revision = '0018_fleet_lists'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
