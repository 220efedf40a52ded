"""The catalog's categories as JumpStart shows them, each a view of one table with preset filters."""

from dataclasses import dataclass, field

from django.urls import reverse
from django.utils.http import urlencode


@dataclass(frozen=True)
class Category:
    slug: str
    title: str
    blurb: str
    url_name: str
    params: dict = field(default_factory=dict)

    @property
    def url(self):
        url = reverse(self.url_name)
        return f"{url}?{urlencode(self.params)}" if self.params else url


def _models(slug, title, blurb, **params):
    return Category(slug, title, blurb, "catalog:model-list", params)


CATEGORIES = [
    Category(
        "solutions", "Solutions",
        "End-to-end templates that wire SageMaker to other AWS services for a business problem.",
        "catalog:solution-list",
    ),
    _models("text-models", "Text models",
            "Pretrained language models to deploy, or fine-tune on your own labelled text.",
            modality="text"),
    _models("vision-models", "Vision models",
            "Image classification, detection, segmentation and generation models.",
            modality="vision"),
    _models("tabular-models", "Tabular models",
            "Gradient boosting, AutoML and transformers for rows and columns.", modality="tabular"),
    _models("audio-models", "Audio models", "Speech recognition and audio embeddings.",
            modality="audio"),
    _models("multimodal-models", "Multimodal models", "Models that read images and text together.",
            modality="multimodal"),
    _models("time-series-models", "Time-series models", "Forecasting models for sequences over time.",
            modality="time-series"),
    _models("proprietary-models", "Proprietary models",
            "Models from AWS Marketplace providers, deployed from a model package.", proprietary="1"),
    Category(
        "algorithms", "SageMaker algorithms",
        "Built-in algorithms with documented hyperparameters, and the JumpStart models that use them.",
        "catalog:algorithm-list",
    ),
    Category(
        "notebooks", "Example notebooks",
        "Notebooks from the SageMaker examples that deploy and fine-tune JumpStart models.",
        "catalog:notebook-list",
    ),
    Category("blogs", "Blogs", "Deep dives and solution write-ups picked by your admins.",
             "catalog:link-list", {"kind": "blog"}),
    Category("videos", "Video tutorials", "Video walkthroughs picked by your admins.",
             "catalog:link-list", {"kind": "video"}),
]

BY_SLUG = {c.slug: c for c in CATEGORIES}


def model_category(params):
    """The model category whose preset filters params carries, if any."""
    for category in CATEGORIES:
        if category.url_name == "catalog:model-list" and category.params and all(
            params.get(k) == v for k, v in category.params.items()
        ):
            return category
    return None
