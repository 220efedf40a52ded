"""AWS failures in our own words: a code, a reason a person can read, and whether trying again
could help."""

import re

from botocore.exceptions import BotoCoreError, ClientError, ConnectionError as BotoConnectionError

# Codes that mean "ask again later"; anything else AWS rejects is permanent.
TRANSIENT_CODES = {
    "Throttling", "ThrottlingException", "ThrottledException", "RequestThrottled",
    "TooManyRequestsException", "ProvisionedThroughputExceededException", "SlowDown",
    "RequestLimitExceeded", "ServiceUnavailable", "InternalFailure", "InternalError",
    "InternalServerError", "500", "502", "503", "504",
}


class AwsError(Exception):
    def __init__(self, code, reason, *, transient=False):
        super().__init__(f"{code}: {reason}")
        self.code = code
        self.reason = reason
        self.transient = transient

    @classmethod
    def wrap(cls, exc):
        """Turn a botocore exception into an AwsError (an AwsError passes through)."""
        if isinstance(exc, cls):
            return exc
        if isinstance(exc, ClientError):
            error = exc.response.get("Error", {})
            code = str(error.get("Code") or "Unknown")
            reason = error.get("Message") or code
            return cls(code, reason, transient=code in TRANSIENT_CODES)
        if isinstance(exc, BotoConnectionError):
            return cls("NetworkError", f"could not reach AWS ({exc})", transient=True)
        if isinstance(exc, BotoCoreError):
            return cls(type(exc).__name__, str(exc))
        raise TypeError(f"not an AWS error: {exc!r}")


AWS_EXCEPTIONS = (ClientError, BotoCoreError)


# What a person deploying a model should read when AWS says no: what happened and what to do.
# Kept next to AwsError so every caller (tasks, views, admin) words the same failure the same way.

_INSTANCE_TYPE = re.compile(r"\bml\.[a-z0-9-]+\.[a-z0-9-]+\b")
_ACTION = re.compile(r"not authorized to perform:? ([a-z0-9-]+:[A-Za-z0-9]+)")
_ROLE_ARN = re.compile(r"arn:aws[a-z-]*:iam::\d{12}:role/[\w+=,.@/-]+")
ACCESS_DENIED_CODES = {"AccessDenied", "AccessDeniedException", "UnauthorizedOperation"}


def _quote(reason):
    return f" (AWS said: {reason.strip().rstrip('.')}.)" if reason else ""


def advice(error):
    """What to do about `error` (an AwsError), in plain words; "" when we have nothing to add."""
    code, reason = error.code, error.reason or ""
    if "iam:PassRole" in reason:
        role = _ROLE_ARN.search(reason)
        return (
            "The AWS identity this dashboard runs as may not hand the execution role"
            f"{' ' + role.group(0) if role else ''} to SageMaker. Allow it iam:PassRole on that role"
            " (with iam:PassedToService sagemaker.amazonaws.com), or choose a role it may pass."
        )
    if code in ACCESS_DENIED_CODES:
        action = _ACTION.search(reason)
        what = action.group(1) if action else "this action"
        return (
            f"The AWS identity this dashboard runs as is not allowed to call {what}. "
            "Ask your AWS administrator to allow it in that identity's IAM policy."
        )
    if code == "ResourceLimitExceeded":
        instance = _INSTANCE_TYPE.search(reason)
        what = f"{instance.group(0)} instances" if instance else "this machine type"
        return (
            f"Your AWS account's quota for {what} is used up in this region. "
            "Request an increase in Service Quotas, or choose another machine type."
        )
    if code == "ValidationException" and "assume role" in reason.lower():
        return (
            "SageMaker could not assume the execution role. Check that the role exists and that its "
            "trust policy allows the service principal sagemaker.amazonaws.com to assume it (sts:AssumeRole)."
        )
    if code == "ValidationException" and "eula" in reason.lower():
        return "This model is gated: accept its license (EULA) before deploying it."
    if code in ("Throttling", "ThrottlingException", "TooManyRequestsException", "RequestLimitExceeded"):
        return "AWS asked us to slow down and kept doing so after several retries. Wait a minute, then try again."
    if code == "NetworkError":
        return "Check this server's network access to AWS (and AWS_ENDPOINT_URL, if set), then try again."
    if code == "ValidationError" and "not found" in reason.lower():
        return ("The endpoint is not in service: wait until it is InService, or deploy the model again "
                "if the endpoint failed or was deleted.")
    if code == "ModelError":
        return ("The model's container answered with an error: check that the request body suits the model, "
                "and read the endpoint's logs in CloudWatch (/aws/sagemaker/Endpoints/<endpoint name>).")
    if error.transient:
        return "This may pass by itself: try again in a minute."
    return ""


def explain(error):
    """One message for a person: what AWS said, in our words, and what to do about it."""
    if error.code == "ValidationException":
        said = f"AWS rejected the request: {error.reason.strip().rstrip('.')}."
    elif error.code == "ResourceLimitExceeded":
        said = "AWS refused to start the machines."  # its own message is long; the advice says it all
    elif error.code in ACCESS_DENIED_CODES or "iam:PassRole" in (error.reason or ""):
        said = "AWS denied access" + _quote(error.reason)
    elif error.code == "ModelError":
        said = "The endpoint could not answer" + _quote(error.reason)
    else:
        said = f"{error.code}: {error.reason.strip().rstrip('.')}." if error.reason else f"{error.code}."
    more = advice(error)
    return f"{said} {more}" if more else said


AwsError.advice = property(advice, doc="What to do about this error, in plain words (explain() gives the whole message).")


# What a person fine-tuning a model should read when SageMaker says a training job failed.
_TRAINING_FAILURES = [
    (re.compile(r"out of memory|OutOfMemory|CUDA error: out of memory|Killed", re.I),
     "The job ran out of memory. Lower the batch size, or choose an instance with more (GPU) memory."),
    (re.compile(r"No S3 objects found|NoSuchKey|NoSuchBucket|AccessDenied.*s3", re.I),
     "SageMaker could not read the data. Check that the S3 folder holds the data, is in SageMaker's "
     "region, and that the execution role may read it (s3:GetObject, s3:ListBucket)."),
    (re.compile(r"CapacityError|InsufficientCapacity|Insufficient capacity", re.I),
     "AWS had no capacity for this instance type just now. Try again later, another instance type, "
     "or managed spot training with a longer max wait."),
    (re.compile(r"ResourceLimitExceeded|service limit", re.I),
     "Your account's quota for this instance type is used up. Request an increase in Service Quotas, "
     "or choose another instance type."),
    (re.compile(r"MaxRuntimeExceeded|MaxWaitTimeExceeded", re.I),
     "The job ran longer than its max runtime (or max wait) and was stopped. Raise the limit in the "
     "advanced settings, or train for fewer epochs."),
    (re.compile(r"AlgorithmError|ExecuteUserScriptError", re.I),
     "The training script stopped with an error: the last log lines below say where. It is often the "
     "data (a format the model does not expect) or a hyperparameter value."),
]


def explain_training_failure(reason):
    """SageMaker's FailureReason in plain words, followed by what it said."""
    reason = (reason or "").strip()
    for pattern, plain in _TRAINING_FAILURES:
        if pattern.search(reason):
            return f"{plain} (SageMaker said: {reason})"
    return f"SageMaker reports the job failed: {reason}" if reason else "SageMaker reports the job failed without a reason."
