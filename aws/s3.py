"""S3 reads: a JSON document, the first bytes of a file, and browsing buckets folder by folder, every
call bounded in what it lists and reads; failures mapped to AwsError naming the bucket and, when
access is denied, the permission that is missing."""

import ipaddress
import json
import re
from dataclasses import dataclass
from datetime import datetime

from botocore.exceptions import ClientError, HTTPClientError

from .clients import client
from .errors import AWS_EXCEPTIONS, AwsError

MAX_JSON_BYTES = 20 * 1024 * 1024
MAX_KEY_BYTES = 1024  # S3's own limit on a key, in UTF-8
LIST_PAGE_MAX = 1000  # S3 sends at most this many keys per list call, whatever MaxKeys asks
BUCKETS_PAGE_MAX = 1000
BUCKETS_MAX_PAGES = 10
EXAMPLE_URI = "s3://my-training-data/flowers/"


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


# -- S3 URIs ----------------------------------------------------------------------------------------


@dataclass(frozen=True)
class S3Uri:
    bucket: str
    prefix: str  # as written after the bucket, "" for the whole bucket

    @property
    def folder(self):
        """The prefix read as a folder: ending with "/" ("" for the top of the bucket)."""
        return self.prefix if not self.prefix or self.prefix.endswith("/") else self.prefix + "/"

    def uri(self, key=None):
        """s3://bucket/key; without a key, this URI read as a folder."""
        return f"s3://{self.bucket}/{self.folder if key is None else key}"

    def __str__(self):
        return f"s3://{self.bucket}/{self.prefix}"


_BUCKET_CHARS = re.compile(r"[a-z0-9.-]+")
_IP_LIKE = re.compile(r"\d+\.\d+\.\d+\.\d+")
# Names S3 keeps for itself (access point aliases, Object Lambda, internationalised domains).
_RESERVED_STARTS = ("xn--", "sthree-")
_RESERVED_ENDS = ("-s3alias", "--ol-s3")


def bucket_name_problem(name):
    """What is wrong with `name` as an S3 bucket name, in plain words; None when S3 would accept it."""
    if not 3 <= len(name) <= 63:
        return f"a bucket name is 3 to 63 characters long, and {name!r} has {len(name)}"
    if not _BUCKET_CHARS.fullmatch(name):
        if name.lower() != name and _BUCKET_CHARS.fullmatch(name.lower()):
            return f"bucket names are all lowercase: {name.lower()!r}, not {name!r}"
        bad = sorted({c for c in name if not _BUCKET_CHARS.fullmatch(c)})
        return (f"a bucket name holds only lowercase letters, digits, dots and hyphens, and {name!r} has "
                + " ".join(repr(c) for c in bad))
    if not (name[0].isalnum() and name[-1].isalnum()):
        return f"a bucket name starts and ends with a letter or a digit, and {name!r} does not"
    if ".." in name:
        return f"a bucket name has no two dots in a row, and {name!r} has"
    if _IP_LIKE.fullmatch(name):
        try:
            ipaddress.ip_address(name)
            return f"a bucket name is not an IP address, and {name!r} is one"
        except ValueError:
            pass
    if name.startswith(_RESERVED_STARTS) or name.endswith(_RESERVED_ENDS):
        return f"{name!r} starts or ends the way only names S3 keeps for itself do"
    return None


def parse_s3_uri(text):
    """Read s3://bucket[/prefix] into an S3Uri; ValueError, whose message says what a good one looks
    like, for anything else."""
    text = (text or "").strip() if isinstance(text, str) else text
    if not isinstance(text, str) or not text:
        raise ValueError(f"Enter the S3 location of the data, such as {EXAMPLE_URI}")
    if not text.startswith("s3://"):
        raise ValueError(f"{text!r} is not an S3 URI: {_suggestion(text)}")
    rest = text[len("s3://"):]
    bucket, _, prefix = rest.partition("/")
    if not bucket:
        raise ValueError(f"{text!r} names no bucket: write s3://, then the bucket's name, then the folder, "
                         f"as in {EXAMPLE_URI}")
    problem = bucket_name_problem(bucket)
    if problem:
        raise ValueError(f"{text!r} does not name a valid bucket: {problem}. A good S3 URI looks like "
                         f"{EXAMPLE_URI}")
    if any(ord(c) < 32 or ord(c) == 127 for c in prefix):
        raise ValueError(f"{text!r} has a control character (a tab or a line break) in it; a good S3 URI "
                         f"looks like {EXAMPLE_URI}")
    if len(text.encode()) > MAX_KEY_BYTES:  # SageMaker's limit on an S3Uri, which also bounds S3's key
        raise ValueError(f"That S3 URI is {len(text.encode())} bytes long; SageMaker takes at most "
                         f"{MAX_KEY_BYTES}.")
    return S3Uri(bucket, prefix)


def _suggestion(text):
    """How to write `text` as an S3 URI, when it is another way of naming an S3 location."""
    lowered = text.lower()
    if lowered.startswith(("s3://", "s3a://", "s3n://")):
        return f"start it with s3:// exactly, in lowercase, as in {EXAMPLE_URI}"
    if lowered.startswith("arn:aws:s3:::"):
        return f"write it as s3://{text[len('arn:aws:s3:::'):]} instead of an ARN"
    web = re.match(r"https?://([^/]+)\.s3[.-]([a-z0-9-]+\.)?amazonaws\.com(?:\.cn)?/(.*)", text)
    if web:
        return f"that is its web address; write it as s3://{web.group(1)}/{web.group(3)}"
    return f"an S3 URI starts with s3://, then the bucket's name, then the folder, as in {EXAMPLE_URI}"


# -- listing and reading ----------------------------------------------------------------------------


@dataclass(frozen=True)
class S3Object:
    key: str
    size: int  # bytes
    last_modified: datetime

    @property
    def name(self):
        """The last part of the key, as a file browser shows it."""
        return self.key.rstrip("/").rsplit("/", 1)[-1]


@dataclass(frozen=True)
class Listing:
    """One page of a folder: its subfolders (full prefixes, ending with "/"), the objects in it
    (with list_objects, every object below it), and the token for the next page (None: last page)."""
    bucket: str
    prefix: str
    folders: tuple
    objects: tuple
    next_token: str | None

    @property
    def truncated(self):
        return self.next_token is not None


@dataclass(frozen=True)
class Buckets:
    names: tuple
    truncated: bool  # True when there are more than were listed


@dataclass(frozen=True)
class Chunk:
    """The first bytes of an object, and the object's whole size."""
    data: bytes
    size: int

    @property
    def complete(self):
        return len(self.data) >= self.size


def list_buckets(limit=100, *, name_prefix=None, in_region=None):
    """Names of the buckets this dashboard's credentials can see, at most `limit` of them, from at
    most BUCKETS_MAX_PAGES calls; `name_prefix` and `in_region` filter on S3's side."""
    if limit < 1:
        raise ValueError("limit must be at least 1")
    request = {"MaxBuckets": min(limit, BUCKETS_PAGE_MAX)}
    if name_prefix:
        request["Prefix"] = name_prefix
    if in_region:
        request["BucketRegion"] = in_region
    names, token = [], None
    try:
        for _ in range(BUCKETS_MAX_PAGES):
            page = client("s3").list_buckets(**request)
            names += [bucket["Name"] for bucket in page.get("Buckets", [])]
            token = page.get("ContinuationToken")
            if len(names) >= limit or not token:
                break
            request.update(ContinuationToken=token, MaxBuckets=min(limit - len(names), BUCKETS_PAGE_MAX))
    except AWS_EXCEPTIONS as exc:
        raise _error(exc, None, "s3:ListAllMyBuckets", "*") from exc
    return Buckets(tuple(names[:limit]), truncated=len(names) > limit or bool(token))


def list_folder(bucket, prefix, token=None, page_size=100, *, region=None):
    """One page of the folder `prefix` ("" for the top of the bucket): its subfolders and the objects
    directly in it, with Delimiter="/", so a page can be browsed folder by folder. Subfolders count
    toward page_size as S3 counts them."""
    return _list(bucket, _as_folder(prefix), token, page_size, region, delimiter="/")


def list_objects(bucket, prefix, token=None, page_size=LIST_PAGE_MAX, *, region=None):
    """One page of every object below the folder `prefix`, at any depth (no subfolders listed)."""
    return _list(bucket, _as_folder(prefix), token, page_size, region, delimiter=None)


def _list(bucket, prefix, token, page_size, region, *, delimiter):
    if page_size < 1:
        raise ValueError("page_size must be at least 1")
    request = {"Bucket": bucket, "Prefix": prefix, "MaxKeys": min(page_size, LIST_PAGE_MAX)}
    if delimiter:
        request["Delimiter"] = delimiter
    if token:
        request["ContinuationToken"] = token
    try:
        page = client("s3", region).list_objects_v2(**request)
    except AWS_EXCEPTIONS as exc:
        raise _error(exc, bucket, "s3:ListBucket") from exc
    objects = tuple(
        S3Object(item["Key"], item.get("Size", 0), item.get("LastModified"))
        for item in page.get("Contents", [])
        if item["Key"] != prefix  # the empty "folder" object the S3 console makes
    )
    folders = tuple(item["Prefix"] for item in page.get("CommonPrefixes", []))
    more = page.get("NextContinuationToken") if page.get("IsTruncated") else None
    return Listing(bucket, prefix, folders, objects, more)


def read_start(bucket, key, max_bytes, *, region=None):
    """The first `max_bytes` of s3://bucket/key, from one ranged GET, and the object's size."""
    if max_bytes < 1:
        raise ValueError("max_bytes must be at least 1")
    try:
        response = client("s3", region).get_object(Bucket=bucket, Key=key, Range=f"bytes=0-{max_bytes - 1}")
        body = response["Body"]
        try:
            data = body.read(max_bytes)
        finally:
            body.close()
    except AWS_EXCEPTIONS as exc:
        if _code(exc) == "InvalidRange":  # S3's answer to any range of an empty object
            return Chunk(b"", 0)
        raise _error(exc, bucket, "s3:GetObject", f"arn:aws:s3:::{bucket}/{key}", key=key) from exc
    total = (response.get("ContentRange") or "").rpartition("/")[2]
    size = int(total) if total.isdigit() else response.get("ContentLength", len(data))
    return Chunk(data[:max_bytes], size)


def bucket_region(bucket):
    """The region the bucket is in, from GetBucketLocation (None there means us-east-1, "EU" the old
    name of eu-west-1); when that is denied, from the region header S3 sends with HeadBucket."""
    try:
        answer = client("s3").get_bucket_location(Bucket=bucket)
    except AWS_EXCEPTIONS as exc:
        error = _error(exc, bucket, "s3:GetBucketLocation")
        if error.code != "AccessDenied":
            raise error from exc
        region = _region_from_head(bucket)
        if region:
            return region
        raise error from exc
    location = answer.get("LocationConstraint")
    return {None: "us-east-1", "": "us-east-1", "EU": "eu-west-1"}.get(location, location)


def _region_from_head(bucket):
    try:
        response = client("s3").head_bucket(Bucket=bucket)
        metadata = response.get("ResponseMetadata", {})
    except ClientError as exc:  # S3 names the region even when it refuses the request
        metadata = exc.response.get("ResponseMetadata", {})
    except AWS_EXCEPTIONS:
        return None
    return (metadata.get("HTTPHeaders") or {}).get("x-amz-bucket-region")


def object_exists(bucket, key, *, region=None):
    """Is there an object at exactly s3://bucket/key? (HeadObject; False for a missing key or bucket.)"""
    try:
        client("s3", region).head_object(Bucket=bucket, Key=key)
    except AWS_EXCEPTIONS as exc:
        if _code(exc) in ("404", "NoSuchKey", "NotFound", "NoSuchBucket"):
            return False
        raise _error(exc, bucket, "s3:GetObject", f"arn:aws:s3:::{bucket}/{key}", key=key) from exc
    return True


def prefix_exists(bucket, prefix, *, region=None):
    """Is there at least one object whose key starts with `prefix` (taken as written)?"""
    try:
        page = client("s3", region).list_objects_v2(Bucket=bucket, Prefix=prefix, MaxKeys=1)
    except AWS_EXCEPTIONS as exc:
        raise _error(exc, bucket, "s3:ListBucket") from exc
    return bool(page.get("Contents") or page.get("KeyCount"))


# -- errors -----------------------------------------------------------------------------------------


def _as_folder(prefix):
    prefix = prefix or ""
    return prefix if not prefix or prefix.endswith("/") else prefix + "/"


def _code(exc):
    return str(exc.response.get("Error", {}).get("Code")) if isinstance(exc, ClientError) else ""


def _error(exc, bucket, action, resource=None, *, key=None):
    """An AwsError for a failed S3 call: the bucket's name and a plain reason; for a denial, the
    permission `action` on `resource` (the bucket's ARN unless given) that would allow the call.
    Throttling, any 5xx and timeouts are transient."""
    error = AwsError.wrap(exc)
    status = 0
    if isinstance(exc, ClientError):
        status = exc.response.get("ResponseMetadata", {}).get("HTTPStatusCode") or 0
    if error.transient or status >= 500:
        where = f" for the bucket {bucket}" if bucket else ""
        return AwsError(error.code, f"S3 could not answer{where} just now ({error.reason.strip().rstrip('.')}).",
                        transient=True)
    if isinstance(exc, HTTPClientError):
        return AwsError("NetworkError", f"S3 did not answer in time ({exc})", transient=True)
    code = error.code
    resource = resource or f"arn:aws:s3:::{bucket}"
    if code == "NoSuchBucket" or (code in ("404", "NotFound") and key is None and bucket):
        return AwsError("NoSuchBucket", f"The bucket {bucket} does not exist (or is not yours).")
    if code in ("AccessDenied", "403", "AllAccessDisabled", "Forbidden"):
        return AwsError("AccessDenied", f"The AWS identity this dashboard runs as is not authorized to perform: "
                        f"{action} on {resource}, so it cannot read {_what(bucket, key)}.")
    if code == "NoSuchKey" or (code in ("404", "NotFound") and key is not None):
        return AwsError("NoSuchKey", f"There is no file s3://{bucket}/{key}.")
    if code == "InvalidObjectState":
        return AwsError(code, f"s3://{bucket}/{key} is archived (S3 Glacier or Deep Archive): restore it first.")
    if code == "InvalidBucketName":
        return AwsError(code, f"{bucket!r} is not a valid bucket name.")
    what = _what(bucket, key) if bucket else "the buckets"
    return AwsError(code, f"S3 refused to read {what}: {error.reason.strip().rstrip('.')}.")


def _what(bucket, key):
    if bucket is None:
        return "the list of buckets"
    return f"s3://{bucket}/{key}" if key is not None else f"the bucket {bucket}"
