"""What AWS itself enforces on a request field (lengths, list sizes, patterns, ranges), read from
botocore's service model, so the forms refuse what AWS would refuse with the very same limits."""

import functools
import re
from dataclasses import dataclass

import botocore.session


@dataclass(frozen=True)
class Limit:
    min: int | None
    max: int | None
    pattern: re.Pattern | None  # the whole value must match

    def matches(self, value):
        return self.pattern is None or self.pattern.fullmatch(value) is not None


@functools.cache
def _model(service):
    return botocore.session.get_session().get_service_model(service)


@functools.cache
def limit(service, shape, member=None):
    """The limits of `shape` (e.g. "EndpointName"), or of its member (("VpcConfig", "Subnets")); for
    a list, its size; `item_limit` gives the limits of the list's items."""
    found = _model(service).shape_for(shape)
    if member:
        found = found.members[member]
    return _limit(found.metadata)


@functools.cache
def item_limit(service, shape, member):
    return _limit(_model(service).shape_for(shape).members[member].member.metadata)


def _limit(metadata):
    pattern = metadata.get("pattern")
    return Limit(metadata.get("min"), metadata.get("max"), re.compile(pattern) if pattern else None)
