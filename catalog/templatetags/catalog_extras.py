"""Template filters for catalog pages."""

from django import template

from catalog.models import is_web_url

register = template.Library()


@register.filter
def http_url(value):
    """The value if it is an http(s) address, otherwise '': what goes into an href. The sync and
    the admin already refuse other links; this holds for a row that got past them."""
    return value if is_web_url(value) else ""
