"""The providers this installation knows, and which one serves an order.

Settings may reorder a service's providers (ORDER_PROVIDERS); the catalogue gives the
default order. The first provider that is configured and accepts the order serves it.
"""

from dataclasses import dataclass

from django.conf import settings

from homedesign.projects.models import Photo

from ..catalog import Service
from ..models import Order
from .adcreative import AdCreativeProvider
from .aihomedesign import AiHomeDesignProvider
from .base import Offer, Provider
from .iacrea import IacreaProvider
from .local import LocalProvider
from .object_remover import ObjectRemoverProvider

REGISTRY: dict[str, Provider] = {
    provider.name: provider
    for provider in (
        LocalProvider(),
        AiHomeDesignProvider(),
        IacreaProvider(),
        ObjectRemoverProvider(),
        AdCreativeProvider(),
    )
}


def providers_for(service: Service) -> list[Provider]:
    """The providers routed to a service, in order (ORDER_PROVIDERS or the catalogue's).
    A provider the catalogue does not list for the service is a system check error
    (orders/checks.py); should it be routed all the same, it refuses every order."""
    names = settings.ORDER_PROVIDERS.get(service.key, service.providers)
    return [REGISTRY[name] for name in names if name in REGISTRY]


def _reason(provider: Provider, service: Service, order: Order | None) -> str | None:
    if provider.name not in service.providers:
        return f"{provider.label} has no {service.label.lower()} here"
    return provider.unavailable_reason() or (order and provider.refuses(order)) or None


def _choose(service: Service, order: Order | None = None) -> tuple[Provider | None, list[str]]:
    """The first provider that can serve (this order of) the service, or why none can."""
    reasons = []
    for provider in providers_for(service):
        reason = _reason(provider, service, order)
        if not reason:
            return provider, []
        reasons.append(reason)
    return None, reasons


@dataclass(frozen=True)
class Availability:
    available: bool
    reason: str = ""


def availability(service: Service) -> Availability:
    """Whether this installation can serve a service, and if not, what would make it so."""
    provider, reasons = _choose(service)
    if provider:
        return Availability(True)
    return Availability(False, "Not available here: " + " or ".join(reasons) + ".")


def offer(service: Service, photo: Photo) -> Offer:
    """How the provider that would serve this service starts its form for this photo."""
    provider, _ = _choose(service)
    return provider.offer(service, photo) if provider else Offer()


def provider_for(order: Order) -> Provider | None:
    return _choose(order.service_info, order)[0]


def candidates(order: Order) -> list[Provider]:
    """Every provider that could serve this order, in the order they are tried."""
    service = order.service_info
    return [
        provider for provider in providers_for(service) if _reason(provider, service, order) is None
    ]


def refusal(order: Order) -> str:
    """Why no provider here can do this order, for the agent."""
    return (
        "This edit cannot be done here: " + "; ".join(_choose(order.service_info, order)[1]) + "."
    )
