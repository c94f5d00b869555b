"""Search indexes over ``search_text`` (see ``parties.search``).

PostgreSQL: ``pg_trgm`` GIN indexes (typo-tolerant similarity and ILIKE) and a full-text GIN
index. SQLite: FTS5 tables with the trigram tokenizer, external-content over the base table
and kept in step by triggers, so bulk imports index themselves.
"""

from django.db import migrations

TABLES = ("parties_contact", "parties_account")


def _forwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    run = schema_editor.execute
    if vendor == "postgresql":
        run("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        for table in TABLES:
            run(f"CREATE INDEX IF NOT EXISTS {table}_search_trgm ON {table} USING gin (search_text gin_trgm_ops)")
            run(
                f"CREATE INDEX IF NOT EXISTS {table}_search_fts ON {table} "
                f"USING gin (to_tsvector('simple'::regconfig, search_text))"
            )
    elif vendor == "sqlite":
        for table in TABLES:
            fts = f"{table}_fts"
            run(
                f"CREATE VIRTUAL TABLE IF NOT EXISTS {fts} USING fts5("
                f"search_text, content='{table}', content_rowid='id', tokenize='trigram')"
            )
            run(
                f"CREATE TRIGGER IF NOT EXISTS {table}_fts_ai AFTER INSERT ON {table} BEGIN "
                f"INSERT INTO {fts}(rowid, search_text) VALUES (new.id, new.search_text); END"
            )
            run(
                f"CREATE TRIGGER IF NOT EXISTS {table}_fts_ad AFTER DELETE ON {table} BEGIN "
                f"INSERT INTO {fts}({fts}, rowid, search_text) VALUES ('delete', old.id, old.search_text); END"
            )
            run(
                f"CREATE TRIGGER IF NOT EXISTS {table}_fts_au AFTER UPDATE OF search_text ON {table} BEGIN "
                f"INSERT INTO {fts}({fts}, rowid, search_text) VALUES ('delete', old.id, old.search_text); "
                f"INSERT INTO {fts}(rowid, search_text) VALUES (new.id, new.search_text); END"
            )
            run(f"INSERT INTO {fts}({fts}) VALUES ('rebuild')")


def _backwards(apps, schema_editor):
    vendor = schema_editor.connection.vendor
    for table in TABLES:
        if vendor == "postgresql":
            schema_editor.execute(f"DROP INDEX IF EXISTS {table}_search_trgm")
            schema_editor.execute(f"DROP INDEX IF EXISTS {table}_search_fts")
        elif vendor == "sqlite":
            for suffix in ("ai", "ad", "au"):
                schema_editor.execute(f"DROP TRIGGER IF EXISTS {table}_fts_{suffix}")
            schema_editor.execute(f"DROP TABLE IF EXISTS {table}_fts")


class Migration(migrations.Migration):
    dependencies = [("parties", "0001_initial")]
    operations = [migrations.RunPython(_forwards, _backwards, elidable=False)]
