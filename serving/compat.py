"""BentoML workarounds, one place: each names the failure it answers and goes when it does."""

from __future__ import annotations

from typing import TYPE_CHECKING, Any

import attrs
import bentoml

if TYPE_CHECKING:
    from bentoml._internal.service.openapi.specification import OpenAPISpecification


def described_service(title: str, version: str) -> type[bentoml.Service[Any]]:
    """A `service_class` for `@bentoml.service` whose /docs.json `info` is ours.

    Observed with BentoML 1.4.39 (`_bentoml_sdk/service/openapi.py`, `generate_spec`): the info
    of a service served from source is its class name, BentoML's default README (badges, "This
    is a Machine Learning Service created with BentoML") and version "None" (a Bento tag, which
    only a built Bento has); `@bentoml.service(description=...)` reaches only a built Bento's
    README. The subclass keeps BentoML's spec and replaces title, description and version.
    """

    class DescribedService(bentoml.Service):
        @property
        def openapi_spec(self) -> OpenAPISpecification:
            spec = super().openapi_spec
            info = attrs.evolve(
                spec.info,
                title=title,
                version=version,
                description=self.description or spec.info.description,
                contact=None,  # BentoML's own team, not whom to ask about this service
            )
            return attrs.evolve(spec, info=info)

    return DescribedService
