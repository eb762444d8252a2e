"""The site's URLs plus a bare view for the scale bench to measure the poll against: the
same middleware (session, user, login required), then nothing but the user's e-mail."""

from django.http import HttpRequest, HttpResponse
from django.urls import path
from django.views.decorators.http import require_GET

from homedesign.urls import urlpatterns as site_urls


@require_GET
def bare(request: HttpRequest) -> HttpResponse:
    return HttpResponse(request.user.get_username(), content_type="text/plain")


urlpatterns = [*site_urls, path("bench/bare/", bare)]
