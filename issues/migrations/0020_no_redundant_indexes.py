"""Indexes no query needs leave the issue, the timeline and the breaches: the issue's customer column is led
by the indexes on (customer, …), the timeline's and the breaches' issue columns by event_issue_at and
breach_once_per_cycle; the scans' partial indexes leave out rows with no time to wait for (an acknowledged
issue's acknowledge clock). Each index costs every row written, and every new version of an issue row (each
clock write) adds an entry to each index whose condition it meets. Re-adding a foreign key checks its table once.
"""

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('issues', '0019_issue_text'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='issue',
            name='issue_ack_warn_scan',
        ),
        migrations.RemoveIndex(
            model_name='issue',
            name='issue_ack_breach_scan',
        ),
        migrations.RemoveIndex(
            model_name='issue',
            name='issue_update_warn_scan',
        ),
        migrations.RemoveIndex(
            model_name='issue',
            name='issue_update_breach_scan',
        ),
        migrations.RemoveIndex(
            model_name='issue',
            name='issue_auto_email_scan',
        ),
        migrations.AlterField(
            model_name='breach',
            name='issue',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='breaches', to='issues.issue', verbose_name='issue'),
        ),
        migrations.AlterField(
            model_name='issue',
            name='customer',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.PROTECT, related_name='issues', to='issues.customer', verbose_name='customer'),
        ),
        migrations.AlterField(
            model_name='issueevent',
            name='issue',
            field=models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE, related_name='events', to='issues.issue', verbose_name='issue'),
        ),
        migrations.AddIndex(
            model_name='issue',
            index=models.Index(condition=models.Q(('resolved_at', None), ('ack_at_risk_at__isnull', False), ('ack_warned_at', None)), fields=['ack_at_risk_at'], name='issue_ack_warn_scan'),
        ),
        migrations.AddIndex(
            model_name='issue',
            index=models.Index(condition=models.Q(('resolved_at', None), ('ack_breached_at', None), ('ack_due_at__isnull', False)), fields=['ack_due_at'], name='issue_ack_breach_scan'),
        ),
        migrations.AddIndex(
            model_name='issue',
            index=models.Index(condition=models.Q(('resolved_at', None), ('update_at_risk_at__isnull', False), ('update_warned_at', None)), fields=['update_at_risk_at'], name='issue_update_warn_scan'),
        ),
        migrations.AddIndex(
            model_name='issue',
            index=models.Index(condition=models.Q(('resolved_at', None), ('update_breached_at', None), ('update_due_at__isnull', False)), fields=['update_due_at'], name='issue_update_breach_scan'),
        ),
        migrations.AddIndex(
            model_name='issue',
            index=models.Index(condition=models.Q(('resolved_at', None), ('auto_email_due_at__isnull', False)), fields=['auto_email_due_at'], name='issue_auto_email_scan'),
        ),
    ]
