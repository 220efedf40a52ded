"""The project's own few views: the health check and the favicon."""

from django.contrib.auth.decorators import login_not_required
from django.db import connection
from django.http import HttpResponse
from django.shortcuts import redirect
from django.templatetags.static import static
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
