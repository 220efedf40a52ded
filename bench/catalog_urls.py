"""The project's URLs plus a bare login-protected view, for the catalog bench's server only."""

from django.http import HttpResponse
from django.urls import include, path


def bare(request):
    """What any signed-in page costs before it does anything: the session and the user."""
    return HttpResponse("ok", content_type="text/plain")


urlpatterns = [
    path("bench/bare/", bare),
    path("", include("jumpstart_ui.urls")),
]
