"""A launch whose worker is killed after it took the message (SIGKILL: no clean-up, no ack) is sent
again by beat, and the deployment still reaches InService with exactly one endpoint, one endpoint
config and one model. Real processes: the local AWS, the web server, two Celery workers one after
the other, through the filesystem broker and, where REDIS_URL is set (CI), through Redis too."""

import http.cookiejar
import os
import re
import signal
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.error
import urllib.parse
import urllib.request
import uuid
from contextlib import closing
from pathlib import Path

import boto3
import pytest
from django.conf import settings

from .conftest import IN_CI
from .test_demo import _free_port, private_env

pytestmark = pytest.mark.demo
FIXTURES = Path(__file__).resolve().parent / "fixtures" / "jumpstart"
MOBILENET = "pytorch-ic-mobilenet-v2"
BUCKET = "jumpstart-cache-prod-us-east-1"
ROLE = "arn:aws:iam::123456789012:role/jumpstart-ui-test"


class Proc:
    """A child process in a session of its own, its output collected line by line."""

    def __init__(self, name, args, env):
        self.name = name
        self.proc = subprocess.Popen(args, cwd=settings.BASE_DIR, env=env, stdin=subprocess.DEVNULL,
                                     stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
                                     start_new_session=True)
        self.lines = []
        threading.Thread(target=lambda: self.lines.extend(self.proc.stdout), daemon=True).start()

    def wait_for(self, pattern, timeout=60):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            if any(re.search(pattern, line) for line in list(self.lines)):
                return
            if self.proc.poll() is not None:
                pytest.fail(f"{self.name} exited with {self.proc.returncode}:\n{self.tail()}")
            time.sleep(0.1)
        pytest.fail(f"{self.name}: no {pattern!r} within {timeout} s:\n{self.tail()}")

    def tail(self, n=30):
        return "".join(self.lines[-n:])

    def kill(self):
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)  # the worker's pool goes with it
        except ProcessLookupError:
            pass
        self.proc.wait()


def brokers():
    found = [pytest.param("", id="filesystem")]
    redis = os.getenv("REDIS_URL")
    if redis or IN_CI:  # in CI REDIS_URL is always set (the conftest makes sure)
        # A database of its own on the same server, so nothing else sees these messages.
        found.append(pytest.param(re.sub(r"/\d*$", "", redis or "") + "/13", id="redis"))
    return found


@pytest.mark.parametrize("redis_url", brokers())
def test_a_launch_lost_with_its_killed_worker_is_sent_again_and_makes_one_endpoint(tmp_path, redis_url):
    aws_port, web_port = _free_port(), _free_port()
    env = private_env(tmp_path)
    env.update(
        AWS_ENDPOINT_URL=f"http://127.0.0.1:{aws_port}", AWS_ACCESS_KEY_ID="testing", AWS_SECRET_ACCESS_KEY="testing",
        AWS_REGION="us-east-1", AWS_DEFAULT_REGION="us-east-1", JUMPSTART_BUCKET=BUCKET, SAGEMAKER_ROLE_ARN=ROLE,
        # Each Create call answers 3 s after SageMaker made the resource: the kill lands mid-launch.
        JSUI_LOCAL_CREATE_SECONDS="3", JSUI_LOCAL_ENDPOINT_SECONDS="1",
        RESUME_AFTER_SECONDS="4", POLL_SECONDS="1",
    )
    if redis_url:
        env["REDIS_URL"] = redis_url
    procs = []

    def start(name, *args):
        procs.append(Proc(name, [sys.executable, *args], env))
        return procs[-1]

    try:
        start("aws", "-m", "aws.local", "serve", "--port", str(aws_port), "--seed-dir", str(FIXTURES),
              "--bucket", BUCKET).wait_for("local AWS ready on")
        for command in (["migrate", "-v0"], ["sync_catalog", "--bucket", BUCKET, "-v0"],
                        ["shell", "-c", "from django.contrib.auth.models import User; "
                                        "User.objects.create_user('ada', password='pw-ada-12345')"]):
            subprocess.run([sys.executable, "manage.py", *command], cwd=settings.BASE_DIR, env=env, check=True,
                           timeout=120)
        start("web", "manage.py", "runserver", f"127.0.0.1:{web_port}", "--noreload")
        first = start("worker-1", "-m", "celery", "-A", "jumpstart_ui", "worker", "-l", "info", "--concurrency", "1")
        first.wait_for(r"celery@\S+ ready")

        site = Site(f"http://127.0.0.1:{web_port}")
        site.sign_in("ada", "pw-ada-12345")
        endpoint_page = site.deploy(MOBILENET, endpoint_name="lost-and-found")
        pk = int(re.search(r"/endpoints/(\d+)/", endpoint_page).group(1))

        first.wait_for(r"Task jobs\.tasks\.launch_deployment\[\S+\] received", timeout=30)
        time.sleep(1)  # inside CreateModel, which SageMaker has done but not answered yet
        first.kill()
        db = tmp_path / "demo.sqlite3"
        assert _row(db, pk)[0] == "queued"

        start("worker-2", "-m", "celery", "-A", "jumpstart_ui", "worker", "-B", "-l", "info",
              "--concurrency", "1").wait_for(r"celery@\S+ ready")
        deadline = time.monotonic() + 90
        while _row(db, pk)[0] != "in_service":
            assert time.monotonic() < deadline, f"still {_row(db, pk)}:\n{procs[-1].tail()}"
            time.sleep(0.5)

        sm = boto3.client("sagemaker", endpoint_url=env["AWS_ENDPOINT_URL"], region_name="us-east-1",
                          aws_access_key_id="testing", aws_secret_access_key="testing")
        assert [e["EndpointName"] for e in sm.list_endpoints()["Endpoints"]] == ["lost-and-found"]
        assert len(sm.list_endpoint_configs()["EndpointConfigs"]) == 1
        assert len(sm.list_models()["Models"]) == 1
        with closing(sqlite3.connect(db)) as conn:
            history = [m for (m,) in conn.execute(
                "select message from jobs_deploymentevent where deployment_id = ? order by at, id", (pk,))]
        assert any("sent it again" in m for m in history), history
        assert "lost-and-found" in site.get(endpoint_page) and "InService" in site.get(endpoint_page)
    finally:
        for proc in reversed(procs):
            proc.kill()


def _row(db, pk):
    with closing(sqlite3.connect(db)) as conn:
        return conn.execute("select status, pending, failure_reason from jobs_deployment where id = ?", (pk,)).fetchone()


class _NoRedirect(urllib.request.HTTPRedirectHandler):
    def redirect_request(self, *args, **kwargs):
        return None


class Site:
    """A person's browser, as far as forms and cookies go."""

    def __init__(self, base):
        self.base = base
        self.jar = http.cookiejar.CookieJar()
        self.opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(self.jar), _NoRedirect)

    def get(self, path):
        deadline = time.monotonic() + 30
        while True:
            try:
                return self.opener.open(self.base + path, timeout=10).read().decode()
            except urllib.error.URLError:  # the server is still starting
                if time.monotonic() > deadline:
                    raise
                time.sleep(0.3)

    def post(self, path, data):
        """POST a form; returns where the answer sends us."""
        form = self.get(path) if "csrfmiddlewaretoken" not in data else ""
        token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1) if form else None
        fields = {"csrfmiddlewaretoken": token, **data} if token else data
        try:
            self.opener.open(self.base + path, urllib.parse.urlencode(fields).encode(), timeout=30)
        except urllib.error.HTTPError as answer:
            if answer.code == 302:
                return answer.headers["Location"]
            raise
        pytest.fail(f"POST {path} was not redirected: the form came back")

    def sign_in(self, username, password):
        assert self.post("/login/", {"username": username, "password": password}) == "/"

    def deploy(self, model_id, **fields):
        data = {"instance_type": "ml.m5.large", "instance_count": "1", "role_arn": ROLE,
                "request_token": str(uuid.uuid4()), **fields}
        return self.post(f"/models/{model_id}/deploy/", data)
