"""The bases every domain's wire models share: camelCase on the wire, strict inputs."""

from __future__ import annotations

from pydantic import BaseModel, ConfigDict
from pydantic.alias_generators import to_camel


class WireModel(BaseModel):
    model_config = ConfigDict(alias_generator=to_camel, populate_by_name=True)


class InputModel(WireModel):
    model_config = ConfigDict(extra="forbid", alias_generator=to_camel, populate_by_name=False)
