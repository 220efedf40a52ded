"""The local S3: the buckets the demo and the tests need, JumpStart's seeded as it is laid out
(the demo's training data is in aws.local.datasets)."""

from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from botocore.exceptions import ClientError

from .datasets import seed_stand_ins

DEMO_OUTPUT_BUCKET = "jumpstart-ui-demo-output"


def output_bucket():
    from django.conf import settings

    return settings.OUTPUT_BUCKET or DEMO_OUTPUT_BUCKET


def create_bucket(s3_client, bucket, region=None):
    """Create `bucket` in `region` (by default the client's), unless it is ours already."""
    region = region or s3_client.meta.region_name
    request = {"Bucket": bucket}
    if region != "us-east-1":  # the one region that must not be named as a LocationConstraint
        request["CreateBucketConfiguration"] = {"LocationConstraint": region}
    try:
        s3_client.create_bucket(**request)
    except ClientError as exc:
        if exc.response["Error"]["Code"] != "BucketAlreadyOwnedByYou":
            raise


def seed_jumpstart_bucket(s3_client, bucket, directory):
    """Create `bucket` and upload every file under `directory`, keyed by its relative path, as
    JumpStart's bucket holds them, and a stand-in for every artifact, script and default dataset
    their specs name (aws.local.datasets); also create the output bucket. Returns the keys
    written: the files', then the stand-ins'."""
    directory = Path(directory)
    if not directory.is_dir():
        raise FileNotFoundError(f"no such directory to seed s3://{bucket} from: {directory}")
    create_bucket(s3_client, bucket)
    paths = sorted(p for p in directory.rglob("*") if p.is_file())

    def upload(path):
        key = path.relative_to(directory).as_posix()
        s3_client.put_object(
            Bucket=bucket, Key=key, Body=path.read_bytes(), ContentType="application/json"
        )
        return key

    # Four at a time: one by one, the bundled catalog's ~1,100 files took 18 s here; now 10 s.
    with ThreadPoolExecutor(max_workers=4) as pool:
        keys = list(pool.map(upload, paths))
    keys += seed_stand_ins(s3_client, bucket, directory)
    create_bucket(s3_client, output_bucket())
    return keys

