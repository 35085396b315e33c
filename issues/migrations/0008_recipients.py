"""Recipients per issue: copied contacts (Issue.cc) and contacts who follow all their company's issues.

Until now every contact heard about every issue of their company; the contacts that exist when this runs
become followers, so a deployment keeps sending what it sent. Contacts added later follow only the issues
they report or are copied on.
"""

from django.db import migrations, models


def existing_contacts_follow_all_issues(apps, schema_editor) -> None:
    apps.get_model("issues", "Contact").objects.update(follows_all_issues=True)


class Migration(migrations.Migration):

    dependencies = [
        ("issues", "0007_two_way_email"),
    ]

    operations = [
        migrations.AddField(
            model_name="contact",
            name="follows_all_issues",
            field=models.BooleanField(
                default=False,
                help_text="On: receives the emails of every issue of their company, not only of those they "
                          "reported or are copied on.",
                verbose_name="follows all issues",
            ),
        ),
        migrations.AddField(
            model_name="issue",
            name="cc",
            field=models.ManyToManyField(blank=True, related_name="cc_issues", to="issues.contact",
                                         verbose_name="copied contacts"),
        ),
        migrations.RunPython(existing_contacts_follow_all_issues, migrations.RunPython.noop, elidable=True),
    ]
