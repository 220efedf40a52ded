"""manage.py sync_catalog: bring the catalog in step with JumpStart's bucket, a folder laid out like
it, or the catalog bundled with the project."""

from django.core.management.base import BaseCommand, CommandError

from catalog import sync
from catalog.models import SyncRun


class Command(BaseCommand):
    help = "Sync the model catalog from JumpStart's regional bucket (or a folder laid out like it)."

    def add_arguments(self, parser):
        source = parser.add_mutually_exclusive_group()
        source.add_argument("--bucket", help="Bucket to read (default: settings.JUMPSTART_BUCKET, "
                            "or jumpstart-cache-prod-<region> with --region).")
        source.add_argument("--from-dir", metavar="DIR", help="Folder laid out like the bucket.")
        source.add_argument("--bundled", action="store_true",
                            help=f"The project's own copy ({sync.BUNDLED_DIR}).")
        parser.add_argument("--region", help="AWS region of the bucket (default: AWS_REGION).")

    def handle(self, *args, bucket, from_dir, bundled, region, **options):
        if region and (from_dir or bundled):
            raise CommandError("--region applies to a bucket, not to --from-dir or --bundled")
        if bundled:
            run = sync.sync_from_dir(sync.BUNDLED_DIR)
        elif from_dir:
            run = sync.sync_from_dir(from_dir)
        else:
            run = sync.sync_from_bucket(bucket, region)
        if run.status == SyncRun.Status.FAILED:
            raise CommandError(sync.summary(run))
        self.stdout.write(self.style.SUCCESS(sync.summary(run)))
