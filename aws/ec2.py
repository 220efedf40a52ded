"""What a machine type is (vCPUs, memory, GPUs), from EC2's DescribeInstanceTypes: SageMaker's
ml.<type> runs on EC2's <type>."""

from dataclasses import dataclass

from .clients import client
from .errors import AWS_EXCEPTIONS, AwsError

FILTER_VALUES = 100  # instance types asked for per call
MAX_PAGES = 20


@dataclass(frozen=True)
class Machine:
    name: str  # the SageMaker name, ml.<type>
    vcpus: int
    memory_mib: int
    gpus: int
    gpu_name: str  # "V100", "" without GPUs


def describe_machines(names):
    """{ml name: Machine} for the SageMaker instance types EC2 lists in this region; a type EC2
    does not list (retired, or not offered here) is left out."""
    wanted = sorted({name.removeprefix("ml.") for name in names if name.startswith("ml.")})
    found = {}
    try:
        for start in range(0, len(wanted), FILTER_VALUES):
            request = {"Filters": [{"Name": "instance-type", "Values": wanted[start:start + FILTER_VALUES]}]}
            for _ in range(MAX_PAGES):
                page = client("ec2").describe_instance_types(**request)
                for answer in page.get("InstanceTypes", []):
                    machine = _machine(answer)
                    found[machine.name] = machine
                if not page.get("NextToken"):
                    break
                request["NextToken"] = page["NextToken"]
    except AWS_EXCEPTIONS as exc:
        raise AwsError.wrap(exc) from exc
    return found


def _machine(answer):
    gpus = (answer.get("GpuInfo") or {}).get("Gpus") or []
    return Machine(
        name=f"ml.{answer['InstanceType']}", vcpus=(answer.get("VCpuInfo") or {}).get("DefaultVCpus", 0),
        memory_mib=(answer.get("MemoryInfo") or {}).get("SizeInMiB", 0),
        gpus=sum(g.get("Count", 0) for g in gpus), gpu_name=gpus[0].get("Name", "") if gpus else "",
    )
