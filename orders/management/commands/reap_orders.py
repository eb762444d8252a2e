from django.core.management.base import BaseCommand

from orders.services import orders_reap_stranded


class Command(BaseCommand):
    help = "Queue again (or fail and refund) orders whose worker died while processing them."

    def handle(self, *args, **options) -> None:
        count = orders_reap_stranded()
        self.stdout.write(f"{count} stranded order{'s' if count != 1 else ''} handled.")
