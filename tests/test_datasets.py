"""Checking fine-tuning data in S3 before a training job starts, and browsing S3 for the fine-tune form."""

import json

import pytest
from botocore.awsrequest import AWSResponse

from aws import datasets, s3
from aws.datasets import Limits, check
from aws.errors import AwsError
from aws.jumpstart import tiny_jpeg

REGION = "us-east-1"
BUCKET = "team-training-data"


@pytest.fixture
def bucket(aws):
    """A bucket in REGION; put(key, body) writes into it."""
    client = aws.client("s3")
    client.create_bucket(Bucket=BUCKET)

    def put(key, body=b"", bucket=BUCKET):
        client.put_object(Bucket=bucket, Key=key, Body=body.encode() if isinstance(body, str) else body)

    put.client = client
    return put


def lines(*rows):
    return "".join(row + "\n" for row in rows)


def wheres(report):
    return [problem.where for problem in report.problems]


def answer(client, operation, status, parsed):
    """Make `client` answer `operation` with `parsed` (an AWS error when status >= 300), as AWS would."""
    def reply(**_):
        return AWSResponse("https://s3.amazonaws.com", status, {}, None), parsed

    client.meta.events.register(f"before-call.s3.{operation}", reply)


def denied(operation):
    return {"Error": {"Code": "AccessDenied", "Message": "Access Denied"},
            "ResponseMetadata": {"HTTPStatusCode": 403, "HTTPHeaders": {}}}


# -- valid data passes -------------------------------------------------------------------------------


def test_a_valid_text_classification_dataset_passes_with_the_labels_counted(bucket):
    bucket("reviews/data.csv", lines('0,"Slow service, cold food."', "1,Friendly staff", "1,Great view", "2,Fine"))

    report = check(f"s3://{BUCKET}/reviews/", task="tc", region=REGION)

    assert report.ok, report.problems
    assert report.checked == f"s3://{BUCKET}/reviews/ for text classification (tc)"
    assert report.stats["labels"] == {0: 1, 1: 2, 2: 1}
    assert report.stats["classes"] == 3
    assert report.stats["lines_checked"] == 4
    assert report.stats["complete"] is True
    assert report.notes == []


def test_a_valid_sentence_pair_dataset_passes(bucket):
    bucket("qnli/data.csv", lines("1,Where is the library?,The library is downtown.",
                                  '0,"Who won, in the end?",The match was rained off.'))

    report = check(f"s3://{BUCKET}/qnli", task="spc", region=REGION)

    assert report.ok, report.problems
    assert report.stats["labels"] == {0: 1, 1: 1}
    assert any("end the address with /" in note for note in report.notes)


def test_a_valid_image_classification_dataset_passes_with_the_images_per_class(bucket):
    for flower, count in (("roses", 3), ("tulips", 2)):
        for i in range(count):
            bucket(f"flowers/{flower}/{i}.jpg", tiny_jpeg())
    bucket("flowers/tulips/big.PNG", b"\x89PNG\r\n\x1a\n" + b"\0" * 20)

    report = check(f"s3://{BUCKET}/flowers/", task="ic", region=REGION)

    assert report.ok, report.problems
    assert report.stats["images_per_class"] == {"roses": 3, "tulips": 3}
    assert report.stats["classes"] == 2
    assert report.stats["complete"] is True


def test_a_valid_object_detection_dataset_passes(bucket):
    bucket("peds/images/a.png", b"\x89PNG\r\n\x1a\n")
    bucket("peds/images/b.jpg", tiny_jpeg())
    bucket("peds/annotations.json", json.dumps({
        "images": [{"file_name": "a.png", "height": 300, "width": 400, "id": 1},
                   {"file_name": "b.jpg", "height": 32, "width": 32, "id": 2}],
        "annotations": [{"image_id": 1, "bbox": [10, 20, 110, 220], "category_id": 1},
                        {"image_id": 2, "bbox": [0, 0, 5.5, 8], "category_id": 1}]}))

    report = check(f"s3://{BUCKET}/peds/", task="od1", region=REGION)

    assert report.ok, report.problems
    assert report.stats["images"] == 2
    assert report.stats["boxes"] == 2


def test_a_valid_tabular_dataset_passes_and_a_csv_outside_train_is_named(bucket):
    bucket("churn/train/data.csv", lines("1,34,0.5,red", "0,51,1.5,blue", "1,22,,red"))
    bucket("churn/validation/data.csv", lines("0,40,0.1,red"))
    bucket("churn/categorical_index.json", json.dumps({"cat_index_list": [3]}))
    bucket("flat/data.csv", lines("1,34,0.5"))

    good = check(f"s3://{BUCKET}/churn/", task="classification", region=REGION)
    flat = check(f"s3://{BUCKET}/flat/", task="classification", region=REGION)

    assert good.ok, good.problems
    assert good.stats["train"]["labels"] == {"1": 2, "0": 1}
    assert good.stats["train"]["columns"] == 4
    assert wheres(flat) == [f"s3://{BUCKET}/flat/"]
    assert f"Move data.csv to s3://{BUCKET}/flat/train/data.csv" in flat.problems[0].fix


def test_a_regression_target_that_is_not_a_number_is_named_by_its_line(bucket):
    bucket("prices/train/data.csv", lines("price,rooms", "12.5,3", "cheap,2"))

    report = check(f"s3://{BUCKET}/prices/", task="regression", region=REGION)

    assert wheres(report) == [f"s3://{BUCKET}/prices/train/data.csv, line 1", f"s3://{BUCKET}/prices/train/data.csv, line 3"]
    assert "header row" in report.problems[0].what
    assert "'cheap', not a number" in report.problems[1].what


# -- broken data is caught, at the file, line or folder at fault -------------------------------------


def test_a_header_row_in_data_csv_is_named_as_a_header(bucket):
    bucket("reviews/data.csv", lines("label,text", "0,bad", "1,good"))

    report = check(f"s3://{BUCKET}/reviews/", task="tc", region=REGION)

    assert not report.ok
    assert wheres(report) == [f"s3://{BUCKET}/reviews/data.csv, line 1"]
    assert "header row" in report.problems[0].what
    assert "Delete the header row" in report.problems[0].fix
    assert report.stats["labels"] == {0: 1, 1: 1}


def test_a_label_that_is_not_a_whole_number_is_named_by_its_line(bucket):
    rows = [f"{i % 2},text {i}" for i in range(1, 11)]
    rows[6] = "positive,text 7"
    bucket("reviews/data.csv", lines(*rows))

    report = check(f"s3://{BUCKET}/reviews/", task="tc", region=REGION)

    assert wheres(report) == [f"s3://{BUCKET}/reviews/data.csv, line 7"]
    assert "'positive', not a whole number" in report.problems[0].what


def test_empty_text_is_named_by_its_line(bucket):
    bucket("reviews/data.csv", lines("0,one", "1,two", "0,three", "1,  ", "0,five"))

    report = check(f"s3://{BUCKET}/reviews/", task="tc", region=REGION)

    assert wheres(report) == [f"s3://{BUCKET}/reviews/data.csv, line 4"]
    assert "no text" in report.problems[0].what


def test_a_text_with_an_unquoted_comma_is_named_and_quoting_is_the_fix(bucket):
    bucket("reviews/data.csv", lines("0,one", "1,good, and cheap"))

    report = check(f"s3://{BUCKET}/reviews/", task="tc", region=REGION)

    assert wheres(report) == [f"s3://{BUCKET}/reviews/data.csv, line 2"]
    assert "double quotes" in report.problems[0].fix


def test_a_folder_without_data_csv_says_so_and_suggests_renaming_the_csv_it_has(bucket):
    bucket("reviews/train.csv", lines("0,one", "1,two"))

    report = check(f"s3://{BUCKET}/reviews/", task="tc", region=REGION)

    assert wheres(report) == [f"s3://{BUCKET}/reviews/"]
    assert report.problems[0].what == f"There is no data.csv in s3://{BUCKET}/reviews/."
    assert "Rename train.csv to data.csv" in report.problems[0].fix


def test_an_address_of_the_file_itself_says_to_give_its_folder(bucket):
    bucket("reviews/data.csv", lines("0,one"))

    report = check(f"s3://{BUCKET}/reviews/data.csv", task="tc", region=REGION)

    assert report.problems[0].fix.endswith(f"give the folder that holds it, s3://{BUCKET}/reviews/")


def test_a_two_column_line_in_sentence_pair_data_is_named(bucket):
    bucket("qnli/data.csv", lines("1,Where is it?,Downtown.", "0,Only one sentence", "1,Who?,Ada."))

    report = check(f"s3://{BUCKET}/qnli/", task="spc", region=REGION)

    assert wheres(report) == [f"s3://{BUCKET}/qnli/data.csv, line 2"]
    assert "2 columns" in report.problems[0].what
    assert "needs 3" in report.problems[0].what


def test_one_class_folder_is_not_enough_for_image_classification(bucket):
    bucket("flowers/roses/a.jpg", tiny_jpeg())

    report = check(f"s3://{BUCKET}/flowers/", task="ic", region=REGION)

    assert wheres(report) == [f"s3://{BUCKET}/flowers/roses/"]
    assert "only class folder" in report.problems[0].what


def test_images_at_the_top_level_are_named(bucket):
    for name in ("a.jpg", "b.jpg"):
        bucket(f"flowers/{name}", tiny_jpeg())
    bucket("flowers/roses/c.jpg", tiny_jpeg())
    bucket("flowers/tulips/d.jpg", tiny_jpeg())

    report = check(f"s3://{BUCKET}/flowers/", task="ic", region=REGION)

    assert wheres(report) == [f"s3://{BUCKET}/flowers/"]
    assert "2 files are at the top" in report.problems[0].what
    assert "a.jpg, b.jpg" in report.problems[0].what
    assert "into the folder of its class" in report.problems[0].fix


def test_a_class_folder_of_text_files_is_named(bucket):
    bucket("flowers/roses/a.jpg", tiny_jpeg())
    bucket("flowers/notes/one.txt", "x")
    bucket("flowers/notes/two.txt", "y")

    report = check(f"s3://{BUCKET}/flowers/", task="ic", region=REGION)

    assert wheres(report) == [f"s3://{BUCKET}/flowers/notes/"] * 2
    assert "2 files that are not .jpg, .jpeg or .png images (one.txt, two.txt)" in report.problems[0].what
    assert "holds no .jpg, .jpeg or .png images" in report.problems[1].what
    assert report.stats["images_per_class"] == {"notes": 0, "roses": 1}


def test_an_image_that_is_not_a_jpeg_or_png_inside_is_named(bucket):
    bucket("flowers/roses/a.jpg", b"<html>not found</html>")
    bucket("flowers/tulips/b.jpg", tiny_jpeg())

    report = check(f"s3://{BUCKET}/flowers/", task="ic", region=REGION)

    assert wheres(report) == [f"s3://{BUCKET}/flowers/roses/a.jpg"]


def test_annotations_naming_a_missing_image_or_a_box_of_width_and_height_are_named(bucket):
    bucket("peds/images/a.jpg", tiny_jpeg())
    bucket("peds/annotations.json", json.dumps({
        "images": [{"file_name": "a.jpg", "height": 32, "width": 32, "id": 1},
                   {"file_name": "gone.jpg", "height": 32, "width": 32, "id": 2}],
        "annotations": [{"image_id": 1, "bbox": [20, 20, 5, 5], "category_id": 1}]}))

    report = check(f"s3://{BUCKET}/peds/", task="od", region=REGION)

    assert wheres(report) == [f"s3://{BUCKET}/peds/annotations.json, annotations[0]",
                              f"s3://{BUCKET}/peds/annotations.json"]
    assert "[x, y, width, height]" in report.problems[0].what
    assert "gone.jpg" in report.problems[1].what


def test_a_task_without_a_documented_format_gets_a_note_not_a_problem(bucket):
    bucket("chat/train.jsonl", '{"prompt": "hi", "completion": "hello"}\n')

    report = check(f"s3://{BUCKET}/chat/", task="llm", region=REGION)

    assert report.ok
    assert report.notes[0].startswith("the data is not checked for llm: JumpStart documents no format for it")


# -- the address, the bucket, its region, JumpStart's files ------------------------------------------


@pytest.mark.parametrize("text, words", [
    ("", "such as s3://"),
    ("my-bucket/data/", "starts with s3://, then the bucket's name"),
    ("S3://my-bucket/data/", "in lowercase"),
    ("https://my-bucket.s3.us-east-1.amazonaws.com/data/", "write it as s3://my-bucket/data/"),
    ("arn:aws:s3:::my-bucket/data/", "write it as s3://my-bucket/data/"),
    ("s3:///data/", "names no bucket"),
    ("s3://My_Bucket/data/", "holds only lowercase letters, digits, dots and hyphens"),
    ("s3://MyBucket/data/", "all lowercase: 'mybucket'"),
    ("s3://ab/data/", "3 to 63 characters"),
    ("s3://" + "a" * 64 + "/", "3 to 63 characters"),
    ("s3://-bucket/", "starts and ends with a letter or a digit"),
    ("s3://my..bucket/", "no two dots in a row"),
    ("s3://192.168.1.10/", "not an IP address"),
    ("s3://data-s3alias/", "names S3 keeps for itself"),
])
def test_a_malformed_s3_uri_is_refused_with_what_a_good_one_looks_like(text, words):
    with pytest.raises(ValueError) as refused:
        s3.parse_s3_uri(text)
    assert words in str(refused.value)


def test_good_s3_uris_are_read_into_bucket_and_prefix():
    assert s3.parse_s3_uri(" s3://my.bucket-1/a/b ") == s3.S3Uri("my.bucket-1", "a/b")
    assert s3.parse_s3_uri("s3://my-bucket").folder == ""
    assert s3.parse_s3_uri("s3://my-bucket/a/b").uri() == "s3://my-bucket/a/b/"
    assert str(s3.parse_s3_uri("s3://my-bucket/a")) == "s3://my-bucket/a"


def test_a_malformed_uri_is_a_problem_and_nothing_is_asked_of_aws(aws):
    calls, seen = [], []
    aws.client("s3").meta.events.register("before-call.s3", lambda **kw: calls.append(kw))

    report = check("s3://Bad_Bucket/data/", task="tc", region=REGION, progress=lambda *step: seen.append(step))

    assert seen[-1] == ("Done", 1.0)
    assert not report.ok
    assert report.problems[0].where == "s3://Bad_Bucket/data/"
    assert "s3://my-training-data/flowers/" in report.problems[0].what
    assert calls == []


def test_a_missing_bucket_is_named(aws):
    report = check("s3://no-such-bucket-here/data/", task="tc", region=REGION)

    assert wheres(report) == ["s3://no-such-bucket-here"]
    assert report.problems[0].what == "The bucket no-such-bucket-here does not exist (or is not yours)."


def test_a_bucket_in_another_region_says_where_it_is_and_to_copy_the_data(bucket):
    bucket.client.create_bucket(Bucket="eu-training-data", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    bucket("reviews/data.csv", lines("0,one", "1,two"), bucket="eu-training-data")

    report = check("s3://eu-training-data/reviews/", task="tc", region=REGION)

    assert wheres(report) == ["s3://eu-training-data"]
    assert "is in eu-west-1" in report.problems[0].what
    assert "Copy the data to a bucket in us-east-1" in report.problems[0].fix
    assert report.stats["labels"] == {0: 1, 1: 1}  # the data is still checked


def test_a_missing_jumpstart_artifact_names_the_spec_field(bucket):
    js = "jumpstart-cache-prod-us-east-1"
    bucket.client.create_bucket(Bucket=js)
    bucket("source-directory-tarballs/pytorch/transfer_learning/ic/sourcedir.tar.gz", b"tar", bucket=js)
    bucket("training-datasets/tf_flowers/roses/a.jpg", tiny_jpeg(), bucket=js)
    bucket("flowers/roses/a.jpg", tiny_jpeg())
    bucket("flowers/tulips/a.jpg", tiny_jpeg())

    report = check(f"s3://{BUCKET}/flowers/", task="ic", region=REGION, jumpstart_objects=[
        ("training_artifact_key", js, "pytorch-training/train-pytorch-ic-mobilenet-v2.tar.gz"),
        ("training_script_key", js, "source-directory-tarballs/pytorch/transfer_learning/ic/sourcedir.tar.gz"),
        ("default_training_dataset_key", js, "training-datasets/tf_flowers/"),
    ])

    assert wheres(report) == [f"s3://{js}/pytorch-training/train-pytorch-ic-mobilenet-v2.tar.gz"]
    assert "training_artifact_key" in report.problems[0].what


def test_access_denied_names_the_permission_that_is_missing(bucket):
    answer(bucket.client, "ListObjectsV2", 403, denied("ListObjectsV2"))

    report = check(f"s3://{BUCKET}/reviews/", task="tc", region=REGION)

    assert wheres(report) == [f"s3://{BUCKET}/reviews/"]
    assert f"s3:ListBucket on arn:aws:s3:::{BUCKET}" in report.problems[0].what
    assert f"allow s3:ListBucket on arn:aws:s3:::{BUCKET}" in report.problems[0].fix


def test_a_transient_error_is_raised_for_the_task_to_retry(bucket):
    answer(bucket.client, "ListObjectsV2", 503, {"Error": {"Code": "SlowDown", "Message": "Reduce your request rate."},
                                                 "ResponseMetadata": {"HTTPStatusCode": 503}})

    with pytest.raises(AwsError) as raised:
        check(f"s3://{BUCKET}/reviews/", task="tc", region=REGION)
    assert raised.value.transient


# -- bounded: keys, bytes, time ----------------------------------------------------------------------


def test_a_prefix_with_more_objects_than_max_keys_is_cut_short_and_says_so(bucket):
    for flower in ("roses", "tulips"):
        for i in range(30):
            bucket(f"flowers/{flower}/{i:02}.jpg", tiny_jpeg())

    report = check(f"s3://{BUCKET}/flowers/", task="ic", region=REGION, limits=Limits(max_keys=20))

    assert report.ok
    assert report.stats["keys_listed"] <= 20
    assert report.stats["complete"] is False
    assert report.stats["images_per_class"] == {"roses": 9, "tulips": 9}
    assert any(note.startswith("listed the first 9 objects of 2 of the 2 class folders, which hold more")
               for note in report.notes), report.notes


def test_a_class_folder_larger_than_a_page_is_listed_page_by_page_within_max_keys(bucket, monkeypatch):
    monkeypatch.setattr(s3, "LIST_PAGE_MAX", 10)  # pages of 10 stand in for S3's pages of 1,000
    for flower in ("roses", "tulips"):
        for i in range(25):
            bucket(f"flowers/{flower}/{i:02}.jpg", tiny_jpeg())

    whole = check(f"s3://{BUCKET}/flowers/", task="ic", region=REGION)
    cut = check(f"s3://{BUCKET}/flowers/", task="ic", region=REGION, limits=Limits(max_keys=32))

    assert whole.stats["images_per_class"] == {"roses": 25, "tulips": 25}
    assert whole.stats["complete"] is True
    assert cut.stats["images_per_class"] == {"roses": 15, "tulips": 15}
    assert cut.stats["keys_listed"] == 32


def test_a_huge_data_csv_is_read_at_most_max_bytes(bucket):
    bucket("big/data.csv", lines(*(f"{i % 3},review number {i} of a long file" for i in range(200_000))))
    ranges = []
    bucket.client.meta.events.register(
        "request-created.s3.GetObject", lambda request, **_: ranges.append(request.headers["Range"]))

    report = check(f"s3://{BUCKET}/big/", task="tc", region=REGION, limits=Limits(max_bytes=64 * 1024))

    assert report.ok, report.problems
    assert ranges == [b"bytes=0-65535"] or ranges == ["bytes=0-65535"]
    assert report.stats["bytes_read"] <= 64 * 1024
    assert report.stats["data_csv_bytes"] > 7_000_000
    assert any(note.startswith(f"checked the first {report.stats['lines_checked']:,} lines of s3://{BUCKET}/big/data.csv")
               and "max_bytes" in note for note in report.notes), report.notes


def test_max_lines_stops_reading_a_csv_and_says_so(bucket):
    bucket("reviews/data.csv", lines(*(f"{i % 2},text {i}" for i in range(100))))

    report = check(f"s3://{BUCKET}/reviews/", task="tc", region=REGION, limits=Limits(max_lines=10))

    assert report.stats["lines_checked"] == 10
    assert any("the first 10 lines" in note and "max_lines" in note for note in report.notes)


def test_a_check_out_of_time_says_what_it_did_not_check(bucket):
    bucket("reviews/data.csv", lines("0,one"))

    report = check(f"s3://{BUCKET}/reviews/", task="tc", region=REGION, limits=Limits(max_seconds=0))

    assert report.stats["complete"] is False
    assert any(note.startswith("stopped after") and "time limit" in note for note in report.notes)


def test_progress_callbacks_arrive_in_order_ending_at_one(bucket):
    for flower in ("roses", "tulips", "daisies"):
        bucket(f"flowers/{flower}/a.jpg", tiny_jpeg())
    seen = []

    check(f"s3://{BUCKET}/flowers/", task="ic", region=REGION, progress=lambda step, fraction: seen.append((step, fraction)),
          jumpstart_objects=[("training_artifact_key", BUCKET, "flowers/roses/a.jpg")])

    fractions = [fraction for _, fraction in seen]
    assert fractions == sorted(fractions)
    assert seen[0] == ("Reading the S3 address", 0.0)
    assert seen[-1] == ("Done", 1.0)
    assert [step for step, _ in seen if step.startswith("Listing")] == [
        f"Listing s3://{BUCKET}/flowers/", "Listing daisies/", "Listing roses/", "Listing tulips/"]


# -- browsing S3 -------------------------------------------------------------------------------------


def test_list_folder_pages_through_250_objects_and_5_subfolders(bucket):
    for i in range(250):
        bucket(f"data/file-{i:03}.csv", "0,x\n")
    for name in ("a", "b", "c", "d", "e"):
        bucket(f"data/{name}-folder/inside.csv", "0,x\n")
    bucket("data/", b"")  # the console's folder marker is not listed as a file

    pages, token = [], None
    while True:
        page = s3.list_folder(BUCKET, "data", token=token, page_size=100)
        pages.append(page)
        token = page.next_token
        if token is None:
            break

    assert len(pages) == 3
    # S3 counts the folder marker and each subfolder toward a page, as it counts a file.
    assert [len(p.folders) + len(p.objects) for p in pages] == [99, 100, 56]
    folders = [f for p in pages for f in p.folders]
    objects = [o for p in pages for o in p.objects]
    assert folders == [f"data/{name}-folder/" for name in "abcde"]
    assert [o.name for o in objects] == [f"file-{i:03}.csv" for i in range(250)]
    assert all(o.size == 4 and o.last_modified is not None for o in objects)


def test_list_buckets_is_bounded_and_filters_by_region(aws):
    client = aws.client("s3")
    for i in range(5):
        client.create_bucket(Bucket=f"bucket-{i}-of-five")
    client.create_bucket(Bucket="eu-only-bucket", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})

    assert len(s3.list_buckets(limit=3).names) == 3
    assert s3.list_buckets(in_region="eu-west-1").names == ("eu-only-bucket",)
    assert s3.list_buckets(limit=100, name_prefix="bucket-").names == tuple(f"bucket-{i}-of-five" for i in range(5))


def test_bucket_region_maps_s3s_old_names(bucket):
    bucket.client.create_bucket(Bucket="eu-bucket-new", CreateBucketConfiguration={"LocationConstraint": "eu-west-1"})
    assert s3.bucket_region(BUCKET) == "us-east-1"
    assert s3.bucket_region("eu-bucket-new") == "eu-west-1"

    answer(bucket.client, "GetBucketLocation", 200, {"LocationConstraint": "EU"})
    assert s3.bucket_region("old-eu-bucket") == "eu-west-1"


def test_a_denied_bucket_location_names_s3_get_bucket_location(bucket):
    answer(bucket.client, "GetBucketLocation", 403, denied("GetBucketLocation"))
    answer(bucket.client, "HeadBucket", 403, denied("HeadBucket"))

    with pytest.raises(AwsError) as raised:
        s3.bucket_region(BUCKET)
    assert raised.value.code == "AccessDenied"
    assert f"s3:GetBucketLocation on arn:aws:s3:::{BUCKET}" in raised.value.reason


def test_object_and_prefix_exist_or_not(bucket):
    bucket("models/a/model.tar.gz", b"x")

    assert s3.object_exists(BUCKET, "models/a/model.tar.gz")
    assert not s3.object_exists(BUCKET, "models/a/other.tar.gz")
    assert s3.prefix_exists(BUCKET, "models/a/")
    assert not s3.prefix_exists(BUCKET, "models/b/")
    with pytest.raises(AwsError) as raised:
        s3.prefix_exists("no-such-bucket-here", "x/")
    assert raised.value.reason == "The bucket no-such-bucket-here does not exist (or is not yours)."


def test_read_start_reads_at_most_what_it_is_asked_and_knows_the_size(bucket):
    bucket("f.txt", b"0123456789")
    bucket("empty.txt", b"")

    chunk = s3.read_start(BUCKET, "f.txt", 4)
    assert (chunk.data, chunk.size, chunk.complete) == (b"0123", 10, False)
    assert s3.read_start(BUCKET, "empty.txt", 4) == s3.Chunk(b"", 0)


def test_the_report_is_plain_data_for_a_celery_result(bucket):
    bucket("reviews/data.csv", lines("0,one", "1,two"))

    data = check(f"s3://{BUCKET}/reviews/", task="tc", region=REGION).as_dict()

    assert json.loads(json.dumps(data))["stats"]["labels"] == {"0": 1, "1": 1}
    assert set(data) == {"ok", "checked", "problems", "notes", "stats"}


def test_every_checked_task_has_a_label():
    assert set(datasets.FORMATS) <= set(datasets.TASKS)


def test_an_object_detection_folder_without_images_or_annotations_names_both(bucket):
    bucket("peds/pictures/a.jpg", tiny_jpeg())

    report = check(f"s3://{BUCKET}/peds/", task="od", region=REGION)

    assert [p.what for p in report.problems] == [f"There is no images/ folder in s3://{BUCKET}/peds/.",
                                                 f"There is no annotations.json in s3://{BUCKET}/peds/."]
    assert "annotations.json, a JSON object" in report.problems[0].fix


def test_a_data_csv_that_is_not_utf8_is_named_by_its_line(bucket):
    bucket("reviews/data.csv", "0,plain\n1,café\n".encode("latin-1"))

    report = check(f"s3://{BUCKET}/reviews/", task="tc", region=REGION)

    assert wheres(report) == [f"s3://{BUCKET}/reviews/data.csv, line 2"]
    assert "UTF-8" in report.problems[0].fix
