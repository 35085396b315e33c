"""The outbox keeps one index per purpose: the issue column is led by outbox_issue, and the dedupe key and
Message-ID are unique by constraints of their own (a field's unique=True also made a prefix-search index on
PostgreSQL that nothing reads). Every email written paid for the three unused indexes.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('issues', '0020_no_redundant_indexes'),
        ('notifications', '0007_verbose_names'),
    ]

    operations = [
        migrations.AlterField(
            model_name='outboundemail',
            name='dedupe_key',
            field=models.CharField(max_length=255, verbose_name='dedupe key'),
        ),
        migrations.AlterField(
            model_name='outboundemail',
            name='issue',
            field=models.ForeignKey(blank=True, db_index=False, null=True, on_delete=django.db.models.deletion.CASCADE, related_name='emails', to='issues.issue', verbose_name='issue'),
        ),
        migrations.AlterField(
            model_name='outboundemail',
            name='message_id',
            field=models.CharField(max_length=255, verbose_name='Message-ID'),
        ),
        migrations.AddConstraint(
            model_name='outboundemail',
            constraint=models.UniqueConstraint(fields=('dedupe_key',), name='outbox_once_per_cause'),
        ),
        migrations.AddConstraint(
            model_name='outboundemail',
            constraint=models.UniqueConstraint(fields=('message_id',), name='outbox_message_id_once'),
        ),
    ]
