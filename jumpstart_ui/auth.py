"""Sign-in protection with django-axes: which address a sign-in comes from, and what a person
who is locked out is told."""

import math

from django.conf import settings
from django.shortcuts import render


def client_ip(request):
    """The address a sign-in comes from. Behind TRUSTED_PROXY_COUNT proxies that each append to
    X-Forwarded-For, it is the one the outermost proxy saw; anything left of it the client wrote."""
    count = settings.TRUSTED_PROXY_COUNT
    if count > 0:
        forwarded = [a.strip() for a in request.META.get("HTTP_X_FORWARDED_FOR", "").split(",") if a.strip()]
        if len(forwarded) >= count:
            return forwarded[-count]
    return request.META.get("REMOTE_ADDR")


def locked_out(request, original_response=None, credentials=None):
    """Our lockout page, 429. Every refused attempt restarts the cool-off (django-axes' default),
    so the wait it names is the whole cool-off."""
    minutes = max(1, math.ceil(settings.AXES_COOLOFF_TIME.total_seconds() / 60))
    return render(request, "registration/lockout.html", {"minutes": minutes}, status=429)
