"""Short-gram indexes for the inbox's search of one or two characters on PostgreSQL, and a label for every
field (the admin in Korean).

pg_trgm (migration 0012) cannot answer a search shorter than three characters (a Korean two-syllable
word such as 배송): such a pattern has no trigram, and PostgreSQL would read every row. The function below
lists every distinct one- and two-character piece of a text; a GIN index on it answers "contains this
short piece" exactly (``inloop_short_grams(UPPER(column)) @> ARRAY['배송']``, see ``issues.search``).
It is immutable, so an index may hold it, and not inlinable (it has a FROM), so the planner matches the
indexed expression as the search writes it. SQLite has neither; there the search reads the rows.
"""

import datetime

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models

SHORT_GRAMS_FUNCTION = """
CREATE OR REPLACE FUNCTION inloop_short_grams(value text) RETURNS text[]
LANGUAGE sql IMMUTABLE STRICT PARALLEL SAFE AS $$
    SELECT coalesce(array_agg(DISTINCT substr(value, i, n)), '{}')
    FROM generate_series(1, length(value)) AS i, generate_series(1, 2) AS n
$$
"""
SHORT_GRAM_INDEXES = {
    "issue_title_grams": "issues_issue USING gin (inloop_short_grams(UPPER(title::text)))",
    "issue_description_grams": "issues_issue USING gin (inloop_short_grams(UPPER(description::text)))",
    "event_body_grams": "issues_issueevent USING gin (inloop_short_grams(UPPER(body::text)))",
}


def create_short_gram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        schema_editor.execute(SHORT_GRAMS_FUNCTION)
        for name, definition in SHORT_GRAM_INDEXES.items():
            schema_editor.execute(f"CREATE INDEX IF NOT EXISTS {name} ON {definition}")


def drop_short_gram_indexes(apps, schema_editor):
    if schema_editor.connection.vendor == "postgresql":
        for name in SHORT_GRAM_INDEXES:
            schema_editor.execute(f"DROP INDEX IF EXISTS {name}")
        schema_editor.execute("DROP FUNCTION IF EXISTS inloop_short_grams(text)")


class Migration(migrations.Migration):

    dependencies = [
        ('issues', '0015_feedback'),
    ]

    operations = [
        migrations.RunPython(create_short_gram_indexes, drop_short_gram_indexes),
        migrations.AlterModelOptions(
            name='heartbeat',
            options={'verbose_name': 'heartbeat', 'verbose_name_plural': 'heartbeats'},
        ),
        migrations.AlterField(
            model_name='away',
            name='set_by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='set by'),
        ),
        migrations.AlterField(
            model_name='breach',
            name='issue',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='breaches', to='issues.issue', verbose_name='issue'),
        ),
        migrations.AlterField(
            model_name='closedday',
            name='calendar',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='closed_days', to='issues.businesscalendar', verbose_name='business calendar'),
        ),
        migrations.AlterField(
            model_name='closure',
            name='calendar',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='closures', to='issues.businesscalendar', verbose_name='business calendar'),
        ),
        migrations.AlterField(
            model_name='heartbeat',
            name='at',
            field=models.DateTimeField(verbose_name='last finished'),
        ),
        migrations.AlterField(
            model_name='heartbeat',
            name='name',
            field=models.CharField(max_length=50, primary_key=True, serialize=False, verbose_name='name'),
        ),
        migrations.AlterField(
            model_name='issue',
            name='ack_at_risk_at',
            field=models.DateTimeField(blank=True, null=True, verbose_name='acknowledge at risk'),
        ),
        migrations.AlterField(
            model_name='issue',
            name='ack_breached_at',
            field=models.DateTimeField(blank=True, null=True, verbose_name='acknowledge breached'),
        ),
        migrations.AlterField(
            model_name='issue',
            name='ack_warned_at',
            field=models.DateTimeField(blank=True, null=True, verbose_name='acknowledge reminder sent'),
        ),
        migrations.AlterField(
            model_name='issue',
            name='auto_email_due_at',
            field=models.DateTimeField(blank=True, null=True, verbose_name='next automatic status email due'),
        ),
        migrations.AlterField(
            model_name='issue',
            name='auto_emails_sent',
            field=models.PositiveIntegerField(default=0, verbose_name='automatic status emails sent'),
        ),
        migrations.AlterField(
            model_name='issue',
            name='created_by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='created by'),
        ),
        migrations.AlterField(
            model_name='issue',
            name='deadline_warn_at',
            field=models.DateTimeField(blank=True, null=True, verbose_name="warn about the customer's deadline at"),
        ),
        migrations.AlterField(
            model_name='issue',
            name='deadline_warned_at',
            field=models.DateTimeField(blank=True, null=True, verbose_name="warned about the customer's deadline"),
        ),
        migrations.AlterField(
            model_name='issue',
            name='last_auto_email_at',
            field=models.DateTimeField(blank=True, null=True, verbose_name='last automatic status email'),
        ),
        migrations.AlterField(
            model_name='issue',
            name='update_at_risk_at',
            field=models.DateTimeField(blank=True, null=True, verbose_name='update at risk'),
        ),
        migrations.AlterField(
            model_name='issue',
            name='update_breached_at',
            field=models.DateTimeField(blank=True, null=True, verbose_name='update breached'),
        ),
        migrations.AlterField(
            model_name='issue',
            name='update_paused_at',
            field=models.DateTimeField(blank=True, null=True, verbose_name='update clock paused'),
        ),
        migrations.AlterField(
            model_name='issue',
            name='update_paused_calendar_time',
            field=models.DurationField(db_default=datetime.timedelta(0), default=datetime.timedelta(0), verbose_name='update clock paused for, in calendar time'),
        ),
        migrations.AlterField(
            model_name='issue',
            name='update_paused_for',
            field=models.DurationField(default=datetime.timedelta(0), verbose_name='update clock paused for'),
        ),
        migrations.AlterField(
            model_name='issue',
            name='update_warned_at',
            field=models.DateTimeField(blank=True, null=True, verbose_name='update reminder sent'),
        ),
        migrations.AlterField(
            model_name='issueevent',
            name='actor',
            field=models.ForeignKey(blank=True, help_text='Empty: the system.', null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='by'),
        ),
        migrations.AlterField(
            model_name='issueevent',
            name='at',
            field=models.DateTimeField(verbose_name='when'),
        ),
        migrations.AlterField(
            model_name='issueevent',
            name='body',
            field=models.TextField(blank=True, verbose_name='text'),
        ),
        migrations.AlterField(
            model_name='issueevent',
            name='data',
            field=models.JSONField(blank=True, default=dict, verbose_name='details'),
        ),
        migrations.AlterField(
            model_name='issueevent',
            name='issue',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='events', to='issues.issue', verbose_name='issue'),
        ),
        migrations.AlterField(
            model_name='issueevent',
            name='kind',
            field=models.CharField(choices=[('created', 'opened'), ('acknowledged', 'acknowledged'), ('assigned', 'assigned'), ('severity_changed', 'severity changed'), ('status_changed', 'status changed'), ('public_update', 'public update'), ('internal_note', 'internal note'), ('resolved', 'resolved'), ('reopened', 'reopened'), ('clock_started', 'clock started'), ('clock_rescheduled', 'clock rescheduled'), ('clock_paused', 'clock paused'), ('clock_resumed', 'clock resumed'), ('clock_stopped', 'clock stopped'), ('clock_warned', 'clock at risk'), ('clock_breached', 'clock breached'), ('breach_cleared', 'breach cleared'), ('auto_status_email', 'automatic status email'), ('email_queued', 'email queued'), ('email_sent', 'email sent'), ('customer_message', 'customer wrote'), ('inbound_automatic', 'automatic reply received'), ('inbound_not_a_contact', 'email from someone who is not a contact'), ('contact_unreachable', 'contact cannot be reached'), ('followed_up', 'followed up in a new issue'), ('waiting_reminder', 'customer reminded'), ('waiting_ended', 'waiting ended'), ('closure_announced', 'closure announced'), ('escalated', 'escalated'), ('breach_repeated', 'breach reminder'), ('deadline_set', 'customer deadline set'), ('deadline_warned', 'customer deadline at risk'), ('promise_kept', 'promise kept'), ('promise_broken', 'promise broken'), ('said_solved', 'customer said solved'), ('said_not_solved', 'customer said not solved'), ('rated', 'customer rated'), ('undone', 'action undone')], max_length=24, verbose_name='kind'),
        ),
        migrations.AlterField(
            model_name='issueevent',
            name='new_value',
            field=models.CharField(blank=True, max_length=200, verbose_name='new value'),
        ),
        migrations.AlterField(
            model_name='issueevent',
            name='old_value',
            field=models.CharField(blank=True, max_length=200, verbose_name='old value'),
        ),
        migrations.AlterField(
            model_name='issueevent',
            name='public',
            field=models.BooleanField(default=False, help_text='Whether the customer may ever see it.', verbose_name='public'),
        ),
        migrations.AlterField(
            model_name='issueevent',
            name='submission',
            field=models.CharField(blank=True, editable=False, max_length=80, null=True, unique=True, verbose_name='form submission'),
        ),
        migrations.AlterField(
            model_name='profile',
            name='user',
            field=models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, related_name='profile', to=settings.AUTH_USER_MODEL, verbose_name='user'),
        ),
        migrations.AlterField(
            model_name='promise',
            name='event',
            field=models.OneToOneField(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='promise', to='issues.issueevent', verbose_name='update'),
        ),
        migrations.AlterField(
            model_name='promise',
            name='issue',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='promises', to='issues.issue', verbose_name='issue'),
        ),
        migrations.AlterField(
            model_name='promise',
            name='made_by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='made by'),
        ),
        migrations.AlterField(
            model_name='promise',
            name='owner',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='owner'),
        ),
        migrations.AlterField(
            model_name='savedview',
            name='person',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='saved_views', to=settings.AUTH_USER_MODEL, verbose_name='person'),
        ),
    ]
