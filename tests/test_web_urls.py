"""Only http(s) links reach an href: the sync drops any other link with a warning naming the entry,
the admin refuses one, and a page never links one that got into the database anyway."""

import json
import re
import shutil
from pathlib import Path

import pytest

from catalog import sync
from catalog.models import Algorithm, Link, Model, Notebook, Solution

pytestmark = pytest.mark.django_db

FIXTURES = Path(__file__).parent / "fixtures" / "jumpstart"
MOBILENET = "pytorch-ic-mobilenet-v2"
BAD = "javascript:alert(1)"
HREFS = re.compile(r"""href\s*=\s*["']?([^"'\s>]*)""", re.IGNORECASE)


def hrefs(response):
    return HREFS.findall(response.content.decode())


def test_a_spec_whose_url_is_javascript_syncs_without_it_and_warns_naming_the_model(tmp_path):
    folder = tmp_path / "cache"
    shutil.copytree(FIXTURES, folder)
    manifest = json.loads((folder / "models_manifest.json").read_text())
    spec_path = folder / next(e["spec_key"] for e in manifest if e["model_id"] == MOBILENET)
    spec = json.loads(spec_path.read_text())
    spec_path.write_text(json.dumps({**spec, "url": BAD}))

    run = sync.sync_from_dir(folder)

    assert run.status == "succeeded" and run.created == 3 and run.skipped == 0
    assert Model.objects.get(model_id=MOBILENET).model_url == ""
    assert [w for w in run.warnings if BAD in w] == [
        f"dropped {MOBILENET}'s url '{BAD}': only http:// and https:// links are kept"
    ]
    # The other models keep their real links.
    assert Model.objects.exclude(model_id=MOBILENET).filter(model_url__startswith="https://").count() == 2


@pytest.fixture
def data_dir(tmp_path, monkeypatch):
    """A copy of the bundled data files (not the specs) that a test may change."""
    folder = tmp_path / "data"
    folder.mkdir()
    for path in sync.DATA_DIR.glob("*.json"):
        shutil.copy(path, folder / path.name)
    monkeypatch.setattr(sync, "DATA_DIR", folder)
    return folder


def change_first(folder, name, **fields):
    records = json.loads((folder / name).read_text())
    records[0].update(fields)
    (folder / name).write_text(json.dumps(records))
    return records[0]


def test_bundled_notebooks_solutions_and_algorithms_lose_links_that_are_not_http(data_dir):
    notebook = change_first(data_dir, "notebooks.json", url="data:text/html,<script>alert(1)</script>")
    solution = change_first(data_dir, "solutions.json", github_url=BAD, source_url="ftp://example.com/guide")
    algorithm = change_first(data_dir, "algorithms.json", algorithm_page="JavaScript:alert(1)")

    run = sync.sync_from_dir(FIXTURES)

    assert run.status == "succeeded"
    assert Notebook.objects.get(path=notebook["path"]).url == ""
    assert (Solution.objects.filter(slug=solution["slug"]).values_list("github_url", "source_url").get()) == ("", "")
    kept = Algorithm.objects.get(slug=algorithm["slug"])
    assert kept.algorithm_page == "" and kept.hyperparameters_page.startswith("https://")
    assert run.warnings == [
        f"dropped algorithm {algorithm['slug']}'s algorithm_page 'JavaScript:alert(1)': only http:// and https:// links are kept",
        f"dropped notebook {notebook['path']}'s url 'data:text/html,<script>alert(1)</script>': only http:// and https:// links are kept",
        f"dropped solution {solution['slug']}'s github_url '{BAD}': only http:// and https:// links are kept",
        f"dropped solution {solution['slug']}'s source_url 'ftp://example.com/guide': only http:// and https:// links are kept",
    ]


@pytest.fixture
def admin_client(client, staff):
    client.force_login(staff)
    return client


@pytest.mark.parametrize("url", [BAD, "ftp://example.com/video.mp4", "data:text/html,hi"])
def test_the_admin_refuses_a_link_that_is_not_http_and_says_why(admin_client, url):
    response = admin_client.post("/admin/catalog/link/add/", {"kind": "video", "title": "Sneaky", "url": url})

    assert response.status_code == 200
    assert response.context["adminform"].form.errors["url"] == [
        "Enter a web address that starts with http:// or https:// (other kinds of link are not allowed)."
    ]
    assert not Link.objects.exists()

    fixed = admin_client.post("/admin/catalog/link/add/", {"kind": "video", "title": "Sneaky", "url": "https://example.com/v"})
    assert fixed.status_code == 302 and Link.objects.get().url == "https://example.com/v"


def test_the_admin_refuses_a_solution_link_that_is_not_http_and_takes_https(admin_client):
    form = {"slug": "demo", "name": "Demo", "github_url": "ftp://github.com/aws/demo", "source_url": "http://example.com/"}
    refused = admin_client.post("/admin/catalog/solution/add/", form)
    assert list(refused.context["adminform"].form.errors) == ["github_url"]

    response = admin_client.post("/admin/catalog/solution/add/", {**form, "github_url": "https://github.com/aws/demo"})
    assert response.status_code == 302
    assert Solution.objects.get(slug="demo").github_url == "https://github.com/aws/demo"


def test_a_bad_link_forced_into_the_database_is_never_an_href(client_in, make_model):
    model = make_model(MOBILENET, model_url=BAD)
    notebook = Notebook.objects.create(path="x.ipynb", title="Forced notebook", url=BAD)
    solution = Solution.objects.create(slug="forced", name="Forced", github_url=BAD, source_url=" javascript:alert(2)")
    algorithm = Algorithm.objects.create(slug="forced", name="Forced algorithm", algorithm_page=BAD,
                                         hyperparameters_page="data:text/html,x")
    Link.objects.create(kind="blog", title="Forced link", url=BAD)
    Link.objects.create(kind="video", title="Forced video", url="vbscript:msgbox")

    pages = [model.get_absolute_url(), notebook.get_absolute_url(), solution.get_absolute_url(),
             algorithm.get_absolute_url(), "/", "/?q=forced", "/links/?kind=blog", "/links/?kind=video"]
    for page in pages:
        response = client_in.get(page)
        assert response.status_code == 200
        links = hrefs(response)
        assert links, page
        assert all(link.startswith(("/", "?", "http://", "https://")) for link in links), (page, links)
    assert "Forced link" in client_in.get("/links/?kind=blog").content.decode()
