import pytest

from contactlists.providers.countries import (
    SUPPORTED_COUNTRY_CODES,
    Country,
    supported_countries,
)


def test_loads_the_shipped_table() -> None:
    assert len(supported_countries()) >= 200


@pytest.mark.parametrize(
    ("code", "name", "geo_id"),
    [
        ("US", "United States", "103644278"),
        ("GB", "United Kingdom", "101165590"),
        ("DE", "Germany", "101282230"),
    ],
)
def test_known_geo_ids(code: str, name: str, geo_id: str) -> None:
    assert supported_countries()[code] == Country(code=code, name=name, geo_id=geo_id)


def test_codes_are_upper_case_iso2_keys() -> None:
    for code, country in supported_countries().items():
        assert code == country.code
        assert len(code) == 2
        assert code.isascii()
        assert code.isupper()
        assert country.geo_id.isdigit()


def test_code_list_is_sorted_and_unique() -> None:
    assert list(SUPPORTED_COUNTRY_CODES) == sorted(set(supported_countries()))


def test_table_is_read_once_and_read_only() -> None:
    countries = supported_countries()
    assert supported_countries() is countries
    with pytest.raises(TypeError):
        countries["ZZ"] = Country("ZZ", "Nowhere", "1")  # type: ignore[index]
