"""Wall time and S3 calls of a dataset check and of browsing a folder, on 10,000 objects.

    .venv/bin/python bench/data_check.py

Runs against the local AWS in-process (moto plus aws/local/). It writes an image-classification
layout of 10 class folders x 1,000 tiny JPEGs and a 10,000-line data.csv, then times (p50 / p95 over
RUNS runs) and counts the S3 calls of: the check of each with the default limits, the image check
with limits that let it list every object, and list_folder pages of 100 through the top folder and
through one class folder of 1,000 images. In-process moto answers in about 1-2 ms a call; real S3
takes tens of milliseconds, so on AWS the call counts, not these times, say what a check costs.
"""

import statistics
import time
from collections import Counter
from concurrent.futures import ThreadPoolExecutor

import _setup

_setup.django()

RUNS = 7
BUCKET = "bench-training-data"
CLASSES, PER_CLASS, LINES = 10, 1000, 10_000


def main():
    from moto import mock_aws

    import aws
    from aws import datasets, local, s3
    from aws.jumpstart import tiny_jpeg

    local.install()
    try:
        with mock_aws():
            client = aws.client("s3")
            client.create_bucket(Bucket=BUCKET)
            image = tiny_jpeg()
            keys = [f"flowers/class-{c:02}/img-{i:04}.jpg" for c in range(CLASSES) for i in range(PER_CLASS)]
            with ThreadPoolExecutor(max_workers=4) as pool:
                list(pool.map(lambda key: client.put_object(Bucket=BUCKET, Key=key, Body=image), keys))
            rows = "".join(f'{i % 5},"review {i}: the food was fine, the service slow"\n' for i in range(LINES))
            client.put_object(Bucket=BUCKET, Key="reviews/data.csv", Body=rows.encode())
            print(f"{len(keys):,} images in {CLASSES} class folders; data.csv of {LINES:,} lines, "
                  f"{len(rows.encode()):,} bytes. {RUNS} runs each, in-process moto.\n")

            calls = Counter()
            client.meta.events.register("before-call.s3.*", lambda model, **_: calls.update([model.name]))

            def measure(label, action):
                times, result = [], None
                for _ in range(RUNS):
                    calls.clear()
                    started = time.perf_counter()
                    result = action()
                    times.append((time.perf_counter() - started) * 1000)
                times.sort()
                p95 = statistics.quantiles(times, n=20, method="inclusive")[-1]
                made = ", ".join(f"{n} {op}" for op, n in sorted(calls.items()))
                print(f"{label:<44} {statistics.median(times):>8.1f} {p95:>8.1f}  {sum(calls.values()):>5}  {made}")
                return result

            print(f"{'what':<44} {'p50 ms':>8} {'p95 ms':>8}  {'calls':>5}  S3 calls (last run)")
            everything = datasets.Limits(max_keys=20_000, max_seconds=60)
            reports = {
                "ic": measure("check ic, default limits", lambda: datasets.check(
                    f"s3://{BUCKET}/flowers/", task="ic", region="us-east-1")),
                "ic all": measure("check ic, limits to list all 10,000", lambda: datasets.check(
                    f"s3://{BUCKET}/flowers/", task="ic", region="us-east-1", limits=everything)),
                "tc": measure("check tc, default limits", lambda: datasets.check(
                    f"s3://{BUCKET}/reviews/", task="tc", region="us-east-1")),
            }
            measure("list_folder top (10 folders), 1 page", lambda: s3.list_folder(BUCKET, "flowers/"))

            def one_page():
                return s3.list_folder(BUCKET, "flowers/class-00/", page_size=100)

            measure("list_folder class-00, first page of 100", one_page)
            token = one_page().next_token
            measure("list_folder class-00, a next page of 100", lambda: s3.list_folder(
                BUCKET, "flowers/class-00/", token=token, page_size=100))

            def all_pages():
                pages, next_token = 0, None
                while True:
                    page = s3.list_folder(BUCKET, "flowers/class-00/", token=next_token, page_size=100)
                    pages += 1
                    next_token = page.next_token
                    if not next_token:
                        return pages

            measure("list_folder class-00, all 10 pages of 100", all_pages)

            print()
            for name, report in reports.items():
                stats = {k: v for k, v in report.stats.items() if k not in ("images_per_class", "labels")}
                print(f"{name}: ok={report.ok}, {stats}")
                for note in report.notes:
                    print(f"    note: {note}")
    finally:
        local.reset()


if __name__ == "__main__":
    main()
