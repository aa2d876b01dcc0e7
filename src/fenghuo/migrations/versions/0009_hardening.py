"""issue 14 (hardening): token expiry and revocation, silence scopes, incident registry snapshots,
countersigned checklists, and registry changes waiting for a regulator's approval

Revision ID: 0009_hardening
Revises: 0008_alerts_iso_times
"""

from alembic import op
import sqlalchemy as sa


revision = '0009_hardening'
down_revision = '0008_alerts_iso_times'
branch_labels = None
depends_on = None


def upgrade() -> None:
    # All nullable, no default: existing tokens never expire, existing silences are the
    # deployment's (unscoped, ended only by an admin), existing incidents have no snapshot.
    with op.batch_alter_table('tokens', schema=None) as batch_op:
        batch_op.add_column(sa.Column('expires_at', sa.String(length=32), nullable=True))
        batch_op.add_column(sa.Column('revoked_at', sa.String(length=32), nullable=True))
    with op.batch_alter_table('alert_silences', schema=None) as batch_op:
        batch_op.add_column(sa.Column('scope_provider', sa.String(length=64), nullable=True))
        batch_op.add_column(sa.Column('scope_path', sa.String(length=1000), nullable=True))
    with op.batch_alter_table('recovery_verifications', schema=None) as batch_op:
        batch_op.add_column(sa.Column('countersigned_by', sa.String(length=256), nullable=True))
        batch_op.add_column(sa.Column('countersigned_at', sa.String(length=32), nullable=True))
    with op.batch_alter_table('response_incidents', schema=None) as batch_op:
        batch_op.add_column(sa.Column('service_snapshot', sa.JSON(), nullable=True))
    op.create_table(
        'service_changes',
        sa.Column('id', sa.String(length=40), nullable=False),
        sa.Column('service_id', sa.String(length=64), nullable=False),
        sa.Column('spec', sa.JSON(), nullable=False),
        sa.Column('reasons', sa.JSON(), nullable=False),
        sa.Column('base_digest', sa.String(length=64), nullable=False),
        sa.Column('status', sa.String(length=16), nullable=False),
        sa.Column('requested_by', sa.String(length=256), nullable=False),
        sa.Column('requested_at', sa.String(length=32), nullable=False),
        sa.Column('decided_by', sa.String(length=256), nullable=True),
        sa.Column('decided_at', sa.String(length=32), nullable=True),
        sa.PrimaryKeyConstraint('id'),
    )
    op.create_index('ix_service_changes_service_id', 'service_changes', ['service_id'])


def downgrade() -> None:
    op.drop_index('ix_service_changes_service_id', table_name='service_changes')
    op.drop_table('service_changes')
    with op.batch_alter_table('response_incidents', schema=None) as batch_op:
        batch_op.drop_column('service_snapshot')
    with op.batch_alter_table('recovery_verifications', schema=None) as batch_op:
        batch_op.drop_column('countersigned_at')
        batch_op.drop_column('countersigned_by')
    with op.batch_alter_table('alert_silences', schema=None) as batch_op:
        batch_op.drop_column('scope_path')
        batch_op.drop_column('scope_provider')
    with op.batch_alter_table('tokens', schema=None) as batch_op:
        batch_op.drop_column('revoked_at')
        batch_op.drop_column('expires_at')
