"""The index behind model search: every word of a query found in a model's search columns, part
of a word included ("bert" finds roberta), without reading every row.

SQLite: an FTS5 table with the trigram tokenizer over search_name and search_text, kept in step
with catalog_model by triggers. PostgreSQL: a pg_trgm GIN index on the two columns joined, which
serves LIKE '%word%' on that expression as it is (one index and one LIKE a row, rather than two).
A word shorter than three characters has no trigram, so it is matched with LIKE among the rows the
longer words found (every row when there is none)."""

from django.db import connections
from django.db.models import Func, Q, TextField
from django.db.models.expressions import RawSQL

TABLE = "catalog_model_search"
SHORTEST_INDEXED = 3

_SQLITE_TRIGGERS = {
    f"{TABLE}_insert": f"""AFTER INSERT ON catalog_model BEGIN
        INSERT INTO {TABLE}(rowid, search_name, search_text) VALUES (new.id, new.search_name, new.search_text);
    END""",
    f"{TABLE}_delete": f"""AFTER DELETE ON catalog_model BEGIN
        INSERT INTO {TABLE}({TABLE}, rowid, search_name, search_text)
            VALUES ('delete', old.id, old.search_name, old.search_text);
    END""",
    f"{TABLE}_update": f"""AFTER UPDATE OF search_name, search_text ON catalog_model BEGIN
        INSERT INTO {TABLE}({TABLE}, rowid, search_name, search_text)
            VALUES ('delete', old.id, old.search_name, old.search_text);
        INSERT INTO {TABLE}(rowid, search_name, search_text) VALUES (new.id, new.search_name, new.search_text);
    END""",
}
_POSTGRES_INDEX = "catalog_model_search_trgm"


class Document(Func):
    """search_name || search_text, exactly as the index is built (both end in a space, so no word
    runs across the join)."""

    template = "(%(expressions)s)"
    arg_joiner = " || "
    output_field = TextField()


def matching(queryset, terms):
    """queryset's rows holding every one of terms (lower-case words) in search_name or search_text."""
    vendor = connections[queryset.db].vendor
    if vendor == "postgresql":
        queryset = queryset.alias(search_document=Document("search_name", "search_text"))
        for term in terms:
            queryset = queryset.filter(search_document__contains=term)
        return queryset
    if vendor == "sqlite":
        indexed = [t for t in terms if len(t) >= SHORTEST_INDEXED]
        if indexed:
            # A quoted phrase is a substring to a trigram index; phrases side by side must all match.
            phrases = " ".join('"{}"'.format(t.replace('"', '""')) for t in indexed)
            queryset = queryset.filter(pk__in=RawSQL(f"SELECT rowid FROM {TABLE} WHERE {TABLE} MATCH %s", [phrases]))
            terms = [t for t in terms if len(t) < SHORTEST_INDEXED]
    for term in terms:
        queryset = queryset.filter(Q(search_name__contains=term) | Q(search_text__contains=term))
    return queryset


def install(connection):
    """Create the index for this database (idempotent); other vendors search without one."""
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            cursor.execute(
                f"CREATE VIRTUAL TABLE IF NOT EXISTS {TABLE} USING fts5(search_name, search_text, "
                "content='catalog_model', content_rowid='id', tokenize='trigram')"
            )
            _sqlite_triggers(cursor)
        elif connection.vendor == "postgresql":
            cursor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
            cursor.execute(f"CREATE INDEX IF NOT EXISTS {_POSTGRES_INDEX} ON catalog_model "
                           "USING gin ((search_name || search_text) gin_trgm_ops)")


def uninstall(connection):
    with connection.cursor() as cursor:
        if connection.vendor == "sqlite":
            for name in _SQLITE_TRIGGERS:
                cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
            cursor.execute(f"DROP TABLE IF EXISTS {TABLE}")
        elif connection.vendor == "postgresql":
            cursor.execute(f"DROP INDEX IF EXISTS {_POSTGRES_INDEX}")


def repair(connection):
    """After a migration: SQLite drops a table's triggers when Django rebuilds the table to alter
    it, so put back any that are missing and re-read every row into the index."""
    if connection.vendor != "sqlite":
        return
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1 FROM sqlite_master WHERE type = 'table' AND name = %s", [TABLE])
        if cursor.fetchone():
            _sqlite_triggers(cursor)


def _sqlite_triggers(cursor):
    cursor.execute("SELECT name FROM sqlite_master WHERE type = 'trigger' AND tbl_name = 'catalog_model'")
    have = {name for (name,) in cursor.fetchall()}
    if have >= _SQLITE_TRIGGERS.keys():
        return
    for name, body in _SQLITE_TRIGGERS.items():
        cursor.execute(f"DROP TRIGGER IF EXISTS {name}")
        cursor.execute(f"CREATE TRIGGER {name} {body}")
    cursor.execute(f"INSERT INTO {TABLE}({TABLE}) VALUES ('rebuild')")
