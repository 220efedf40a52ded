"""SageMaker calls one endpoint poll makes, with 1, 100 and 1,000 endpoints in flight.

    .venv/bin/python bench/poll_calls.py

Runs against the local AWS in-process (moto plus aws/local/) and a throwaway SQLite database.
For each size it creates that many deployments and their endpoints (Creating), then counts the
calls of: the first poll (no mark yet: it lists everything), a poll where nothing changed, and the
poll where every endpoint has become InService. The deployments use the real MobileNet spec.
"""

import time

import _setup

# The poll re-reads endpoints changed this long before its last mark (30 s by default); a short
# overlap lets the bench show a quiet poll without waiting half a minute per size.
_setup.django(POLL_OVERLAP_SECONDS="2")


def main():
    from django.contrib.auth import get_user_model

    from aws import local, sagemaker
    from catalog.models import Model
    from catalog.sync import BUNDLED_DIR, sync_from_dir
    from jobs import deployments
    from jobs.models import Deployment, PollMark

    with _setup.local_aws():
        sync_from_dir(BUNDLED_DIR)
        model = Model.objects.get(model_id="pytorch-ic-mobilenet-v2")
        user = get_user_model().objects.create_user("bench")
        calls = _setup.count_calls("sagemaker")

        def count(step):
            calls.clear()
            step()
            return sum(calls.values()), dict(calls)

        print(f"{'in flight':>9}  {'first poll':>22}  {'nothing changed':>18}  {'all became InService':>30}")
        made = 0
        for size in (1, 100, 1000):
            local.configure(endpoint_seconds=3600)  # they stay Creating until we say
            Deployment.objects.all().delete()
            PollMark.objects.all().delete()
            for _ in range(size):
                made += 1
                d = Deployment.objects.create(
                    user=user, model=model, model_version=model.version, endpoint_name=f"bench-{made}",
                    instance_type="ml.m5.large", role_arn="arn:aws:iam::123456789012:role/bench",
                    pending="launch")
                deployments.launch(d)
            first = count(deployments.poll)
            time.sleep(3)  # past the overlap: the quiet poll reads only what changed since
            idle = count(deployments.poll)
            local.configure(endpoint_seconds=0)
            # Reading them (as SageMaker's own clock would) moves them; then the poll sees it.
            sagemaker.changed_endpoints(None)
            settled = count(deployments.poll)
            assert Deployment.objects.filter(status="in_service").count() == size
            print(f"{size:>9}  {first[0]:>4} {str(first[1]):>17}  {idle[0]:>4} {str(idle[1]):>13}"
                  f"  {settled[0]:>4} {str(settled[1]):>25}")
            # Leave no endpoint behind for the next size.
            for d in Deployment.objects.all():
                sagemaker.delete("endpoint", d.endpoint_name)
            sagemaker.changed_endpoints(None)


if __name__ == "__main__":
    main()
