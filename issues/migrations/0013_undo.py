# Undo for customer-facing quick actions (issues.undo): what an action changed, held while its emails wait;
# the timeline's line for an action undone.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('issues', '0012_saved_views_and_trigram_search'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AlterField(
            model_name='issueevent',
            name='kind',
            field=models.CharField(choices=[('created', 'opened'), ('acknowledged', 'acknowledged'), ('assigned', 'assigned'), ('severity_changed', 'severity changed'), ('status_changed', 'status changed'), ('public_update', 'public update'), ('internal_note', 'internal note'), ('resolved', 'resolved'), ('reopened', 'reopened'), ('clock_started', 'clock started'), ('clock_rescheduled', 'clock rescheduled'), ('clock_paused', 'clock paused'), ('clock_resumed', 'clock resumed'), ('clock_stopped', 'clock stopped'), ('clock_warned', 'clock at risk'), ('clock_breached', 'clock breached'), ('breach_cleared', 'breach cleared'), ('auto_status_email', 'automatic status email'), ('email_queued', 'email queued'), ('email_sent', 'email sent'), ('customer_message', 'customer wrote'), ('inbound_automatic', 'automatic reply received'), ('inbound_not_a_contact', 'email from someone who is not a contact'), ('contact_unreachable', 'contact cannot be reached'), ('followed_up', 'followed up in a new issue'), ('waiting_reminder', 'customer reminded'), ('waiting_ended', 'waiting ended'), ('closure_announced', 'closure announced'), ('escalated', 'escalated'), ('breach_repeated', 'breach reminder'), ('deadline_set', 'customer deadline set'), ('deadline_warned', 'customer deadline at risk'), ('promise_kept', 'promise kept'), ('promise_broken', 'promise broken'), ('undone', 'action undone')], max_length=24),
        ),
        migrations.CreateModel(
            name='Undo',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('cause', models.CharField(max_length=255, unique=True, verbose_name='cause')),
                ('action', models.CharField(choices=[('acknowledge', 'acknowledge'), ('resolve', 'resolve')], max_length=16, verbose_name='action')),
                ('at', models.DateTimeField(verbose_name='done')),
                ('expires_at', models.DateTimeField(verbose_name='may be undone until')),
                ('undone_at', models.DateTimeField(blank=True, null=True, verbose_name='undone')),
                ('changes', models.JSONField(default=dict, verbose_name='what it changed')),
                ('events', models.JSONField(default=list, verbose_name='events it wrote')),
                ('emails', models.JSONField(default=list, verbose_name='emails it held')),
                ('actor', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='by')),
                ('issues', models.ManyToManyField(related_name='+', to='issues.issue', verbose_name='issues')),
            ],
            options={
                'verbose_name': 'undo',
                'verbose_name_plural': 'undos',
                'ordering': ('-at', '-id'),
            },
        ),
    ]
