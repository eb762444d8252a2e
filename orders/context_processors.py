from collections.abc import Callable

from django.http import HttpRequest

from .models import Review


def reviews(request: HttpRequest) -> dict[str, Callable[[], int]]:
    """How many change requests from sellers wait for the agent, for the header. A
    callable, so the query runs only on pages that show the header (not on HTMX polls)."""
    user = getattr(request, "user", None)
    if user is None or not user.is_authenticated:
        return {}
    return {"reviews_waiting": lambda: Review.objects.for_user(user).waiting().count()}
