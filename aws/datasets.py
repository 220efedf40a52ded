"""The check a fine-tuning dataset in S3 gets before a paid training job starts: its address, the
bucket and its region, JumpStart's own files for the model, then the data's layout for the task,
read from a bounded sample (keys listed, bytes read, seconds) and reported as problems that name
the file, line or folder at fault and say how to fix it.

The layouts are the ones JumpStart documents: text classification (tc) and image classification
(ic) in the Studio guide's "Fine-Tuning Data Source" and on the model pages (the .jpeg and .png
images, and labels from 0, on the algorithm pages); sentence-pair classification (spc) as tc with
two sentences; object detection (od, od1) and the tabular tasks on the algorithm pages that
catalog/data/algorithms.json links. Other tasks get a note that their data is not checked.
"""

import csv
import io
import json
import math
import re
import time
from collections import Counter
from dataclasses import asdict, dataclass, field

from . import s3
from .errors import AwsError, advice

IMAGE_EXTENSIONS = (".jpg", ".jpeg", ".png")
IMAGE_SIGNATURES = (b"\xff\xd8\xff", b"\x89PNG\r\n\x1a\n")  # JPEG, PNG
SIGNATURE_BYTES = 16
IMAGE_SAMPLES = 10  # classes whose first image's first bytes are read
MAX_LISTED_PROBLEMS = 10  # per file or folder; the rest are counted in one more problem
EXAMPLES = 3  # file names quoted in a problem

TASKS = {
    "tc": "text classification",
    "spc": "sentence-pair classification",
    "ic": "image classification",
    "od": "object detection",
    "od1": "object detection",
    "classification": "tabular classification",
    "regression": "tabular regression",
    "tabtransformerclassification": "tabular classification",
    "tabtransformerregression": "tabular regression",
}
TABULAR_REGRESSION = {"regression", "tabtransformerregression"}


@dataclass(frozen=True)
class Limits:
    max_keys: int = 1000  # keys and folders listed, in all
    max_bytes: int = 1024 * 1024  # bytes read from objects, in all
    max_seconds: float = 10.0  # wall time, checked before each S3 call
    max_lines: int = 10_000  # lines read from each CSV file


@dataclass(frozen=True)
class Problem:
    where: str  # the address of the file, line or folder at fault
    what: str
    fix: str


@dataclass
class Report:
    ok: bool  # no problem found (notes say what the sample left out)
    checked: str  # what was checked: "s3://bucket/folder/ for text classification (tc)"
    problems: list = field(default_factory=list)
    notes: list = field(default_factory=list)
    stats: dict = field(default_factory=dict)

    def as_dict(self):
        """Plain data, for a Celery result or a JSONField."""
        return asdict(self)


def check(uri, *, task, region, jumpstart_objects=(), progress=None, limits=Limits()):
    """Check the fine-tuning data at `uri` (text or an S3Uri) for `task` (JumpStart's task code, such
    as "tc" or "ic") before a training job in `region` reads it.

    jumpstart_objects: (spec field, bucket, key or prefix ending in "/") for each of the model's own
    files in JumpStart's bucket that the job will read. progress(step, fraction) is called as the
    check goes, in order, ending at 1.0. AWS failures become problems, except transient ones
    (AwsError with transient=True), which are raised so a task can retry."""
    run = _Run(limits, progress)
    run.step("Reading the S3 address", 0.0)
    label = TASKS.get(task, task)
    try:
        where = uri if isinstance(uri, s3.S3Uri) else s3.parse_s3_uri(uri)
    except ValueError as exc:
        run.problem(str(uri or "(empty)"), str(exc), f"Write the address as s3://bucket-name/folder/, for example "
                    f"{s3.EXAMPLE_URI}")
        run.step("Done", 1.0)
        return run.report(f"{uri!r} for {label} ({task})")
    checked = f"{where.uri()} for {label} ({task})"
    try:
        top = _check_bucket(run, where, region)
        _check_jumpstart_objects(run, jumpstart_objects)
        if top is not None and not _nothing_there(run, where, top):
            run.step(f"Checking the data for {label}", 0.4)
            FORMATS.get(task, _not_checked)(run, where, top, task)
    except _OutOfTime:
        run.cut(f"stopped after {time.monotonic() - run.started:.1f} s, the check's time limit "
                f"({limits.max_seconds:g} s), while {run.doing[:1].lower() + run.doing[1:]}: what came after was "
                "not checked")
    run.step("Done", 1.0)
    return run.report(checked)


# -- the run: limits, progress, what was found -------------------------------------------------------


class _OutOfTime(Exception):
    pass


class _Run:
    def __init__(self, limits, progress):
        self.limits = limits
        self.started = time.monotonic()
        self.keys = 0
        self.bytes = 0
        self.problems, self.notes, self.stats = [], [], {}
        self.complete = True
        self.doing = ""
        self._progress = progress
        self._fraction = 0.0

    def step(self, doing, fraction):
        self._fraction = max(self._fraction, min(fraction, 1.0))
        self.doing = doing
        if self._progress:
            self._progress(doing, self._fraction)

    def problem(self, where, what, fix):
        self.problems.append(Problem(where, what, fix))

    def note(self, text):
        self.notes.append(text)

    def cut(self, text):
        """A limit stopped part of the check: say so."""
        self.complete = False
        self.note(text)

    def keys_left(self):
        return max(0, self.limits.max_keys - self.keys)

    def bytes_left(self):
        return max(0, self.limits.max_bytes - self.bytes)

    def _tick(self):
        if time.monotonic() - self.started > self.limits.max_seconds:
            raise _OutOfTime

    # Every S3 call goes through these, so every one counts against the limits.
    def list_folder(self, bucket, prefix, page_size, token=None):
        self._tick()
        listing = s3.list_folder(bucket, prefix, token, max(1, page_size))
        self.keys += len(listing.folders) + len(listing.objects)
        return listing

    def list_objects(self, bucket, prefix, page_size, token=None):
        self._tick()
        listing = s3.list_objects(bucket, prefix, token, max(1, page_size))
        self.keys += len(listing.objects)
        return listing

    def read(self, bucket, key, max_bytes):
        self._tick()
        chunk = s3.read_start(bucket, key, max_bytes)
        self.bytes += len(chunk.data)
        return chunk

    def call(self, function, *args):
        self._tick()
        return function(*args)

    def report(self, checked):
        self.stats.update(keys_listed=self.keys, bytes_read=self.bytes,
                          seconds=round(time.monotonic() - self.started, 3), complete=self.complete)
        return Report(not self.problems, checked, self.problems, self.notes, self.stats)


class _Capped:
    """Problems of one file or folder: the first MAX_LISTED_PROBLEMS listed, the rest counted."""

    def __init__(self, run, where):
        self.run, self.where, self.more = run, where, 0
        self.count = 0

    def add(self, where, what, fix):
        self.count += 1
        if self.count <= MAX_LISTED_PROBLEMS:
            self.run.problem(where, what, fix)
        else:
            self.more += 1

    def finish(self):
        if self.more:
            self.run.problem(self.where, f"{self.more:,} more problems like the ones above are not listed.",
                             "Fix the ones listed, then check again.")


def _aws_problem(run, error, where, fix=None):
    """A permanent AWS failure as a problem; a transient one is raised for the task to retry."""
    if error.transient:
        raise error
    run.problem(where, error.reason, fix or _fix_for(error))


_DENIED = re.compile(r"perform: (\S+) on (\S+?),")


def _fix_for(error):
    denied = _DENIED.search(error.reason or "")
    if error.code == "AccessDenied" and denied:
        return (f"Ask your AWS administrator to allow {denied.group(1)} on {denied.group(2)} to the identity this "
                "dashboard runs as, and to the SageMaker execution role, which reads the same data when it trains.")
    if error.code == "NoSuchBucket":
        return "Check the bucket's name for typos, or create the bucket and upload the data to it."
    return advice(error) or "Check the address in the S3 console, then check again."


# -- the bucket, its region, JumpStart's files -------------------------------------------------------


def _check_bucket(run, where, region):
    """Does the bucket exist, can we list the folder, is it in `region`? The folder's first page, or
    None when the data cannot be read at all."""
    run.step("Looking for the bucket", 0.05)
    bucket_at = f"s3://{where.bucket}"
    try:
        actual = run.call(s3.bucket_region, where.bucket)
        unknown_region = None
    except AwsError as error:
        if error.transient or error.code != "AccessDenied":
            fix = None
            if error.code == "NoSuchBucket":
                fix = f"Check the bucket's name for typos, or create a bucket in {region} and upload the data to it."
            _aws_problem(run, error, bucket_at, fix)
            return None
        actual, unknown_region = None, error

    run.step(f"Listing {where.uri()}", 0.15)
    top = None
    try:
        top = run.list_folder(where.bucket, where.folder, min(s3.LIST_PAGE_MAX, run.keys_left()))
    except AwsError as error:
        _aws_problem(run, error, where.uri())

    run.step("Checking the bucket's region", 0.2)
    if unknown_region is not None:
        run.note(f"could not tell which region {where.bucket} is in ({unknown_region.reason}); SageMaker reads "
                 f"training data only from a bucket in {region}")
    elif actual != region:
        run.problem(bucket_at, f"The bucket {where.bucket} is in {actual}, but the training job runs in {region}, and "
                    "SageMaker does not read training data from a bucket in another region.",
                    f"Copy the data to a bucket in {region} (aws s3 sync {where.uri()} s3://<a bucket in {region}>/"
                    f"{where.folder}), or use a bucket in {region}.")
    run.stats["bucket_region"] = actual
    if where.prefix and not where.prefix.endswith("/"):
        run.note(f"read {where} as the folder {where.uri()}; end the address with / so that SageMaker reads only "
                 f"that folder (without it, SageMaker reads every key that starts with {where.prefix!r})")
    return top


def _check_jumpstart_objects(run, objects):
    objects = list(objects)
    for i, (what, bucket, key) in enumerate(objects):
        run.step("Checking JumpStart's files for the model", 0.25 + 0.15 * i / len(objects))
        at = f"s3://{bucket}/{key or ''}"
        if not key:
            run.problem(at, f"The model's spec gives no {what}.",
                        "Sync the catalog again, or choose another version of the model.")
            continue
        folder = key.endswith("/")
        try:
            found = run.call(s3.prefix_exists if folder else s3.object_exists, bucket, key)
        except AwsError as error:
            _aws_problem(run, error, at)
            continue
        if not found:
            dataset = "dataset" in what
            run.problem(at, f"The model's spec names {key} as its {what}, but JumpStart's bucket {bucket} has no "
                        f"such {'folder' if folder else 'file'}.",
                        "Give your own training data instead of JumpStart's default dataset." if dataset else
                        "Choose another version of the model, or sync the catalog again so that its spec names "
                        "files that exist; as it is, the training job would fail.")


def _nothing_there(run, where, top):
    if top.folders or top.objects:
        return False
    fix = "Upload the data there, or correct the address: folder and file names in S3 are case-sensitive."
    if where.prefix and not where.prefix.endswith("/"):
        try:
            if run.call(s3.object_exists, where.bucket, where.prefix):
                parent = where.prefix.rpartition("/")[0]
                fix = (f"{where} is a file: give the folder that holds it, "
                       f"s3://{where.bucket}/{parent + '/' if parent else ''}")
        except AwsError as error:
            if error.transient:
                raise
    run.problem(where.uri(), f"There is nothing in {where.uri()}.", fix)
    return True


def _listing_cut(run, where, top):
    if top.truncated:
        run.cut(f"checked the first {len(top.folders) + len(top.objects):,} entries at the top of {where.uri()}, "
                "the check's max_keys limit; there are more, not checked")


# -- text classification, sentence-pair classification -------------------------------------------------

_INTEGER = re.compile(r"[+-]?\d+")
_WORD = re.compile(r"[A-Za-z_][A-Za-z0-9_ .()-]*")
_COLUMNS = {
    "tc": ("the class label", "the text"),
    "spc": ("the class label", "the first sentence", "the second sentence"),
}


def _check_labelled_text(run, where, top, task):
    """data.csv at the folder, no header; a whole-number class label, then non-empty text (tc) or two
    non-empty sentences (spc)."""
    columns = _COLUMNS[task]
    label = TASKS[task]
    key = where.folder + "data.csv"
    uri = f"s3://{where.bucket}/{key}"
    layout = (f"no header row, and on each line {', '.join(columns[:-1])} and {columns[-1]}; the class label is a "
              "whole number (0, 1, 2, …)")
    listed = next((o for o in top.objects if o.key == key), None)
    if listed is None and not top.truncated:
        run.problem(where.uri(), f"There is no data.csv in {where.uri()}.", _fix_no_csv(where, top, "data.csv", layout))
        return
    if listed is not None and listed.size == 0:
        run.problem(uri, "data.csv is empty.", f"Upload it again: {layout}.")
        return
    run.step("Reading data.csv", 0.5)
    try:
        table = _read_csv(run, where.bucket, key, run.bytes_left())
    except AwsError as error:
        if error.code == "NoSuchKey":
            run.problem(where.uri(), f"There is no data.csv in {where.uri()}.",
                        _fix_no_csv(where, top, "data.csv", layout))
            return
        _aws_problem(run, error, uri)
        return
    if table is None:
        return
    run.step("Checking data.csv", 0.8)
    rows = list(table.rows)
    problems = _Capped(run, uri)
    labels = Counter()
    if rows and _looks_like_header(rows, len(columns)):
        line, cells = rows.pop(0)
        problems.add(f"{uri}, line {line}", f"Line {line} is a header row ({_show(cells)}), but JumpStart reads every "
                     "line of data.csv as an example.",
                     "Delete the header row: data.csv starts with the first example.")
    for line, cells in rows:
        at = f"{uri}, line {line}"
        value = cells[0].strip()
        if _INTEGER.fullmatch(value) and int(value) >= 0:
            labels[int(value)] += 1  # the labels seen, on good lines and bad
        if len(cells) != len(columns):
            problems.add(at, f"Line {line} has {_count(len(cells), 'column')} ({_show(cells)}); {label} needs "
                         f"{len(columns)}: {', '.join(columns[:-1])} and {columns[-1]}.",
                         _fix_columns(len(cells), len(columns)))
        elif not _INTEGER.fullmatch(value):
            problems.add(at, f"The class label on line {line} is {value!r}, not a whole number.",
                         "Number the classes 0, 1, 2, … and write each line's class as its number.")
        elif int(value) < 0:
            problems.add(at, f"The class label on line {line} is {value}, below 0.", "Number the classes from 0.")
        else:
            empty = next((name for name, text in zip(columns[1:], cells[1:]) if not text.strip()), None)
            if empty:
                problems.add(at, f"Line {line} has no {empty.removeprefix('the ')}.",
                             f"Write {empty} on line {line}, or delete the line.")
    problems.finish()
    run.stats.update(labels=dict(sorted(labels.items())), classes=len(labels), lines_checked=len(table.rows),
                     data_csv_bytes=table.size)
    _check_classes(run, uri, labels, table.complete)


def _check_classes(run, uri, labels, complete):
    if len(labels) == 1:
        (only,) = labels
        if complete:
            run.problem(uri, f"Every example in data.csv has the class label {only}: a classifier needs at least two "
                        "classes.", "Add examples of the other classes.")
        else:
            run.note(f"the lines of {uri} checked all have the class label {only}")
    elif labels and set(labels) != set(range(len(labels))) and complete:
        run.note(f"the class labels in {uri} are {_ranges(sorted(labels))}; JumpStart's text classifiers number the "
                 f"classes from 0 to the number of classes minus one (here 0–{len(labels) - 1})")


def _looks_like_header(rows, width):
    """The first line is a header when its label is a word where the next line has a number."""
    _, first = rows[0]
    if not first or _INTEGER.fullmatch(first[0].strip()) or not _WORD.fullmatch(first[0].strip()):
        return False
    if len(rows) == 1:
        return len(first) == width
    _, second = rows[1]
    return bool(second) and _INTEGER.fullmatch(second[0].strip()) is not None


def _fix_columns(found, wanted):
    if found > wanted:
        return ('Put double quotes around text that holds a comma, as in 1,"Good, and cheap"; or delete the '
                "extra columns.")
    return "Add the missing columns after commas, or delete the line."


def _fix_no_csv(where, top, name, layout):
    """How to get a `name` into the folder, from what is there instead."""
    present = [o.name for o in top.objects]
    same = [n for n in present if n.lower() == name.lower()]
    if same:
        return f"Rename {same[0]} to {name}: names in S3 are case-sensitive."
    csvs = [n for n in present if n.lower().endswith(".csv")]
    if len(csvs) == 1:
        return f"Rename {csvs[0]} to {name} ({layout})."
    folders = [f[len(where.folder):] for f in top.folders]
    if folders and not csvs:
        return (f"If {name} is in one of its folders ({_examples(folders)}), give that folder's address instead; "
                f"otherwise upload {where.uri(where.folder + name)}: {layout}.")
    return f"Upload your data as {where.uri(where.folder + name)}: {layout}."


@dataclass
class _Table:
    rows: list  # (line number where the row starts, cells), blank lines left out
    complete: bool  # every line of the file was read
    size: int


def _read_csv(run, bucket, key, budget):
    """The first lines of a CSV file, as far as the limits allow (None when none could be read);
    notes say where the limits cut it."""
    uri = f"s3://{bucket}/{key}"
    name = key.rsplit("/", 1)[-1]
    budget = min(budget, run.bytes_left())
    if budget <= 0:
        run.cut(f"did not read {uri}: the check had read its {_size(run.limits.max_bytes)} already")
        return None
    chunk = run.read(bucket, key, budget)
    data, complete = chunk.data, chunk.complete
    if not complete:
        end = data.rfind(b"\n")
        if end < 0:
            run.cut(f"the first line of {uri} is longer than the {_size(budget)} the check reads: not checked")
            return None
        data = data[:end + 1]
    try:
        text = data.decode("utf-8-sig")
    except UnicodeDecodeError as exc:
        line = data.count(b"\n", 0, exc.start) + 1
        run.problem(f"{uri}, line {line}", f"{name} is not UTF-8 text: byte {exc.start + 1:,} (on line {line}) is "
                    f"{data[exc.start]:#04x}.", "Save the file as UTF-8 (in Excel: CSV UTF-8).")
        return None
    csv.field_size_limit(max(csv.field_size_limit(), run.limits.max_bytes))  # no cell is longer than what we read
    reader = csv.reader(io.StringIO(text, newline=""))
    rows, ended, lines_cut = [], 0, False
    try:
        for cells in reader:
            start, ended = ended + 1, reader.line_num
            if not any(cell.strip() for cell in cells):
                continue
            if len(rows) == run.limits.max_lines:
                lines_cut = True  # a line beyond max_lines
                break
            rows.append((start, cells))
    except csv.Error as exc:
        run.problem(f"{uri}, line {ended + 1}", f"Line {ended + 1} of {name} cannot be read as CSV ({exc}).",
                    "Save the file again as CSV (comma-separated, UTF-8).")
    if not complete and not lines_cut and rows:
        rows.pop()  # the byte limit may have cut a quoted cell that spans lines
    if lines_cut:
        run.cut(f"checked the first {len(rows):,} lines of {uri} (the check's max_lines); the rest was not read")
    elif not complete:
        run.cut(f"checked the first {len(rows):,} lines of {uri} ({_size(len(chunk.data))} of its {_size(chunk.size)}, "
                "the check's max_bytes); the rest was not read")
    return _Table(rows, complete and not lines_cut, chunk.size)


# -- image classification -----------------------------------------------------------------------------


def _check_class_folders(run, where, top, task):
    """One folder per class (at least two), each holding .jpg, .jpeg or .png images."""
    _listing_cut(run, where, top)
    loose = list(top.objects)
    if loose:
        run.problem(where.uri(), f"{_count(len(loose), 'file')} {'is' if len(loose) == 1 else 'are'} at the top of "
                    f"{where.uri()} ({_examples([o.name for o in loose])}), outside any class folder.",
                    f"Move each image into the folder of its class ({where.uri()}<class>/): JumpStart takes the "
                    "folders' names as the classes and reads only the images in them.")
    classes = list(top.folders)
    if not classes:
        run.problem(where.uri(), f"There are no class folders in {where.uri()}.",
                    f"Make one folder per class in {where.uri()}, each holding that class's .jpg, .jpeg or .png "
                    "images.")
        return
    if len(classes) == 1 and not top.truncated:
        run.problem(f"s3://{where.bucket}/{classes[0]}",
                    f"{_tail(where, classes[0])} is the only class folder: image classification needs at least two "
                    "classes.", "Add a folder for each other class, each holding that class's images.")
    per_class, samples, cut = {}, [], []  # cut: how many were listed of each folder that holds more
    for i, folder in enumerate(classes):
        run.step(f"Listing {_tail(where, folder)}", 0.45 + 0.4 * i / len(classes))
        share = run.keys_left() // (len(classes) - i)  # what a small folder leaves goes to the next ones
        if share < 1:
            run.cut(f"listed {i:,} of the {len(classes):,} class folders: the check's max_keys limit was reached")
            break
        try:
            objects, more = _list_up_to(run, where.bucket, folder, share)
        except AwsError as error:
            _aws_problem(run, error, f"s3://{where.bucket}/{folder}")
            continue
        images = _check_one_class(run, where, folder, objects, more)
        per_class[_tail(where, folder).rstrip("/")] = len(images)
        if more:
            cut.append(len(objects))
        if images and len(samples) < IMAGE_SAMPLES:
            samples.append(images[0])
    if cut:
        span = f"{min(cut):,}" if min(cut) == max(cut) else f"{min(cut):,} to {max(cut):,}"
        run.cut(f"listed the first {span} objects of {len(cut):,} of the {len(classes):,} class folders, which hold "
                f"more (the check's max_keys: {run.limits.max_keys:,} keys in all), so their image counts are at "
                "least those shown")
    run.stats.update(classes=len(classes), images_per_class=per_class, images=sum(per_class.values()))
    _check_signatures(run, where.bucket, samples)


def _list_up_to(run, bucket, folder, most):
    """The first `most` objects below `folder`, page by page, and whether there are more."""
    objects, token = [], None
    while True:
        listing = run.list_objects(bucket, folder, min(most - len(objects), s3.LIST_PAGE_MAX), token)
        objects += listing.objects
        token = listing.next_token
        if not token or len(objects) >= most:
            return objects, token is not None


def _check_one_class(run, where, folder, objects, more):
    """Problems of one class folder (`more`: it holds more objects than were listed); its images."""
    at = f"s3://{where.bucket}/{folder}"
    name = _tail(where, folder)
    images, others, empty, nested = [], [], [], []
    for item in objects:
        if item.key.endswith("/"):
            continue  # a subfolder's marker
        if "/" in item.key[len(folder):]:
            nested.append(item)
        if not item.key.lower().endswith(IMAGE_EXTENSIONS):
            others.append(item.name)
        elif item.size == 0:
            empty.append(item.name)
        else:
            images.append(item)
    if others:
        run.problem(at, f"{name} holds {_count(len(others), 'file')} that {'is' if len(others) == 1 else 'are'} not "
                    f".jpg, .jpeg or .png {'an image' if len(others) == 1 else 'images'} ({_examples(others)}).",
                    "Remove them, or convert them to JPEG or PNG: the class folders hold only images.")
    if empty:
        run.problem(at, f"{name} holds {_count(len(empty), 'empty file')} ({_examples(empty)}).", "Upload them again.")
    if not images:
        run.problem(at, f"{name} holds no .jpg, .jpeg or .png images" +
                    (" among the files the check listed." if more else "."),
                    f"Put this class's images in {at}, or remove the folder.")
    if nested:
        subfolders = sorted({item.key[len(folder):].split("/")[0] + "/" for item in nested})
        run.note(f"{name} has subfolders ({_examples(subfolders)}); "
                 "JumpStart documents one level of class folders, so their images may not count as this class")
    return images


def _check_signatures(run, bucket, images):
    """Read the first bytes of a few images: are they JPEG or PNG at all?"""
    for item in images:
        if run.bytes_left() < SIGNATURE_BYTES:
            run.cut("did not look inside the images: the check had read its max_bytes already")
            return
        try:
            chunk = run.read(bucket, item.key, SIGNATURE_BYTES)
        except AwsError as error:
            _aws_problem(run, error, f"s3://{bucket}/{item.key}")
            return
        if not chunk.data.startswith(IMAGE_SIGNATURES):
            run.problem(f"s3://{bucket}/{item.key}", f"{item.name} is not a JPEG or PNG image, whatever its "
                        "name says.", "Convert it (and any like it) to JPEG or PNG, or remove it.")
    if images:
        run.note(f"looked inside the first image of {_count(len(images), 'class folder')}: "
                 "the other images were checked by name only")


# -- object detection ---------------------------------------------------------------------------------


def _check_detection(run, where, top, task):
    """images/ with .jpg, .jpeg or .png images, and annotations.json next to it: {"images": [{file_name,
    height, width, id}], "annotations": [{image_id, bbox: [xmin, ymin, xmax, ymax], category_id}]}."""
    _listing_cut(run, where, top)
    images_folder = where.folder + "images/"
    annotations = next((o for o in top.objects if o.key == where.folder + "annotations.json"), None)
    layout = ("an images/ folder holding the .jpg, .jpeg or .png images, and next to it annotations.json, a JSON "
              'object with "images" ([{"file_name", "height", "width", "id"}, …]) and "annotations" '
              '([{"image_id", "bbox": [xmin, ymin, xmax, ymax], "category_id"}, …])')
    if images_folder not in top.folders and not top.truncated:
        run.problem(where.uri(), f"There is no images/ folder in {where.uri()}.", f"Object detection data is {layout}.")
    if annotations is None and not top.truncated:
        run.problem(where.uri(), f"There is no annotations.json in {where.uri()}.",
                    f"Object detection data is {layout}.")
    files = None
    if images_folder in top.folders or top.truncated:
        files = _list_images(run, where, images_folder)
    if annotations is not None or top.truncated:
        _check_annotations(run, where, annotations, files)


def _list_images(run, where, folder):
    """Names of the images in images/ (None when the listing was cut short)."""
    at = f"s3://{where.bucket}/{folder}"
    names, others, token, cut = [], [], None, False
    while True:
        run.step("Listing images/", 0.5)
        if run.keys_left() < 1:
            run.cut(f"listed the first {len(names) + len(others):,} files of {at} (the check's max_keys); the rest "
                    "were not checked")
            cut = True
            break
        try:
            listing = run.list_objects(where.bucket, folder, min(run.keys_left(), s3.LIST_PAGE_MAX), token)
        except AwsError as error:
            _aws_problem(run, error, at)
            return None
        for item in listing.objects:
            relative = item.key[len(folder):]
            if item.key.endswith("/"):
                continue
            (names if relative.lower().endswith(IMAGE_EXTENSIONS) else others).append(relative)
        token = listing.next_token
        if not token:
            break
    if others:
        run.problem(at, f"images/ holds {_count(len(others), 'file')} that {'is' if len(others) == 1 else 'are'} not "
                    f".jpg, .jpeg or .png ({_examples(others)}).", "Remove them, or convert them to JPEG or PNG.")
    if not names and not cut:
        run.problem(at, "images/ holds no .jpg, .jpeg or .png images.", "Put the images in images/.")
    run.stats["images"] = len(names)
    return None if cut else set(names)


def _check_annotations(run, where, listed, files):
    key = where.folder + "annotations.json"
    uri = f"s3://{where.bucket}/{key}"
    run.step("Reading annotations.json", 0.7)
    if listed is not None and listed.size > run.bytes_left():
        run.cut(f"did not read {uri}: it is {_size(listed.size)}, more than the {_size(run.bytes_left())} the check "
                "may still read; its contents were not checked")
        return
    try:
        chunk = run.read(where.bucket, key, max(1, run.bytes_left()))
    except AwsError as error:
        if error.code == "NoSuchKey":
            run.problem(where.uri(), f"There is no annotations.json in {where.uri()}.",
                        "Add annotations.json next to images/.")
        else:
            _aws_problem(run, error, uri)
        return
    if not chunk.complete:
        run.cut(f"did not check {uri}: it is {_size(chunk.size)}, more than the check may read")
        return
    try:
        document = json.loads(chunk.data.decode("utf-8-sig"))
    except UnicodeDecodeError:
        run.problem(uri, "annotations.json is not UTF-8 text.", "Save it as UTF-8 JSON.")
        return
    except json.JSONDecodeError as exc:
        run.problem(f"{uri}, line {exc.lineno}", f"annotations.json is not valid JSON: {exc.msg} at line {exc.lineno}, "
                    f"column {exc.colno}.", "Correct the JSON (a JSON validator shows where it breaks).")
        return
    if not isinstance(document, dict) or not isinstance(document.get("images"), list) \
            or not isinstance(document.get("annotations"), list):
        run.problem(uri, 'annotations.json is not a JSON object with an "images" list and an "annotations" list.',
                    'Write it as {"images": [{"file_name", "height", "width", "id"}, …], "annotations": '
                    '[{"image_id", "bbox": [xmin, ymin, xmax, ymax], "category_id"}, …]}.')
        return
    problems = _Capped(run, uri)
    ids, names = set(), set()
    for i, image in enumerate(document["images"]):
        at = f"{uri}, images[{i}]"
        if not isinstance(image, dict) or not all(k in image for k in ("file_name", "height", "width", "id")):
            problems.add(at, f"images[{i}] lacks some of file_name, height, width and id.",
                         'Give every image {"file_name", "height", "width", "id"}.')
            continue
        if image["id"] in ids:
            problems.add(at, f"images[{i}] has the id {image['id']!r}, which an earlier image has too.",
                         "Give every image its own id.")
        ids.add(image["id"])
        names.add(str(image["file_name"]))
        if not all(_is_number(image[k]) and image[k] > 0 for k in ("height", "width")):
            problems.add(at, f"images[{i}] ({image['file_name']}) has no positive height and width.",
                         "Give each image's height and width in pixels.")
    categories = Counter()
    for i, box in enumerate(document["annotations"]):
        at = f"{uri}, annotations[{i}]"
        if not isinstance(box, dict) or not all(k in box for k in ("image_id", "bbox", "category_id")):
            problems.add(at, f"annotations[{i}] lacks some of image_id, bbox and category_id.",
                         'Give every box {"image_id", "bbox": [xmin, ymin, xmax, ymax], "category_id"}.')
            continue
        bbox = box["bbox"]
        if box["image_id"] not in ids:
            problems.add(at, f"annotations[{i}] is for the image id {box['image_id']!r}, which no entry of \"images\" "
                         "has.", 'Use the id of an entry in "images".')
        elif not (isinstance(bbox, list) and len(bbox) == 4 and all(_is_number(v) for v in bbox)):
            problems.add(at, f"annotations[{i}] has the bbox {bbox!r}, not four numbers.",
                         "Write each box as [xmin, ymin, xmax, ymax].")
        elif bbox[2] <= bbox[0] or bbox[3] <= bbox[1]:
            problems.add(at, f"annotations[{i}] has the bbox {bbox!r}, whose xmax or ymax is not beyond its xmin or "
                         "ymin (is it [x, y, width, height]?).", "Write each box as [xmin, ymin, xmax, ymax].")
        else:
            categories[box["category_id"]] += 1
    if files is not None:
        missing = sorted(names - files)
        if missing:
            problems.add(uri, f"annotations.json names {_count(len(missing), 'image')} that images/ does not hold "
                         f"({_examples(missing)}).", "Upload those images to images/, or remove their entries.")
        unused = files - names
        if unused:
            run.note(f"{_count(len(unused), 'image')} in images/ {'has' if len(unused) == 1 else 'have'} no entry in "
                     f"annotations.json ({_examples(sorted(unused))})")
    problems.finish()
    run.stats.update(annotated_images=len(ids), boxes=sum(categories.values()),
                     boxes_per_category=dict(sorted(categories.items(), key=lambda kv: str(kv[0]))))


def _is_number(value):
    return isinstance(value, (int, float)) and not isinstance(value, bool) and math.isfinite(value)


# -- tabular classification and regression ------------------------------------------------------------


def _check_tabular(run, where, top, task):
    """train/data.csv (and optional validation/data.csv): no header, the target in the first column, the
    features after it; optional categorical_index.json {"cat_index_list": [column numbers]}."""
    _listing_cut(run, where, top)
    regression = task in TABULAR_REGRESSION
    target = "a number" if regression else "the class"
    layout = (f"train/data.csv with no header row, {target} to predict in the first column and the features in the "
              "columns after it (and, if you like, validation/data.csv laid out the same)")
    train, validation = where.folder + "train/", where.folder + "validation/"
    if train not in top.folders and not top.truncated:
        here = next((o.name for o in top.objects if o.name.lower().endswith(".csv")), None)
        fix = (f"Move {here} to {where.uri(train + 'data.csv')}: JumpStart's tabular algorithms read {layout}."
               if here else f"Upload {layout}.")
        run.problem(where.uri(), f"There is no train/ folder in {where.uri()}.", fix)
        return
    files = [("train", train)] + ([("validation", validation)] if validation in top.folders else [])
    widths = {}
    for i, (name, folder) in enumerate(files):
        run.step(f"Reading {name}/data.csv", 0.5 + 0.2 * i)
        uri = f"s3://{where.bucket}/{folder}data.csv"
        try:
            table = _read_csv(run, where.bucket, folder + "data.csv", run.bytes_left() // (len(files) - i))
        except AwsError as error:
            if error.code == "NoSuchKey":
                run.problem(f"s3://{where.bucket}/{folder}", f"There is no data.csv in {name}/.", f"Upload {layout}.")
            else:
                _aws_problem(run, error, uri)
            continue
        if table is not None:
            widths[name] = _check_table(run, uri, table, regression, name)
    if len({w for w in widths.values() if w}) > 1:
        run.problem(f"s3://{where.bucket}/{validation}data.csv",
                    f"validation/data.csv has {widths['validation']} columns and train/data.csv {widths['train']}.",
                    "Give both files the same columns, in the same order.")
    categorical = next((o for o in top.objects if o.name == "categorical_index.json"), None)
    if categorical is not None:
        _check_categorical(run, where, categorical, widths.get("train"))


def _check_table(run, uri, table, regression, name):
    """Problems of one tabular data.csv; the number of columns of its first line."""
    rows = table.rows
    problems = _Capped(run, uri)
    if not rows:
        run.problem(uri, f"{name}/data.csv has no lines.", "Upload the data again.")
        return None
    if len(rows) > 1 and all(not _is_numeric(c) and c.strip() for c in rows[0][1]) \
            and any(_is_numeric(c) for c in rows[1][1]):
        line, cells = rows.pop(0)
        problems.add(f"{uri}, line {line}", f"Line {line} is a header row ({_show(cells)}), but JumpStart's tabular "
                     "algorithms read every line as data.", "Delete the header row.")
    width = len(rows[0][1]) if rows else 0
    if rows and width < 2:
        problems.add(f"{uri}, line {rows[0][0]}", f"Line {rows[0][0]} has one column: the target and at least one "
                     "feature are needed.", "Put the target in the first column and the features after it.")
    targets, values = Counter(), []
    for line, cells in rows:
        at = f"{uri}, line {line}"
        if len(cells) != width:
            problems.add(at, f"Line {line} has {_count(len(cells), 'column')}, and line {rows[0][0]} "
                         f"{width}.", "Give every line the same columns (quote cells that hold a comma).")
            continue
        value = cells[0].strip()
        if not value:
            problems.add(at, f"Line {line} has no target in its first column.", "Fill it in, or delete the line.")
        elif regression and not _is_numeric(value):
            problems.add(at, f"The target on line {line} is {value!r}, not a number.",
                         "Regression predicts a number: put it in the first column.")
        elif regression:
            values.append(float(value))
        else:
            targets[value] += 1
    problems.finish()
    stats = {"lines_checked": len(table.rows), "columns": width, "bytes": table.size}
    if regression and values:
        stats.update(target_min=min(values), target_max=max(values))
    elif targets:
        stats.update(classes=len(targets), labels=dict(targets.most_common(50)))
        if len(targets) == 1 and table.complete and name == "train":
            run.problem(uri, f"Every line of {name}/data.csv has the target {next(iter(targets))!r}: a classifier "
                        "needs at least two classes.", "Add examples of the other classes.")
    run.stats[name] = stats
    return width


def _check_categorical(run, where, listed, width):
    uri = f"s3://{where.bucket}/{listed.key}"
    fix = ('Write it as {"cat_index_list": [1, 4]}: the numbers of the categorical columns, counting the target '
           "as column 0.")
    if listed.size > run.bytes_left():
        run.cut(f"did not read {uri}: the check had read its max_bytes already")
        return
    try:
        chunk = run.read(where.bucket, listed.key, max(1, listed.size))
        document = json.loads(chunk.data.decode("utf-8-sig"))
    except AwsError as error:
        _aws_problem(run, error, uri)
        return
    except ValueError:
        run.problem(uri, "categorical_index.json is not valid JSON.", fix)
        return
    columns = document.get("cat_index_list") if isinstance(document, dict) else None
    if not isinstance(columns, list) or not all(isinstance(c, int) and not isinstance(c, bool) for c in columns):
        run.problem(uri, 'categorical_index.json has no "cat_index_list" list of column numbers.', fix)
    elif any(c < 1 or (width and c >= width) for c in columns):
        last = width - 1 if width else "the last"
        run.problem(uri, f"categorical_index.json names columns {columns}, outside 1 to {last}"
                    " (column 0 is the target).", fix)


def _is_numeric(text):
    try:
        return math.isfinite(float(text))
    except ValueError:
        return False


# -- other tasks --------------------------------------------------------------------------------------


def _not_checked(run, where, top, task):
    run.note(f"the data is not checked for {task}: JumpStart documents no format for it in this dashboard's catalog "
             "(the model's example notebooks show the layout it expects)")
    run.stats["entries_at_top"] = len(top.folders) + len(top.objects)


FORMATS = {
    "tc": _check_labelled_text,
    "spc": _check_labelled_text,
    "ic": _check_class_folders,
    "od": _check_detection,
    "od1": _check_detection,
    "classification": _check_tabular,
    "regression": _check_tabular,
    "tabtransformerclassification": _check_tabular,
    "tabtransformerregression": _check_tabular,
}


# -- words --------------------------------------------------------------------------------------------


def _count(n, noun):
    return f"{n:,} {noun}" if n == 1 else f"{n:,} {noun}s"


def _examples(names):
    names = list(names)
    shown = ", ".join(names[:EXAMPLES])
    return shown + (f" and {len(names) - EXAMPLES:,} more" if len(names) > EXAMPLES else "")


def _show(cells, width=60):
    text = ",".join(cells)
    return repr(text if len(text) <= width else text[:width] + "…")


def _tail(where, folder):
    return folder[len(where.folder):]


def _size(n):
    if n < 1024:
        return _count(n, "byte")
    if n < 1024 * 1024:
        return f"{n / 1024:.0f} KiB"
    return f"{n / 1024 / 1024:.1f} MiB"


def _ranges(numbers):
    """[0, 1, 2, 5] -> "0–2 and 5" (numbers sorted, no repeats)."""
    spans, start = [], numbers[0]
    for previous, current in zip(numbers, numbers[1:] + [None]):
        if current is None or current != previous + 1:
            spans.append(f"{start}" if start == previous else f"{start}–{previous}")
            start = current
    return ", ".join(spans[:-1]) + (" and " if len(spans) > 1 else "") + spans[-1]
