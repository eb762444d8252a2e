"""The providers this installation knows, and which one serves an order.

Settings may reorder a service's providers (ORDER_PROVIDERS); the catalogue gives the
default order. The first provider that is configured and accepts the order serves it.
"""

from dataclasses import dataclass

from django.conf import settings

from ..catalog import SERVICES, Service
from ..models import Order
from .base import PlannedProvider, Provider
from .local import LocalProvider

REGISTRY: dict[str, Provider] = {
    provider.name: provider
    for provider in (
        LocalProvider(),
        PlannedProvider(
            "aihomedesign",
            "AI HomeDesign",
            {s.key for s in SERVICES.values() if "aihomedesign" in s.providers},
            "AIHOMEDESIGN_API_KEY",
        ),
        PlannedProvider(
            "iacrea",
            "IACrea",
            {s.key for s in SERVICES.values() if "iacrea" in s.providers},
            "IACREA_API_KEY",
        ),
        PlannedProvider(
            "object_remover", "object-remover", {"item_removal_mask"}, "OBJECT_REMOVER_BASE_URL"
        ),
        PlannedProvider("adcreative", "AdCreative", {"background_removal"}, "ADCREATIVE_API_KEY"),
    )
}


def providers_for(service: Service) -> list[Provider]:
    names = settings.ORDER_PROVIDERS.get(service.key, service.providers)
    return [REGISTRY[name] for name in names if name in REGISTRY]


@dataclass(frozen=True)
class Availability:
    available: bool
    reason: str = ""
    provider_labels: tuple[str, ...] = ()


def availability(service: Service) -> Availability:
    """Whether this installation can serve a service, and if not, what would make it so."""
    providers = providers_for(service)
    ready = tuple(p.label for p in providers if p.unavailable_reason() is None)
    if ready:
        return Availability(True, provider_labels=ready)
    reasons = [p.unavailable_reason() for p in providers]
    return Availability(False, reason="Not available here: " + " or ".join(reasons) + ".")


def provider_for(order: Order) -> Provider | None:
    for provider in providers_for(order.service_info):
        if provider.unavailable_reason() is None and provider.refuses(order) is None:
            return provider
    return None


def refusal(order: Order) -> str:
    """Why no provider can serve this order, for the agent."""
    reasons = [
        provider.unavailable_reason() or provider.refuses(order)
        for provider in providers_for(order.service_info)
    ]
    return "No provider here can do this edit: " + "; ".join(r for r in reasons if r) + "."
