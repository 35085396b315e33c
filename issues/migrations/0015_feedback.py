# After a resolution, the customer's word: solved or not, and a rating from 1 to 5 (one row per contact
# per resolution); the timeline's new event kinds.

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('issues', '0014_customer_page'),
    ]

    operations = [
        migrations.AlterField(
            model_name='issueevent',
            name='kind',
            field=models.CharField(choices=[('created', 'opened'), ('acknowledged', 'acknowledged'), ('assigned', 'assigned'), ('severity_changed', 'severity changed'), ('status_changed', 'status changed'), ('public_update', 'public update'), ('internal_note', 'internal note'), ('resolved', 'resolved'), ('reopened', 'reopened'), ('clock_started', 'clock started'), ('clock_rescheduled', 'clock rescheduled'), ('clock_paused', 'clock paused'), ('clock_resumed', 'clock resumed'), ('clock_stopped', 'clock stopped'), ('clock_warned', 'clock at risk'), ('clock_breached', 'clock breached'), ('breach_cleared', 'breach cleared'), ('auto_status_email', 'automatic status email'), ('email_queued', 'email queued'), ('email_sent', 'email sent'), ('customer_message', 'customer wrote'), ('inbound_automatic', 'automatic reply received'), ('inbound_not_a_contact', 'email from someone who is not a contact'), ('contact_unreachable', 'contact cannot be reached'), ('followed_up', 'followed up in a new issue'), ('waiting_reminder', 'customer reminded'), ('waiting_ended', 'waiting ended'), ('closure_announced', 'closure announced'), ('escalated', 'escalated'), ('breach_repeated', 'breach reminder'), ('deadline_set', 'customer deadline set'), ('deadline_warned', 'customer deadline at risk'), ('promise_kept', 'promise kept'), ('promise_broken', 'promise broken'), ('said_solved', 'customer said solved'), ('said_not_solved', 'customer said not solved'), ('rated', 'customer rated'), ('undone', 'action undone')], max_length=24),
        ),
        migrations.CreateModel(
            name='Feedback',
            fields=[
                ('id', models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name='ID')),
                ('resolved_at', models.DateTimeField(verbose_name='resolution')),
                ('solved', models.BooleanField(blank=True, null=True, verbose_name='solved')),
                ('score', models.PositiveSmallIntegerField(blank=True, null=True, verbose_name='rating')),
                ('comment', models.TextField(blank=True, verbose_name='comment')),
                ('created_at', models.DateTimeField(verbose_name='given')),
                ('updated_at', models.DateTimeField(verbose_name='changed')),
                ('contact', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='feedback', to='issues.contact', verbose_name='contact')),
                ('issue', models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='feedback', to='issues.issue', verbose_name='issue')),
                ('owner', models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='owner')),
            ],
            options={
                'verbose_name': 'customer feedback',
                'verbose_name_plural': 'customer feedback',
                'ordering': ['-created_at', '-pk'],
                'indexes': [models.Index(fields=['created_at'], name='feedback_given'), models.Index(fields=['owner', 'created_at'], name='feedback_owner_given')],
                'constraints': [models.UniqueConstraint(fields=('issue', 'contact', 'resolved_at'), name='feedback_once_per_resolution'), models.CheckConstraint(condition=models.Q(('score__isnull', True), models.Q(('score__gte', 1), ('score__lte', 5)), _connector='OR'), name='feedback_score_1_to_5'), models.CheckConstraint(condition=models.Q(('solved__isnull', False), ('score__isnull', False), _connector='OR'), name='feedback_says_something')],
            },
        ),
    ]
