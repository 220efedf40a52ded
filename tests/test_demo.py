"""`manage.py demo` (the README's `python3 dev.py demo`) as a real subprocess: it brings up the
local AWS, the database, the bundled catalog, a Celery worker and the web server, prints a login
that works, and Ctrl-C stops every process it started. About 40 s: it runs the whole product."""

import http.cookiejar
import os
import re
import signal
import socket
import sqlite3
import subprocess
import sys
import threading
import time
import urllib.parse
import urllib.request
from contextlib import closing, contextmanager
from pathlib import Path

import pytest
from django.conf import settings
from playwright.sync_api import expect

from .conftest import screenshot, sign_in

pytestmark = pytest.mark.demo

# What the demo reads from the environment; the test gives it a clean, private set.
INHERITED_SETTINGS = ("DATABASE_URL", "REDIS_URL", "VAR_DIR", "DEMO_PASSWORD", "JUMPSTART_BUCKET",
                      "OUTPUT_BUCKET", "SAGEMAKER_ROLE_ARN", "DEBUG")


def private_env(folder):
    """The environment for a demo of its own: SQLite and the filesystem broker under folder."""
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AWS_", "JSUI_")) and k not in INHERITED_SETTINGS}
    env.update(
        DATABASE_URL=f"sqlite:///{folder / 'demo.sqlite3'}",
        VAR_DIR=str(folder / "var"),
        PYTHONUNBUFFERED="1",
    )
    return env


@contextmanager
def running_demo(folder, **settings_env):
    """manage.py demo with its own database, broker and ports, and the given settings, until the
    block ends; yields (site URL, the demo login's password) once its worker is ready."""
    env = {**private_env(folder), **settings_env}
    port = _free_port()
    demo = Demo(["--port", str(port), "--aws-port", str(_free_port())], env)
    try:
        password = demo.wait_for(r"password: (\S+)", timeout=90)
        demo.wait_for(r"\[worker\] .* (celery@\S+) ready", timeout=30)
        yield f"http://127.0.0.1:{port}", password
    finally:
        if demo.proc.poll() is not None:
            print(f"the demo exited with {demo.proc.returncode}:\n{demo.tail(80)}")
        demo.kill()


@pytest.fixture
def demo_env(tmp_path):
    return private_env(tmp_path)


def test_demo_prints_a_working_login_and_ctrl_c_stops_every_process_it_started(demo_env, tmp_path):
    web_port, aws_port = _free_port(), _free_port()
    demo = Demo(["--port", str(web_port), "--aws-port", str(aws_port)], demo_env)
    try:
        password = demo.wait_for(r"password: (\S+)", timeout=90)
        demo.wait_for(r"\[worker\] .* (celery@\S+) ready", timeout=30)  # its pool is up too
        children = demo.find_children()
        commands = " | ".join(cmdline for _, cmdline in children.values())
        assert "-m aws.local serve" in commands
        assert "-m celery -A jumpstart_ui worker -B" in commands
        assert f"runserver 127.0.0.1:{web_port}" in commands

        site = f"http://127.0.0.1:{web_port}"
        assert _log_in(site, "demo", password) == f"{site}/"  # signed in: sent on to the catalog
        with closing(sqlite3.connect(tmp_path / "demo.sqlite3")) as db:
            demo_user = "select is_staff, is_superuser from auth_user where username = 'demo'"
            assert db.execute(demo_user).fetchall() == [(1, 1)]
            assert db.execute("select count(*) from catalog_model").fetchone()[0] > 0

        demo.proc.send_signal(signal.SIGINT)
        assert demo.proc.wait(timeout=30) == 0, demo.tail()
        still_running = [cmdline for pid, (start, cmdline) in children.items() if _running(pid, start)]
        assert still_running == []
    finally:
        demo.kill()


def test_a_browser_on_the_demo_finds_the_real_catalog_bert_first_vision_only_and_model_details(demo_env, tmp_path, page):
    web_port = _free_port()
    demo = Demo(["--port", str(web_port), "--aws-port", str(_free_port())], demo_env)
    try:
        password = demo.wait_for(r"password: (\S+)", timeout=90)
        site = f"http://127.0.0.1:{web_port}"
        sign_in(page, site, "demo", password)

        page.goto(f"{site}/models/")
        assert int(page.locator("#result-count").inner_text()) > 1000

        page.fill("#id_q", "bert")
        page.wait_for_url(re.compile(r"q=bert"))
        expect(page.locator(".model-card").first).to_contain_text("bert")
        first = page.locator(".model-card").all_inner_texts()[:8]
        assert all("bert" in card.lower() for card in first), first

        page.goto(f"{site}/models/")
        page.select_option("#id_modality", "vision")
        page.wait_for_url(re.compile(r"modality=vision"))
        with closing(sqlite3.connect(tmp_path / "demo.sqlite3")) as db:
            modalities = dict(db.execute(
                "select modality, count(*) from catalog_model where available and not hidden"
                " and not deprecated and not deprecated_by_staff group by modality").fetchall())
        expect(page.locator("#result-count")).to_have_text(str(modalities["vision"]))
        assert modalities["vision"] < sum(modalities.values())
        screenshot(page, "demo-vision")

        page.click(".model-card >> nth=0")
        expect(page.locator("#inference-instances li").first).to_contain_text("ml.")
        expect(page.locator("table.hyperparameters")).to_be_visible()
        screenshot(page, "demo-model")
    finally:
        demo.kill()


def test_demo_refuses_a_port_in_use_and_starts_nothing(demo_env):
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = subprocess.run(
            [sys.executable, "manage.py", "demo", "--port", str(port), "--aws-port", str(_free_port())],
            cwd=settings.BASE_DIR, env=demo_env, capture_output=True, text=True, timeout=60,
        )
    assert result.returncode == 1
    assert f"port {port} on 127.0.0.1 is already in use: choose another with --port" in result.stderr
    assert "started" not in result.stdout


class Demo:
    """manage.py demo in the background, its output collected line by line."""

    def __init__(self, args, env):
        self.proc = subprocess.Popen(
            [sys.executable, "manage.py", "demo", *args], cwd=settings.BASE_DIR, env=env,
            stdin=subprocess.DEVNULL, stdout=subprocess.PIPE, stderr=subprocess.STDOUT, text=True,
        )
        self.lines = []
        self.children = {}
        threading.Thread(target=self._collect, daemon=True).start()

    def _collect(self):
        for line in self.proc.stdout:
            self.lines.append(line)

    def find_children(self):
        """{pid: (start time, command line)} of the processes the demo runs now; remembered."""
        self.children.update(_descendants(self.proc.pid))
        return self.children

    def wait_for(self, pattern, timeout):
        deadline = time.monotonic() + timeout
        while time.monotonic() < deadline:
            for line in list(self.lines):
                if match := re.search(pattern, line):
                    return match.group(1)
            if self.proc.poll() is not None:
                pytest.fail(f"demo exited with {self.proc.returncode} before {pattern!r}:\n{self.tail()}")
            time.sleep(0.2)
        pytest.fail(f"no {pattern!r} within {timeout} s:\n{self.tail()}")

    def tail(self, n=40):
        return "".join(self.lines[-n:])

    def kill(self):
        """After a failure: leave nothing behind (the children run in their own sessions)."""
        if self.proc.poll() is None:
            self.find_children()
            self.proc.kill()
        for pid, (start, _) in self.children.items():
            if not _running(pid, start):
                continue
            try:
                group = os.getpgid(pid)
                if group == os.getpgrp():  # never the group pytest runs in
                    os.kill(pid, signal.SIGKILL)
                else:
                    os.killpg(group, signal.SIGKILL)  # the whole group: a worker's pool goes too
            except ProcessLookupError:
                pass
        self.proc.wait()


def _log_in(base, username, password):
    """Sign in through the login form as a browser would; returns the URL it lands on."""
    opener = urllib.request.build_opener(urllib.request.HTTPCookieProcessor(http.cookiejar.CookieJar()))
    form = opener.open(f"{base}/login/", timeout=10).read().decode()
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', form).group(1)
    data = {"csrfmiddlewaretoken": token, "username": username, "password": password}
    with opener.open(f"{base}/login/", urllib.parse.urlencode(data).encode(), timeout=10) as response:
        return response.url


def _free_port():
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def _stat(pid):
    """(ppid, start time, state) of a process from /proc, or None when it is gone."""
    try:
        stat = Path(f"/proc/{pid}/stat").read_text()
    except (FileNotFoundError, ProcessLookupError):
        return None
    fields = stat.rpartition(")")[2].split()  # after the command name, which may hold spaces
    return int(fields[1]), fields[19], fields[0]


def _descendants(root):
    """{pid: (start time, command line)} of every process below root."""
    tree = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit() and (stat := _stat(entry.name)):
            tree.setdefault(stat[0], []).append((int(entry.name), stat[1]))
    found, todo = {}, [root]
    while todo:
        for pid, start in tree.get(todo.pop(), []):
            try:
                cmdline = Path(f"/proc/{pid}/cmdline").read_bytes().replace(b"\0", b" ").decode().strip()
            except FileNotFoundError:
                continue
            found[pid] = (start, cmdline)
            todo.append(pid)
    return found


def _running(pid, start):
    stat = _stat(pid)
    return stat is not None and stat[1] == start and stat[2] != "Z"
