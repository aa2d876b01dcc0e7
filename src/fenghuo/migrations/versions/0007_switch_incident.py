"""switch state names the incident its state belongs to

Revision ID: 0007_switch_incident
Revises: 0006_scale
"""

from alembic import op
import sqlalchemy as sa


revision = '0007_switch_incident'
down_revision = '0006_scale'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # Nullable, no default: existing states belong to no incident.
    with op.batch_alter_table('switch_states', schema=None) as batch_op:
        batch_op.add_column(sa.Column('incident_id', sa.String(length=64), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table('switch_states', schema=None) as batch_op:
        batch_op.drop_column('incident_id')
