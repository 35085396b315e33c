# A label for every field, so the admin reads Korean in Korean (verbose_name only: no schema change).

import django.db.models.deletion
from django.conf import settings
from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('inbound', '0002_customer_page'),
    ]

    operations = [
        migrations.AlterField(
            model_name='inboundattachment',
            name='data',
            field=models.BinaryField(verbose_name='content'),
        ),
        migrations.AlterField(
            model_name='inboundattachment',
            name='message',
            field=models.ForeignKey(on_delete=django.db.models.deletion.CASCADE, related_name='attachments', to='inbound.inboundmessage', verbose_name='message'),
        ),
        migrations.AlterField(
            model_name='inboundmessage',
            name='attempts',
            field=models.PositiveSmallIntegerField(default=0, verbose_name='attempts'),
        ),
        migrations.AlterField(
            model_name='inboundmessage',
            name='handled_by',
            field=models.ForeignKey(blank=True, null=True, on_delete=django.db.models.deletion.SET_NULL, related_name='+', to=settings.AUTH_USER_MODEL, verbose_name='handled by'),
        ),
    ]
