"""The search's text indexes move off the issue row to a table of their own, kept by the database (PostgreSQL).

The trigram and short-gram indexes of migrations 0012 and 0016 were expressions over the issue's title and
description. PostgreSQL adds an entry to every index of a table for each new version of a row (unless no
indexed column changed), so every clock write (the scan's flags, the automatic emails' counters, a
service's new due time) recomputed every one- and two-character piece of the description and wrote four
GIN entries: with a description of a few hundred characters, about a millisecond per row written, the
most of a burst scan's time. The words now live in ``issues_issuetext`` (one row per issue: its title and
description), with the same four indexes under the same names. Triggers keep it: a new issue adds its row,
a changed title or description rewrites it (and only then), a deleted issue takes it along, and emptying
the issues (``TRUNCATE``, as tests do) empties it. No code of ours writes it; ``issues.search`` reads it.
SQLite has no text indexes: its search reads the issues themselves, and the table is not made there.
"""

from django.db import migrations, models

ISSUE_TEXT = """
CREATE TABLE issues_issuetext (
    issue_id bigint PRIMARY KEY,
    title varchar(200) NOT NULL,
    description text NOT NULL
);
INSERT INTO issues_issuetext (issue_id, title, description) SELECT id, title, description FROM issues_issue;

CREATE FUNCTION inloop_issue_text() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    IF TG_OP = 'DELETE' THEN
        DELETE FROM issues_issuetext WHERE issue_id = OLD.id;
    ELSE
        INSERT INTO issues_issuetext (issue_id, title, description) VALUES (NEW.id, NEW.title, NEW.description)
        ON CONFLICT (issue_id) DO UPDATE SET title = EXCLUDED.title, description = EXCLUDED.description;
    END IF;
    RETURN NULL;
END
$$;
CREATE FUNCTION inloop_issue_text_emptied() RETURNS trigger LANGUAGE plpgsql AS $$
BEGIN
    TRUNCATE issues_issuetext;
    RETURN NULL;
END
$$;
CREATE TRIGGER issue_text_added_or_removed AFTER INSERT OR DELETE ON issues_issue
    FOR EACH ROW EXECUTE FUNCTION inloop_issue_text();
CREATE TRIGGER issue_text_changed AFTER UPDATE OF title, description ON issues_issue
    FOR EACH ROW WHEN (OLD.title IS DISTINCT FROM NEW.title OR OLD.description IS DISTINCT FROM NEW.description)
    EXECUTE FUNCTION inloop_issue_text();
CREATE TRIGGER issue_text_emptied AFTER TRUNCATE ON issues_issue
    FOR EACH STATEMENT EXECUTE FUNCTION inloop_issue_text_emptied();
"""
NO_ISSUE_TEXT = """
DROP TRIGGER IF EXISTS issue_text_emptied ON issues_issue;
DROP TRIGGER IF EXISTS issue_text_changed ON issues_issue;
DROP TRIGGER IF EXISTS issue_text_added_or_removed ON issues_issue;
DROP FUNCTION IF EXISTS inloop_issue_text_emptied();
DROP FUNCTION IF EXISTS inloop_issue_text();
DROP TABLE IF EXISTS issues_issuetext;
"""
# The same indexes, the same names: (table, expression).
TEXT_INDEXES = {
    "issue_title_trgm": "USING gin (UPPER(title::text) gin_trgm_ops)",
    "issue_description_trgm": "USING gin (UPPER(description::text) gin_trgm_ops)",
    "issue_title_grams": "USING gin (inloop_short_grams(UPPER(title::text)))",
    "issue_description_grams": "USING gin (inloop_short_grams(UPPER(description::text)))",
}


def text_apart(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    for name in TEXT_INDEXES:
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")
    schema_editor.execute(ISSUE_TEXT)
    for name, definition in TEXT_INDEXES.items():
        schema_editor.execute(f"CREATE INDEX {name} ON issues_issuetext {definition}")


def text_on_the_issue(apps, schema_editor):
    if schema_editor.connection.vendor != "postgresql":
        return
    schema_editor.execute(NO_ISSUE_TEXT)
    for name, definition in TEXT_INDEXES.items():
        schema_editor.execute(f"CREATE INDEX {name} ON issues_issue {definition}")


class Migration(migrations.Migration):
    dependencies = [("issues", "0018_burst_scan")]

    operations = [
        migrations.RunPython(text_apart, text_on_the_issue),
        migrations.CreateModel(
            name="IssueText",
            fields=[
                ("issue_id", models.BigIntegerField(primary_key=True, serialize=False, verbose_name="issue")),
                ("title", models.CharField(max_length=200, verbose_name="title")),
                ("description", models.TextField(verbose_name="description")),
            ],
            options={"db_table": "issues_issuetext", "managed": False, "verbose_name": "issue's searchable text",
                     "verbose_name_plural": "issues' searchable text"},
        ),
    ]
