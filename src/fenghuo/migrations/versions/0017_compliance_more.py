"""issue 18 (compliance, session 5): model-version routing, label-waiver log

Reserved in the chain so that work on several issues at once adds its schema changes without
branching the history; an empty upgrade is a valid step.

Revision ID: 0017_compliance_more
Revises: 0016_telemetry_summaries
"""

from alembic import op  # noqa: F401
import sqlalchemy as sa  # noqa: F401


revision = '0017_compliance_more'
down_revision = '0016_telemetry_summaries'
branch_labels = None
depends_on = None


def upgrade() -> None:
    pass


def downgrade() -> None:
    pass
