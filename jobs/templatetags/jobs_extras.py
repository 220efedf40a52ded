"""Template filters for jobs pages."""

from datetime import timedelta

from django import template

register = template.Library()


@register.filter
def duration(delta):
    """A timedelta as a person says it: '45 s', '12 min', '3 h 5 min', '2 d 4 h'."""
    seconds = int(delta.total_seconds())
    days, rest = divmod(seconds, 86400)
    hours, rest = divmod(rest, 3600)
    minutes, seconds = divmod(rest, 60)
    if days:
        return f"{days} d {hours} h"
    if hours:
        return f"{hours} h {minutes} min"
    if minutes:
        return f"{minutes} min"
    return f"{seconds} s"


@register.filter
def seconds(value):
    """A number of seconds, said as duration says a timedelta."""
    if value is None or value == "":
        return "—"
    return duration(timedelta(seconds=int(value)))


@register.filter
def basename(prefix):
    """"data/flowers/roses/" -> "roses": a folder's own name in a listing."""
    return prefix.rstrip("/").rpartition("/")[2]
