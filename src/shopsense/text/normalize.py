"""How raw product / query text becomes comparable: width, case, numbers and units.

`normalize("1/2 In. x 10 ft. PVC")` -> `"1/2 inch x 10 foot pvc"`; full-width characters fold to
ASCII (NFKC), so `"１．５匹"` and `"1.5匹"` read the same. Units are rewritten to one canonical word
only when they follow a number, so the English word "in" is left alone.
"""

from __future__ import annotations

import re
import unicodedata

# canonical unit -> surface forms (lower case, without trailing dot)
UNITS: dict[str, tuple[str, ...]] = {
    "inch": ("in", "inch", "inches", '"', "''", "″"),
    "foot": ("ft", "feet", "foot", "'", "′"),
    "sqft": ("sq ft", "sq. ft", "sq.ft", "sqft", "square feet", "square foot"),
    "cuft": ("cu ft", "cu. ft", "cu.ft", "cuft", "cubic feet", "cubic foot"),
    "yard": ("yd", "yds", "yard", "yards"),
    "gallon": ("gal", "gals", "gallon", "gallons"),
    "quart": ("qt", "qts", "quart", "quarts"),
    "pound": ("lb", "lbs", "pound", "pounds"),
    "ounce": ("oz", "ounce", "ounces", "fl oz", "fl. oz"),
    "volt": ("v", "volt", "volts", "vac", "vdc"),
    "watt": ("w", "watt", "watts"),
    "amp": ("a", "amp", "amps", "ampere", "amperes"),
    "mm": ("mm", "millimeter", "millimeters"),
    "cm": ("cm", "centimeter", "centimeters"),
    "meter": ("m", "meter", "meters", "metre", "metres"),
    "btu": ("btu", "btus"),
    "gauge": ("ga", "gauge"),
    "gb": ("gb", "g"),
    "piece": ("pc", "pcs", "piece", "pieces", "pk", "pack"),
}

_SURFACES = sorted(
    ((s, canon) for canon, forms in UNITS.items() for s in forms), key=lambda x: -len(x[0])
)
_SURFACE_TO_UNIT = {s: c for s, c in _SURFACES}
_UNIT_ALT = "|".join(re.escape(s).replace(r"\ ", r"\s*") for s, _ in _SURFACES)
# a number (int, decimal, fraction, or mixed "1-1/2") followed by a unit word
_NUM = r"\d+(?:\.\d+)?(?:[-\s]\d+/\d+)?(?:/\d+)?"
_UNIT_RE = re.compile(
    rf"(?P<num>{_NUM})\s*-?\s*(?P<unit>{_UNIT_ALT})(?:\.)?(?![a-z0-9])"
)
_DIM_RE = re.compile(r"(?<=\d)\s*[x×*]\s*(?=\d)")
_SPACE_RE = re.compile(r"\s+")
_MIXED_FRACTION_RE = re.compile(r"(?<![\d/.])(\d+)[\s-]+(\d+/\d+)")
_TRAILING_ZERO_RE = re.compile(r"(?<![\d.])(\d+)\.0+(?![\d])")


def _unit_sub(match: re.Match[str]) -> str:
    surface = _SPACE_RE.sub(" ", match.group("unit").replace(".", ". ")).strip()
    surface = surface.replace(". ", " ").rstrip(".")
    unit = _SURFACE_TO_UNIT.get(surface) or _SURFACE_TO_UNIT.get(surface.replace(" ", ""))
    if unit is None:
        unit = _SURFACE_TO_UNIT.get(match.group("unit").lower(), match.group("unit"))
    return f"{match.group('num')} {unit} "


def fold(text: str) -> str:
    """NFKC width folding + lower case; `None`-safe."""
    return unicodedata.normalize("NFKC", text or "").lower()


def normalize(text: str) -> str:
    """Folded text with dimensions split (`2x4` -> `2 x 4`) and units made canonical."""
    text = fold(text)
    text = text.replace("”", '"').replace("“", '"').replace("’", "'")
    text = _DIM_RE.sub(" x ", text)
    text = _MIXED_FRACTION_RE.sub(r"\1-\2", text)
    text = _TRAILING_ZERO_RE.sub(r"\1", text)
    text = _UNIT_RE.sub(_unit_sub, text)
    return _SPACE_RE.sub(" ", text).strip()
