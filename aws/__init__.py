"""The one boundary to AWS: lazily built boto3 clients, the calls both apps make, and the mapping
of AWS errors into our own small vocabulary. It imports neither app.

`aws.local` (moto plus what makes it behave like SageMaker) is imported only by the demo and tests.
"""

from .clients import client, reset_clients
from .errors import AwsError

__all__ = ["AwsError", "client", "reset_clients"]
