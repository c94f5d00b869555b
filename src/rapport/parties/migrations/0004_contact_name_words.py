"""Contacts' name words, and a dictionary of them for one-typo look-ups (see ``parties.search``).

SQLite: an FTS5 table over first and last names with the ``unicode61`` tokenizer (accents
folded), kept in step by triggers like 0002's; a search asks it for the words within one edit
of each query word.

PostgreSQL:

* a GIN index over the words of a contact's name, ``name_words(first_name, last_name)``: the
  lower-cased runs of letters and digits of ``first_name || ' ' || last_name``. A search reads
  only the posting lists of the exact words it asks for.
* ``parties_nameword(variant, word)``: every name word of three or more characters under
  itself and under each string made by deleting one of its characters. A query word's own
  deletions, looked up here, give every known word within one edit of it (insert, delete,
  substitute or swap two neighbours): the symmetric-deletion trick, with a table of distinct
  words instead of a million names.
* statement-level triggers with transition tables add the words of inserted and updated
  contacts in one ``INSERT … SELECT`` per statement, so bulk imports and ``COPY`` keep the
  dictionary complete without a per-row cost. (0007 removes the words nobody has any more.)

Replaces the trigram index of 0003, whose word-similarity scan merged posting lists of the
commonest trigrams of a million names on every search.
"""

from django.db import migrations

WORDS = "regexp_split_to_array(lower(((first_name)::text || ' ' || (last_name)::text)), '[^[:alnum:]]+')"

# The name words (three letters or more) of the contacts in ``source``, each under itself and
# under every one-letter deletion of it.
ADD_WORDS = (
    "INSERT INTO parties_nameword (variant, word) SELECT DISTINCT v.variant, w.word "
    "FROM (SELECT DISTINCT unnest(parties_name_words(first_name, last_name)) AS word FROM {source}) w "
    "CROSS JOIN LATERAL (SELECT w.word AS variant UNION "
    "SELECT overlay(w.word PLACING '' FROM i FOR 1) FROM generate_series(1, length(w.word)) AS i) v "
    "WHERE length(w.word) >= 3 ON CONFLICT DO NOTHING"
)

FORWARDS = [
    f"CREATE OR REPLACE FUNCTION parties_name_words(first_name text, last_name text) RETURNS text[] "
    f"LANGUAGE sql IMMUTABLE PARALLEL SAFE AS $$ SELECT {WORDS} $$",
    "CREATE TABLE IF NOT EXISTS parties_nameword (variant text NOT NULL, word text NOT NULL, "
    "PRIMARY KEY (variant, word))",
    f"""
    CREATE OR REPLACE FUNCTION parties_nameword_add() RETURNS trigger LANGUAGE plpgsql AS $$
    BEGIN
      {ADD_WORDS.format(source="new_rows")};
      RETURN NULL;
    END $$
    """,
    "DROP TRIGGER IF EXISTS parties_contact_words_ins ON parties_contact",
    "CREATE TRIGGER parties_contact_words_ins AFTER INSERT ON parties_contact REFERENCING NEW TABLE AS new_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION parties_nameword_add()",
    "DROP TRIGGER IF EXISTS parties_contact_words_upd ON parties_contact",
    "CREATE TRIGGER parties_contact_words_upd AFTER UPDATE ON parties_contact REFERENCING NEW TABLE AS new_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION parties_nameword_add()",
    # The words of the contacts already there.
    ADD_WORDS.format(source="parties_contact"),
    "CREATE INDEX IF NOT EXISTS parties_contact_name_words ON parties_contact "
    "USING gin (parties_name_words(first_name, last_name))",
    "DROP INDEX IF EXISTS parties_contact_name_trgm",
]
BACKWARDS = [
    "CREATE INDEX IF NOT EXISTS parties_contact_name_trgm ON parties_contact "
    "USING gin (lower(((first_name)::text || ' ' || (last_name)::text)) gin_trgm_ops)",
    "DROP INDEX IF EXISTS parties_contact_name_words",
    "DROP TRIGGER IF EXISTS parties_contact_words_ins ON parties_contact",
    "DROP TRIGGER IF EXISTS parties_contact_words_upd ON parties_contact",
    "DROP FUNCTION IF EXISTS parties_nameword_add()",
    "DROP TABLE IF EXISTS parties_nameword",
    "DROP FUNCTION IF EXISTS parties_name_words(text, text)",
]


NAMES_FTS = "parties_contact_names"
SQLITE_FORWARDS = [
    f"CREATE VIRTUAL TABLE IF NOT EXISTS {NAMES_FTS} USING fts5(first_name, last_name, content='parties_contact', "
    "content_rowid='id', tokenize='unicode61 remove_diacritics 2')",
    f"CREATE TRIGGER IF NOT EXISTS {NAMES_FTS}_ai AFTER INSERT ON parties_contact BEGIN "
    f"INSERT INTO {NAMES_FTS}(rowid, first_name, last_name) VALUES (new.id, new.first_name, new.last_name); END",
    f"CREATE TRIGGER IF NOT EXISTS {NAMES_FTS}_ad AFTER DELETE ON parties_contact BEGIN "
    f"INSERT INTO {NAMES_FTS}({NAMES_FTS}, rowid, first_name, last_name) "
    "VALUES ('delete', old.id, old.first_name, old.last_name); END",
    f"CREATE TRIGGER IF NOT EXISTS {NAMES_FTS}_au AFTER UPDATE OF first_name, last_name ON parties_contact BEGIN "
    f"INSERT INTO {NAMES_FTS}({NAMES_FTS}, rowid, first_name, last_name) "
    "VALUES ('delete', old.id, old.first_name, old.last_name); "
    f"INSERT INTO {NAMES_FTS}(rowid, first_name, last_name) VALUES (new.id, new.first_name, new.last_name); END",
    f"INSERT INTO {NAMES_FTS}({NAMES_FTS}) VALUES ('rebuild')",
]
SQLITE_BACKWARDS = [
    *(f"DROP TRIGGER IF EXISTS {NAMES_FTS}_{suffix}" for suffix in ("ai", "ad", "au")),
    f"DROP TABLE IF EXISTS {NAMES_FTS}",
]


def _run(postgresql, sqlite):
    def run(apps, schema_editor):
        statements = {"postgresql": postgresql, "sqlite": sqlite}.get(schema_editor.connection.vendor, [])
        for statement in statements:
            schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):
    dependencies = [("parties", "0003_contact_name_trgm")]
    operations = [
        migrations.RunPython(_run(FORWARDS, SQLITE_FORWARDS), _run(BACKWARDS, SQLITE_BACKWARDS), elidable=False)
    ]
