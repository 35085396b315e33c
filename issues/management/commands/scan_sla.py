from django.core.management.base import BaseCommand

from issues.scan import scan_sla


class Command(BaseCommand):
    help = "Run the SLA scan once, now: warnings, breaches and automatic status emails."

    def handle(self, *args, **options) -> None:
        self.stdout.write(f"SLA scan: {scan_sla()}.")
