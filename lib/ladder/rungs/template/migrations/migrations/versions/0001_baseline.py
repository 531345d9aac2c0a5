"""Baseline: the items table as the app has always created it.

A database made before migrations existed already has this table: the baseline then only records its revision.

Revision ID: 0001
Revises:
Create Date: 2026-11-27
"""

from alembic import op

revision = "0001"
down_revision = None
branch_labels = None
depends_on = None

expected_row_changes = {}

# The exact statement app.py has run on every connection, so old and new databases have one schema.
SCHEMA = """
CREATE TABLE IF NOT EXISTS items (
    id INTEGER PRIMARY KEY AUTOINCREMENT,
    name TEXT NOT NULL,
    created_at TEXT NOT NULL DEFAULT CURRENT_TIMESTAMP
)
"""


def upgrade():
    op.execute(SCHEMA)


def downgrade():
    op.drop_table("items")
