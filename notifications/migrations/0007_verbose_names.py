# A label for every field, so the admin reads Korean in Korean (verbose_name only: no schema change).

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('notifications', '0006_customer_page_kinds'),
    ]

    operations = [
        migrations.AlterField(
            model_name='outboundemail',
            name='bounce_pending',
            field=models.BooleanField(default=False, editable=False, verbose_name='refusal to record'),
        ),
        migrations.AlterField(
            model_name='outboundemail',
            name='claim_token',
            field=models.UUIDField(blank=True, editable=False, null=True, verbose_name='claim token'),
        ),
    ]
