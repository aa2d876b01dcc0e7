"""issue 19 (fleet scale, session 6): listed rows carry their service's jurisdiction

A regulator's page of warnings, incidents, complaint tickets, guard instances or pending
commands filtered each row through a join on ``services`` (52–245 ms for a province at 100,000
services). Each of those rows now holds its service's ``jurisdiction_id`` with an index in the
listing's order after it, so the page is index ranges over the regulator's subtree only
(``fenghuo.control.row_scope``); ``services`` gains ``(jurisdiction_id, id)`` for the services
and states pages. Existing rows are filled from their service (a row whose service is not
registered stays NULL: no regulator sees it, as the join did not).

Revision ID: 0020_listing_paths
Revises: 0019_monitor_columns
"""

from alembic import op
import sqlalchemy as sa


revision = '0020_listing_paths'
down_revision = '0019_monitor_columns'
branch_labels = None
depends_on = None

CARRIERS = ['alert_warnings', 'response_incidents', 'response_complaints', 'guard_instances', 'commands']
INDEXES = [
    ('ix_alert_warnings_jurisdiction_started', 'alert_warnings', ['jurisdiction_id', 'started_at', 'id']),
    ('ix_response_incidents_jurisdiction_opened', 'response_incidents', ['jurisdiction_id', 'opened_at', 'id']),
    ('ix_response_complaints_jurisdiction_received', 'response_complaints', ['jurisdiction_id', 'received_at', 'id']),
    ('ix_guard_instances_jurisdiction_id_id', 'guard_instances', ['jurisdiction_id', 'id']),
    ('ix_commands_status_jurisdiction_created', 'commands', ['status', 'jurisdiction_id', 'created_at', 'id']),
    ('ix_services_jurisdiction_id_id', 'services', ['jurisdiction_id', 'id']),
]


def upgrade() -> None:
    for table in CARRIERS:
        op.add_column(table, sa.Column('jurisdiction_id', sa.String(64), nullable=True))
        # one statement per table, correlated on the services primary key (SQLite and PostgreSQL)
        op.execute(f'UPDATE {table} SET jurisdiction_id = '
                   f'(SELECT services.jurisdiction_id FROM services WHERE services.id = {table}.service_id)')
    for name, table, columns in INDEXES:
        op.create_index(name, table, columns)


def downgrade() -> None:
    for name, table, _ in reversed(INDEXES):
        op.drop_index(name, table_name=table)
    for table in reversed(CARRIERS):
        with op.batch_alter_table(table) as batch:
            batch.drop_column('jurisdiction_id')
