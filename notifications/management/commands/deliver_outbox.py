from django.core.management.base import BaseCommand

from issues.conversation import mark_refused_contacts
from notifications.delivery import deliver_due


class Command(BaseCommand):
    help = "Deliver the emails that are due in the outbox, once, now."

    def handle(self, *args, **options) -> None:
        sent = deliver_due()
        mark_refused_contacts()
        self.stdout.write(f"Delivered {sent} email{'s' if sent != 1 else ''}.")
