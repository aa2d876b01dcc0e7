"""issue 14 (hardening): token expiry and revocation, silence scopes, incident registry snapshots

Reserved in the chain so that work on several issues at once adds its schema changes without
branching the history; an empty upgrade is a valid step.

Revision ID: 0009_hardening
Revises: 0008_alerts_iso_times
"""

from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


revision = '0009_hardening'
down_revision = '0008_alerts_iso_times'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
