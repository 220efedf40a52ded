"""Catalog pages over HTTP at 1,000, 10,000 and 100,000 models, side by side with a bare
login-protected view on the same server.

    .venv/bin/python bench/catalog_http.py [--sizes 1000,10000,100000] [--rounds 5] [--seconds 1.5]

It fills a throwaway database (SQLite in a temp folder, or a database of its own on the server
DATABASE_URL names, created and dropped) with the bundled catalog (1,092 real models) and then
synthetic copies of those models, starts gunicorn (2 sync workers, bench/catalog_site.py: the
project plus a bare view) on it, signs in over HTTP, and for each page measures:

- queries: in this process with Django's test client, with the page cache warm and cold (cold:
  the catalog's version changed just before, as after a sync or a staff edit);
- server time, p50/p95 (the Server-Timing header: every middleware, the view and its template),
  one request at a time, warm and cold (cold: the version is changed before each request);
- throughput with the cache warm, 4 clients at once, in rounds that alternate the page with the
  bare view, so both see the same machine; "x bare" is the median of the rounds' ratios.
"""

import argparse
import os
import re
import socket
import statistics
import subprocess
import sys
import tempfile
import threading
import time
import urllib.parse
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

PAGES = {
    "home": "/",
    "category (vision)": "/models/?modality=vision",
    "category, filtered": "/models/?modality=text&fine_tunable=on&sort=name",
    "search 'bert' (home)": "/?q=bert",
    "search 'bert' (models)": "/models/?q=bert",
    "search 'image classification'": "/models/?q=image+classification",
    "search 'llama 7b'": "/models/?q=llama+7b",
    "model page": "/models/pytorch-ic-mobilenet-v2/",
}
BARE = "/bench/bare/"
CLIENTS = 4


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--sizes", default="1000,10000,100000")
    parser.add_argument("--rounds", type=int, default=5, help="throughput rounds per page")
    parser.add_argument("--seconds", type=float, default=1.5, help="length of each throughput run")
    parser.add_argument("--requests", type=int, default=100, help="sequential requests per page, warm and cold")
    args = parser.parse_args()
    sizes = [int(n) for n in args.sizes.split(",")]

    scratch = Path(tempfile.mkdtemp(prefix="catalog-bench-"))
    server_url = os.environ.get("DATABASE_URL")
    database_url, drop = throwaway_database(server_url, scratch)
    os.environ.update({
        "DATABASE_URL": database_url,
        "DJANGO_SETTINGS_MODULE": "bench.catalog_site",
        "VAR_DIR": str(scratch),
        "CATALOG_SYNC_HOURS": "0",
        "DEBUG": "False",
        "DB_CONN_MAX_AGE": "600",  # as compose runs it
        "DB_CONN_HEALTH_CHECKS": "true",
        "LOG_LEVEL": "WARNING",
    })
    import django

    django.setup()
    from django.db import connection
    from django.test.utils import setup_test_environment

    setup_test_environment()  # the test client's host, for the query counts

    server = None
    try:
        prepare()
        server, port = start_gunicorn(scratch)
        cookie = sign_in(port)
        print(f"database: {connection.vendor}; gunicorn, 2 workers; {args.requests} requests per page one at a "
              f"time; throughput: {CLIENTS} clients, {args.rounds} rounds of {args.seconds:g} s against the bare view\n")
        print("| models | page | queries warm / cold | warm p50 / p95 ms | cold p50 / p95 ms | req/s | × bare |")
        print("| ---: | --- | ---: | ---: | ---: | ---: | ---: |")
        for size in sizes:
            count = grow_to(size)
            bare_times = latencies(port, cookie, BARE, args.requests)
            print(f"| {count:,} | bare login-protected view | 2 | {p50(bare_times):.1f} / {p95(bare_times):.1f} | | "
                  f"{rate(port, cookie, BARE, args.seconds):.0f} | 1 |", flush=True)
            for name, url in PAGES.items():
                warm_q, cold_q = queries(url)
                warm = latencies(port, cookie, url, args.requests)
                cold = latencies(port, cookie, url, args.requests, cold=True)
                page_rate, ratio = compare(port, cookie, url, args.rounds, args.seconds)
                print(f"| {count:,} | {name} | {warm_q} / {cold_q} | {p50(warm):.1f} / {p95(warm):.1f} | "
                      f"{p50(cold):.1f} / {p95(cold):.1f} | {page_rate:.0f} | {ratio:.2f} |", flush=True)
    finally:
        if server:
            server.terminate()
            server.wait(timeout=30)
        connection.close()
        drop()


def throwaway_database(server_url, scratch):
    """A database URL for this run, and how to drop it afterwards."""
    if not server_url:
        return f"sqlite:///{scratch}/bench.sqlite3", lambda: None
    import psycopg

    url = urllib.parse.urlsplit(server_url)
    name = f"{url.path.lstrip('/') or 'postgres'}_catalog_bench"
    admin = url._replace(path="/postgres").geturl()

    def run(sql):
        with psycopg.connect(admin, autocommit=True) as conn:
            conn.execute(sql)

    run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')
    run(f'CREATE DATABASE "{name}"')
    return url._replace(path=f"/{name}").geturl(), lambda: run(f'DROP DATABASE IF EXISTS "{name}" WITH (FORCE)')


def prepare():
    from django.contrib.auth import get_user_model
    from django.core.management import call_command

    from catalog.sync import BUNDLED_DIR, sync_from_dir

    call_command("migrate", verbosity=0)
    run = sync_from_dir(BUNDLED_DIR)
    assert run.status == "succeeded", run.error
    get_user_model().objects.create_user("bench", password="bench-password-1")


def grow_to(target):
    """Add synthetic copies of the real models (without their spec documents) up to target."""
    from django.db import transaction

    from catalog.models import Model

    real = list(Model.objects.exclude(model_id__contains="-benchcopy-").defer("spec", "other_specs"))
    have = Model.objects.count()
    fields = [f.attname for f in Model._meta.concrete_fields if not f.primary_key and f.attname not in ("spec", "other_specs")]
    with transaction.atomic():
        batch = []
        for n in range(have, target):
            source = real[n % len(real)]
            copy = Model(**{name: getattr(source, name) for name in fields})
            copy.model_id = f"{source.model_id}-benchcopy-{n}"
            copy.featured = False
            copy.refresh_search()
            batch.append(copy)
            if len(batch) == 2000:
                Model.objects.bulk_create(batch)
                batch = []
        Model.objects.bulk_create(batch)
    from django.db import connection

    with connection.cursor() as cursor:
        # As autovacuum would in time: PostgreSQL's GIN index takes bulk inserts into a pending
        # list that every search reads through until a vacuum merges it.
        cursor.execute("VACUUM ANALYZE" if connection.vendor == "postgresql" else "ANALYZE")
    return Model.objects.count()


def start_gunicorn(scratch):
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        port = s.getsockname()[1]
    server = subprocess.Popen(
        [sys.executable, "-m", "gunicorn", "jumpstart_ui.wsgi", "--workers", "2", "--bind", f"127.0.0.1:{port}",
         "--pythonpath", str(ROOT), "--log-level", "warning", "--no-control-socket"],
        cwd=scratch, env=os.environ.copy(),
    )
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=1).close()
            return server, port
        except OSError:
            time.sleep(0.2)
    server.terminate()
    raise SystemExit("gunicorn did not start")


def sign_in(port):
    """Sign in through the login form, as a browser would: the session cookie to send."""
    import http.client

    conn = http.client.HTTPConnection("127.0.0.1", port)
    conn.request("GET", "/login/")
    response = conn.getresponse()
    page = response.read().decode()
    csrf = re.search(r"csrftoken=([^;]+)", response.getheader("Set-Cookie")).group(1)
    token = re.search(r'name="csrfmiddlewaretoken" value="([^"]+)"', page).group(1)
    conn = http.client.HTTPConnection("127.0.0.1", port)
    body = urllib.parse.urlencode({"csrfmiddlewaretoken": token, "username": "bench", "password": "bench-password-1"})
    conn.request("POST", "/login/", body, {"Content-Type": "application/x-www-form-urlencoded",
                                           "Cookie": f"csrftoken={csrf}", "Referer": f"http://127.0.0.1:{port}/login/"})
    response = conn.getresponse()
    response.read()
    session = re.search(r"sessionid=([^;]+)", response.getheader("Set-Cookie") or "")
    assert response.status == 302 and session, ("sign-in failed", response.status)
    return f"sessionid={session.group(1)}"


def get(port, cookie, url):
    """One request on a fresh connection (gunicorn's sync workers close each one): the server's time in ms."""
    request = f"GET {url} HTTP/1.1\r\nHost: 127.0.0.1\r\nCookie: {cookie}\r\nConnection: close\r\n\r\n".encode()
    with socket.create_connection(("127.0.0.1", port)) as s:
        s.sendall(request)
        chunks = []
        while data := s.recv(262144):
            chunks.append(data)
    head = b"".join(chunks).split(b"\r\n\r\n", 1)[0].decode("latin-1")
    status = head.split(" ", 2)[1]
    assert status == "200", (url, head[:300])
    return float(re.search(r"Server-Timing: app;dur=([\d.]+)", head).group(1))


def latencies(port, cookie, url, n, cold=False):
    from catalog.models import CatalogVersion

    get(port, cookie, url)
    get(port, cookie, url)  # both workers warm
    times = []
    for _ in range(n):
        if cold:
            CatalogVersion.bump()
        times.append(get(port, cookie, url))
    return times


def rate(port, cookie, url, seconds):
    """Requests per second with CLIENTS requests in flight at all times."""
    done = [0] * CLIENTS
    end = time.perf_counter() + seconds

    def client(i):
        while time.perf_counter() < end:
            get(port, cookie, url)
            done[i] += 1

    start = time.perf_counter()
    threads = [threading.Thread(target=client, args=(i,)) for i in range(CLIENTS)]
    for t in threads:
        t.start()
    for t in threads:
        t.join()
    return sum(done) / (time.perf_counter() - start)


def compare(port, cookie, url, rounds, seconds):
    """The page's throughput and its ratio to the bare view's, from alternating runs."""
    rates, ratios = [], []
    for _ in range(rounds):
        bare = rate(port, cookie, BARE, seconds)
        page = rate(port, cookie, url, seconds)
        rates.append(page)
        ratios.append(page / bare)
    return statistics.median(rates), statistics.median(ratios)


def queries(url):
    """Queries for url with the page cache warm, then cold (the catalog's version just changed)."""
    from django.contrib.auth import get_user_model
    from django.db import connection
    from django.test import Client
    from django.test.utils import CaptureQueriesContext

    from catalog.models import CatalogVersion

    client = Client()
    client.force_login(get_user_model().objects.get(username="bench"))
    counts = []
    for cold in (False, True):
        client.get(url)
        if cold:
            CatalogVersion.bump()
        with CaptureQueriesContext(connection) as captured:
            assert client.get(url).status_code == 200
        counts.append(len(captured))
    return counts


def p50(times):
    return statistics.median(times)


def p95(times):
    return sorted(times)[max(0, int(len(times) * 0.95) - 1)]


if __name__ == "__main__":
    main()
