from django.db import migrations

from issues.defaults import create_default_calendar


def create_calendar(apps, schema_editor):
    create_default_calendar(apps.get_model("issues", "BusinessCalendar"))


class Migration(migrations.Migration):
    dependencies = [("issues", "0005_business_calendars")]

    operations = [migrations.RunPython(create_calendar, migrations.RunPython.noop)]
