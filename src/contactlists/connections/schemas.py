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
from contactlists.providers.linkedin_cookies import (
    JSESSIONID,
    LI_AT,
    MalformedCookieHeader,
    SessionCookies,
)

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
# A browser's whole cookie header for www.linkedin.com runs to a few kB.
_MAX_COOKIE_HEADER = 16_384
_MAX_CONTRACT = 200
# Which fields go with which provider, for the published schema: the sandbox
# takes none, LinkedIn either the whole cookie header or the two cookies.
_NULL: JsonValue = {"type": "null"}
_FIELDS_BY_PROVIDER: list[JsonValue] = [
    {
        "properties": {
            "provider": {"const": "sandbox"},
            "liAt": _NULL,
            "jsessionId": _NULL,
            "cookies": _NULL,
            "contract": _NULL,
        }
    },
    {
        "properties": {
            "provider": {"const": "linkedin"},
            "cookies": {"type": "string"},
            "liAt": _NULL,
            "jsessionId": _NULL,
        },
        "required": ["cookies"],
    },
    {
        "properties": {
            "provider": {"const": "linkedin"},
            "liAt": {"type": "string"},
            "jsessionId": {"type": "string"},
            "cookies": _NULL,
        },
        "required": ["liAt", "jsessionId"],
    },
]


class ConnectionPut(InputModel):
    """Connect the account: `linkedin` with its session cookies (the browser's
    whole `Cookie` header, or `liAt` and `jsessionId`), or the `sandbox`."""

    model_config = ConfigDict(json_schema_extra={"oneOf": _FIELDS_BY_PROVIDER})

    provider: Literal["linkedin", "sandbox"]
    cookies: str | None = Field(
        default=None,
        min_length=1,
        max_length=_MAX_COOKIE_HEADER,
        description=(
            "The `Cookie` request header of any www.linkedin.com request, as the browser's "
            "developer tools show it (a leading `Cookie:` and surrounding quotes are "
            "tolerated). Must include `li_at` and `JSESSIONID`."
        ),
    )
    li_at: CookieValue | None = Field(default=None, description="The `li_at` session cookie.")
    jsession_id: CookieValue | None = Field(
        default=None, description="The `JSESSIONID` cookie (`ajax:…`, quotes optional)."
    )
    contract: Annotated[
        str | None,
        StringConstraints(strip_whitespace=True, min_length=1, max_length=_MAX_CONTRACT),
    ] = Field(
        default=None,
        description=(
            "The Sales Navigator contract to use, by name, when the member has several "
            "(a 422 `SALES_NAVIGATOR_SEAT_REQUIRED` lists them)."
        ),
    )

    @model_validator(mode="before")
    @classmethod
    def _check_absent_cookies_too(cls, data: Any) -> Any:
        """Absent cookies become explicit nulls, so the checks below name their field;
        with a `cookies` header, null `liAt`/`jsessionId` are as good as absent."""
        if not isinstance(data, dict):
            return data
        if data.get("provider") == "linkedin" and data.get("cookies") is not None:
            return {
                k: v for k, v in data.items() if k not in ("liAt", "jsessionId") or v is not None
            }
        return {"liAt": None, "jsessionId": None, **data}

    @field_validator("li_at", "jsession_id")
    @classmethod
    def _cookies_belong_to_linkedin(cls, value: str | None, info: ValidationInfo) -> str | None:
        provider = info.data.get("provider")
        if provider == "linkedin" and value is None:
            raise PydanticCustomError("missing", "required when provider is 'linkedin'")
        if provider == "sandbox" and value is not None:
            raise PydanticCustomError("invalid", "only allowed when provider is 'linkedin'")
        if info.data.get("cookies") is not None and value is not None:
            raise PydanticCustomError("invalid", "give either 'cookies' or 'liAt' and 'jsessionId'")
        return value

    @field_validator("cookies")
    @classmethod
    def _whole_cookie_header(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is None:
            return None
        if info.data.get("provider") == "sandbox":
            raise PydanticCustomError("invalid", "only allowed when provider is 'linkedin'")
        try:
            missing = SessionCookies.from_header(value).missing_required()
        except MalformedCookieHeader as exc:
            raise PydanticCustomError(
                "invalid", "not a Cookie header: {reason}", {"reason": str(exc)}
            ) from None
        if missing:
            raise PydanticCustomError(
                "missing", "the cookies must include {names}", {"names": " and ".join(missing)}
            )
        return value

    @field_validator("contract")
    @classmethod
    def _contract_belongs_to_linkedin(cls, value: str | None, info: ValidationInfo) -> str | None:
        if value is not None and info.data.get("provider") == "sandbox":
            raise PydanticCustomError("invalid", "only allowed when provider is 'linkedin'")
        return value

    def session_cookies(self) -> SessionCookies | None:
        """The jar to verify: the whole header, or the two cookies on their own."""
        if self.cookies is not None:
            return SessionCookies.from_header(self.cookies)
        if self.li_at is None or self.jsession_id is None:
            return None
        return two_cookie_jar(self.li_at, self.jsession_id)


def two_cookie_jar(li_at: str, jsession_id: str) -> SessionCookies:
    return SessionCookies({LI_AT: li_at, JSESSIONID: f'"{jsession_id}"'})


def linkedin_cookies(li_at: str, jsession_id: str) -> SessionCookies:
    """The two cookies validated as a PUT validates them (raises `ValidationError`)."""
    body = ConnectionPut.model_validate(
        {"provider": "linkedin", "liAt": li_at, "jsessionId": jsession_id}
    )
    return two_cookie_jar(str(body.li_at), str(body.jsession_id))


def linkedin_cookie_header(header: str) -> SessionCookies:
    """A whole cookie header validated as a PUT validates it (raises `ValidationError`)."""
    body = ConnectionPut.model_validate({"provider": "linkedin", "cookies": header})
    return SessionCookies.from_header(str(body.cookies))


class MemberOut(WireModel):
    name: str | None
    public_identifier: str | None


class ConnectionOut(WireModel):
    provider: Literal["linkedin", "sandbox"] | None
    state: Literal["active", "expired", "not_connected"]
    connected_at: str | None = Field(examples=["2026-03-03T12:00:00Z"])
    last_verified_at: str | None
    last_error: str | None
    cookie_names: list[str] = Field(
        description="Names of the cookies held (never their values); `[]` for the sandbox."
    )
    member: MemberOut | None = Field(description="The connected LinkedIn member, from `/me`.")


class ConnectorOut(WireModel):
    source: Literal["salesNavigator"]
    status: Literal["connected", "needs-authentication", "disconnected"]


class ConnectorsOut(WireModel):
    connectors: list[ConnectorOut]
