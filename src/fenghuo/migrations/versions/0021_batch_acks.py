"""issue 19 (fleet scale, session 6): batched guard acknowledgements, if they keep state

Reserved in the chain so that work on several issues at once adds its schema changes without
branching the history; an empty upgrade is a valid step.

Revision ID: 0021_batch_acks
Revises: 0020_listing_paths
"""

from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


revision = '0021_batch_acks'
down_revision = '0020_listing_paths'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
