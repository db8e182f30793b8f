"""The care coordination register: patients, risk assessments, care plans, care teams.

Revision ID: 0003
Revises: 0002
Create Date: 2026-11-27
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0003"
down_revision = "0002"
branch_labels = None
depends_on = None

TZ = sa.DateTime(timezone=True)


def upgrade() -> None:
    """Create the register's tables (patient-level data for direct care only)."""
    op.create_table(
        "care_patients",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column("nhs_number", sa.String(10), nullable=False, unique=True),
        sa.Column("person_id", sa.String(64), nullable=True, index=True),
        sa.Column("given_name", sa.String(100), nullable=True),
        sa.Column("family_name", sa.String(100), nullable=True),
        sa.Column("birth_date", sa.Date, nullable=True),
        sa.Column("sex", sa.String(1), nullable=True),
        sa.Column("gp_practice", sa.String(10), nullable=True, index=True),
        sa.Column(
            "hwb_code", sa.String(64), sa.ForeignKey("hwbs.code"), nullable=False, index=True
        ),
        sa.Column("created_at", TZ, nullable=False),
    )
    op.create_table(
        "care_risk_assessments",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "patient_id", sa.Integer, sa.ForeignKey("care_patients.id"), nullable=False, index=True
        ),
        sa.Column("probability", sa.Float, nullable=False),
        sa.Column("tier", sa.String(20), nullable=True),
        sa.Column("cohorts", sa.String(200), nullable=False),
        sa.Column("model", sa.String(60), nullable=False),
        sa.Column("assessed_on", sa.Date, nullable=False),
        sa.Column("created_at", TZ, nullable=False),
    )
    for table, columns in (
        (
            "care_plans",
            [
                sa.Column("status", sa.String(20), nullable=False),
                sa.Column("title", sa.String(200), nullable=True),
                sa.Column("period_start", sa.Date, nullable=True),
                sa.Column("period_end", sa.Date, nullable=True),
                sa.Column("review_due", sa.Date, nullable=True),
            ],
        ),
        ("care_teams", [sa.Column("name", sa.String(200), nullable=True)]),
    ):
        op.create_table(
            table,
            sa.Column("id", sa.Integer, primary_key=True),
            sa.Column(
                "patient_id",
                sa.Integer,
                sa.ForeignKey("care_patients.id"),
                nullable=False,
                index=True,
            ),
            *columns,
            sa.Column("version", sa.Integer, nullable=False),
            sa.Column("updated_at", TZ, nullable=False),
            sa.Column("updated_by", sa.String(120), nullable=True),
        )
    op.create_table(
        "care_team_members",
        sa.Column("id", sa.Integer, primary_key=True),
        sa.Column(
            "team_id",
            sa.Integer,
            sa.ForeignKey("care_teams.id", ondelete="CASCADE"),
            nullable=False,
            index=True,
        ),
        sa.Column("name", sa.String(200), nullable=False),
        sa.Column("role", sa.String(200), nullable=False),
        sa.Column("organisation", sa.String(200), nullable=True),
        sa.Column("lead", sa.Boolean, nullable=False),
        sa.Column("start_date", sa.Date, nullable=True),
        sa.Column("end_date", sa.Date, nullable=True),
    )


def downgrade() -> None:
    """Drop the register's tables."""
    for table in (
        "care_team_members",
        "care_teams",
        "care_plans",
        "care_risk_assessments",
        "care_patients",
    ):
        op.drop_table(table)
