"""issue 18 (compliance): operator designation, incident duties, complaints, filing numbers, model versions, per-user measures

Revision ID: 0010_compliance
Revises: 0009_hardening
"""

from alembic import op
import sqlalchemy as sa


revision = '0010_compliance'
down_revision = '0009_hardening'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Existing providers are ordinary operators (4-hour CN profile) until they say otherwise.
    with op.batch_alter_table('providers', schema=None) as batch_op:
        batch_op.add_column(sa.Column('operator_type', sa.String(length=16), nullable=False, server_default='other'))
        batch_op.add_column(sa.Column('complaint_limit', sa.String(length=16), nullable=True))
        batch_op.add_column(sa.Column('filing_number', sa.String(length=100), nullable=True))
    op.create_table(
        'response_complaints',
        sa.Column('id', sa.String(length=40), nullable=False),
        sa.Column('service_id', sa.String(length=64), nullable=False),
        sa.Column('provider_id', sa.String(length=64), nullable=False),
        sa.Column('category', sa.String(length=24), nullable=False),
        sa.Column('channel', sa.String(length=16), nullable=False),
        sa.Column('content', sa.Text(), nullable=False),
        sa.Column('contact', sa.Text(), nullable=True),
        sa.Column('received_at', sa.String(length=32), nullable=False),
        sa.Column('due_at', sa.String(length=32), nullable=True),
        sa.Column('handling_limit', sa.String(length=16), nullable=True),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('overdue', sa.Boolean(), nullable=False),
        sa.Column('created_by', sa.String(length=256), nullable=False),
        sa.Column('handled_at', sa.String(length=32), nullable=True),
        sa.Column('handled_by', sa.String(length=256), nullable=True),
        sa.Column('result', sa.Text(), nullable=True),
        sa.Column('feedback_at', sa.String(length=32), nullable=True),
        sa.Column('feedback', sa.Text(), nullable=True),
        sa.Column('warning_id', sa.String(length=40), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_response_complaints_service_id', 'response_complaints', ['service_id'])
    op.create_index('ix_response_complaints_provider_id', 'response_complaints', ['provider_id'])
    op.create_index('ix_response_complaints_due_at', 'response_complaints', ['due_at'])
    op.create_index('ix_response_complaints_status', 'response_complaints', ['status'])
    op.create_table(
        'response_duties',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('incident_id', sa.String(length=40), sa.ForeignKey('response_incidents.id'), nullable=False),
        sa.Column('kind', sa.String(length=32), nullable=False),
        sa.Column('basis', sa.Text(), nullable=False),
        sa.Column('created_at', sa.String(length=32), nullable=False),
        sa.Column('due_at', sa.String(length=32), nullable=True),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('done_at', sa.String(length=32), nullable=True),
        sa.Column('done_by', sa.String(length=256), nullable=True),
        sa.Column('content', sa.JSON(), nullable=True),
        sa.Column('warning_id', sa.String(length=40), nullable=True),
        sa.PrimaryKeyConstraint('id'),
        sa.UniqueConstraint('incident_id', 'kind'),
    )
    op.create_index('ix_response_duties_incident_id', 'response_duties', ['incident_id'])
    op.create_index('ix_response_duties_due_at', 'response_duties', ['due_at'])
    op.create_index('ix_response_duties_status', 'response_duties', ['status'])


    op.create_table(
        'recovery_model_versions',
        sa.Column('id', sa.Integer(), autoincrement=True, nullable=False),
        sa.Column('service_id', sa.String(length=64), nullable=False),
        sa.Column('version', sa.String(length=128), nullable=False),
        sa.Column('important', sa.Boolean(), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('note', sa.Text(), nullable=False),
        sa.Column('proposed_by', sa.String(length=256), nullable=False),
        sa.Column('proposed_at', sa.String(length=32), nullable=False),
        sa.Column('run_id', sa.String(length=128), nullable=True),
        sa.Column('evaluation', sa.JSON(), nullable=True),
        sa.Column('activated_at', sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_recovery_model_versions_service_id', 'recovery_model_versions', ['service_id'])
    op.create_index('ix_recovery_model_versions_status', 'recovery_model_versions', ['status'])


def downgrade() -> None:
    op.drop_index('ix_recovery_model_versions_status', table_name='recovery_model_versions')
    op.drop_index('ix_recovery_model_versions_service_id', table_name='recovery_model_versions')
    op.drop_table('recovery_model_versions')
    for col in ('status', 'due_at', 'provider_id', 'service_id'):
        op.drop_index(f'ix_response_complaints_{col}', table_name='response_complaints')
    op.drop_table('response_complaints')
    op.drop_index('ix_response_duties_status', table_name='response_duties')
    op.drop_index('ix_response_duties_due_at', table_name='response_duties')
    op.drop_index('ix_response_duties_incident_id', table_name='response_duties')
    op.drop_table('response_duties')
    with op.batch_alter_table('providers', schema=None) as batch_op:
        batch_op.drop_column('filing_number')
        batch_op.drop_column('complaint_limit')
        batch_op.drop_column('operator_type')
