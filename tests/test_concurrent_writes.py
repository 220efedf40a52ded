"""The database stays usable under concurrent writes: staff edit in the admin while a catalog sync
writes a thousand models, and neither fails with "database is locked" (SQLite) or otherwise."""

import json
import subprocess
import sys
import threading

import pytest
from django.conf import settings
from django.db import connections
from django.test import Client

from catalog.models import Link, Model, SyncRun
from catalog.sync import BUNDLED_DIR, sync_from_dir

EDITORS = 3
EDITS_EACH = 10
MAX_EDITS_EACH = 500


def in_thread(target, errors):
    """Run target in a thread with its own database connection, closed when it ends; any
    exception is kept for the test to report."""
    def run():
        try:
            target()
        except BaseException as exc:  # noqa: BLE001 - reported by the test
            errors.append(exc)
        finally:
            connections.close_all()

    thread = threading.Thread(target=run)
    thread.start()
    return thread


@pytest.mark.django_db(transaction=True)
def test_staff_edit_in_the_admin_while_a_catalog_sync_runs_and_both_succeed(staff):
    errors, statuses, during_sync = [], [], []
    clients = []
    for _ in range(EDITORS):
        client = Client()
        client.force_login(staff)
        clients.append(client)
    editing = threading.Barrier(EDITORS + 1)

    def run_sync():
        editing.wait(timeout=60)  # every editor is under way
        sync_from_dir(BUNDLED_DIR)

    def edit(number, client):
        i = 0
        # Until the sync is over, and at least a few edits each.
        while (i < EDITS_EACH or sync_thread.is_alive()) and i < MAX_EDITS_EACH:
            response = client.post("/admin/catalog/link/add/", {
                "kind": "blog", "title": f"Post {number}-{i}", "url": f"https://example.com/{number}/{i}",
            })
            statuses.append(response.status_code)
            # Read-then-write, as staff do: feature the post just added from the changelist.
            link = Link.objects.get(title=f"Post {number}-{i}")
            response = client.post("/admin/catalog/link/", {"action": "set_featured_true", "_selected_action": [link.pk]})
            statuses.append(response.status_code)
            if i == 0:
                editing.wait(timeout=60)
            elif sync_thread.is_alive():
                during_sync.append(i)
            i += 1

    sync_thread = in_thread(run_sync, errors)
    editors = [in_thread(lambda n=n, c=c: edit(n, c), errors) for n, c in enumerate(clients)]
    for thread in [sync_thread, *editors]:
        thread.join(timeout=180)

    assert errors == []
    links = Link.objects.count()
    assert links >= EDITORS * EDITS_EACH
    assert statuses == [302] * (2 * links)
    assert len(during_sync) > EDITORS, "the edits did not overlap the sync"
    run = SyncRun.objects.get()
    assert (run.status, run.created) == ("succeeded", 1092), run.error
    assert Model.objects.count() == 1092
    assert Link.objects.filter(featured=True).count() == links


def under(env, code):
    """What code (run after django.setup()) prints as JSON, in a process started with env."""
    prelude = "import json, os\nos.environ['DJANGO_SETTINGS_MODULE'] = 'jumpstart_ui.settings'\nimport django\ndjango.setup()\n"
    result = subprocess.run([sys.executable, "-c", prelude + code], cwd=settings.BASE_DIR, env=env,
                            capture_output=True, text=True, timeout=60)
    assert result.returncode == 0, result.stderr
    return json.loads(result.stdout)


SQLITE_CONNECTION = """
from django.db import connection
with connection.cursor() as cursor:
    cursor.execute("PRAGMA journal_mode")
    journal = cursor.fetchone()[0]
    cursor.execute("PRAGMA synchronous")
    synchronous = cursor.fetchone()[0]
print(json.dumps({"journal_mode": journal, "synchronous": synchronous, "transaction_mode": connection.transaction_mode,
                  "test_name": connection.settings_dict["TEST"]["NAME"], "pid": os.getpid()}))
"""
DATABASE_SETTINGS = """
from django.conf import settings
default = settings.DATABASES["default"]
print(json.dumps({"options": default.get("OPTIONS", {}), "test_name": default.get("TEST", {}).get("NAME")}))
"""


def test_sqlite_writes_ahead_and_takes_the_write_lock_at_begin_with_a_test_file_per_process(tmp_path):
    sqlite = {"DATABASE_URL": f"sqlite:///{tmp_path / 'db.sqlite3'}", "VAR_DIR": str(tmp_path / "var")}
    seen = under(sqlite, SQLITE_CONNECTION)
    assert {k: seen[k] for k in ("journal_mode", "synchronous", "transaction_mode")} == {
        "journal_mode": "wal", "synchronous": 1, "transaction_mode": "IMMEDIATE"}  # synchronous 1: NORMAL
    assert seen["test_name"] == str(tmp_path / "var" / f"test-db-{seen['pid']}.sqlite3")

    # PostgreSQL gets none of it (nothing connects here).
    postgres = {"DATABASE_URL": "postgres://jumpstart@db.invalid:5432/jumpstart", "VAR_DIR": str(tmp_path)}
    assert under(postgres, DATABASE_SETTINGS) == {"options": {}, "test_name": None}
