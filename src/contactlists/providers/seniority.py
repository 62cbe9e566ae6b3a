"""Seniority inferred from a job title.

Lead-search results carry no seniority, so the contract infers it from the title,
in the buckets of Sales Navigator's seniority facet: 320 Owner/Partner → OWNER or
PARTNER, 310 CXO, 300 VP, 220 DIRECTOR, 210/200 MANAGER, 130 STRATEGIC (senior
individual contributors beyond "Senior": staff, principal, distinguished,
architect), 120 SENIOR ("Senior X", "Sr.", "Lead X"), 110 ENTRY, 100 TRAINING.

A title is split into roles ("Founder & CEO" is two); each role is matched
against an ordered rule table in which every match consumes its words, so an
earlier, more specific rule ("vice president", "partner manager") keeps a later,
looser one ("president", "partner") from firing. Decisions on ambiguous titles,
each pinned by a test:

- A level word qualifies the rank beside it rather than adding one:
  "Sr. Product Manager" → MANAGER, "Senior Director" → DIRECTOR. The individual
  levels (STRATEGIC, SENIOR, ENTRY) count only in a role with no rank, and only
  the highest of them; TRAINING beats them all ("Junior Intern" is in training).
- "Managing Partner" → PARTNER only: "managing" is not "manager".
- "Managing Director", "Geschäftsführer", "Directeur Général", "PDG" → CXO:
  the legal head of a company in the UK and continental Europe; ownership is
  not implied ("Geschäftsführender Gesellschafter" is PARTNER and CXO).
- "Head of X" → DIRECTOR, as LinkedIn ranks heads of functions with directors.
- Staff/Principal/Distinguished/Architect/Chief Scientist → STRATEGIC; "Staff"
  only on the engineering ladder ("Staff Accountant" → []). "Lead X" and
  "X Lead" → SENIOR.
- A plain title ("Software Engineer", "Account Executive") → []: ENTRY needs an
  explicit marker (junior, associate, graduate, entry level), since a bare title
  says nothing about experience.
- Every "manager" is MANAGER, including "Product Manager" and "Account
  Manager": the title is all we see, not the reporting line.
- "Chief of Staff" → []: a staff role beside an executive, not an officer.
- Not owners or partners: "Product Owner", "Founding Engineer", "HR Business
  Partner", "Partner Manager" (MANAGER), "Partnerships".
- Someone else's role is not theirs: "Executive Assistant to the CEO" and "CEO's
  Assistant" → [], "Founder's Associate" → ENTRY, and anything after " at " or
  "@" names the employer ("Engineer at Founders Fund" → []).
- "Vice Chair" → VP; "Chairman" → CXO; "Gerente General", like "General
  Manager", stays MANAGER.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from functools import lru_cache

SENIORITY_LEVELS: tuple[str, ...] = (
    "OWNER",
    "PARTNER",
    "CXO",
    "VP",
    "DIRECTOR",
    "MANAGER",
    "STRATEGIC",
    "SENIOR",
    "ENTRY",
    "TRAINING",
)
_RANKS = frozenset(SENIORITY_LEVELS[:6])
_INDIVIDUAL_LEVELS = ("STRATEGIC", "SENIOR", "ENTRY")

_EXECUTIVES = (
    r"ceo|cto|cfo|coo|cmo|cio|cpo|cro|c-?suite|c-?level|chief\s+(?:[\w&-]+\s+){0,3}?officer"
    r"|(?:co-?)?founders?|presid\w*|président\w*|managing\s+director|owners?|partners?|board"
    r"|vp|svp|evp|executives?|leadership|directors?|dirección|direction|direção|direzione"
    r"|geschäftsführung|vorstand\w*|gerencia|presidencia|présidence|pdg|dg"
)
# "Assistant to the CEO", "Assistente de Dirección": the executive is not them.
_SOMEONE_ELSES = re.compile(
    r"(?<!\w)(?:to|for|of|supporting|de|del|de\s+la|du|des|au|à\s+la|der|zum|zur)\s+"
    r"(?:the\s+|our\s+|la\s+|le\s+|l['’])?(?:" + _EXECUTIVES + r")(?!\w)[^|;·•(]*"
)
_EMPLOYER = re.compile(r"(?:\s(?:at|chez|bei)\s|@).*$")
_ROLE_SEPARATOR = re.compile(r"\s*(?:[&+/|,;:·•()\[\]]|\s-\s|\s(?:and|und|et|y|e)\s)\s*")
_DASHES = str.maketrans(dict.fromkeys("‐‑‒–—―", "-"))


def _words(*alternatives: str) -> re.Pattern[str]:
    return re.compile(r"(?<!\w)(?:" + "|".join(alternatives) + r")(?!\w)")


_PARTNER_ROLES = (
    r"manager|management|marketing|success|sales|accounts?|development|relations|engineer\w*"
    r"|programs?|solutions?|operations|enablement|ecosystem|lead|director|integrations?"
    r"|network|channel|specialist|executive|support|onboarding|experience"
)
_NOT_A_PARTNER = (
    r"business|channel|alliances?|technology|implementation|hr|talent|acquisition|people"
    r"|learning|finance|referral|reseller|integration|solutions?|customer|success"
)

# Order matters: each rule consumes what it matched before the next one runs.
_RULES: tuple[tuple[str | None, re.Pattern[str]], ...] = (
    (None, _words(r"chief\s+of\s+staff", r"lead[\s-]+gen(?:eration)?")),
    (
        None,
        _words(
            r"(?:product|process|service|data|system|platform|risk|control|budget|content"
            r"|feature)\s+owners?",
            r"(?:" + _NOT_A_PARTNER + r")\s+partners?",
            r"partners?(?=\s+(?:" + _PARTNER_ROLES + r")(?!\w))",
            r"founders(?=\s+(?:associate|office)(?!\w))",
            r"(?:" + _EXECUTIVES + r")['’]s",
        ),
    ),
    (
        "OWNER",
        _words(
            r"(?:co[\s-]?)?founders?",
            r"(?:co[\s-]?)?fondat(?:eur|rice|ore)",
            r"(?:co[\s-]?)?fundador[a]?",
            r"(?:mit)?gründer(?:in)?",
            r"(?:mede)?oprichter",
            r"owners?",
            r"proprietor",
            r"propriétaire",
            r"propriet[aá]ri[oa]",
            r"dueñ[oa]",
            r"inhaber(?:in)?",
            r"eigenaar",
        ),
    ),
    (
        "PARTNER",
        _words(
            r"partner(?:in)?s?",
            r"associée?s?",
            r"s[oó]ci[oa]s?",
            r"gesellschafter(?:in)?",
            r"teilhaber(?:in)?",
            r"vennoot",
        ),
    ),
    (
        "VP",
        _words(
            r"[sea]?vp",
            r"vice[\s-]*presid\w*",
            r"vice[\s-]*président\w*",
            r"vizepräsident(?:in)?",
            r"vice[\s-]*chair\w*",
        ),
    ),
    (
        "CXO",
        _words(
            r"c(?:eo|to|fo|oo|mo|io|po|ro|so|do|ho|ao|xo|iso|aio)",
            r"chief\s+(?:[\w&-]+\s+){0,3}?officer",
            r"chief\s+executive",
            r"presid(?:ent|ente|enta)",
            r"président(?:e)?",
            r"präsident(?:in)?",
            r"p-?dg",
            r"chair(?:man|woman|person)",
            r"managing\s+director",
            r"general\s+director",
            r"geschäftsführe(?:r|rin|nder|nde)",
            r"vorstand\w*",
            r"directeur\s+général|directrice\s+générale",
            r"direct(?:or|ora)\s+(?:general|ejecutiv[oa])",
            r"diret(?:or|ora)[\s-]+(?:geral|presidente|executiv[oa])",
            r"direttore\s+generale|amministratore\s+delegato",
        ),
    ),
    ("MANAGER", _words(r"(?:team|gruppen|projekt|filial)leiter(?:in)?")),
    (
        "DIRECTOR",
        _words(
            r"director(?:a|es)?s?",
            r"directeur|directrice",
            r"direktor(?:in)?",
            r"diret(?:or|ora)",
            r"dirett(?:ore|rice)",
            r"dyrektor",
            r"head\s+of",
            r"head(?=\s*$)",
            r"\w*leiter(?:in)?",
        ),
    ),
    (
        "MANAGER",
        _words(
            r"manager(?:in)?s?",
            r"mgr",
            r"gerente",
            r"responsable",
            r"jef[ea]",
            r"chef(?=\s+d(?:e|u|es)\s|\s+d['’])",
            r"supervis(?:or|ora|eur|eure)",
            r"gestor[a]?",
        ),
    ),
    (
        "STRATEGIC",
        _words(
            r"staff\s+(?:[\w-]+\s+){0,3}?(?:engineer|scientist|designer|developer|architect"
            r"|researcher|analyst)s?",
            r"principal",
            r"distinguished",
            r"technical\s+fellow",
            r"chief\s+(?:scientist|architect|engineer|economist|technologist)",
            r"\w*(?:architect|architecte|architekt|architektin|arquitect[oa]|arquitet[oa]"
            r"|architetto)",
        ),
    ),
    ("SENIOR", _words(r"s[eéê]nior", r"sr", r"lead")),
    (
        "ENTRY",
        _words(r"j[uú]nior", r"jr", r"associate", r"graduate", r"entry[\s-]level", r"new\s+grad"),
    ),
    (
        "TRAINING",
        _words(
            r"intern(?:ship)?s?",
            r"trainee",
            r"apprentice(?:ship)?",
            r"werkstudent(?:in)?",
            r"working\s+student",
            r"student(?:in)?",
            r"[ée]tudiant(?:e)?",
            r"estudiante",
            r"praktikant(?:in)?",
            r"stagiaire",
            r"stagista",
            r"tirocinante",
            r"alternant(?:e)?",
            r"becari[oa]",
            r"pasante",
            r"estagi[aá]ri[oa]",
            r"auszubildende[r]?",
            r"azubi",
        ),
    ),
)


def seniority_from_title(title: str | None) -> list[str]:
    """The contract's seniority values for a title, most senior first."""
    return [] if title is None else list(_levels_of(title))


@lru_cache(maxsize=8192)
def _levels_of(title: str) -> tuple[str, ...]:
    """Cached: a search returns the same few titles over and over."""
    text = " ".join(title.translate(_DASHES).lower().split())
    text = _SOMEONE_ELSES.sub(" ", _EMPLOYER.sub("", text))
    found: set[str] = set()
    for role in _ROLE_SEPARATOR.split(text):
        found.update(_role_levels(role.strip()))
    return tuple(level for level in SENIORITY_LEVELS if level in found)


def _role_levels(role: str) -> Iterable[str]:
    found: set[str] = set()
    for level, pattern in _RULES:
        role, hits = pattern.subn(" ", role)
        if hits and level is not None:
            found.add(level)
    ranks = found & _RANKS
    if ranks:
        return ranks
    if "TRAINING" in found:
        return ("TRAINING",)
    return next(((level,) for level in _INDIVIDUAL_LEVELS if level in found), ())


# Sales Navigator's seniority facet (`SENIORITY_LEVEL`, ids of `seniorityV2s`)
# in the contract's values; 320 is Owner / Partner, told apart by the title.
_FACET_LEVELS: dict[int, tuple[str, ...]] = {
    310: ("CXO",),
    300: ("VP",),
    220: ("DIRECTOR",),
    210: ("MANAGER",),
    200: ("MANAGER",),
    130: ("STRATEGIC",),
    120: ("SENIOR",),
    110: ("ENTRY",),
    100: ("TRAINING",),
}
OWNER_OR_PARTNER = 320
SALES_NAVIGATOR_SENIORITY_IDS = frozenset({OWNER_OR_PARTNER, *_FACET_LEVELS})


def seniority_from_facets(facet_ids: Iterable[int], title: str | None) -> list[str]:
    """The contract's values for LinkedIn's own seniority, most senior first.

    320 (Owner / Partner) is PARTNER when the title says partner and not owner,
    else OWNER.
    """
    levels: set[str] = set()
    for facet_id in facet_ids:
        if facet_id == OWNER_OR_PARTNER:
            from_title = _levels_of(title) if title else ()
            partner = "PARTNER" in from_title and "OWNER" not in from_title
            levels.add("PARTNER" if partner else "OWNER")
        else:
            levels.update(_FACET_LEVELS.get(facet_id, ()))
    return [level for level in SENIORITY_LEVELS if level in levels]


def lead_seniority(title: str | None, facet_ids: Iterable[int] | None) -> list[str]:
    """LinkedIn's own seniority when the result carried it, else the title's."""
    if facet_ids:
        return seniority_from_facets(facet_ids, title)
    return seniority_from_title(title)
