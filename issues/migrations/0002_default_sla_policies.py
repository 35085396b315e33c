"""The default promise of each severity (see the design's SLA section).

Red and orange count calendar time. Blue and green count working time: one working day (9 h) to
acknowledge and one working week (45 h) between updates on a Monday-Friday 09:00-18:00 calendar,
or 1 day / 7 days around the clock where no business calendar applies.
"""

from datetime import timedelta

from django.db import migrations

DEFAULTS = {
    "red": {"acknowledge_within": timedelta(hours=1), "update_every": timedelta(days=1)},
    "orange": {"acknowledge_within": timedelta(hours=4), "update_every": timedelta(days=2)},
    "blue": {
        "acknowledge_within": timedelta(hours=9),
        "update_every": timedelta(hours=45),
        "business_time": True,
        "fallback_acknowledge_within": timedelta(days=1),
        "fallback_update_every": timedelta(days=7),
    },
    "green": {
        "acknowledge_within": timedelta(hours=9),
        "update_every": timedelta(hours=45),
        "business_time": True,
        "fallback_acknowledge_within": timedelta(days=1),
        "fallback_update_every": timedelta(days=7),
    },
}


def create_policies(apps, schema_editor):
    SlaPolicy = apps.get_model("issues", "SlaPolicy")
    for severity, values in DEFAULTS.items():
        SlaPolicy.objects.get_or_create(severity=severity, defaults={"warn_at": 0.75, **values})


class Migration(migrations.Migration):
    dependencies = [("issues", "0001_initial")]

    operations = [migrations.RunPython(create_policies, migrations.RunPython.noop)]
