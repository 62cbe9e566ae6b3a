"""Content negotiation: does `Accept` admit what an endpoint produces."""

from __future__ import annotations

JSON_MEDIA_TYPE = "application/json"


def _matches(media_range: str, produced: frozenset[str]) -> bool:
    if media_range == "*/*" or media_range in produced:
        return True
    kind, _, subtype = media_range.partition("/")
    return subtype == "*" and any(media.startswith(kind + "/") for media in produced)


def acceptable(accept: str | None, produced: frozenset[str]) -> bool:
    """False only when `Accept` is present and every range it lists excludes `produced`."""
    if not accept or not accept.strip():
        return True
    for part in accept.split(","):
        media, *params = (p.strip() for p in part.split(";"))
        if not _matches(media.lower(), produced):
            continue
        quality = next((p[2:] for p in params if p.lower().startswith("q=")), "1")
        try:
            if float(quality) > 0:
                return True
        except ValueError:
            return True
    return False
