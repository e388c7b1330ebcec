import pytest
from django.db import connection

from submissions.models import Dossier, Subject

TRIGRAM_INDEXES = {
    "submissions_subject_name_trgm": "submissions_subject",
    "submissions_subject_name_original_trgm": "submissions_subject",
    "submissions_dossier_title_trgm": "submissions_dossier",
}

on_postgresql = pytest.mark.skipif(
    connection.vendor != "postgresql", reason="trigram indexes are PostgreSQL's"
)


def test_the_review_queue_order_has_an_index(db):
    with connection.cursor() as cursor:
        constraints = connection.introspection.get_constraints(cursor, "submissions_dossier")
    index = constraints["dossier_status_changed_idx"]
    assert index["index"] and index["columns"] == ["status_changed_at", "id"]


@on_postgresql
def test_admin_search_columns_have_trigram_indexes(db):
    with connection.cursor() as cursor:
        cursor.execute(
            "SELECT indexname, tablename, indexdef FROM pg_indexes WHERE indexname = ANY(%s)",
            [list(TRIGRAM_INDEXES)],
        )
        found = {name: (table, definition) for name, table, definition in cursor.fetchall()}
    assert {name: table for name, (table, _) in found.items()} == TRIGRAM_INDEXES
    for _table, definition in found.values():
        assert "USING gin" in definition and "gin_trgm_ops" in definition


@on_postgresql
@pytest.mark.parametrize(
    ("model", "field", "index"),
    [
        (Subject, "name", "submissions_subject_name_trgm"),
        (Subject, "name_original", "submissions_subject_name_original_trgm"),
        (Dossier, "title", "submissions_dossier_title_trgm"),
    ],
)
def test_icontains_searches_can_use_the_trigram_indexes(db, model, field, index):
    # Django's icontains is UPPER(col::text) LIKE UPPER(...): the index must match that form.
    with connection.cursor() as cursor:
        cursor.execute("SET LOCAL enable_seqscan = off")  # empty tables: force the choice
    assert index in model.objects.filter(**{f"{field}__icontains": "ivan"}).explain()
