"""issue 18 (compliance): operator designation, complaints, filing numbers, model versions, per-user measures

Reserved in the chain so that work on several issues at once adds its schema changes without
branching the history; an empty upgrade is a valid step.

Revision ID: 0010_compliance
Revises: 0009_hardening
"""

from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


revision = '0010_compliance'
down_revision = '0009_hardening'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
