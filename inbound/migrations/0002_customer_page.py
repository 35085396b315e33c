# Answers written on the customer's page are stored as inbound messages of their own source.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('inbound', '0001_initial'), ('issues', '0014_customer_page'),
    ]

    operations = [
        migrations.AlterField(
            model_name='inboundmessage',
            name='source',
            field=models.CharField(choices=[('pipe', 'mail server pipe'), ('imap', 'IMAP mailbox'), ('webhook', 'provider webhook'), ('dev', 'development mailbox'), ('page', 'customer page')], max_length=10, verbose_name='source'),
        ),
    ]
