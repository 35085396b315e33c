# The customer page's emails: the copy of what was done on it, fresh links, and the copy of feedback.

from django.db import migrations, models


class Migration(migrations.Migration):

    dependencies = [
        ('notifications', '0005_escalation_kinds'), ('issues', '0014_customer_page'),
    ]

    operations = [
        migrations.AlterField(
            model_name='outboundemail',
            name='kind',
            field=models.CharField(choices=[('acknowledged', 'acknowledgement'), ('public_update', 'status update'), ('resolved', 'resolved'), ('auto_status', 'automatic status email'), ('receipt', 'receipt of an emailed issue'), ('waiting_reminder', 'reminder while waiting on the customer'), ('closure_notice', 'office closure notice'), ('page_copy', 'copy of what was done on the customer page'), ('fresh_links', 'fresh links to the customer page'), ('feedback_copy', "copy of the customer's feedback"), ('assigned', 'assigned'), ('at_risk', 'at-risk reminder'), ('breach', 'breach notice'), ('red_issue', 'red issue'), ('reopened', 'reopened'), ('digest', 'daily digest'), ('customer_message', 'customer wrote'), ('unreachable', 'contact cannot be reached'), ('waiting_ended', 'no answer from the customer'), ('closure_owner', 'issues due during a closure'), ('escalation', 'escalation'), ('breach_repeat', 'breach still open'), ('deadline_at_risk', 'customer deadline at risk'), ('low_rating', 'low rating from the customer')], max_length=20, verbose_name='kind'),
        ),
    ]
