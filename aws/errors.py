"""AWS failures in our own words: a code, a reason a person can read, and whether trying again
could help."""

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
