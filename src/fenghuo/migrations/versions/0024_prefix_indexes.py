"""issue 19 (fleet scale, session 26): drop fourteen single-column indexes that a composite or unique index covers

Each of these indexes holds one column that a later composite index (0015–0020, the keyset
listings) or a UNIQUE constraint's index holds first, so every lookup by that column can use
that one, while every
insert and state change paid for both — ingest-driven writes (warnings, notifications,
incidents, complaints, instances) on a fleet of 100,000 services. The models no longer declare
them. Written to run again harmlessly (IF EXISTS / IF NOT EXISTS), as 0023.

Revision ID: 0024_prefix_indexes
Revises: 0023_services_index
"""

from alembic import op
import sqlalchemy as sa  # noqa: F401


revision = '0024_prefix_indexes'
down_revision = '0023_services_index'
branch_labels = None
depends_on = None

# (index, table, column): each is the first column of a composite index on the same table
DROPPED = (
    ('ix_alert_notifications_status', 'alert_notifications', 'status'),
    ('ix_alert_warnings_service_id', 'alert_warnings', 'service_id'),
    ('ix_alert_warnings_state', 'alert_warnings', 'state'),
    ('ix_guard_instances_service_id', 'guard_instances', 'service_id'),
    ('ix_response_complaints_service_id', 'response_complaints', 'service_id'),
    ('ix_response_complaints_status', 'response_complaints', 'status'),
    ('ix_response_incidents_service_id', 'response_incidents', 'service_id'),
    ('ix_response_incidents_status', 'response_incidents', 'status'),
    # and six that a UNIQUE constraint's own index (on both backends) starts with
    ('ix_approvals_command_id', 'approvals', 'command_id'),
    ('ix_response_action_approvals_action_id', 'response_action_approvals', 'action_id'),
    ('ix_response_clocks_incident_id', 'response_clocks', 'incident_id'),
    ('ix_response_incident_links_incident_id', 'response_incident_links', 'incident_id'),
    ('ix_response_reports_incident_id', 'response_reports', 'incident_id'),
    ('ix_response_duties_incident_id', 'response_duties', 'incident_id'),
)


def upgrade() -> None:
    for name, table, _ in DROPPED:
        op.drop_index(name, table_name=table, if_exists=True)


def downgrade() -> None:
    for name, table, column in DROPPED:
        op.create_index(name, table, [column], unique=False, if_not_exists=True)
