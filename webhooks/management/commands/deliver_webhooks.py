from django.core.management.base import BaseCommand

from webhooks.delivery import deliver_due


class Command(BaseCommand):
    help = "Deliver the webhook events that are due, once, now."

    def handle(self, *args, **options) -> None:
        delivered = deliver_due()
        self.stdout.write(f"Delivered {delivered} webhook event{'s' if delivered != 1 else ''}.")
