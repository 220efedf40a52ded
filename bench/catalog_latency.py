"""Catalog page latency and queries per page at 1,000 and 10,000 models.

    .venv/bin/python bench/catalog_latency.py [--requests 60]

Runs in a throwaway database (SQLite in a temp folder unless DATABASE_URL is set: then that
server, in a database the script creates and drops). It loads the bundled catalog (1,092 real
models), measures, then adds synthetic copies of those models up to 10,000 and measures again.
The copies exist only in the throwaway database. Latency is Django's in-process request time
(test client: no network, no static files), p50/p95 over the given number of requests.
"""

import argparse
import os
import statistics
import sys
import tempfile
import time
from pathlib import Path

sys.path.insert(0, str(Path(__file__).resolve().parent.parent))
os.environ.setdefault("DJANGO_SETTINGS_MODULE", "jumpstart_ui.settings")
os.environ.setdefault("CATALOG_SYNC_HOURS", "0")
if "DATABASE_URL" not in os.environ:
    os.environ["DATABASE_URL"] = f"sqlite:///{tempfile.mkdtemp()}/bench.sqlite3"

import django  # noqa: E402

django.setup()

from django.db import connection  # noqa: E402
from django.test.utils import CaptureQueriesContext, setup_test_environment  # noqa: E402

PAGES = {
    "home": "/",
    "category (vision)": "/models/?modality=vision",
    "category, filtered": "/models/?modality=text&fine_tunable=on&sort=name",
    "search 'bert'": "/?q=bert",
    "search in models": "/models/?q=image+classification",
    "model page": "/models/pytorch-ic-mobilenet-v2/",
}


def measure(client, url, n):
    client.get(url)  # warm caches and connections
    with CaptureQueriesContext(connection) as captured:
        client.get(url)
    queries = len(captured)  # read now: the next request resets the connection's query log
    times = []
    for _ in range(n):
        start = time.perf_counter()
        response = client.get(url)
        times.append((time.perf_counter() - start) * 1000)
        assert response.status_code == 200, (url, response.status_code)
    times.sort()
    return queries, statistics.median(times), times[max(0, int(len(times) * 0.95) - 1)]


def grow_to(target):
    from catalog.models import Model

    real = list(Model.objects.filter(model_id__contains="-").exclude(model_id__contains="-benchcopy-"))
    copies, n = [], Model.objects.count()
    while n + len(copies) < target:
        source = real[len(copies) % len(real)]
        copy = Model(**{f.attname: getattr(source, f.attname) for f in Model._meta.concrete_fields if not f.primary_key})
        copy.model_id = f"{source.model_id}-benchcopy-{len(copies)}"
        copy.featured = False
        copy.refresh_search()
        copies.append(copy)
    Model.objects.bulk_create(copies, batch_size=500)


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=60)
    args = parser.parse_args()

    from django.contrib.auth import get_user_model
    from django.core.management import call_command
    from django.test import Client
    from django.test.utils import setup_databases, teardown_databases

    from catalog.models import Model
    from catalog.sync import BUNDLED_DIR, sync_from_dir

    setup_test_environment()
    old = setup_databases(verbosity=0, interactive=False)
    try:
        call_command("migrate", verbosity=0)
        sync_from_dir(BUNDLED_DIR)
        client = Client()
        client.force_login(get_user_model().objects.create_user("bench"))
        print(f"database: {connection.vendor}; {args.requests} requests per page\n")
        print(f"{'models':>7}  {'page':<20} {'queries':>7} {'p50 ms':>8} {'p95 ms':>8}")
        for target in (1_000, 10_000):
            grow_to(target)
            count = Model.objects.count()
            for name, url in PAGES.items():
                queries, p50, p95 = measure(client, url, args.requests)
                print(f"{count:>7}  {name:<20} {queries:>7} {p50:>8.1f} {p95:>8.1f}")
    finally:
        teardown_databases(old, verbosity=0)


if __name__ == "__main__":
    main()
