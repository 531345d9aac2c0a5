"""Items get updated_at, backfilled from created_at: the expand half of an expand/contract change.

Expand (this revision, run before the new release is switched in):
- add `updated_at` as a NULLABLE column with no default, so every INSERT the old release makes still works;
- backfill it from `created_at` for the rows that exist.

During a rolling deploy both releases share this database:
- the old release never names `updated_at` (it lists its columns), so the new schema does not disturb it;
  rows it adds have updated_at NULL;
- the new release reads `COALESCE(updated_at, created_at)`, so it is right on those rows, and right on the
  old schema too (after a rollback that restored the backup) when it checks the column exists before using it.

Contract (a later revision, once no host runs the old release): backfill the NULLs again, then make the column
NOT NULL in batch mode. Never in the same deploy as the expand.

Revision ID: 0002
Revises: 0001
Create Date: 2026-11-27
"""

import sqlalchemy as sa
from alembic import op

revision = "0002"
down_revision = "0001"
branch_labels = None
depends_on = None

# A backfill rewrites a column but adds or removes no row.
expected_row_changes = {}


def upgrade():
    op.add_column("items", sa.Column("updated_at", sa.Text(), nullable=True))
    op.execute("UPDATE items SET updated_at = created_at WHERE updated_at IS NULL")


def downgrade():
    with op.batch_alter_table("items") as batch:
        batch.drop_column("updated_at")
