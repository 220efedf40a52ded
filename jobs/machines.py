"""Machine types as a person picks one: GPUs, vCPUs and memory (EC2's facts, kept in InstanceType
rows by a Celery task, so pages read only the database), and warnings where a choice will not run
as hoped."""

import re
from dataclasses import dataclass

from django.utils import timezone

from aws import ec2, jumpstart

from .models import InstanceType

# JumpStart's own table of GPUs per training type (the product documentation's p3 table), for
# types EC2 no longer describes.
DOCUMENTED_GPUS = {"ml.p3.2xlarge": 1, "ml.p3.8xlarge": 4, "ml.p3.16xlarge": 8, "ml.p3dn.24xlarge": 8}
# GPUs of retired families EC2 no longer describes: (count, model). p2: NVIDIA K80; p3: V100.
RETIRED = {
    "ml.p2.xlarge": (1, "K80"), "ml.p2.8xlarge": (8, "K80"), "ml.p2.16xlarge": (16, "K80"),
    **{name: (count, "V100") for name, count in DOCUMENTED_GPUS.items()},
}
# GPU generations too old for the CUDA a container was built with: CUDA 12 no longer builds for
# Kepler (K80, compute capability 3.7).
KEPLER = {"K80", "K520"}
CUDA_TAG = re.compile(r"[-_.]cu(\d{2,3})")


@dataclass(frozen=True)
class Facts:
    name: str
    gpus: int | None  # None: unknown
    gpu_name: str
    vcpus: int | None
    memory_mib: int | None
    offered: bool | None  # does EC2 list it here? None: not asked yet

    @property
    def summary(self):
        """"4 GPUs (V100) · 32 vCPUs, 244 GiB", or "" where nothing is known."""
        parts = []
        if self.gpus:
            parts.append(f"{self.gpus} GPU{'s' if self.gpus != 1 else ''}" + (f" ({self.gpu_name})" if self.gpu_name else ""))
        elif self.gpus == 0:
            parts.append("no GPU")
        if self.vcpus:
            parts.append(f"{self.vcpus} vCPUs, {self.memory_mib // 1024} GiB")
        return " · ".join(parts)

    @property
    def label(self):
        """"ml.p3.8xlarge · 4 GPUs (V100) · 32 vCPUs, 244 GiB", as a form's choice shows it."""
        return " · ".join(filter(None, [self.name, self.summary]))


def facts(names):
    """{name: Facts} for each machine type, from the rows EC2's answers filled, else the tables."""
    rows = {row.name: row for row in InstanceType.objects.filter(name__in=list(names))}
    found = {}
    for name in names:
        row = rows.get(name)
        gpus, gpu_name = (row.gpus, row.gpu_name) if row and row.facts_at else RETIRED.get(name, (None, ""))
        if gpus is None and name in DOCUMENTED_GPUS:
            gpus = DOCUMENTED_GPUS[name]
        if gpus is None and jumpstart.hardware(name) == "cpu":
            gpus = 0
        found[name] = Facts(name=name, gpus=gpus, gpu_name=gpu_name or RETIRED.get(name, (0, ""))[1],
                            vcpus=row.vcpus if row else None, memory_mib=row.memory_mib if row else None,
                            offered=row.offered if row else None)
    return found


def refresh(names):
    """Ask EC2 about the machine types and keep its answers (a Celery task calls this). Returns
    how many it described. Written without save(), so staff's restrictions are not worked out
    again for facts that change none."""
    described = ec2.describe_machines(names)
    now = timezone.now()
    existing = set(InstanceType.objects.filter(name__in=list(names)).values_list("name", flat=True))
    new = []
    for name in names:
        machine = described.get(name)
        values = {"offered": machine is not None, "facts_at": now}
        if machine:
            values.update(vcpus=machine.vcpus, memory_mib=machine.memory_mib, gpus=machine.gpus,
                          gpu_name=machine.gpu_name)
        if name in existing:
            InstanceType.objects.filter(name=name).update(**values)
        else:
            new.append(InstanceType(name=name, **values))
    InstanceType.objects.bulk_create(new, ignore_conflicts=True)
    return len(described)


def warnings(fact, image_uri):
    """Why this machine may not run the container well: a retired type, a GPU image on a machine
    without GPUs (or the reverse), a CUDA build too new for the machine's GPUs."""
    found = []
    if fact.offered is False:
        found.append(f"EC2 does not list {fact.name.removeprefix('ml.')} in this region any more: it may be "
                     "retired here, and SageMaker can refuse it or have no capacity. Choose a newer type.")
    image = (image_uri or "").lower()
    built_for_gpu = "-gpu" in image or "gpu-" in image or bool(CUDA_TAG.search(image))
    if fact.gpus == 0 and built_for_gpu:
        found.append(f"The training image is built for GPUs and {fact.name} has none: it will not start "
                     "or will be very slow. Choose a GPU type (g5, p3, p4d...).")
    if fact.gpus and "-cpu" in image:
        found.append(f"The training image is built for CPUs: {fact.name}'s GPUs would sit idle while billed.")
    cuda = CUDA_TAG.search(image)
    if cuda and fact.gpu_name in KEPLER and int(cuda.group(1)[:2]) >= 12:
        found.append(f"The image is built with CUDA {cuda.group(1)[:2]}, which no longer supports "
                     f"{fact.name}'s {fact.gpu_name} GPUs. Choose a newer GPU type.")
    return found


def batch_hint(base, fact):
    """The seed's guidance: the per-GPU batch size times the machine's GPUs."""
    gpus = fact.gpus or 1
    return base * gpus, gpus
