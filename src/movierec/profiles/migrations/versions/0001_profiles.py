"""Profiles, their ratings, the movies they are not interested in and their watch lists.

Revision ID: 0001
Revises:
Create Date: 2026-12-08
"""

import sqlalchemy as sa
from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None


def upgrade() -> None:
    op.create_table(
        "profiles",
        sa.Column("id", sa.String(16), primary_key=True),
        sa.Column("secret_hash", sa.String(64), nullable=False),
        sa.Column("name", sa.String(100), nullable=False),
        sa.Column("created", sa.BigInteger, nullable=False),
        sa.Column("consent_to_training", sa.Boolean, nullable=False),
    )
    op.create_table(
        "ratings",
        sa.Column(
            "profile_id",
            sa.String(16),
            sa.ForeignKey("profiles.id", ondelete="CASCADE"),
            primary_key=True,
        ),
        sa.Column("movie_id", sa.BigInteger, primary_key=True, autoincrement=False),
        sa.Column("stars", sa.Float, nullable=False),
        sa.Column("rated", sa.BigInteger, nullable=False),
    )
    for name in ("not_interested", "watchlist"):
        op.create_table(
            name,
            sa.Column(
                "profile_id",
                sa.String(16),
                sa.ForeignKey("profiles.id", ondelete="CASCADE"),
                primary_key=True,
            ),
            sa.Column("movie_id", sa.BigInteger, primary_key=True, autoincrement=False),
            sa.Column("added", sa.BigInteger, nullable=False),
        )


def downgrade() -> None:
    for name in ("watchlist", "not_interested", "ratings", "profiles"):
        op.drop_table(name)
