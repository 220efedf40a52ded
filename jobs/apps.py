from django.apps import AppConfig


class JobsConfig(AppConfig):
    name = "jobs"
    verbose_name = "Jobs"

    def ready(self):
        from django.db.models.signals import post_delete, post_save

        from catalog import signals

        from .models import InstanceType

        # What can be deployed or fine-tuned here counts staff's restrictions: work it out again
        # after a sync and whenever a restriction changes.
        signals.synced.connect(refresh_fitness, dispatch_uid="jobs-fitness-after-sync")
        post_save.connect(refresh_fitness, sender=InstanceType, dispatch_uid="jobs-fitness-on-save")
        post_delete.connect(refresh_fitness, sender=InstanceType, dispatch_uid="jobs-fitness-on-delete")


def refresh_fitness(**kwargs):
    from catalog.models import Model

    from .models import InstanceType

    Model.objects.refresh_fitness(restricted_for_endpoints=InstanceType.disallowed(),
                                  restricted_for_training=InstanceType.disallowed(training=True))
