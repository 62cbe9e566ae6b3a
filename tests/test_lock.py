"""uv.lock, which every install comes from, agrees with pyproject.toml.

`make lock` regenerates it; this fails, naming the difference, when a
dependency was added, dropped or re-ranged in pyproject.toml without it.
"""

from __future__ import annotations

import tomllib
from pathlib import Path

from packaging.requirements import Requirement
from packaging.specifiers import SpecifierSet
from packaging.utils import canonicalize_name

ROOT = Path(__file__).resolve().parent.parent
Key = tuple[str, tuple[str, ...], str, str]


def _key(name: str, extras: list[str], specifier: str, marker: str | None) -> Key:
    return (
        canonicalize_name(name),
        tuple(sorted(extras)),
        str(SpecifierSet(specifier)),
        (marker or "").replace('"', "'"),
    )


def declared() -> set[Key]:
    project = tomllib.loads((ROOT / "pyproject.toml").read_text())["project"]
    wanted = [(text, None) for text in project["dependencies"]]
    for extra, texts in project.get("optional-dependencies", {}).items():
        wanted += [(text, f"extra == '{extra}'") for text in texts]
    keys = set()
    for text, marker in wanted:
        requirement = Requirement(text)
        keys.add(
            _key(
                requirement.name,
                list(requirement.extras),
                str(requirement.specifier),
                marker or (str(requirement.marker) if requirement.marker else None),
            )
        )
    return keys


def locked() -> set[Key]:
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    (ours,) = (p for p in lock["package"] if p["name"] == "contactlists")
    return {
        _key(d["name"], d.get("extras", []), d.get("specifier", ""), d.get("marker"))
        for d in ours["metadata"]["requires-dist"]
    }


def test_the_lock_matches_pyproject() -> None:
    fix = "uv.lock does not match pyproject.toml: run `make lock` and commit uv.lock"
    assert sorted(declared() - locked()) == [], f"{fix}; in pyproject.toml only"
    assert sorted(locked() - declared()) == [], f"{fix}; in uv.lock only"


def test_every_locked_package_is_pinned_with_hashes() -> None:
    lock = tomllib.loads((ROOT / "uv.lock").read_text())
    for package in lock["package"]:
        if package["name"] == "contactlists":
            continue
        files = [package.get("sdist", {}), *package.get("wheels", [])]
        assert package["version"], package["name"]
        assert all(f.get("hash", "").startswith("sha256:") for f in files if f), package["name"]
