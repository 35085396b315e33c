"""A customer's latest resolved and closed issues, read in the customer page's order from an index that holds
only issues no longer open (the clocks' writes never touch it).
"""

from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('issues', '0021_inbox_sort_in_the_index'),
        migrations.swappable_dependency(settings.AUTH_USER_MODEL),
    ]

    operations = [
        migrations.AddIndex(
            model_name='issue',
            index=models.Index(models.F('customer'), models.OrderBy(models.F('resolved_at'), descending=True), models.OrderBy(models.F('id'), descending=True), condition=models.Q(('status__in', ['new', 'acknowledged', 'in_progress', 'waiting_on_customer']), _negated=True), name='issue_customer_past'),
        ),
    ]
