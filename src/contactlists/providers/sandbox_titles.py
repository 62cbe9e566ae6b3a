"""The sandbox's job-title taxonomy: departments, seniority levels, and the title draw.

A title is a level (intern to founder) applied to a department, each drawn by
weight, so that individual contributors are common and the C-suite rare. The
draw is part of the sandbox's determinism: changing the tables, their order or
the order of `rng` calls in `draw_role` changes every company's people.
"""

from __future__ import annotations

import random
from bisect import bisect
from collections.abc import Callable, Sequence
from dataclasses import dataclass
from itertools import accumulate
from typing import TypeVar

_T = TypeVar("_T")


@dataclass(frozen=True, slots=True)
class _Department:
    function: str  # as in "Head of <function>"
    facet: str  # Sales Navigator's FUNCTION (`facets.DEPARTMENT_IDS`)
    weight: float
    chief: str
    roles: tuple[str, ...]  # individual-contributor titles without a level
    strategic: tuple[str, ...]


# Weighted so that individual contributors are common and the C-suite rare.
_DEPARTMENTS = (
    _Department("Engineering", "Engineering", 28, "CTO",
                ("Software Engineer", "Backend Engineer", "Frontend Engineer",
                 "Full Stack Engineer", "DevOps Engineer", "Site Reliability Engineer",
                 "Mobile Engineer", "QA Engineer"),
                ("Staff Software Engineer", "Principal Engineer", "Software Architect",
                 "Distinguished Engineer")),
    _Department("Data", "Engineering", 6, "Chief Data Officer",
                ("Data Scientist", "Data Engineer", "Data Analyst", "Machine Learning Engineer"),
                ("Staff Data Scientist", "Principal Data Engineer")),
    _Department("Product", "Product Management", 6, "Chief Product Officer",
                ("Product Manager", "Product Owner", "Product Analyst"),
                ("Principal Product Manager",)),
    _Department("Design", "Arts and Design", 4, "Chief Design Officer",
                ("Product Designer", "UX Designer", "UX Researcher", "Visual Designer"),
                ("Principal Designer", "Staff Product Designer")),
    _Department("Sales", "Sales", 18, "Chief Revenue Officer",
                ("Account Executive", "Sales Development Representative",
                 "Business Development Representative", "Account Manager", "Sales Engineer"),
                ("Solutions Architect", "Principal Solutions Consultant")),
    _Department("Marketing", "Marketing", 8, "CMO",
                ("Marketing Specialist", "Content Marketing Specialist", "Growth Marketer",
                 "Product Marketing Manager", "SEO Specialist"),
                ("Principal Marketing Strategist",)),
    _Department("Customer Success", "Customer Success and Support", 8, "Chief Customer Officer",
                ("Customer Success Manager", "Support Engineer", "Customer Support Specialist",
                 "Implementation Consultant"),
                ("Principal Support Engineer",)),
    _Department("Finance", "Finance", 5, "CFO",
                ("Accountant", "Financial Analyst", "FP&A Analyst", "Payroll Specialist"),
                ("Principal Financial Analyst",)),
    _Department("People", "Human Resources", 4, "Chief People Officer",
                ("Recruiter", "Talent Acquisition Partner", "HR Business Partner",
                 "People Operations Specialist"),
                ("Principal Recruiter",)),
    _Department("Operations", "Operations", 5, "COO",
                ("Operations Analyst", "Program Manager", "Project Manager",
                 "Business Operations Specialist"),
                ("Principal Program Manager",)),
    _Department("Legal", "Legal", 2, "General Counsel",
                ("Legal Counsel", "Paralegal", "Corporate Counsel", "Compliance Analyst"),
                ("Principal Counsel",)),
    _Department("IT", "Information Technology", 3, "CIO",
                ("IT Support Specialist", "Systems Administrator", "Network Engineer"),
                ("IT Architect",)),
    _Department("Security", "Information Technology", 2, "CISO",
                ("Security Engineer", "Security Analyst"),
                ("Principal Security Engineer", "Security Architect")),
)  # fmt: skip
_DEPARTMENT_WEIGHTS = tuple(accumulate(d.weight for d in _DEPARTMENTS))
_LEADERS = (
    "Founder & CEO", "Co-Founder & CTO", "Co-Founder", "Founder", "CEO & Co-Founder",
    "Managing Partner", "Partner", "Managing Director", "President", "CEO",
)  # fmt: skip
_Level = Callable[[random.Random, _Department], str]
_LEVELS: tuple[tuple[float, _Level], ...] = (
    (4, lambda r, d: f"{d.function} {r.choice(('Intern', 'Intern', 'Trainee', 'Apprentice'))}"),
    (10, lambda r, d: f"{r.choice(('Junior', 'Associate', 'Graduate'))} {r.choice(d.roles)}"),
    (34, lambda r, d: r.choice(d.roles)),
    (20, lambda r, d: f"{r.choice(('Senior', 'Senior', 'Sr.', 'Lead'))} {r.choice(d.roles)}"),
    (4, lambda r, d: r.choice(d.strategic)),
    (13, lambda r, d: r.choice((f"{d.function} Manager", f"Senior {d.function} Manager",
                                f"Manager, {d.function}"))),
    (6, lambda r, d: r.choice((f"Director of {d.function}", f"Head of {d.function}",
                               f"Senior Director, {d.function}", f"{d.function} Director"))),
    (2.5, lambda r, d: r.choice((f"VP {d.function}", f"VP of {d.function}",
                                 f"Vice President of {d.function}", f"SVP, {d.function}"))),
    (0.8, lambda r, d: d.chief),
    (0.4, lambda r, d: r.choice(_LEADERS)),
)  # fmt: skip
_LEVEL_WEIGHTS = tuple(accumulate(weight for weight, _ in _LEVELS))


def draw_role(rng: random.Random) -> tuple[str, str]:
    """A weighted title and its department's FUNCTION name: the level is drawn
    first, then the department, then the words."""
    level = pick(rng, _LEVELS, _LEVEL_WEIGHTS)[1]
    department = pick(rng, _DEPARTMENTS, _DEPARTMENT_WEIGHTS)
    return level(rng, department), department.facet


def pick(rng: random.Random, items: Sequence[_T], cumulative: Sequence[float]) -> _T:
    """`rng.choices(..., k=1)[0]` without its overhead, which shows at 3 calls a person."""
    return items[bisect(cumulative, rng.random() * cumulative[-1])]
