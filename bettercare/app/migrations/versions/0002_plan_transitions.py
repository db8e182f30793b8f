"""Workflow history: one row per step of a plan's sign-off workflow.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    """Create plan_transitions."""
    op.create_table(
        "plan_transitions",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("plan_id", sa.String(120), sa.ForeignKey("plans.id"), nullable=False),
        sa.Column("from_state", sa.String(40), nullable=False),
        sa.Column("to_state", sa.String(40), nullable=False),
        sa.Column("outcome", sa.String(60), nullable=True),
        sa.Column("actor", sa.String(120), nullable=False),
        sa.Column("at", sa.DateTime(timezone=True), nullable=False),
        sa.Column("note", sa.Text, nullable=True),
    )
    op.create_index("ix_plan_transitions_plan_id", "plan_transitions", ["plan_id"])


def downgrade() -> None:
    """Drop plan_transitions."""
    op.drop_index("ix_plan_transitions_plan_id", "plan_transitions")
    op.drop_table("plan_transitions")
