"""A profile's last change (``profiles.updated``), so that profiles nobody used for a long time
(the web page makes one on a first rating) can be found and pruned.

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-08
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.add_column(
        "profiles", sa.Column("updated", sa.BigInteger, nullable=False, server_default="0")
    )
    op.execute("UPDATE profiles SET updated = created")


def downgrade() -> None:
    op.drop_column("profiles", "updated")
