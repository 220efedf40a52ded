"""S3 reads: a JSON document, with size bounds, errors mapped to AwsError."""

import json

from .clients import client
from .errors import AWS_EXCEPTIONS, AwsError

MAX_JSON_BYTES = 20 * 1024 * 1024


def read_json(bucket, key, *, region=None, max_bytes=MAX_JSON_BYTES):
    """Fetch s3://bucket/key and parse it as JSON. Raises AwsError, or ValueError for bad JSON."""
    try:
        response = client("s3", region).get_object(Bucket=bucket, Key=key)
        if response.get("ContentLength", 0) > max_bytes:
            raise AwsError("TooLarge", f"s3://{bucket}/{key} is larger than {max_bytes} bytes")
        body = response["Body"].read(max_bytes + 1)
    except AWS_EXCEPTIONS as exc:
        raise AwsError.wrap(exc) from exc
    return json.loads(body)
