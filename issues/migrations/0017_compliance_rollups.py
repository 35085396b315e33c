"""The dashboard's compliance from daily roll-ups instead of a recount of the timeline on every look.

Tables only. The roll-ups of existing history are not built here: a team's days are counted from its timeline
the first time its dashboard is read (``issues.reporting.rollups.ensure_counted``), or ahead of time by
``manage.py recount_compliance`` (run it after deploying, so no lead waits for the first count). A migration
that read a year of timeline would hold the deploy for as long; the command can run while the app serves.
"""

import django.db.models.deletion
from django.db import migrations, models


class Migration(migrations.Migration):
    dependencies = [("issues", "0016_verbose_names")]

    operations = [
        migrations.CreateModel(
            name="ComplianceBasis",
            fields=[
                ("team", models.OneToOneField(on_delete=django.db.models.deletion.CASCADE, primary_key=True,
                                              related_name="+", serialize=False, to="issues.team",
                                              verbose_name="team")),
                ("zone", models.CharField(max_length=64, verbose_name="time zone")),
                ("customers", models.CharField(help_text="A digest of the team's customers.", max_length=64,
                                               verbose_name="customers")),
                ("counted_at", models.DateTimeField(verbose_name="recounted")),
            ],
            options={"verbose_name": "compliance basis", "verbose_name_plural": "compliance bases"},
        ),
        migrations.CreateModel(
            name="ComplianceDay",
            fields=[
                ("id", models.BigAutoField(auto_created=True, primary_key=True, serialize=False, verbose_name="ID")),
                ("day", models.DateField(verbose_name="day")),
                ("clock", models.CharField(choices=[("acknowledge", "acknowledge"), ("update", "update")],
                                           max_length=12, verbose_name="clock")),
                ("severity", models.CharField(choices=[("red", "Red"), ("orange", "Orange"), ("blue", "Blue"),
                                                       ("green", "Green")], max_length=10, verbose_name="severity")),
                ("ended", models.IntegerField(default=0, verbose_name="cycles ended")),
                ("cleared", models.IntegerField(default=0, verbose_name="ended with a breach")),
                ("missed", models.IntegerField(default=0, verbose_name="breached")),
                ("team", models.ForeignKey(db_index=False, on_delete=django.db.models.deletion.CASCADE,
                                           related_name="+", to="issues.team", verbose_name="team")),
            ],
            options={
                "verbose_name": "compliance day",
                "verbose_name_plural": "compliance days",
                "ordering": ("team", "day", "clock", "severity"),
                "indexes": [models.Index(fields=["team", "day"], name="compliance_team_day")],
            },
        ),
    ]
