"""
On PostgreSQL with pg_trgm available, index the names and titles that the review admin searches.

Django turns `icontains` on PostgreSQL into `UPPER(col::text) LIKE UPPER('%term%')`, so the
trigram indexes are built on UPPER(col): an index on the bare column is never used by that query.
Elsewhere (SQLite, or PostgreSQL without the extension) this migration does nothing.
"""

from django.db import migrations

INDEXES = [
    ("submissions_subject_name_trgm", "submissions_subject", "name"),
    ("submissions_subject_name_original_trgm", "submissions_subject", "name_original"),
    ("submissions_dossier_title_trgm", "submissions_dossier", "title"),
]


def _has_pg_trgm(schema_editor) -> bool:
    if schema_editor.connection.vendor != "postgresql":
        return False
    with schema_editor.connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM pg_available_extensions WHERE name = 'pg_trgm'")
        return cursor.fetchone() is not None


def create_indexes(apps, schema_editor):
    if not _has_pg_trgm(schema_editor):
        return
    schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
    for name, table, column in INDEXES:
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {name} ON {table} USING gin (UPPER({column}) gin_trgm_ops)"
        )


def drop_indexes(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, _table, _column in INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):
    dependencies = [("submissions", "0005_dossier_status_changed_index")]

    operations = [migrations.RunPython(create_indexes, drop_indexes)]
