from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from orders.providers import REGISTRY
from orders.providers.handover import webhook_url


class Command(BaseCommand):
    help = "Print the webhook address to register with each remote provider."

    def handle(self, *args, **options) -> None:
        if not settings.PUBLIC_BASE_URL:
            raise CommandError("Set PUBLIC_BASE_URL first: providers must reach this site.")
        for name in ("aihomedesign", "iacrea", "adcreative"):
            self.stdout.write(f"{REGISTRY[name].label}: {webhook_url(name)}")
