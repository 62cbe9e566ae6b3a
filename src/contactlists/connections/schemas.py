"""Wire models of the Sales Navigator connection. Secrets go in, never out."""

from __future__ import annotations

from typing import Annotated, Any, Literal

from pydantic import (
    AfterValidator,
    BeforeValidator,
    ConfigDict,
    Field,
    JsonValue,
    StringConstraints,
    ValidationInfo,
    WithJsonSchema,
    field_validator,
    model_validator,
)
from pydantic_core import PydanticCustomError

from contactlists.core.schemas import InputModel, WireModel
from contactlists.core.textfields import trim, trimmed_pattern
from contactlists.providers.linkedin import LinkedInCredentials

# A cookie value (RFC 6265 cookie-octets), optionally in the double quotes
# browsers show around JSESSIONID; the quotes are dropped.
_OCTET = "[\\x21\\x23-\\x2b\\x2d-\\x3a\\x3c-\\x5b\\x5d-\\x7e]"
_COOKIE_PATTERN = f'^"?{_OCTET}+"?$'
_MAX_COOKIE = 4096
# The same, trimmed and at most 4096 long with its quotes, as one published pattern.
_PUBLISHED_COOKIE_PATTERN = trimmed_pattern(
    f'"{_OCTET}{{1,{_MAX_COOKIE - 2}}}"|"{_OCTET}{{1,{_MAX_COOKIE - 1}}}'
    f'|{_OCTET}{{1,{_MAX_COOKIE - 1}}}"|{_OCTET}{{1,{_MAX_COOKIE}}}'
)
CookieValue = Annotated[
    str,
    StringConstraints(min_length=1, max_length=_MAX_COOKIE, pattern=_COOKIE_PATTERN),
    BeforeValidator(trim),
    AfterValidator(lambda value: value.strip('"')),
    WithJsonSchema({"type": "string", "pattern": _PUBLISHED_COOKIE_PATTERN}),
]
# Which fields go with which provider, for the published schema.
_FIELDS_BY_PROVIDER: list[JsonValue] = [
    {
        "properties": {
            "provider": {"const": "sandbox"},
            "liAt": {"type": "null"},
            "jsessionId": {"type": "null"},
        }
    },
    {
        "properties": {
            "provider": {"const": "linkedin"},
            "liAt": {"type": "string"},
            "jsessionId": {"type": "string"},
        },
        "required": ["liAt", "jsessionId"],
    },
]


class ConnectionPut(InputModel):
    """Connect the account: `linkedin` with its session cookies, or the `sandbox`."""

    model_config = ConfigDict(json_schema_extra={"oneOf": _FIELDS_BY_PROVIDER})

    provider: Literal["linkedin", "sandbox"]
    li_at: CookieValue | None = Field(default=None, description="The `li_at` session cookie.")
    jsession_id: CookieValue | None = Field(
        default=None, description="The `JSESSIONID` cookie (`ajax:…`, quotes optional)."
    )

    @model_validator(mode="before")
    @classmethod
    def _check_absent_cookies_too(cls, data: Any) -> Any:
        """Absent cookies become explicit nulls, so the check below names their field."""
        return {"liAt": None, "jsessionId": None, **data} if isinstance(data, dict) else data

    @field_validator("li_at", "jsession_id")
    @classmethod
    def _cookies_belong_to_linkedin(cls, value: str | None, info: ValidationInfo) -> str | None:
        provider = info.data.get("provider")
        if provider == "linkedin" and value is None:
            raise PydanticCustomError("missing", "required when provider is 'linkedin'")
        if provider == "sandbox" and value is not None:
            raise PydanticCustomError("invalid", "only allowed when provider is 'linkedin'")
        return value

    def credentials(self) -> LinkedInCredentials | None:
        if self.li_at is None or self.jsession_id is None:
            return None
        return LinkedInCredentials(li_at=self.li_at, jsessionid=self.jsession_id)


def linkedin_cookies(li_at: str, jsession_id: str) -> LinkedInCredentials:
    """The cookies validated as a PUT validates them (raises `ValidationError`)."""
    body = ConnectionPut.model_validate(
        {"provider": "linkedin", "liAt": li_at, "jsessionId": jsession_id}
    )
    return LinkedInCredentials(li_at=str(body.li_at), jsessionid=str(body.jsession_id))


class ConnectionOut(WireModel):
    provider: Literal["linkedin", "sandbox"] | None
    state: Literal["active", "expired", "not_connected"]
    connected_at: str | None = Field(examples=["2026-03-03T12:00:00Z"])
    last_verified_at: str | None
    last_error: str | None
