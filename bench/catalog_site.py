"""Settings of the catalog bench's server (bench/catalog_http.py runs gunicorn with them): the
project's own, plus bench/catalog_urls.py's bare login-protected view to compare every page with,
and the server's own time for each request in a Server-Timing header. Only the bench uses them."""

import time

from jumpstart_ui.settings import *  # noqa: F403
from jumpstart_ui.settings import MIDDLEWARE

ROOT_URLCONF = "bench.catalog_urls"
MIDDLEWARE = [f"{__name__}.server_timing", *MIDDLEWARE]


def server_timing(get_response):
    """Outermost, so the time covers every middleware, the view and its template."""

    def middleware(request):
        start = time.perf_counter()
        response = get_response(request)
        response["Server-Timing"] = f"app;dur={(time.perf_counter() - start) * 1000:.3f}"
        return response

    return middleware
