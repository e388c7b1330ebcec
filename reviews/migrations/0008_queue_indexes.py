"""
Indexes on submissions' tables that the review queue (reviews/admin.py) needs at a million
dossiers, on PostgreSQL (docs/benchmarks.md). Elsewhere this migration does nothing.

- The queue's search looks each alternative up through an index: subjects' names and dossier
  titles already have trigram indexes (submissions 0006); aliases and references get theirs.
- The queue filtered by status walks the dossiers of that status in the queue's order.
"""

from django.db import migrations

TRIGRAM = [
    ("reviews_queue_subject_aliases_trgm", "submissions_subject", "UPPER(aliases::text)"),
    ("reviews_queue_dossier_reference_trgm", "submissions_dossier", "UPPER(reference)"),
]
BTREE = [
    (
        "reviews_queue_dossier_status_idx",
        "submissions_dossier",
        "status, status_changed_at, id",
    ),
]


def create_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, table, columns in BTREE:
        schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {table} ({columns})")
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_extension WHERE extname = 'pg_trgm'")
        if cursor.fetchone() is None:  # submissions 0006 creates it where it is available
            return
    for name, table, expression in TRIGRAM:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin ({expression} gin_trgm_ops)"
        )


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _table, _columns in TRIGRAM + BTREE:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [
        ("reviews", "0007_name_keys"),
        ("submissions", "0006_trigram_search_indexes"),
    ]

    operations = [migrations.RunPython(create_indexes, drop_indexes)]
