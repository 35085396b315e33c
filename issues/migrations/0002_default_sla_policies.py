from django.db import migrations

from issues.defaults import create_default_policies


def create_policies(apps, schema_editor):
    create_default_policies(apps.get_model("issues", "SlaPolicy"))


class Migration(migrations.Migration):
    dependencies = [("issues", "0001_initial")]

    operations = [migrations.RunPython(create_policies, migrations.RunPython.noop)]
