"""The default SLA policy of each severity, and the working week the business-time defaults assume."""

from django.db import migrations

from issues.defaults import create_default_calendar, create_default_policies


def create_defaults(apps, schema_editor):
    create_default_policies(apps.get_model("issues", "SlaPolicy"))
    create_default_calendar(apps.get_model("issues", "BusinessCalendar"))


class Migration(migrations.Migration):
    dependencies = [("issues", "0001_initial")]

    operations = [migrations.RunPython(create_defaults, migrations.RunPython.noop)]
