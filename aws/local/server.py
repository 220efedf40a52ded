"""moto's server on 127.0.0.1 in this process, with install()'s behaviour, until SIGINT or SIGTERM:

    python -m aws.local serve --port 5055 --seed-dir catalog/data/jumpstart-cache

With --seed-dir it also seeds the demo's training data (aws.local.datasets). Training jobs move on
a timer while the server runs (aws.local.training.Ticker).
"""

import argparse
import errno
import logging
import os
import signal
import socket
from pathlib import Path

import boto3

from . import install, training
from .core import BadSetting, MotoVersionMismatch, configure_from_env, describe_settings
from .datasets import seed_demo_data
from .s3 import seed_jumpstart_bucket

HOST = "127.0.0.1"
DEFAULT_PORT = 5055
STOP_SIGNALS = {signal.SIGINT, signal.SIGTERM}


class PortInUse(Exception):
    pass


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
    """Start moto's server on 127.0.0.1:port (0 picks a free port) in a thread of this process,
    and the timer that moves its training jobs; server.stop() stops both."""
    from moto.server import ThreadedMotoServer

    install()
    if port:
        ensure_port_free(port)
    logging.getLogger("werkzeug").setLevel(logging.ERROR)  # otherwise it logs every request
    server = ThreadedMotoServer(ip_address=HOST, port=port, verbose=False)
    server.start()
    ticker = training.start_ticker()
    stop_server = server.stop

    def stop():
        ticker.stop()
        stop_server()

    server.stop = stop
    return server


def endpoint_url(server):
    host, port = server.get_host_and_port()
    return f"http://{host}:{port}"


def serve(port, seed_dir=None, bucket=None):
    """Run the local AWS until SIGINT or SIGTERM."""
    from django.conf import settings

    # Taken by sigwait() below; blocked before the server thread starts, so it inherits the mask.
    signal.pthread_sigmask(signal.SIG_BLOCK, STOP_SIGNALS)
    configure_from_env()
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
            data = seed_demo_data(s3)
            buckets = sorted({uri.split("/")[2] for uri in data})
            print(f"seeded {len(data)} training data files in s3://{' and s3://'.join(buckets)}", flush=True)
        print(f"local SageMaker: {describe_settings()}", flush=True)
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
    except (PortInUse, MotoVersionMismatch, BadSetting, FileNotFoundError) as exc:
        parser.exit(1, f"aws.local: {exc}\n")

