"""The data the demo and the tests fine-tune on, in the local S3: stand-ins for what JumpStart's
bucket holds beside its spec files, and a demo data bucket with a valid dataset and a broken one
of each kind a data check catches, per fine-tunable task. Everything is generated here (tiny CSV
files, JPEG and PNG images, tar.gz files); nothing binary is committed.

In JumpStart's bucket (seed_stand_ins, which seed_jumpstart_bucket calls), for every key the spec
files name (at any depth of a spec):
  training_artifact_key, hosting_artifact_key       a tar.gz holding model.bin; a prefix (a key
                                                    ending in /) holding model.bin
  hosting_prepacked_artifact_key                    the same, plus code/inference.py
  training_script_key, training_prepacked_script_key  a sourcedir.tar.gz holding transfer_learning.py
  hosting_script_key                                a sourcedir.tar.gz holding inference.py
  default_training_dataset_key                      a valid dataset for the spec's task (below),
                                                    e.g. training-datasets/tf_flowers/<class>/*.jpg
stand_ins(directory) lists them without S3; remove_stand_in(s3, bucket, key) deletes one, so a
test can show a pre-launch check catching it.

s3://jumpstart-ui-demo-data (seed_demo_data; in the demo's region, us-east-1):
  text-classification/valid/data.csv                 20 rows: label (0 or 1), text; no header
  text-classification/broken-header/data.csv         line 1 is a header row: label,text
  text-classification/broken-label/data.csv          line 7's label is "positive", not an integer
  text-classification/broken-empty-text/data.csv     line 4's text is empty
  text-classification/broken-no-csv/data.txt         no data.csv: valid rows in a .txt file
  text-classification/fails-in-training/data.csv     valid rows, and beside them the failure
  text-classification/fails-in-training/JSUI_FAIL_TRAINING   marker: training on this prefix
                                                     fails after its first epoch (aws.local.training)
  sentence-pair/valid/data.csv                       20 rows: label (0 or 1), sentence 1, sentence 2
  sentence-pair/broken-columns/data.csv              line 5 has two columns
  sentence-pair/fails-in-training/                   valid rows and the failure marker, as above
  image-classification/valid/{cats,dogs,birds}/      img-001.jpg, img-002.jpeg, img-003.png each
  image-classification/broken-one-class/cats/        one class folder only
  image-classification/broken-no-folders/            img-001.jpg .. img-003.png, no class folders
  image-classification/broken-not-images/            cats/ and dogs/ with images, birds/ with only
                                                     note-001.txt and note-002.txt
s3://jumpstart-ui-demo-data-eu (created in eu-west-1, for the "bucket in another region" check):
  text-classification/valid/data.csv                 as in the demo data bucket

The formats: text classification (tc) is a data.csv with no header, the first column an integer
class label, the second a non-empty text; sentence-pair classification (spc) the same with label,
sentence 1, sentence 2; image classification (ic) one folder per class (at least two), each
holding .jpg, .jpeg or .png images. Other tasks' default datasets: tabular, train/data.csv and
validation/data.csv (target first, no header); text generation, train.jsonl ({"dialog": [...]}
for chat models, {"instruction", "context", "response"} for instruction-tuned ones) or train.txt
for domain adaptation; text2text, data.jsonl ({"prompt", "completion"}); semantic segmentation,
images/*.jpg with masks/*.png of the same names; object detection, images/*.jpg and
annotations.json; anything else a README.txt that says it is a stand-in.

seed_many_objects(s3, bucket, prefix, count=10_000) makes a prefix of many small objects for a
benchmark; it is not seeded by default (too slow).
"""

import csv
import io
import json
from concurrent.futures import ThreadPoolExecutor
from pathlib import Path

from .training import FAILURE_MARKER, tarball

DEMO_DATA_BUCKET = "jumpstart-ui-demo-data"
DEMO_DATA_EU_BUCKET = "jumpstart-ui-demo-data-eu"
DEMO_DATA_EU_REGION = "eu-west-1"
# What the failure marker makes the training script raise.
FAILURE_TEXT = "ValueError: Found input variables with inconsistent numbers of samples: [20, 19]"

STAND_IN_FIELDS = (
    "training_artifact_key", "training_script_key", "training_prepacked_script_key",
    "hosting_artifact_key", "hosting_prepacked_artifact_key", "hosting_script_key",
    "default_training_dataset_key",
)
STUB = '"""A stand-in written by the local AWS: JumpStart\'s own {what} is not bundled."""\n'


# --- Datasets -------------------------------------------------------------------------------------

GOOD = ["The staff were friendly and quick", "A lovely view of the harbour from our table",
        "Fresh bread and very good coffee", "Quiet rooms and a comfortable bed",
        "The guide knew a story for every street"]
BAD = ["The soup arrived cold", "We waited an hour for a table", "The room smelled of smoke",
       "Nobody answered the phone at the desk", "The train was late again"]
WHEN = ["", " on our first visit", " this weekend", " as we had hoped"]


def text_rows(count=20):
    """[label, text] rows, alternately 1 (a good review) and 0 (a bad one), every text different."""
    rows = []
    for n in range(count):
        label = 1 - n % 2
        phrases = GOOD if label else BAD
        text = phrases[(n // 2) % len(phrases)] + WHEN[(n // 10) % len(WHEN)] + "."
        rows.append([str(label), text])
    return rows


PREMISES = ["The museum opens at nine on weekdays", "Our flight to Lisbon was delayed by two hours",
            "The bakery on the corner sells rye bread", "Anna has lived in Oslo since 2015",
            "The bridge was closed for repairs in May"]
ENTAILED = ["The museum is open on Monday mornings", "The flight did not leave on time",
            "Bread can be bought on the corner", "Anna lives in Norway",
            "The bridge could not be used in May"]
UNRELATED = ["The museum has no café", "Lisbon is the capital of Spain",
             "The bakery closed last year", "Anna has never been to Norway",
             "The bridge was built in May"]


def sentence_pair_rows(count=20):
    """[label, sentence 1, sentence 2] rows: 1 when the second follows from the first, else 0."""
    rows = []
    for n in range(count):
        label = 1 - n % 2
        premise = PREMISES[(n // 2) % len(PREMISES)]
        if n >= 10:
            premise += ", they say"
        hypothesis = (ENTAILED if label else UNRELATED)[(n // 2) % len(PREMISES)]
        rows.append([str(label), premise + ".", hypothesis + "."])
    return rows


def csv_bytes(rows):
    out = io.StringIO()
    csv.writer(out, lineterminator="\n").writerows(rows)
    return out.getvalue().encode()


def images(prefix, count=3, shade=0):
    """{key: image}: a .jpg, a .jpeg and a .png (then again), tiny and valid."""
    from aws.jumpstart import tiny_jpeg

    from .runtime import _png

    files = {}
    for n in range(1, count + 1):
        extension = ("jpg", "jpeg", "png")[(n - 1) % 3]
        if extension == "png":
            data = _png(((40 * shade) % 256, 120, (200 - 30 * n) % 256))
        else:
            data = tiny_jpeg(8 * (n + shade % 3), 8 * (n + 1))
        files[f"{prefix}img-{n:03d}.{extension}"] = data
    return files


def image_classes(prefix, classes, count=3):
    files = {}
    for shade, name in enumerate(classes):
        files.update(images(f"{prefix}{name}/", count, shade))
    return files


def dataset_for(task, prefix, spec=None):
    """{key: bytes}: a small valid dataset for `task` (the second part of a JumpStart model id)
    under `prefix` (which ends in /)."""
    defaults = {h.get("name"): str(h.get("default")) for h in (spec or {}).get("hyperparameters", [])}
    if task == "ic":
        return image_classes(prefix, ["daisy", "roses", "tulips"])
    if task == "tc":
        return {f"{prefix}data.csv": csv_bytes(text_rows())}
    if task == "spc":
        return {f"{prefix}data.csv": csv_bytes(sentence_pair_rows())}
    if task in ("classification", "regression") or task.startswith("tabtransformer"):
        regression = "regression" in task
        rows = [[f"{n * 0.37:.2f}" if regression else str(n % 3), f"{n * 1.5:.1f}", f"{(n * 7) % 10}",
                 f"{n % 4 / 4:.2f}"] for n in range(30)]
        return {f"{prefix}train/data.csv": csv_bytes(rows[:24]),
                f"{prefix}validation/data.csv": csv_bytes(rows[24:])}
    if task.startswith(("textgeneration", "llm")):
        if defaults.get("chat_dataset") == "True":
            lines = [{"dialog": [{"role": "user", "content": f"What is {a} plus {b}?"},
                                 {"role": "assistant", "content": f"{a} plus {b} is {a + b}."}]}
                     for a, b in ((2, 3), (10, 7), (21, 21), (5, 8))]
            return {f"{prefix}train.jsonl": _jsonl(lines)}
        if defaults.get("instruction_tuned") == "True":
            lines = [{"instruction": "Name the capital.", "context": f"The country is {c}.",
                      "response": f"The capital is {k}."}
                     for c, k in (("France", "Paris"), ("Japan", "Tokyo"), ("Peru", "Lima"))]
            return {f"{prefix}train.jsonl": _jsonl(lines),
                    f"{prefix}template.json": json.dumps({
                        "prompt": "{instruction}\n\n{context}", "completion": "{response}"}).encode()}
        text = " ".join(row[1] for row in text_rows()) + "\n"
        return {f"{prefix}train.txt": text.encode()}
    if task == "text2text":
        lines = [{"prompt": f"Write a question about: {t}", "completion": f"Was it true that {t.lower()}?"}
                 for _, t in text_rows(6)]
        return {f"{prefix}data.jsonl": _jsonl(lines)}
    if task == "semseg":
        from aws.jumpstart import tiny_jpeg

        from .runtime import _png

        files = {}
        for n in range(1, 4):
            files[f"{prefix}images/img-{n:03d}.jpg"] = tiny_jpeg(16, 16)
            files[f"{prefix}masks/img-{n:03d}.png"] = _png((n % 2,) * 3)  # class index per pixel
        return files
    if task.startswith("od"):
        from aws.jumpstart import tiny_jpeg

        names = [f"img-{n:03d}.jpg" for n in range(1, 3)]
        files = {f"{prefix}images/{name}": tiny_jpeg(16, 16) for name in names}
        files[f"{prefix}annotations.json"] = json.dumps({
            "images": [{"file_name": name, "height": 16, "width": 16, "id": n} for n, name in enumerate(names)],
            "annotations": [{"image_id": n, "bbox": [2, 2, 8, 8], "category_id": 0} for n in range(len(names))],
        }).encode()
        return files
    return {f"{prefix}README.txt": f"A stand-in dataset written by the local AWS for task {task!r}.\n".encode()}


def _jsonl(lines):
    return "".join(json.dumps(line) + "\n" for line in lines).encode()


# --- JumpStart's bucket: stand-ins for what the specs name ------------------------------------

def stand_ins(directory):
    """{key: (field, spec)} for every stand-in key the spec files under `directory` name; the
    first spec to name a key decides what it holds."""
    found = {}
    for path in sorted(Path(directory).rglob("*.json")):
        try:
            spec = json.loads(path.read_text())
        except (ValueError, UnicodeDecodeError):
            continue
        if isinstance(spec, dict) and "model_id" in spec:
            for field, key in _named_keys(spec):
                found.setdefault(key, (field, spec))
    return found


def _named_keys(value):
    if isinstance(value, dict):
        for field, inner in value.items():
            if field in STAND_IN_FIELDS and isinstance(inner, str) and inner:
                yield field, inner
            else:
                yield from _named_keys(inner)
    elif isinstance(value, list):
        for inner in value:
            yield from _named_keys(inner)


def stand_in_files(key, field, spec):
    """{object key: bytes} that stand in for `key` (an object, or a prefix when it ends in /)."""
    if field == "default_training_dataset_key":
        task = (spec.get("model_id", "").split("-") + ["", ""])[1]
        return dataset_for(task, key if key.endswith("/") else key + "/", spec)
    if "script" in field:
        program = "inference.py" if field.startswith("hosting") else "transfer_learning.py"
        files = {program: STUB.format(what=program).encode()}
    else:
        files = {"model.bin": b"local AWS stand-in weights\n"}
        if field == "hosting_prepacked_artifact_key":
            files["code/inference.py"] = STUB.format(what="inference.py").encode()
    if key.endswith("/"):
        return {key + name: data for name, data in files.items()}
    return {key: tarball(files)}


def seed_stand_ins(s3_client, bucket, directory):
    """Put the stand-ins of `directory`'s specs into `bucket`; returns the object keys written."""
    objects = {}
    for key, (field, spec) in stand_ins(directory).items():
        objects.update(stand_in_files(key, field, spec))
    _put_all(s3_client, bucket, objects)
    return sorted(objects)


def remove_stand_in(s3_client, bucket, key):
    """Delete the object `key`, or every object under it when it is a prefix; returns the keys
    deleted."""
    if key.endswith("/"):
        pages = s3_client.get_paginator("list_objects_v2").paginate(Bucket=bucket, Prefix=key)
        keys = [item["Key"] for page in pages for item in page.get("Contents", [])]
    else:
        keys = [key]
    for start in range(0, len(keys), 1000):
        s3_client.delete_objects(Bucket=bucket, Delete={
            "Objects": [{"Key": k} for k in keys[start:start + 1000]], "Quiet": True})
    return keys


# --- The demo data buckets -------------------------------------------------------------------

def demo_data_files():
    """{key: bytes} of the demo data bucket (the layout is in this module's docstring)."""
    rows = text_rows()
    tc, spc, ic = "text-classification/", "sentence-pair/", "image-classification/"
    header = [["label", "text"], *rows]
    bad_label = [list(row) for row in rows]
    bad_label[6][0] = "positive"  # line 7
    empty_text = [list(row) for row in rows]
    empty_text[3][1] = ""  # line 4
    pairs = sentence_pair_rows()
    two_columns = [list(row) for row in pairs]
    two_columns[4] = two_columns[4][:2]  # line 5
    return {
        f"{tc}valid/data.csv": csv_bytes(rows),
        f"{tc}broken-header/data.csv": csv_bytes(header),
        f"{tc}broken-label/data.csv": csv_bytes(bad_label),
        f"{tc}broken-empty-text/data.csv": csv_bytes(empty_text),
        f"{tc}broken-no-csv/data.txt": csv_bytes(rows),
        f"{tc}fails-in-training/data.csv": csv_bytes(rows),
        f"{tc}fails-in-training/{FAILURE_MARKER}": (FAILURE_TEXT + "\n").encode(),
        f"{spc}valid/data.csv": csv_bytes(pairs),
        f"{spc}broken-columns/data.csv": csv_bytes(two_columns),
        f"{spc}fails-in-training/data.csv": csv_bytes(pairs),
        f"{spc}fails-in-training/{FAILURE_MARKER}": (FAILURE_TEXT + "\n").encode(),
        **image_classes(f"{ic}valid/", ["cats", "dogs", "birds"]),
        **image_classes(f"{ic}broken-one-class/", ["cats"]),
        **images(f"{ic}broken-no-folders/"),
        **image_classes(f"{ic}broken-not-images/", ["cats", "dogs"]),
        f"{ic}broken-not-images/birds/note-001.txt": b"Not an image: a bird was seen here.\n",
        f"{ic}broken-not-images/birds/note-002.txt": b"Not an image either.\n",
    }


def demo_data_eu_files():
    return {"text-classification/valid/data.csv": csv_bytes(text_rows())}


def seed_demo_data(s3_client):
    """Create the demo data bucket (in the client's region) and the one in eu-west-1, and fill
    them; returns the s3:// URIs written."""
    from .s3 import create_bucket

    written = []
    for bucket, region, files in (
            (DEMO_DATA_BUCKET, s3_client.meta.region_name, demo_data_files()),
            (DEMO_DATA_EU_BUCKET, DEMO_DATA_EU_REGION, demo_data_eu_files())):
        create_bucket(s3_client, bucket, region=region)
        _put_all(s3_client, bucket, files)
        written += [f"s3://{bucket}/{key}" for key in sorted(files)]
    return written


def seed_many_objects(s3_client, bucket=DEMO_DATA_BUCKET, prefix="many-objects/", count=10_000):
    """`count` small CSV objects under `prefix` (part-00000.csv ...), for a benchmark of listing
    a big prefix; creates the bucket if needed. Returns the keys."""
    from .s3 import create_bucket

    create_bucket(s3_client, bucket)
    row = csv_bytes(text_rows(1))
    objects = {f"{prefix}part-{n:05d}.csv": row for n in range(count)}
    _put_all(s3_client, bucket, objects, workers=8)
    return sorted(objects)


def _put_all(s3_client, bucket, objects, workers=4):
    def put(item):
        key, data = item
        s3_client.put_object(Bucket=bucket, Key=key, Body=data, ContentType=_content_type(key))

    with ThreadPoolExecutor(max_workers=workers) as pool:
        list(pool.map(put, objects.items()))


def _content_type(key):
    for ending, content_type in ((".csv", "text/csv"), (".jpg", "image/jpeg"), (".jpeg", "image/jpeg"),
                                 (".png", "image/png"), (".json", "application/json"),
                                 (".jsonl", "application/jsonlines"), (".tar.gz", "application/gzip"),
                                 (".txt", "text/plain"), (".py", "text/x-python")):
        if key.endswith(ending):
            return content_type
    return "application/octet-stream"
