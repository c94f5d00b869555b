"""Country (ISO 3166 alpha-2) → sales region, the top of the warehouse's region hierarchy.

Countries not listed fall into "Other"; an empty country is "Unknown". Override per install by
editing this table (a later issue may move it to settings).
"""

_REGIONS = {
    "Europe": "AD AL AT BA BE BG BY CH CY CZ DE DK EE ES FI FO FR GB GI GR HR HU IE IS IT LI LT LU LV MC MD ME MK "
    "MT NL NO PL PT RO RS RU SE SI SK SM UA VA",
    "North America": "US CA MX",
    "Latin America": "AR BO BR CL CO CR CU DO EC GT HN JM NI PA PE PR PY SV UY VE",
    "Asia-Pacific": "AU BD CN HK ID IN JP KH KR LA LK MM MN MY NP NZ PH PK SG TH TW VN",
    "Middle East & Africa": "AE BH DZ EG ET GH IL IQ IR JO KE KW LB LY MA NG OM QA SA SN SY TN TR TZ UG YE ZA",
}

COUNTRY_REGION: dict[str, str] = {c: region for region, codes in _REGIONS.items() for c in codes.split()}


def region_rows() -> list[tuple[str, str, str]]:
    """(region_key, region, country) for every listed country plus the Unknown member."""
    return [(c, r, c) for c, r in sorted(COUNTRY_REGION.items())] + [("", "Unknown", "")]
