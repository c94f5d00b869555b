"""A trigram index over contacts' names, for typo-tolerant name search (see ``parties.search``).

PostgreSQL only: ``lower(first_name || ' ' || last_name)`` with ``gin_trgm_ops``; the search
repeats this expression exactly so the planner uses the index. A name is a fifth of a contact's
``search_text``, so matching names here instead of the whole text scans far smaller posting
lists and re-checks far fewer rows. SQLite's FTS5 table over ``search_text`` (0002) already
covers the names.
"""

from django.db import migrations

INDEX = "parties_contact_name_trgm"
EXPRESSION = "lower(((first_name)::text || ' ' || (last_name)::text))"


def _forwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute("CREATE EXTENSION IF NOT EXISTS pg_trgm")
        schema_editor.execute(
            f"CREATE INDEX IF NOT EXISTS {INDEX} ON parties_contact USING gin ({EXPRESSION} gin_trgm_ops)"
        )


def _backwards(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(f"DROP INDEX IF EXISTS {INDEX}")


class Migration(migrations.Migration):
    dependencies = [("parties", "0002_search_indexes")]
    operations = [migrations.RunPython(_forwards, _backwards, elidable=False)]
