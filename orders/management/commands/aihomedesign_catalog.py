from django.conf import settings
from django.core.management.base import BaseCommand, CommandError

from orders.providers.aihd_catalog import catalog_refresh
from orders.providers.aihomedesign import AiHomeDesignProvider
from orders.providers.base import ProviderError


class Command(BaseCommand):
    help = (
        "Fetch AI HomeDesign's spaces and widget items (their ids are opaque and may "
        "change) and store them; staff see them under Orders › Catalog entries."
    )

    def handle(self, *args, **options) -> None:
        if not settings.AIHOMEDESIGN_API_KEY:
            raise CommandError("Set AIHOMEDESIGN_API_KEY first.")
        try:
            count = catalog_refresh(AiHomeDesignProvider().client())
        except ProviderError as error:
            raise CommandError(f"{error.message} {error.detail}") from None
        self.stdout.write(f"{count} spaces and widget items stored.")
