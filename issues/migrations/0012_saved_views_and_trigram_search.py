"""Saved inbox views, and trigram indexes for the inbox's substring search on PostgreSQL.

The search is ``icontains``, which PostgreSQL runs as ``UPPER(column::text) LIKE UPPER('%...%')``: a GIN
trigram index on exactly that expression answers it without reading every row, Korean included. SQLite
has no pg_trgm; there the search reads the rows, which is fine at its scale.
"""

import django.db.models.deletion
from django.conf import settings
from django.contrib.postgres.operations import TrigramExtension
from django.db import migrations, models

TRIGRAM_INDEXES = {
    "issue_title_trgm": "issues_issue USING gin (UPPER(title::text) gin_trgm_ops)",
    "issue_description_trgm": "issues_issue USING gin (UPPER(description::text) gin_trgm_ops)",
    "event_body_trgm": "issues_issueevent USING gin (UPPER(body::text) gin_trgm_ops)",
}


def create_trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name, definition in TRIGRAM_INDEXES.items():
            schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {definition}")


def drop_trigram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name in TRIGRAM_INDEXES:
            schema_editor.execute(f"DROP INDEX IF EXISTS {name}")


class Migration(migrations.Migration):

    dependencies = [
        ('issues', '0011_cover_ladder_tiers_deadlines_promises'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        TrigramExtension(),  # does nothing on SQLite
        migrations.RunPython(create_trigram_indexes, drop_trigram_indexes),
        migrations.CreateModel(
            name='SavedView',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('name', models.CharField(max_length=60, verbose_name='name')),
                ('query', models.CharField(blank=True, max_length=500, verbose_name='filters')),
                ('position', models.PositiveIntegerField(default=0, verbose_name='position')),
                ('person', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='saved_views', to=settings.AUTH_USER_MODEL)),
            ],
            options={
                'verbose_name': 'saved view',
                'verbose_name_plural': 'saved views',
                'ordering': ['position', 'pk'],
                'constraints': [models.UniqueConstraint(fields=('person', 'name'), name='saved_view_unique_name')],
            },
        ),
    ]
