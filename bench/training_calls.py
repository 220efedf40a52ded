"""AWS calls of following training jobs: one poll with 1, 100 and 1,000 jobs in flight, and the log
reader with 0, 1 and 10 of 1,000 running jobs watched.

    .venv/bin/python bench/training_calls.py

Runs against the local AWS in-process (moto plus aws/local/) and a throwaway SQLite database,
with the real MobileNet spec. For each size it launches that many jobs (they stay Training until
told), then counts the calls of: the first poll (no mark yet: it lists and describes everything),
a poll where nothing changed, and the poll where every job has completed. Then, with 1,000 jobs
running and logging, it counts the CloudWatch Logs calls of one log read with 0, 1 and 10 of them
watched (a job page open in the last minute).
"""

import time

import _setup

_setup.django(POLL_OVERLAP_SECONDS="2")  # as bench/poll_calls.py: a quiet poll without a long wait

FIXTURES = _setup.ROOT / "tests" / "fixtures" / "jumpstart"
DATA = "s3://jumpstart-ui-demo-data/image-classification/valid/"
OUTPUT = "jumpstart-ui-demo-output"


def main():
    from django.contrib.auth import get_user_model
    from django.utils import timezone

    import aws
    from aws import local
    from aws.local.datasets import seed_demo_data, seed_stand_ins
    from catalog.models import Model
    from catalog.sync import BUNDLED_DIR, sync_from_dir
    from jobs import training
    from jobs.models import PollMark, TrainingJob

    with _setup.local_aws():
        sync_from_dir(BUNDLED_DIR)
        s3 = aws.client("s3")
        for bucket in ("jumpstart-cache-prod-us-east-1", OUTPUT):
            local.create_bucket(s3, bucket)
        seed_stand_ins(s3, "jumpstart-cache-prod-us-east-1", FIXTURES)
        seed_demo_data(s3)
        model = Model.objects.get(model_id="pytorch-ic-mobilenet-v2")
        user = get_user_model().objects.create_user("bench")
        calls = _setup.count_calls("sagemaker", "logs")

        def count(step):
            calls.clear()
            step()
            return sum(calls.values()), dict(calls)

        made = 0

        def launch(size):
            nonlocal made
            for _ in range(size):
                made += 1
                job = TrainingJob(
                    user=user, model=model, model_version=model.version, job_name=f"bench-{made}",
                    instance_type="ml.m5.xlarge", training_uri=DATA, output_uri=f"s3://{OUTPUT}/",
                    hyperparameters={"epochs": "3"}, max_run_seconds=3600,
                    role_arn="arn:aws:iam::123456789012:role/bench", pending="launch")
                job.request = training.build_request(job)
                job.save()
                training.launch(job)

        print("SageMaker calls per training poll")
        print(f"{'in flight':>9}  {'first poll':>42}  {'nothing changed':>38}  {'all completed':>42}")
        for size in (1, 100, 1000):
            local.configure(training_seconds=3600)  # they stay where they are until we say
            TrainingJob.objects.all().delete()
            PollMark.objects.all().delete()
            launch(size)
            first = count(training.poll)
            time.sleep(3)  # past the overlap: the quiet poll reads only what changed since
            idle = count(training.poll)
            local.configure(training_seconds=0)  # the next read runs each job to its end
            done = count(training.poll)
            assert TrainingJob.objects.filter(status="completed").count() == size, TrainingJob.objects.values_list("status", flat=True)[:5]
            print(f"{size:>9}  {first[0]:>5} {str(first[1]):>36}  {idle[0]:>5} {str(idle[1]):>32}"
                  f"  {done[0]:>5} {str(done[1]):>36}")

        print()
        print("CloudWatch Logs calls per log read, 1,000 jobs running")
        print(f"{'watched':>7}  {'calls':>5}  by operation")
        local.configure(training_seconds=3600)
        TrainingJob.objects.all().delete()
        launch(1000)
        local.configure(training_seconds=0.001)
        training.poll()  # the jobs start and log
        local.configure(training_seconds=3600)
        running = list(TrainingJob.objects.order_by("pk"))
        for watched in (0, 1, 10):
            TrainingJob.objects.update(watched_at=None)
            TrainingJob.objects.filter(pk__in=[j.pk for j in running[:watched]]).update(watched_at=timezone.now())
            read = count(training.watch)
            print(f"{watched:>7}  {read[0]:>5}  {read[1]}")


if __name__ == "__main__":
    main()
