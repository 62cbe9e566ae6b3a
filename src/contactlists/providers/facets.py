"""Sales Navigator's FUNCTION and SENIORITY_LEVEL facets, as our filters name them.

Ids from `shared/design/sales-navigator.md` section 4 (function ids 1-26,
seniority ids 100-320). Departments are matched case-insensitively and stored
in the spelling below; seniority levels are the contract's enum.
"""

from __future__ import annotations

from collections.abc import Iterable

from contactlists.providers.seniority import SENIORITY_LEVELS

DEPARTMENT_IDS: dict[str, int] = {
    name: number
    for number, name in enumerate(
        (
            "Accounting", "Administrative", "Arts and Design", "Business Development",
            "Community and Social Services", "Consulting", "Education", "Engineering",
            "Entrepreneurship", "Finance", "Healthcare Services", "Human Resources",
            "Information Technology", "Legal", "Marketing", "Media and Communication",
            "Military and Protective Services", "Operations", "Product Management",
            "Program and Project Management", "Purchasing", "Quality Assurance",
            "Real Estate", "Research", "Sales", "Customer Success and Support",
        ),
        start=1,
    )
}  # fmt: skip
_DEPARTMENTS_BY_FOLDED = {name.casefold(): name for name in DEPARTMENT_IDS}

# Each of the contract's seniority values as the facet ids that select it
# (320 is Owner / Partner; 210 and 200 are both managers).
SENIORITY_FACET_IDS: dict[str, tuple[int, ...]] = {
    "OWNER": (320,), "PARTNER": (320,), "CXO": (310,), "VP": (300,), "DIRECTOR": (220,),
    "MANAGER": (210, 200), "STRATEGIC": (130,), "SENIOR": (120,), "ENTRY": (110,),
    "TRAINING": (100,),
}  # fmt: skip
assert tuple(SENIORITY_FACET_IDS) == SENIORITY_LEVELS  # noqa: S101 - one table, one order


def canonical_department(raw: str) -> str | None:
    """The stored spelling of a function's name, or None for anything else."""
    # ASCII only, as the published pattern: "ſ" (long s) case-folds to "s".
    return _DEPARTMENTS_BY_FOLDED.get(raw.casefold()) if raw.isascii() else None


def canonical_seniority(raw: str) -> str | None:
    value = raw.upper()
    return value if raw.isascii() and value in SENIORITY_FACET_IDS else None


def any_case_pattern(names: Iterable[str]) -> str:
    """A published pattern matching exactly `names`, ASCII letters in any case."""

    def letters(name: str) -> str:
        return "".join(f"[{c.upper()}{c.lower()}]" if c.isalpha() else c for c in name)

    return "^(?:{})$".format("|".join(letters(name) for name in names))


def seniority_facet_ids(levels: tuple[str, ...]) -> list[int]:
    """The facet ids of `levels`, each once, in the taxonomy's order."""
    return list(dict.fromkeys(i for level in levels for i in SENIORITY_FACET_IDS[level]))
