"""The request our views receive, as the middleware leaves it, for the type checker."""

from django.http import HttpRequest
from django_htmx.middleware import HtmxDetails

from homedesign.accounts.models import User


class HtmxRequest(HttpRequest):
    htmx: HtmxDetails  # set by django-htmx's middleware on every request


class AuthedRequest(HtmxRequest):
    """A request of a signed-in user: LoginRequiredMiddleware lets no other reach views
    that are not marked @login_not_required."""

    user: User
