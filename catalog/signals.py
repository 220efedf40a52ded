"""What the catalog tells the apps above it."""

from django.dispatch import Signal

# A sync finished and changed the catalog: what can be deployed or fine-tuned may have changed.
synced = Signal()
