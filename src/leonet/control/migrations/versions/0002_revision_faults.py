"""policy_revisions.faults: the scenario's ``[[faults]]`` in force with each revision (so that a rollback
restores them and the revision digest covers them).  Revisions made before this migration keep NULL: their
faults were not recorded (a rollback to one keeps the faults in force; its digest is the one audited then).

Revision ID: 0002
Revises: 0001
Create Date: 2026-12-03 08:40:00
"""

from __future__ import annotations

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None


def upgrade() -> None:
    with op.batch_alter_table("policy_revisions", schema=None) as batch_op:
        batch_op.add_column(sa.Column("faults", sa.JSON(), nullable=True))


def downgrade() -> None:
    with op.batch_alter_table("policy_revisions", schema=None) as batch_op:
        batch_op.drop_column("faults")
