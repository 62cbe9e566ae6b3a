"""Sales Navigator credentials encrypted at rest.

The Fernet key is derived from `CONTACTLISTS_SECRET_KEY` with HKDF-SHA256, so
the secret can be any long random string and this key is used for nothing else.
Earlier secrets (`CONTACTLISTS_OLD_SECRET_KEYS`) still decrypt; everything is
encrypted with the current one, and `rotate` re-encrypts a stored token with it.

`cryptography` is imported where a credential is encrypted or decrypted, not
with this module: it is ~7 MiB resident, and only LinkedIn connections need it.
"""

from __future__ import annotations

import base64
from typing import TYPE_CHECKING

import orjson

from contactlists.core.settings import Settings
from contactlists.providers.linkedin_cookies import SeatState

if TYPE_CHECKING:
    from cryptography.fernet import Fernet

_HKDF_INFO = b"contactlists/sales-navigator-credentials/v1"


class UndecryptableCredentials(Exception):
    """No configured secret key opens the stored credentials."""


def _fernet(secret: str) -> Fernet:
    from cryptography.fernet import Fernet
    from cryptography.hazmat.primitives import hashes
    from cryptography.hazmat.primitives.kdf.hkdf import HKDF

    key = HKDF(algorithm=hashes.SHA256(), length=32, salt=None, info=_HKDF_INFO).derive(
        secret.encode()
    )
    return Fernet(base64.urlsafe_b64encode(key))


class CredentialCipher:
    def __init__(self, secret: str, previous: list[str] | None = None) -> None:
        from cryptography.fernet import MultiFernet

        self._fernet = MultiFernet([_fernet(s) for s in (secret, *(previous or ()))])

    @classmethod
    def from_settings(cls, settings: Settings) -> CredentialCipher:
        return cls(settings.secret_key.get_secret_value(), settings.previous_secret_keys)

    def encrypt(self, state: SeatState) -> str:
        return self._fernet.encrypt(orjson.dumps(state.to_document())).decode()

    def decrypt(self, token: str) -> SeatState:
        from cryptography.fernet import InvalidToken

        try:
            document = orjson.loads(self._fernet.decrypt(token.encode()))
        except InvalidToken as exc:
            raise UndecryptableCredentials from exc
        return SeatState.from_document(document)

    def rotate(self, token: str) -> str:
        """The same credentials encrypted with the current key."""
        from cryptography.fernet import InvalidToken

        try:
            return self._fernet.rotate(token.encode()).decode()
        except InvalidToken as exc:
            raise UndecryptableCredentials from exc
