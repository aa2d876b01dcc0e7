"""scale-out: leader lease and counting cursor

Revision ID: 0006_scale
Revises: 0005_response
"""

from alembic import op
import sqlalchemy as sa


revision = '0006_scale'
down_revision = '0005_response'
branch_labels = None
depends_on = None


def upgrade() -> None:
    big = sa.BigInteger().with_variant(sa.Integer(), "sqlite")
    op.create_table('scale_leases',
                    sa.Column('name', sa.String(length=64), nullable=False),
                    sa.Column('holder', sa.String(length=128), nullable=False),
                    sa.Column('epoch', big, nullable=False),
                    sa.Column('expires_at', sa.Float(), nullable=False),
                    sa.PrimaryKeyConstraint('name'))
    op.create_table('scale_cursors',
                    sa.Column('name', sa.String(length=64), nullable=False),
                    sa.Column('seq', big, nullable=False),
                    sa.Column('epoch', big, nullable=False),
                    sa.Column('updated_at', sa.Float(), nullable=False),
                    sa.PrimaryKeyConstraint('name'))


def downgrade() -> None:
    op.drop_table('scale_cursors')
    op.drop_table('scale_leases')
