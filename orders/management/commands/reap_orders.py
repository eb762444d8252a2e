from django.core.management.base import BaseCommand

from homedesign.taskrows import task_rows_reap_stale
from orders.services import listing_zips_reap_stranded, orders_reap_stranded


class Command(BaseCommand):
    help = (
        "Queue again (or fail and refund) orders whose worker died while processing them, "
        "and queue again (or fail) listing ZIPs whose worker died while building them."
    )

    def handle(self, *args, **options) -> None:
        # First, while those orders still look stranded: close the task rows left RUNNING.
        rows = task_rows_reap_stale()
        count = orders_reap_stranded()
        self.stdout.write(f"{count} stranded order{'s' if count != 1 else ''} handled.")
        zips = listing_zips_reap_stranded()
        if zips:
            self.stdout.write(f"{zips} stranded listing ZIP{'s' if zips != 1 else ''} handled.")
        if rows:
            self.stdout.write(f"{rows} task row{'s' if rows != 1 else ''} of lost workers closed.")
