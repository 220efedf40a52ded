"""`manage.py demo`: the whole product on embedded defaults (a local AWS seeded with the bundled
catalog, SQLite, a filesystem broker) and a demo login; Ctrl-C stops everything it started."""

import os
import secrets
import signal
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.request
from pathlib import Path

from django.conf import settings
from django.contrib.auth import get_user_model
from django.core.management import call_command
from django.core.management.base import BaseCommand, CommandError

import aws
from aws import local
from catalog import sync

READY_TIMEOUT = 60
STOP_TIMEOUT = 10
DEMO_ROLE_ARN = "arn:aws:iam::123456789012:role/jumpstart-ui-demo"  # moto's default account


class Stop(Exception):
    """SIGINT or SIGTERM arrived."""


def _raise_stop(signum, frame):
    raise Stop(signal.Signals(signum).name)


class Children:
    """The processes the demo starts, each in a session of its own, so that Ctrl-C reaches only
    the demo, which stops them in order. Their output is passed through with a `[name] ` prefix."""

    def __init__(self, stdout):
        self.stdout = stdout
        self.procs = {}
        self.ready = {}
        self._pumps = []
        self._write_lock = threading.Lock()

    def start(self, name, args, *, ready_text=None):
        """Start args as `name`; ready[name] is set once a line of its output holds ready_text."""
        proc = subprocess.Popen(
            args, cwd=settings.BASE_DIR, stdin=subprocess.DEVNULL, stdout=subprocess.PIPE,
            stderr=subprocess.STDOUT, text=True, errors="replace", start_new_session=True,
        )
        self.procs[name] = proc
        self.ready[name] = threading.Event()
        pump = threading.Thread(target=self._pump, args=(name, proc, ready_text), daemon=True)
        pump.start()
        self._pumps.append(pump)
        self.say(f"started {name} (pid {proc.pid})")

    def _pump(self, name, proc, ready_text):
        for line in proc.stdout:
            self.write(f"[{name}] {line.rstrip()}")
            if ready_text and ready_text in line:
                self.ready[name].set()

    def write(self, text):
        with self._write_lock:
            self.stdout.write(text)
            self.stdout.flush()

    def say(self, text):
        self.write(f"[demo] {text}")

    def dead(self):
        """(name, exit code) of a child that has exited, or None."""
        for name, proc in self.procs.items():
            if proc.poll() is not None:
                return name, proc.returncode
        return None

    def wait_until(self, what, condition, timeout=READY_TIMEOUT):
        deadline = time.monotonic() + timeout
        while not condition():
            if died := self.dead():
                raise CommandError(f"{died[0]} exited with code {died[1]} while waiting for {what}")
            if time.monotonic() > deadline:
                raise CommandError(f"gave up waiting for {what} after {timeout} s")
            time.sleep(0.2)

    def stop(self):
        """Stop the children, last started first: SIGTERM, then SIGKILL to its whole process group
        after STOP_TIMEOUT. Whatever is left in a group (a worker's pool) is killed too."""
        for name, proc in reversed(self.procs.items()):
            if proc.poll() is None:
                self.say(f"stopping {name}")
                proc.terminate()
                try:
                    proc.wait(STOP_TIMEOUT)
                except subprocess.TimeoutExpired:
                    self.say(f"{name} did not stop within {STOP_TIMEOUT} s: killing it")
                    _kill_group(proc.pid)
                    proc.wait()
            _kill_group(proc.pid)
        for pump in self._pumps:
            pump.join(timeout=2)


def _kill_group(pgid):
    try:
        os.killpg(pgid, signal.SIGKILL)
    except ProcessLookupError:
        pass


def _port_free(port):
    try:
        local.ensure_port_free(port)
    except local.PortInUse:
        return False
    return True


def _answers(url):
    try:
        with urllib.request.urlopen(url, timeout=2):
            return True
    except urllib.error.HTTPError:
        return True  # an HTTP error is an answer: the server is up
    except OSError:
        return False


class Command(BaseCommand):
    help = "Run the whole product locally (local AWS, database, catalog, worker, web) until Ctrl-C."

    def add_arguments(self, parser):
        parser.add_argument(
            "--port", type=int, default=8000, help="the web server's port (default 8000)",
        )
        parser.add_argument(
            "--aws-port", type=int, default=local.DEFAULT_PORT,
            help=f"the local AWS's port (default {local.DEFAULT_PORT})",
        )
        parser.add_argument(
            "--seed-dir", type=Path, default=sync.BUNDLED_DIR,
            help="a folder laid out like JumpStart's bucket, which the local AWS serves as that bucket "
                 "(default: the bundled catalog)",
        )

    def handle(self, *args, port, aws_port, seed_dir, verbosity, **options):
        for option, number in (("--port", port), ("--aws-port", aws_port)):
            if not _port_free(number):
                raise CommandError(
                    f"port {number} on 127.0.0.1 is already in use: choose another with {option}"
                )
        if not (seed_dir / sync.MANIFEST_KEY).is_file():
            raise CommandError(
                f"{seed_dir} has no {sync.MANIFEST_KEY}: give --seed-dir a copy of JumpStart's bucket"
            )

        children = Children(self.stdout)
        previous = {s: signal.signal(s, _raise_stop) for s in local.STOP_SIGNALS}
        try:
            self._run(children, port, aws_port, seed_dir, verbosity)
        except Stop as stop:
            children.say(f"{stop}: stopping everything")
        finally:
            for s in local.STOP_SIGNALS:
                signal.signal(s, signal.SIG_IGN)  # a second Ctrl-C must not cut the clean-up short
            children.stop()
            for s, handler in previous.items():
                signal.signal(s, handler)

    def _run(self, children, port, aws_port, seed_dir, verbosity):
        bucket = settings.JUMPSTART_BUCKET
        _point_at_local_aws(aws_port)
        children.start(
            "aws",
            [sys.executable, "-m", "aws.local", "serve", "--port", str(aws_port),
             "--seed-dir", str(seed_dir), "--bucket", bucket],
            ready_text="local AWS ready on",
        )
        children.wait_until("the local AWS", children.ready["aws"].is_set)

        children.say("migrating the database")
        call_command("migrate", interactive=False, verbosity=max(verbosity - 1, 0))
        children.say(f"syncing the catalog from s3://{bucket}")
        call_command("sync_catalog", "--bucket", bucket, verbosity=verbosity)
        password = _reset_demo_user()

        children.start(
            "worker",
            [sys.executable, "-m", "celery", "-A", "jumpstart_ui", "worker", "-B", "-l", "info",
             "--concurrency", "2"],
        )
        children.start(
            "web",
            [sys.executable, str(settings.BASE_DIR / "manage.py"), "runserver", f"127.0.0.1:{port}",
             "--noreload"],
        )
        url = f"http://127.0.0.1:{port}/login/"
        children.wait_until("the web server", lambda: _answers(url))
        children.write(self.style.SUCCESS(_banner(url, password)))

        while not (died := children.dead()):
            time.sleep(0.5)
        raise CommandError(f"{died[0]} exited on its own with code {died[1]}; stopped the others")


def _point_at_local_aws(aws_port):
    """Point this process and every child at the local AWS and the embedded defaults."""
    # Anything that would send a call past AWS_ENDPOINT_URL could reach a real account.
    for name in list(os.environ):
        if name.startswith("AWS_ENDPOINT_URL_") or name == "AWS_IGNORE_CONFIGURED_ENDPOINT_URLS":
            del os.environ[name]
    os.environ["AWS_ENDPOINT_URL"] = f"http://{local.HOST}:{aws_port}"
    os.environ.setdefault("AWS_ACCESS_KEY_ID", "testing")
    os.environ.setdefault("AWS_SECRET_ACCESS_KEY", "testing")
    os.environ.setdefault("AWS_REGION", settings.AWS_REGION)
    os.environ.setdefault("AWS_DEFAULT_REGION", settings.AWS_REGION)
    # moto checks neither the role nor who owns a bucket: these let deploy and fine-tune work as is.
    os.environ.setdefault("OUTPUT_BUCKET", local.output_bucket())
    os.environ.setdefault("SAGEMAKER_ROLE_ARN", DEMO_ROLE_ARN)
    os.environ.setdefault("DEBUG", "1")
    os.environ["PYTHONUNBUFFERED"] = "1"  # children's lines arrive as they are written
    aws.reset_clients()
    settings.VAR_DIR.mkdir(parents=True, exist_ok=True)  # beat's schedule lives there, with Redis too


def _reset_demo_user():
    password = os.getenv("DEMO_PASSWORD") or secrets.token_urlsafe(12)
    user, _ = get_user_model().objects.get_or_create(username="demo")
    user.is_active = user.is_staff = user.is_superuser = True
    user.set_password(password)
    user.save()
    return password


def _banner(url, password):
    rule = "=" * 64
    return "\n".join([
        rule,
        f"  JumpStart UI is running: {url}",
        "  username: demo",
        f"  password: {password}",
        "  Ctrl-C stops everything.",
        rule,
    ])
