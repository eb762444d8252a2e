"""How long an order still needs, in words an agent reads at a glance."""

from datetime import datetime

from django import template
from django.utils import timezone
from django.utils.timesince import timeuntil

register = template.Library()


@register.filter
def ready_in(eta: datetime | None) -> str:
    """ "in about 40 seconds", "in about 3 minutes"; Django's timeuntil alone says
    "0 minutes" for anything under a minute."""
    if eta is None:
        return ""
    seconds = (eta - timezone.now()).total_seconds()
    if seconds < 10:
        return "in a few seconds"
    if seconds < 60:
        return f"in about {round(seconds / 10) * 10} seconds"
    return f"in about {timeuntil(eta)}"
