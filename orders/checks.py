"""System checks (`manage.py check`, and every command that starts the site): the routing
of services to providers (ORDER_PROVIDERS) names only providers that can serve them.

The catalogue says which providers can serve each service; this module reads only the
catalogue and the settings, so it is imported with the app config, before the models.
"""

from typing import Any

from django.conf import settings
from django.core.checks import CheckMessage, Error, register

from .catalog import SERVICES

PROVIDER_NAMES = {name for service in SERVICES.values() for name in service.providers}


@register()
def order_providers_check(app_configs: Any = None, **kwargs: Any) -> list[CheckMessage]:
    errors: list[CheckMessage] = []
    for key, names in settings.ORDER_PROVIDERS.items():
        service = SERVICES.get(key)
        if service is None:
            errors.append(
                Error(
                    f"ORDER_PROVIDERS routes {key!r}, which is not a service.",
                    hint="Services: " + ", ".join(SERVICES) + ".",
                    id="orders.E001",
                )
            )
            continue
        for name in names:
            if name in service.providers:
                continue
            problem = "no such provider" if name not in PROVIDER_NAMES else "it cannot serve it"
            errors.append(
                Error(
                    f"ORDER_PROVIDERS routes {key} to {name!r}: {problem}.",
                    hint=f"{service.label} can be served by: " + ", ".join(service.providers) + ".",
                    id="orders.E002",
                )
            )
    return errors
