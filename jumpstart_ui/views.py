"""The project's own few views: the health check, the favicon, and the page a refused form
(CSRF) gets."""

from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import HttpResponse
from django.shortcuts import redirect, render
from django.templatetags.static import static
from django.urls import reverse
from django.utils.http import url_has_allowed_host_and_scheme
from django.views.decorators.cache import never_cache
from django.views.decorators.http import require_safe


@login_not_required
@require_safe
@never_cache
def healthz(request):
    """200 "ok" while the app answers and reaches its database (one trivial query)."""
    with connection.cursor() as cursor:
        cursor.execute("SELECT 1")
        cursor.fetchone()
    return HttpResponse("ok", content_type="text/plain")


@login_not_required
@require_safe
def favicon(request):
    """Browsers that ask for /favicon.ico find our SVG icon."""
    return redirect(static("favicon.svg"))


def csrf_failure(request, reason=""):
    """A form refused by the CSRF check: say what happened and what to do, as a page, or as a
    fragment for htmx (app.js shows it in the page's error banner)."""
    template = "csrf_failure.html"
    if getattr(request, "htmx", False):
        template += "#csrf-message"
    back = request.META.get("HTTP_REFERER", "")
    if not url_has_allowed_host_and_scheme(back, {request.get_host()}, request.is_secure()):
        back = reverse("catalog:home")
    return render(request, template, {"back": back}, status=403)
