"""The update clock's pauses in calendar time, beside the working time already kept: the 7-day calendar
ceiling is counted on the running clock, so time spent waiting on the customer must not count against it.

Rows paused before this migration get their counted pause as a lower bound (exact around the clock).
"""

import datetime

from django.db import migrations, models


def copy_counted_pause(apps, schema_editor) -> None:
    apps.get_model("issues", "Issue").objects.update(update_paused_calendar_time=models.F("update_paused_for"))


class Migration(migrations.Migration):

    dependencies = [
        ("issues", "0008_recipients"),
    ]

    operations = [
        migrations.AddField(
            model_name="issue",
            name="update_paused_calendar_time",
            field=models.DurationField(db_default=datetime.timedelta(0), default=datetime.timedelta(0)),
        ),
        migrations.RunPython(copy_counted_pause, migrations.RunPython.noop, elidable=True),
    ]
