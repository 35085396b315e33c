# The customer's own issue page: a per-contact generation signed into its links, raised to revoke them.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('issues', '0013_undo'),
    ]

    operations = [
        migrations.AddField(
            model_name='contact',
            name='page_links_generation',
            field=models.PositiveIntegerField(default=1, editable=False, help_text='Raised by "Rotate customer page links": every link sent before stops working.', verbose_name='customer page link generation'),
        ),
    ]
