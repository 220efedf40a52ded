"""CloudWatch Logs reads for training jobs: a job's log streams, and each stream read forward from
where the last read stopped, in bounded pages."""

from dataclasses import dataclass
from datetime import datetime, timezone

from .clients import client
from .errors import AWS_EXCEPTIONS, AwsError

TRAINING_LOG_GROUP = "/aws/sagemaker/TrainingJobs"
MAX_STREAMS = 50  # one per instance (algo-1 ... algo-N), and a few more after restarts
PAGE_EVENTS = 1000


@dataclass(frozen=True)
class LogEvent:
    at: datetime
    message: str


def training_streams(job_name):
    """Names of the job's streams (`<job>/algo-N-<epoch>`), [] before SageMaker made any."""
    try:
        answer = client("logs").describe_log_streams(
            logGroupName=TRAINING_LOG_GROUP, logStreamNamePrefix=f"{job_name}/", limit=MAX_STREAMS)
    except AWS_EXCEPTIONS as exc:
        error = AwsError.wrap(exc)
        if error.code == "ResourceNotFoundException":
            return []
        raise error from exc
    return sorted(stream["logStreamName"] for stream in answer.get("logStreams", []))


def read_forward(stream, token=None, limit=PAGE_EVENTS):
    """Up to `limit` events of `stream` after `token` (from the start when None). Returns (events,
    next token); the next token equals the one given when there was nothing new, as AWS's does."""
    request = {"logGroupName": TRAINING_LOG_GROUP, "logStreamName": stream, "limit": limit}
    if token:
        request["nextToken"] = token
    else:
        request["startFromHead"] = True
    try:
        answer = client("logs").get_log_events(**request)
    except AWS_EXCEPTIONS as exc:
        error = AwsError.wrap(exc)
        if error.code == "ResourceNotFoundException":
            return [], token
        raise error from exc
    events = [LogEvent(datetime.fromtimestamp(e["timestamp"] / 1000, tz=timezone.utc), e.get("message", ""))
              for e in answer.get("events", [])]
    return events, answer.get("nextForwardToken") or token
