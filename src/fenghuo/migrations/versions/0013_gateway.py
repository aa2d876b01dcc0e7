"""issue 15 (gateway and CLI edges): per-service public messages and related settings

Reserved in the chain so that work on several issues at once adds its schema changes without
branching the history; an empty upgrade is a valid step.

Revision ID: 0013_gateway
Revises: 0012_corpus
"""

from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


revision = '0013_gateway'
down_revision = '0012_corpus'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
