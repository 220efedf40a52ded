"""Filters for browsing the catalog: bad values are dropped, never an error page."""

from django import forms

from .models import Modality


class ModelFilterForm(forms.Form):
    SORTS = {
        "relevance": ("Best match", None),
        "featured": ("Featured first", None),
        "name": ("Name A–Z", ("display_name", "model_id")),
        "id": ("Model ID", ("model_id",)),
    }

    q = forms.CharField(required=False, max_length=200, label="Search")
    modality = forms.ChoiceField(required=False, choices=[("", "Any modality"), *Modality.choices])
    proprietary = forms.BooleanField(required=False, label="Proprietary only")
    task = forms.CharField(required=False, max_length=60)
    framework = forms.CharField(required=False, max_length=60)
    provider = forms.CharField(required=False, max_length=100)
    fine_tunable = forms.BooleanField(required=False, label="Fine-tunable in JumpStart")
    deployable = forms.BooleanField(required=False, label="Deployable here")
    trainable = forms.BooleanField(required=False, label="Fine-tunable here")
    deprecated = forms.BooleanField(required=False, label="Show deprecated models")
    sort = forms.ChoiceField(required=False, choices=[(k, v[0]) for k, v in SORTS.items()])

    def values(self):
        """The valid filters: a field with a bad value is treated as unset."""
        self.is_valid()
        data = {name: self.fields[name].initial for name in self.fields}
        data.update(self.cleaned_data)
        data["q"] = (data.get("q") or "").strip()
        data["sort"] = data.get("sort") or ("relevance" if data["q"] else "featured")
        return data


class EntrySearchForm(forms.Form):
    q = forms.CharField(required=False, max_length=200, label="Search")
