"""issue 18 item 8 (CN-PO-20, CN-LB-18, EU-06): durable hourly telemetry summaries per service

Revision ID: 0016_telemetry_summaries
Revises: 0015_user_measures
"""

from alembic import op
import sqlalchemy as sa


revision = '0016_telemetry_summaries'
down_revision = '0015_user_measures'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('telemetry_summaries',
    sa.Column('service', sa.String(length=64), nullable=False),
    sa.Column('period_start', sa.Float(), nullable=False),
    sa.Column('period_seconds', sa.Integer(), nullable=False),
    sa.Column('counts', sa.Text(), nullable=False),
    sa.Column('in_categories', sa.Text(), nullable=False),
    sa.Column('out_categories', sa.Text(), nullable=False),
    sa.Column('latency', sa.Text(), nullable=False),
    sa.Column('latency_count', sa.Integer(), nullable=False),
    sa.Column('latency_p50', sa.Float(), nullable=True),
    sa.Column('latency_p95', sa.Float(), nullable=True),
    sa.Column('latency_p99', sa.Float(), nullable=True),
    sa.Column('latency_max', sa.Float(), nullable=True),
    sa.Column('updated_at', sa.Float(), nullable=False),
    sa.PrimaryKeyConstraint('service', 'period_start')
    )
    with op.batch_alter_table('telemetry_summaries', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_telemetry_summaries_period_start'), ['period_start'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('telemetry_summaries', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_telemetry_summaries_period_start'))
    op.drop_table('telemetry_summaries')
