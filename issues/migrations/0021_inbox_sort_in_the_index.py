"""The inbox's open-issues index by customer also carries the columns the inbox sorts by (PostgreSQL: INCLUDE;
other databases make the plain index): a page's ids come from the index alone, not from each open issue's row.
"""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('issues', '0020_no_redundant_indexes'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.RemoveIndex(
            model_name='issue',
            name='issue_open_update_due',
        ),
        migrations.AddIndex(
            model_name='issue',
            index=models.Index(condition=models.Q(('status__in', ['new', 'acknowledged', 'in_progress', 'waiting_on_customer'])), fields=['customer', 'update_due_at'], include=('id', 'severity', 'ack_due_at', 'ack_at_risk_at', 'update_at_risk_at', 'customer_deadline', 'created_at'), name='issue_open_update_due'),
        ),
    ]
