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


def checked_text(value: str | None, label: str, max_len: int, error: type[Exception] = ValueError, *,
                 required: bool = True, one_line: bool = False, verb: str = "nhập") -> str | None:
    """A text as the user typed it, composed (NFC) and trimmed (on one line: single spaces),
    or ``error`` with a Vietnamese message: empty when required, a NUL, longer than its column."""
    value = nfc(value)
    value = " ".join(value.split()) if one_line else value.strip()
    if not value:
        if required:
            raise error(f"Vui lòng {verb} {label}.")
        return None
    name = label[:1].upper() + label[1:]
    if "\x00" in value:  # no text column of PostgreSQL holds it
        raise error(f"{name} có ký tự không hợp lệ (ký tự NUL).")
    if len(value) > max_len:
        raise error(f"{name} dài quá {max_len:,} ký tự.".replace(",", "."))
    return value
