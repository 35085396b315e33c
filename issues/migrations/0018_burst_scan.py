"""The timeline's text indexes hold only the entries the search reads (PostgreSQL).

The search looks for words in the bodies of public updates, internal notes, customer messages and resolutions
(``issues.search.SEARCHED_EVENTS``), and says so in every query (``kind IN (…)``). The trigram and short-gram
indexes of migrations 0012 and 0016 covered every timeline entry all the same, so each entry the system writes
(a clock breached, an email queued, an automatic status email: four per breach in a burst of the SLA scan) paid
for a short-gram function call and two GIN entries for an empty body. Made partial on the searched kinds, the
indexes are smaller, the search is answered by them as before (``tests/issues/test_search.py``), and the
scan's entries skip them. The list below must stay the search's list (``tests/issues/test_burst_scan.py``).
"""

from django.db import migrations

SEARCHED_KINDS = ("public_update", "internal_note", "customer_message", "resolved")
BODY_INDEXES = {
    "event_body_trgm": "issues_issueevent USING gin (UPPER(body::text) gin_trgm_ops)",
    "event_body_grams": "issues_issueevent USING gin (inloop_short_grams(UPPER(body::text)))",
}


def searched_only(apps, schema_editor):
    _recreate(schema_editor, "WHERE kind IN ({})".format(", ".join(f"'{kind}'" for kind in SEARCHED_KINDS)))


def every_entry(apps, schema_editor):
    _recreate(schema_editor, "")


def _recreate(schema_editor, condition: str) -> None:
    if schema_editor.connection.vendor != "postgresql":
        return
    for name, definition in BODY_INDEXES.items():
        schema_editor.execute(f"DROP INDEX IF EXISTS {name}")
        schema_editor.execute(f"CREATE INDEX {name} ON {definition} {condition}")


class Migration(migrations.Migration):
    dependencies = [("issues", "0017_compliance_rollups")]

    operations = [migrations.RunPython(searched_only, every_entry)]
