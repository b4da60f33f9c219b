"""Serializer building blocks shared by the apps' ``apis.py`` modules."""

from __future__ import annotations

from collections.abc import Callable
from typing import Any, ClassVar

from branchcare.core.masking import mask_id_number, mask_phone

CONTEXT_PERSONAL_DATA = "can_view_personal_data"


class PersonalDataMaskingMixin:
    """Masks the personal-data fields in the output unless the serializer context allows them.

    The context key ``can_view_personal_data`` must be set to True explicitly (views set it from
    ``Cap.PERSONAL_DATA_VIEW``); when it is missing the data is masked, so a forgotten context
    fails safe.
    """

    personal_fields: ClassVar[dict[str, Callable[[Any], str]]] = {
        "phone": mask_phone,
        "id_number": mask_id_number,
    }

    def to_representation(self, instance: Any) -> dict[str, Any]:
        data = super().to_representation(instance)  # type: ignore[misc]
        if not self.context.get(CONTEXT_PERSONAL_DATA, False):  # type: ignore[attr-defined]
            for name, mask in self.personal_fields.items():
                if name in data:
                    data[name] = mask(data[name])
        return data
