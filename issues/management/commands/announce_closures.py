from django.core.management.base import BaseCommand

from issues.closures import announce_closures


class Command(BaseCommand):
    help = "Announce, once, the closures of the office whose notice time has come: owners and customers are told."

    def handle(self, *args, **options) -> None:
        announced = announce_closures()
        self.stdout.write(f"Announced {announced} closure{'s' if announced != 1 else ''}.")
