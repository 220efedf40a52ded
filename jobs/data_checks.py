"""The data check before a fine-tuning launch: the training (and validation) data in the model's
task's format, its bucket readable and in SageMaker's region, and the model's own artifacts in
JumpStart's bucket. In Celery with its progress on a DataCheck row, or bounded within a request."""

from django.conf import settings
from django.utils import timezone

from aws import datasets, jumpstart, training

from .models import DataCheck


def run(model, training_uri, validation_uri="", *, limits=datasets.Limits(), progress=None):
    """The report, as the form and the page keep it: {"ok", "parts": [{"channel", "uri", "checked",
    "problems": [{"where", "what", "fix"}], "notes", "stats"}]}."""
    region = settings.AWS_REGION
    channels = [("training", training_uri)] + ([("validation", validation_uri)] if validation_uri else [])
    parts = []
    for index, (channel, uri) in enumerate(channels):
        def report_progress(step, fraction, index=index, channel=channel):
            if progress:
                progress(f"{channel}: {step}", (index + fraction) / len(channels))

        # The model's own artifacts are checked once, with the training data (a spec that cannot be
        # trained at all is refused by the request builder, with its reason).
        objects = _jumpstart_objects(model) if index == 0 else ()
        found = datasets.check(uri, task=model.task, region=region, jumpstart_objects=objects,
                               progress=report_progress, limits=limits)
        parts.append({"channel": channel, "uri": uri, "checked": found.checked,
                      "problems": [{"where": p.where, "what": p.what, "fix": p.fix} for p in found.problems],
                      "notes": list(found.notes), "stats": dict(found.stats)})
    return {"ok": all(not part["problems"] for part in parts), "parts": parts}


def _jumpstart_objects(model):
    try:
        return training.training_checks(model.training_spec, settings.AWS_REGION)
    except jumpstart.SpecError:
        return ()


def check(data_check):
    """Run the check a DataCheck row asks for, writing its progress as it goes (the Celery task)."""
    def progress(step, fraction):
        DataCheck.objects.filter(pk=data_check.pk).update(step=step[:300], progress=round(fraction, 3))

    report = run(data_check.model, data_check.training_uri, data_check.validation_uri, progress=progress)
    DataCheck.objects.filter(pk=data_check.pk).update(
        report=report, progress=1.0, finished_at=timezone.now(), step="done",
        status=DataCheck.Status.PASSED if report["ok"] else DataCheck.Status.FAILED)
