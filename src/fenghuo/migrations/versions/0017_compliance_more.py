"""issue 18 (compliance, session 5): model-version routing, label-waiver log

Model-version routing needs no schema (guards read recovery_model_versions, 0010). The label
waivers (CN-LB-18): one row per supply of content without the explicit label — the user, their
request, the agreement, the recipient — kept like the ledger (never pruned).

Revision ID: 0017_compliance_more
Revises: 0016_telemetry_summaries
"""

from alembic import op
import sqlalchemy as sa


revision = '0017_compliance_more'
down_revision = '0016_telemetry_summaries'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('label_waivers',
    sa.Column('id', sa.String(length=40), nullable=False),
    sa.Column('service_id', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.String(length=256), nullable=False),
    sa.Column('request', sa.Text(), nullable=False),
    sa.Column('agreement', sa.Text(), nullable=False),
    sa.Column('recipient', sa.String(length=512), nullable=False),
    sa.Column('note', sa.Text(), nullable=False),
    sa.Column('recorded_by', sa.String(length=256), nullable=False),
    sa.Column('recorded_at', sa.String(length=32), nullable=False),
    sa.ForeignKeyConstraint(['service_id'], ['services.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('label_waivers', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_label_waivers_service_id'), ['service_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_label_waivers_recorded_at'), ['recorded_at'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('label_waivers', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_label_waivers_recorded_at'))
        batch_op.drop_index(batch_op.f('ix_label_waivers_service_id'))
    op.drop_table('label_waivers')
