"""Vietnamese text helpers: folding diacritics for search and slugs."""

from __future__ import annotations

import re
import unicodedata

_FOLD_EXTRA = str.maketrans({"đ": "d", "Đ": "D"})


def fold(text: str) -> str:
    """'Dân chủ ở cơ sở' → 'dan chu o co so': lower case, no diacritics, single spaces."""
    text = unicodedata.normalize("NFD", (text or "").translate(_FOLD_EXTRA))
    text = "".join(ch for ch in text if unicodedata.category(ch) != "Mn")
    return re.sub(r"\s+", " ", text.lower()).strip()


def slugify(text: str) -> str:
    return re.sub(r"[^a-z0-9]+", "-", fold(text)).strip("-")[:60]


def nfc(text: str) -> str:
    """Pasted Vietnamese may arrive decomposed; store it composed."""
    return unicodedata.normalize("NFC", text or "")
