from django.core.management.base import BaseCommand

from issues.reporting.rollups import recount_all


class Command(BaseCommand):
    help = ("Count every team's compliance days from the timeline: after deploying the roll-ups (so no lead waits "
            "for the first count), or to check them. The app keeps serving meanwhile.")

    def handle(self, *args, **options) -> None:
        self.stdout.write(f"Compliance recounted for {recount_all()} team(s).")
