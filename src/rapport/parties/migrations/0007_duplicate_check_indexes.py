"""Indexes for the create-time duplicate check, and name words pruned from the dictionary.

* ``contact_birthday`` and ``address_postal_code`` (upper-cased): the duplicate check's "same
  surname and birthday / postal code" candidates (``parties.duplicate_check``).
* PostgreSQL: 0004's ``parties_nameword`` dictionary kept every name word forever. Statement-
  level triggers now remove, after a delete or a rename, the words no contact has any more — an
  erased or merged-away person's surname must not outlive them, even as a bare dictionary word
  (GDPR article 17). One indexed probe per distinct word of the rows the statement removed.
  SQLite needs nothing: its FTS5 index drops a deleted row's words itself.
"""

import django.db.models.functions.text
from django.db import migrations, models

PRUNE = """
CREATE OR REPLACE FUNCTION parties_nameword_prune() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
  DELETE FROM parties_nameword nw
  USING (SELECT DISTINCT unnest(parties_name_words(first_name, last_name)) AS word FROM old_rows) gone
  WHERE nw.word = gone.word
    AND NOT EXISTS (SELECT 1 FROM parties_contact c
                    WHERE parties_name_words(c.first_name, c.last_name) @> ARRAY[gone.word]);
  RETURN NULL;
END $$
"""
FORWARDS = [
    "CREATE INDEX IF NOT EXISTS parties_nameword_word ON parties_nameword (word)",
    PRUNE,
    "DROP TRIGGER IF EXISTS parties_contact_words_del ON parties_contact",
    "CREATE TRIGGER parties_contact_words_del AFTER DELETE ON parties_contact REFERENCING OLD TABLE AS old_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION parties_nameword_prune()",
    "DROP TRIGGER IF EXISTS parties_contact_words_ren ON parties_contact",
    "CREATE TRIGGER parties_contact_words_ren AFTER UPDATE ON parties_contact REFERENCING OLD TABLE AS old_rows "
    "FOR EACH STATEMENT EXECUTE FUNCTION parties_nameword_prune()",
]
BACKWARDS = [
    "DROP TRIGGER IF EXISTS parties_contact_words_del ON parties_contact",
    "DROP TRIGGER IF EXISTS parties_contact_words_ren ON parties_contact",
    "DROP FUNCTION IF EXISTS parties_nameword_prune()",
    "DROP INDEX IF EXISTS parties_nameword_word",
]


def _run(statements):
    def run(apps, schema_editor):
        if schema_editor.connection.vendor == "postgresql":
            for statement in statements:
                schema_editor.execute(statement)

    return run


class Migration(migrations.Migration):

    dependencies = [
        ('parties', '0006_fitted_matcher'),
    ]

    operations = [
        migrations.AddIndex(
            model_name='address',
            index=models.Index(django.db.models.functions.text.Upper('postal_code'), name='address_postal_code'),
        ),
        migrations.AddIndex(
            model_name='contact',
            index=models.Index(fields=['birthday'], name='contact_birthday'),
        ),
        migrations.RunPython(_run(FORWARDS), _run(BACKWARDS), elidable=False),
    ]
