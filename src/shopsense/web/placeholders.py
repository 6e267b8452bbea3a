"""What does a product look like without a photo? A small, deterministic SVG per category slug
(colour from a hash of the slug, a simple product silhouette, the category name), so the demo
shop has pictures without any image file or network fetch.
"""

from __future__ import annotations

import hashlib
import html
import re

_HUES = (210, 25, 145, 265, 350, 190, 45, 120, 300, 5, 170, 230)
_SLUG = re.compile(r"^[a-z0-9][a-z0-9-]{0,60}$")
# Simple silhouettes (paths in a 100x100 box), chosen by keywords in the slug.
_SHAPES: tuple[tuple[tuple[str, ...], str], ...] = (
    (("phone", "tablet", "watch", "case"),
     '<rect x="34" y="18" width="32" height="60" rx="6"/><circle cx="50" cy="71" r="3" fill="#fff"/>'),
    (("laptop", "monitor", "tv", "television"),
     '<rect x="20" y="24" width="60" height="38" rx="3"/><rect x="40" y="64" width="20" height="6"/>'
     '<rect x="30" y="70" width="40" height="4" rx="2"/>'),
    (("shoe", "sneaker", "boot"),
     '<path d="M18 62 L18 44 L36 44 L46 54 L74 58 Q84 60 84 68 L84 72 L18 72 Z"/>'),
    (("shirt", "dress", "jacket", "coat", "t-shirt"),
     '<path d="M36 20 L50 28 L64 20 L80 32 L72 44 L66 40 L66 80 L34 80 L34 40 L28 44 L20 32 Z"/>'),
    (("coffee", "tea", "milk", "snack", "formula"),
     '<path d="M30 32 L70 32 L66 78 L34 78 Z"/><rect x="28" y="24" width="44" height="8" rx="3"/>'),
    (("lipstick", "cream", "shampoo"),
     '<rect x="40" y="40" width="20" height="40" rx="3"/><rect x="43" y="22" width="14" height="18" rx="4"/>'),
    (("tent", "sleeping", "yoga"),
     '<path d="M50 20 L82 76 L18 76 Z"/><path d="M50 44 L60 76 L40 76 Z" fill="#fff" opacity=".5"/>'),
)
_DEFAULT_SHAPE = ('<rect x="24" y="30" width="52" height="44" rx="6"/>'
                  '<path d="M24 42 L76 42" stroke="#fff" stroke-width="3"/>')


def valid_slug(slug: str) -> bool:
    return bool(_SLUG.match(slug))


def placeholder_svg(slug: str, label: str = "") -> str:
    """A 400x400 SVG for a category slug such as "air-conditioners"."""
    digest = hashlib.blake2b(slug.encode(), digest_size=4).digest()
    hue = _HUES[digest[0] % len(_HUES)]
    shape = next((s for words, s in _SHAPES if any(w in slug for w in words)), _DEFAULT_SHAPE)
    text = html.escape(label or slug.replace("-", " "))
    return (
        '<svg xmlns="http://www.w3.org/2000/svg" viewBox="0 0 100 100" width="400" height="400">'
        f'<defs><linearGradient id="g" x1="0" y1="0" x2="1" y2="1">'
        f'<stop offset="0" stop-color="hsl({hue},70%,96%)"/>'
        f'<stop offset="1" stop-color="hsl({hue},60%,86%)"/></linearGradient></defs>'
        '<rect width="100" height="100" fill="url(#g)"/>'
        f'<g fill="hsl({hue},45%,45%)" transform="translate(15 8) scale(.7)">{shape}</g>'
        f'<text x="50" y="92" font-family="sans-serif" font-size="7" text-anchor="middle" '
        f'fill="hsl({hue},35%,35%)">{text}</text></svg>'
    )
