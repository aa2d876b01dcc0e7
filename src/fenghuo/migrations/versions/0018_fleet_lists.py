"""issue 19 (fleet scale, session 5): indexes for paginated lists

Reserved in the chain so that work on several issues at once adds its schema changes without
branching the history; an empty upgrade is a valid step.

Revision ID: 0018_fleet_lists
Revises: 0017_compliance_more
"""

from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


revision = '0018_fleet_lists'
down_revision = '0017_compliance_more'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
