"""The resources pane and the solutions poll, as the number of a user's resources grows.

    .venv/bin/python bench/resources.py [--requests 200]

In-process (Django's test client, a throwaway SQLite database, the local AWS in moto):

- the pane (/resources/): queries, and p50/p95 latency side by side with a bare login-protected
  view, requests alternating between the two, with 0, 10 and 1,000 each of solution launches,
  endpoints and training jobs (a third of them in flight);
- CloudFormation calls per solutions poll with 1, 10 and 50 stacks in flight, and with none.
"""

import argparse
import statistics
import time
import uuid

import _setup

_setup.django(DJANGO_SETTINGS_MODULE="bench.catalog_site")  # the project plus a bare view


def main():
    parser = argparse.ArgumentParser(description=__doc__.splitlines()[0])
    parser.add_argument("--requests", type=int, default=200)
    args = parser.parse_args()

    from django.db import connection
    from django.test import Client

    from catalog.models import Model, Solution
    from catalog.sync import BUNDLED_DIR, sync_from_dir

    with _setup.local_aws():
        sync_from_dir(BUNDLED_DIR)
        user = make_user()
        client = Client()
        client.force_login(user)
        model = Model.objects.get(model_id="pytorch-ic-mobilenet-v2")
        solution = Solution.objects.get(slug="visual-product-defect-detection")

        print("The pane, against a bare login-protected view (alternating requests):\n")
        print("| resources of each kind | pane queries | pane p50 / p95 ms | bare p50 / p95 ms | × bare (p50) |")
        print("| ---: | ---: | ---: | ---: | ---: |")
        have = 0
        for size in (0, 10, 1000):
            add_resources(user, model, solution, have, size)
            have = size
            queries = []
            with connection.execute_wrapper(lambda execute, sql, *a: queries.append(sql) or execute(sql, *a)):
                assert client.get("/resources/", HTTP_HX_REQUEST="true").status_code == 200
            pane, bare = [], []
            for _ in range(args.requests):
                pane.append(timed(client, "/resources/"))
                bare.append(timed(client, "/bench/bare/"))
            print(f"| {size:,} | {len(queries)} | {p(pane, 50):.2f} / {p(pane, 95):.2f} | "
                  f"{p(bare, 50):.2f} / {p(bare, 95):.2f} | {p(pane, 50) / p(bare, 50):.1f} |", flush=True)

        print("\nCloudFormation calls per solutions poll:\n")
        solutions_poll(user, solution)


def make_user():
    from django.contrib.auth import get_user_model

    return get_user_model().objects.create_user("bench", password="bench-password-1")


def add_resources(user, model, solution, have, size):
    from jobs.models import Deployment, SolutionLaunch, TrainingJob

    L, D, T = SolutionLaunch.Status, Deployment.Status, TrainingJob.Status
    new = range(have, size)
    SolutionLaunch.objects.bulk_create(
        SolutionLaunch(user=user, solution=solution, status=L.CREATING if i % 3 == 0 else L.COMPLETE,
                       request_token=uuid.uuid4()) for i in new)
    Deployment.objects.bulk_create(
        Deployment(user=user, model=model, model_version=model.version, endpoint_name=f"bench-{i}",
                   instance_type="ml.m5.large", status=D.CREATING if i % 3 == 0 else D.IN_SERVICE,
                   request_token=uuid.uuid4()) for i in new)
    TrainingJob.objects.bulk_create(
        TrainingJob(user=user, model=model, model_version=model.version, job_name=f"bench-{i}",
                    instance_type="ml.m5.xlarge", status=T.IN_PROGRESS, request_token=uuid.uuid4()) for i in new)


def solutions_poll(user, solution):
    from aws import local
    from jobs import solutions
    from jobs.models import SolutionLaunch

    print("| stacks in flight | calls per poll | of which |")
    print("| ---: | ---: | --- |")
    SolutionLaunch.objects.all().delete()
    calls = _setup.count_calls("cloudformation")
    local.configure(stack_seconds=3600, endpoint_seconds=3600)  # they stay in progress while counted
    made = 0
    for size in (0, 1, 10, 50):
        while made < size:
            launch = SolutionLaunch(user=user, solution=solution, request_token=uuid.uuid4(), pending="launch",
                                    role_arn="arn:aws:iam::123456789012:role/bench")
            launch.request = solutions.build_request(launch)
            launch.save()
            solutions.launch(launch)
            made += 1
        calls.clear()
        solutions.poll()
        print(f"| {size} | {sum(calls.values())} | {dict(calls) or '-'} |", flush=True)


def timed(client, url):
    start = time.perf_counter()
    response = client.get(url, HTTP_HX_REQUEST="true")
    elapsed = (time.perf_counter() - start) * 1000
    assert response.status_code == 200, url
    return elapsed


def p(values, percentile):
    return statistics.quantiles(values, n=100)[percentile - 1]


if __name__ == "__main__":
    main()
