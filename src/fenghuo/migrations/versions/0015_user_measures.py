"""issue 18 item 9 (CN-PO-09): per-user measures — warn, restrict or suspend one end user

Revision ID: 0015_user_measures
Revises: 0014_console
"""

from alembic import op
import sqlalchemy as sa


revision = '0015_user_measures'
down_revision = '0014_console'
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table('user_measures',
    sa.Column('id', sa.String(length=64), nullable=False),
    sa.Column('service_id', sa.String(length=64), nullable=False),
    sa.Column('user_id', sa.String(length=256), nullable=False),
    sa.Column('measure', sa.String(length=16), nullable=False),
    sa.Column('rate', sa.Integer(), nullable=True),
    sa.Column('until', sa.String(length=32), nullable=True),
    sa.Column('reason', sa.Text(), nullable=False),
    sa.Column('applied_by', sa.String(length=256), nullable=False),
    sa.Column('applied_role', sa.String(length=16), nullable=False),
    sa.Column('applied_at', sa.String(length=32), nullable=False),
    sa.Column('lifted_by', sa.String(length=256), nullable=True),
    sa.Column('lifted_at', sa.String(length=32), nullable=True),
    sa.Column('lift_reason', sa.Text(), nullable=True),
    sa.ForeignKeyConstraint(['service_id'], ['services.id'], ),
    sa.PrimaryKeyConstraint('id')
    )
    with op.batch_alter_table('user_measures', schema=None) as batch_op:
        batch_op.create_index(batch_op.f('ix_user_measures_service_id'), ['service_id'], unique=False)
        batch_op.create_index(batch_op.f('ix_user_measures_user_id'), ['user_id'], unique=False)


def downgrade() -> None:
    with op.batch_alter_table('user_measures', schema=None) as batch_op:
        batch_op.drop_index(batch_op.f('ix_user_measures_user_id'))
        batch_op.drop_index(batch_op.f('ix_user_measures_service_id'))
    op.drop_table('user_measures')
