"""The local AWS: moto's server in this process, seeded like JumpStart's bucket, plus what makes it
behave like SageMaker. Imported only by the demo command and the tests, never by product code.

    python -m aws.local serve --port 5055 --seed-dir catalog/data/jumpstart-cache
"""

import argparse
import errno
import logging
import os
import signal
import socket
import sys
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

import boto3
from botocore.exceptions import ClientError

# moto itself (the [local] extra) is imported where it is used, so this module imports without it.

# install() reaches into moto's private internals, which change between releases: built for this one.
MOTO_VERSION = "5.2.5"
HOST = "127.0.0.1"
DEFAULT_PORT = 5055
DEMO_OUTPUT_BUCKET = "jumpstart-ui-demo-output"
STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}

_installed = False


class PortInUse(Exception):
    pass


class MotoVersionMismatch(RuntimeError):
    pass


def check_moto_version():
    import moto

    if moto.__version__ != MOTO_VERSION:
        raise MotoVersionMismatch(
            f"aws.local was built for moto {MOTO_VERSION} but moto {moto.__version__} is installed. "
            f"Install the pinned one (pip install -e '.[local]'), or port aws/local.py to the new "
            f"version and run tests/test_local_aws.py."
        )


def install():
    """Make the in-process moto behave like SageMaker; call once before serving.

    Stock moto is enough for S3 and the catalog. The SageMaker lifecycle (endpoints Creating ->
    InService, training jobs InProgress -> Completed, driven by moto's state_manager) belongs here,
    patched into moto's backends, so that the server, the demo and the tests all get it from this
    one call.
    """
    global _installed
    if _installed:
        return
    check_moto_version()
    _installed = True


def ensure_port_free(port):
    # ThreadedMotoServer.start() waits forever when its thread cannot bind, so find out first.
    # SO_REUSEADDR as werkzeug sets it: a socket in TIME_WAIT is not "in use".
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.setsockopt(socket.SOL_SOCKET, socket.SO_REUSEADDR, 1)
        try:
            probe.bind((HOST, port))
        except OSError as exc:
            if exc.errno == errno.EADDRINUSE:
                raise PortInUse(f"port {port} on {HOST} is already in use") from exc
            raise


def start_server(port=DEFAULT_PORT):
    """Start moto's server on 127.0.0.1:port (0 picks a free port) in a thread of this process."""
    from moto.server import ThreadedMotoServer

    install()
    if port:
        ensure_port_free(port)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # otherwise it logs every request
    server = ThreadedMotoServer(ip_address=HOST, port=port, verbose=False)
    server.start()
    return server


def endpoint_url(server):
    host, port = server.get_host_and_port()
    return f"http://{host}:{port}"


def output_bucket():
    from django.conf import settings

    return settings.OUTPUT_BUCKET or DEMO_OUTPUT_BUCKET


def create_bucket(s3_client, bucket):
    region = s3_client.meta.region_name
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
    JumpStart's bucket holds them; also create the output bucket. Returns the keys written."""
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
    create_bucket(s3_client, output_bucket())
    return keys


def serve(port, seed_dir=None, bucket=None):
    """Run the local AWS until SIGINT or SIGTERM."""
    from django.conf import settings

    # Taken by sigwait() below; blocked before the server thread starts, so it inherits the mask.
    signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    server = start_server(port)
    url = endpoint_url(server)
    try:
        if seed_dir:
            bucket = bucket or settings.JUMPSTART_BUCKET
            s3 = boto3.client(
                "s3", endpoint_url=url, region_name=settings.AWS_REGION,
                aws_access_key_id="testing", aws_secret_access_key="testing",
            )
            keys = seed_jumpstart_bucket(s3, bucket, seed_dir)
            print(f"seeded s3://{bucket} with {len(keys)} files from {seed_dir}", flush=True)
        print(f"local AWS ready on {url}", flush=True)
        received = signal.sigwait(STOP_SIGNALS)
        print(f"{signal.Signals(received).name}: stopping the local AWS", flush=True)
    finally:
        server.stop()


def main(argv=None):
    parser = argparse.ArgumentParser(prog="python -m aws.local", description=__doc__.splitlines()[0])
    commands = parser.add_subparsers(dest="command", required=True)
    serve_parser = commands.add_parser("serve", help="run the local AWS on 127.0.0.1 until Ctrl-C")
    serve_parser.add_argument("--port", type=int, default=DEFAULT_PORT)
    serve_parser.add_argument("--seed-dir", type=Path, help="a folder laid out like JumpStart's bucket")
    serve_parser.add_argument("--bucket", help="the bucket to seed (default: settings.JUMPSTART_BUCKET)")
    args = parser.parse_args(argv)

    os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jumpstart_ui.settings")
    try:
        serve(args.port, args.seed_dir, args.bucket)
    except (PortInUse, MotoVersionMismatch, FileNotFoundError) as exc:
        parser.exit(1, f"aws.local: {exc}\n")


if __name__ == "__main__":
    sys.exit(main())
