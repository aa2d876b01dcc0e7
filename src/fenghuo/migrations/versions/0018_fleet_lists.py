"""issue 19 (fleet scale, session 5): indexes for paginated lists

Every listing is a keyset page: ``WHERE <filter> AND (sort, id) past the cursor ORDER BY sort,
id LIMIT n`` (``fenghuo.platform.pages``). Each index below serves one listing's order, alone
or after its most common equality filter, so a page of 100 reads about 100 index entries
whatever the table's size. The models declare the same indexes (``__table_args__``).

Revision ID: 0018_fleet_lists
Revises: 0017_compliance_more
"""

from alembic import op
import sqlalchemy as sa  # noqa: F401


revision = '0018_fleet_lists'
down_revision = '0017_compliance_more'
branch_labels = None
depends_on = None

INDEXES = [
    # warnings, newest first; by service; by state (open = pending + firing)
    ('ix_alert_warnings_started_id', 'alert_warnings', ['started_at', 'id']),
    ('ix_alert_warnings_service_started', 'alert_warnings', ['service_id', 'started_at', 'id']),
    ('ix_alert_warnings_state_started', 'alert_warnings', ['state', 'started_at', 'id']),
    ('ix_alert_silences_created_id', 'alert_silences', ['created_at', 'id']),
    # the delivery log, newest first; by status
    ('ix_alert_notifications_created_id', 'alert_notifications', ['created_at', 'id']),
    ('ix_alert_notifications_status_created', 'alert_notifications', ['status', 'created_at', 'id']),
    # incidents, newest first; by service; by status
    ('ix_response_incidents_opened_id', 'response_incidents', ['opened_at', 'id']),
    ('ix_response_incidents_service_opened', 'response_incidents', ['service_id', 'opened_at', 'id']),
    ('ix_response_incidents_status_opened', 'response_incidents', ['status', 'opened_at', 'id']),
    # complaint tickets, newest first; by service; by status
    ('ix_response_complaints_received_id', 'response_complaints', ['received_at', 'id']),
    ('ix_response_complaints_service_received', 'response_complaints', ['service_id', 'received_at', 'id']),
    ('ix_response_complaints_status_received', 'response_complaints', ['status', 'received_at', 'id']),
    # plan steps, oldest first
    ('ix_response_actions_created_id', 'response_actions', ['created_at', 'id']),
    # tokens, oldest first
    ('ix_tokens_created_hash', 'tokens', ['created_at', 'token_hash']),
    # commands awaiting approval, oldest first
    ('ix_commands_status_created', 'commands', ['status', 'created_at', 'id']),
    # guard instances of one service, in id order
    ('ix_guard_instances_service_id_id', 'guard_instances', ['service_id', 'id']),
]


def upgrade() -> None:
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
