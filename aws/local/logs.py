"""The local CloudWatch Logs and metrics of training jobs: what a JumpStart training container
writes while the local SageMaker runs a job (moto writes none).

A job logs to the group /aws/sagemaker/TrainingJobs, one stream per instance,
`<job>/algo-<n>-<epoch seconds>` (algo-1 .. algo-InstanceCount), created when training starts:
the training toolkit's start lines, the hyperparameters (in the training environment and the
command it runs), then for each epoch a line "Epoch 3/5" and, for each of the job's
MetricDefinitions, a line its regex matches with the epoch's value in the capture group (losses
fall and accuracies rise from epoch to epoch), and last "Reporting training SUCCESS" or a
traceback and the ExecuteUserScriptError SageMaker quotes in FailureReason. Each metric value is
also put to CloudWatch (namespace /aws/sagemaker/TrainingJobs, dimension Host=<job>/algo-1), as
SageMaker does.
"""

import json
import math
import re
from datetime import timezone

try:  # the regex parser behind re: public as sre_parse before Python 3.11
    import re._parser as _regex_parser
except ImportError:  # pragma: no cover
    import sre_parse as _regex_parser

LOG_GROUP = "/aws/sagemaker/TrainingJobs"
METRICS_NAMESPACE = "/aws/sagemaker/TrainingJobs"
PYTHON = "/usr/bin/python3"
DEFAULT_PROGRAM = "transfer_learning.py"


# --- A line for a metric regex -------------------------------------------------------------------

def example_line(regex, value):
    """A log line in which `regex` finds `value` in its first group: for `val_accuracy:
    ([0-9\\.]+)` and 0.8123, "val_accuracy: 0.8123". Literal text is kept; any other part of the
    pattern is given the shortest text it matches. Raises ValueError for a regex it cannot
    satisfy (one without a group, say)."""
    pattern = re.compile(regex)
    parsed = _regex_parser.parse(regex)
    for text in (f"{value:.4f}", f"{value:.6f}", f"{value:g}", str(round(value)), f"{value:.4e}"):
        line = _render(parsed, text)
        line += ")" * (line.count("(") - line.count(")"))  # tensor(0.81 reads better closed
        found = pattern.search(line)
        if found and found.groups() and found.group(1) == text:
            return line
    raise ValueError(f"cannot write a log line that {regex!r} reads {value!r} from")


_CATEGORY_TEXT = {"CATEGORY_DIGIT": "0", "CATEGORY_NOT_DIGIT": "x", "CATEGORY_SPACE": " ",
                  "CATEGORY_NOT_SPACE": "x", "CATEGORY_WORD": "a", "CATEGORY_NOT_WORD": " "}


def _render(items, value):
    out = []
    for op, arg in items:
        op = str(op)
        if op == "LITERAL":
            out.append(chr(arg))
        elif op == "NOT_LITERAL":
            out.append("y" if chr(arg) == "x" else "x")
        elif op == "ANY":
            out.append("x")
        elif op == "IN":
            out.append(_one_of(arg))
        elif op == "CATEGORY":
            out.append(_CATEGORY_TEXT.get(str(arg), "x"))
        elif op in ("MAX_REPEAT", "MIN_REPEAT", "POSSESSIVE_REPEAT"):
            least, _, inner = arg
            out.append(_render(inner, value) * least)
        elif op == "SUBPATTERN":
            group, _, _, inner = arg
            out.append(value if group == 1 else _render(inner, value))
        elif op == "BRANCH":
            out.append(_render(arg[1][0], value))
        elif op == "ATOMIC_GROUP":
            out.append(_render(arg, value))
        # AT (anchors), ASSERT, ASSERT_NOT, GROUPREF: nothing to write
    return "".join(out)


def _one_of(members):
    """A character of a class such as [0-9\\.] or \\S (as the first that fits)."""
    if members and str(members[0][0]) == "NEGATE":
        excluded = {chr(arg) for op, arg in members[1:] if str(op) == "LITERAL"}
        return next(c for c in "xyz_" if c not in excluded)
    for op, arg in members:
        op = str(op)
        if op == "LITERAL":
            return chr(arg)
        if op == "RANGE":
            return chr(arg[0])
        if op == "CATEGORY":
            return _CATEGORY_TEXT.get(str(arg), "x")
    return "x"


# --- What a run logs ------------------------------------------------------------------------------

RISING = re.compile(r"acc|f1|precision|recall|auc|dcg|map\b|score|iou", re.IGNORECASE)
PERPLEXITY = re.compile(r"ppl|perplexity", re.IGNORECASE)


def metric_value(name, regex, epoch, epochs, seed):
    """The metric at the end of `epoch` (1-based) of `epochs`: accuracies rise towards ~0.9,
    perplexities and losses fall; `seed` (0..1) sets where each job starts."""
    progress = 1 - math.exp(-2.5 * epoch / epochs)
    what = f"{name} {regex}"
    if RISING.search(what):
        return round(0.5 + 0.1 * seed + (0.38 - 0.1 * seed) * progress, 4)
    if PERPLEXITY.search(what):
        return round(12 + 4 * seed - (9 + 4 * seed) * progress, 4)
    return round(1.1 + 0.3 * seed - (0.85 + 0.3 * seed) * progress, 4)


def command(hyperparameters):
    """The command the training toolkit runs: the entry point and the user's hyperparameters."""
    program = hyperparameters.get("sagemaker_program") or DEFAULT_PROGRAM
    arguments = " ".join(f"--{name} {value}" for name, value in sorted(hyperparameters.items())
                         if not name.startswith("sagemaker_"))
    return f"{PYTHON} {program} {arguments}".strip()


def _toolkit(at, level, message, source="sagemaker-training-toolkit"):
    """A line as the training toolkit's logger formats it."""
    return f"{at:%Y-%m-%d %H:%M:%S},{at.microsecond // 1000:03d} {source} {level:<8} {message}"


def _framework(image):
    repository = (image or "").rsplit("/", 1)[-1].split(":")[0]
    for prefix, module in (("huggingface-pytorch", "sagemaker_huggingface_pytorch_container"),
                           ("pytorch", "sagemaker_pytorch_container"),
                           ("tensorflow", "sagemaker_tensorflow_container"),
                           ("mxnet", "sagemaker_mxnet_container"),
                           ("sagemaker-scikit-learn", "sagemaker_sklearn_container"),
                           ("sagemaker-xgboost", "sagemaker_xgboost_container")):
        if repository.startswith(prefix):
            return module
    return "sagemaker_training"


def start_lines(at, job_name, host, hosts, hyperparameters, channels, image):
    """What a training container writes as it starts: the toolkit, the training environment
    (hyperparameters included) and the command it invokes."""
    framework = _framework(image)
    environment = {
        "channel_input_dirs": {name: f"/opt/ml/input/data/{name}" for name in channels},
        "current_host": host,
        "hosts": hosts,
        "hyperparameters": {k: v for k, v in sorted(hyperparameters.items()) if not k.startswith("sagemaker_")},
        "job_name": job_name,
        "user_entry_point": hyperparameters.get("sagemaker_program") or DEFAULT_PROGRAM,
    }
    if hyperparameters.get("sagemaker_submit_directory"):
        environment["module_dir"] = hyperparameters["sagemaker_submit_directory"]
    return [
        "bash: cannot set terminal process group (-1): Inappropriate ioctl for device",
        "bash: no job control in this shell",
        _toolkit(at, "INFO", f"Imported framework {framework}.training"),
        _toolkit(at, "INFO", "Invoking user script"),
        "Training Env:",
        *json.dumps(environment, indent=4).splitlines(),
        "Invoking script with the following command:",
        command(hyperparameters),
    ]


def epoch_lines(epoch, epochs, metric_lines):
    """An epoch's lines: "Epoch 3/5" (what a progress bar reads), then its metrics' lines."""
    if not metric_lines:  # a job with no MetricDefinitions still logs its loss
        metric_lines = [f"loss: {metric_value('loss', '', epoch, epochs, 0.5):.4f}"]
    return [f"Epoch {epoch}/{epochs}", *metric_lines]


def success_lines(at):
    return [
        _toolkit(at, "INFO", "Waiting for the process to finish and give a return code."),
        _toolkit(at, "INFO", "Done waiting for a return code. Received 0 from exiting process."),
        _toolkit(at, "INFO", "Reporting training SUCCESS"),
    ]


def execute_user_script_error(hyperparameters, error):
    """What the training toolkit reports when the script exits with an error: SageMaker puts it
    after "AlgorithmError: " in FailureReason."""
    return (f"ExecuteUserScriptError:\nExitCode 1\nErrorMessage \"{error}\"\n"
            f"Command \"{command(hyperparameters)}\", exit code: 1")


def failure_lines(at, hyperparameters, error):
    program = hyperparameters.get("sagemaker_program") or DEFAULT_PROGRAM
    return [
        "Traceback (most recent call last):",
        f'  File "/opt/ml/code/{program}", line 212, in <module>',
        "    main()",
        f'  File "/opt/ml/code/{program}", line 188, in main',
        "    train(args)",
        error,
        _toolkit(at, "ERROR", "Reporting training FAILURE"),
        *_toolkit(at, "ERROR", execute_user_script_error(hyperparameters, error)).splitlines(),
    ]


# --- Writing them into moto --------------------------------------------------------------------

def epoch_millis(at):
    """Milliseconds since 1970 of a naive UTC datetime (moto's clock)."""
    return int(at.replace(tzinfo=timezone.utc).timestamp() * 1000)


def write(account_id, region, streams, lines, at):
    """Append `lines` at time `at` to each of `streams` in the training log group, creating the
    group and the streams as SageMaker does."""
    from moto.logs.models import logs_backends

    backend = logs_backends[account_id][region]
    if LOG_GROUP not in backend.groups:
        backend.create_log_group(LOG_GROUP, tags={})
    millis = epoch_millis(at)
    for stream in streams:
        backend.ensure_log_stream(LOG_GROUP, stream)
        backend.put_log_events(LOG_GROUP, stream, [{"timestamp": millis, "message": line} for line in lines])


def put_metrics(account_id, region, host, values, at):
    """values: [(metric name, value)] measured at `at` on `host` (`<job>/algo-1`)."""
    from moto.cloudwatch.models import cloudwatch_backends

    if values:
        cloudwatch_backends[account_id][region].put_metric_data(METRICS_NAMESPACE, [
            {"MetricName": name, "Value": value, "Timestamp": at, "Unit": "None",
             "Dimensions": [{"Name": "Host", "Value": host}]}
            for name, value in values])
