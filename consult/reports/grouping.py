"""Proposing groups of opinions that say the same thing, for the officer to answer once.

"Identical opinions from several senders are one row listing them all" (DOMAIN.md,
"Synthesis and response"). Grouping is only a proposal: the officer reads every
member, can take one out or undo the whole group. So the rule leans hard towards
keeping opinions apart; a missed duplicate costs one more answer, a wrong merge
leaves an opinion unanswered.

Two texts are near-duplicates when, on the same part of the draft:

* their *meaning marks* are the same, in the same order: every number and amount
  ("500.000 đồng" = "500 nghìn đồng" = "500k đ", "ngày 05" = "ngày 5"), every
  negation ("không", "chưa", "chẳng", "đừng" — "không đồng ý" is not "đồng ý"),
  agreement and objection ("đồng ý" = "nhất trí" = "tán thành"; "phản đối");
  direction and number words ("tăng", "giảm", "bỏ", "trước", "sau", "hai", ...)
  stand in the same places;
* their remaining words are the same, in the same order, once case, punctuation
  and courtesy words ("đề nghị", "các", "thêm", "của", ...) are set aside. A word
  typed without diacritics matches the group's first text's accented word
  ("khong" = "không", "bo sung" = "bổ sung"), and a text that two groups could
  claim that way ("bo" may be "bỏ" or "bổ") joins neither. A long text may carry
  a few typing slips (one letter, never in a mark, never a word that also occurs
  in the other text, never a change of tone mark between two accented words:
  "bổ" is not "bỏ").

Words may not be added or dropped: "qua loa phát thanh" and "qua loa phát thanh
và Zalo" are two opinions.

It scales near-linearly: every text is put in a block (part, number of words,
meaning marks) and, inside it, under a few keys made of runs of its words
(pigeonhole: with at most ``s`` slips, one of ``s + 1`` runs is untouched), and
is compared, with rapidfuzz, only with the first text of the groups that share
a key — never with every other opinion. A new text joins a group only through
the group's first text (no chains of "similar to similar"), and joins none when
it could belong to two different ones.
"""

from __future__ import annotations

import gc
import re
import unicodedata
from contextlib import contextmanager
from dataclasses import dataclass
from decimal import Decimal, InvalidOperation
from functools import lru_cache
from typing import Hashable, Iterable, Iterator

from rapidfuzz.distance import Levenshtein

from consult.textutil import fold

# --- normalisation ------------------------------------------------------------------

_MULTIPLIERS = {"k": 1_000, "nghìn": 1_000, "ngàn": 1_000, "nghin": 1_000, "ngan": 1_000,
                "triệu": 1_000_000, "trieu": 1_000_000, "tr": 1_000_000,
                "tỷ": 1_000_000_000, "tỉ": 1_000_000_000, "ty": 1_000_000_000}
_TOKEN = re.compile(
    r"(?P<num>\d+(?:[.,]\d+)*)"
    r"(?:\s*(?P<mul>k|nghìn|ngàn|nghin|ngan|triệu|trieu|tr|tỷ|tỉ|ty)(?!\w))?"
    r"(?P<cur>\s*(?:đồng|vnđ|vnd|đ|d)(?!\w)(?!\s+ý(?!\w)))?"
    r"|(?P<pct>%)"
    r"|(?P<word>[^\W\d_]+)")


def _number(raw: str, multiplier: str | None) -> str:
    """'500.000' → '500000'; '1,5' triệu → '1500000'; '05' → '5' (Vietnamese: '.' groups thousands, ',' is the decimal mark)."""
    groups = re.split(r"[.,]", raw)
    seps = re.findall(r"[.,]", raw)
    if not seps:
        digits = raw
    elif len(set(seps)) == 1 and all(len(g) == 3 for g in groups[1:]) and (
            seps[0] == "." or len(groups) > 2 or multiplier is None):
        digits = "".join(groups)
    else:  # the last mark is the decimal one, the others group thousands
        digits = "".join(groups[:-1]) + "." + groups[-1]
    try:
        value = Decimal(digits) * _MULTIPLIERS.get(multiplier or "", 1)
    except InvalidOperation:
        return raw
    text = format(value.normalize(), "f")
    return text


def normalize(text: str) -> str:
    """Lower case, no punctuation, single spaces, numbers written one way: what 'the same opinion' compares.

    '500.000đ', '500 nghìn đồng' and '500k đ' all become '500000 đồng'; '50%' becomes '50 phần trăm'.
    """
    text = unicodedata.normalize("NFC", text or "").lower()
    tokens: list[str] = []
    for m in _TOKEN.finditer(text):
        if m.group("num") is not None:
            tokens.append(_number(m.group("num"), m.group("mul")))
            if m.group("cur"):
                tokens.append("đồng")
        elif m.group("pct"):
            tokens += ["phần", "trăm"]
        else:
            tokens.append(m.group("word"))
    return " ".join(tokens)


# --- what a text says -------------------------------------------------------------------

AGREE, OBJECT = "đồng_ý", "phản_đối"

# Word runs read as one mark (longest first), with ASCII spellings typed without diacritics.
_PHRASES: dict[tuple[str, ...], str] = {}
for _words, _mark in [
    (("đồng", "ý"), AGREE), (("dong", "y"), AGREE), (("nhất", "trí"), AGREE), (("nhat", "tri"), AGREE),
    (("tán", "thành"), AGREE), (("tan", "thanh"), AGREE),
    (("phản", "đối"), OBJECT), (("phan", "doi"), OBJECT), (("bác", "bỏ"), OBJECT),
    (("tối", "đa"), "tối_đa"), (("tối", "thiểu"), "tối_thiểu"), (("ít", "nhất"), "tối_thiểu"),
    (("nhiều", "nhất"), "tối_đa"), (("thống", "nhất"), "thống_nhất"), (("ủng", "hộ"), "ủng_hộ"),
]:
    _PHRASES[_words] = _mark

# Courtesy and connecting words that do not change what is asked.
_FILLER_PHRASES = {("đề", "nghị"), ("de", "nghi"), ("kiến", "nghị"), ("kien", "nghi"), ("đề", "xuất"),
                   ("de", "xuat"), ("chúng", "tôi"), ("chung", "toi"), ("chúng", "em"), ("vui", "lòng"),
                   ("làm", "ơn")}
_FILLERS = frozenset("""các những thêm của và thì là mà rất nữa cũng này đó ấy ạ nhé ơi xin tôi em mình hãy nên cần
                        cac nhung them cua va thi rat nua nhe xin toi minh nen""".split())

_NEGATIONS = {"không": "không", "khong": "không", "ko": "không", "hok": "không", "hông": "không", "k": "không",
              "chưa": "chưa", "chua": "chưa", "chẳng": "chẳng", "chả": "chẳng", "đừng": "đừng", "chớ": "đừng"}
# Words whose change turns one opinion into another (direction, quantity, number words): compared in
# place, never taken for a typing slip. Not in the blocking key, as "bo" may be "bỏ" or "bổ".
_MARK_WORDS = frozenset("""tăng giảm hạ nâng cao thấp nhiều ít hơn sớm muộn trễ trước sau bớt bỏ xóa xoá hủy huỷ
                           miễn cấm trên dưới thống_nhất ủng_hộ
                           một hai ba bốn năm sáu bảy bẩy tám chín mười mươi trăm nghìn ngàn triệu tỷ tỉ rưỡi
                           nửa lẻ""".split())


@lru_cache(maxsize=50_000)
def _fold(token: str) -> str:
    return fold(token)


_FOLDED_MARKS = frozenset(_fold(w) for w in _MARK_WORDS)


@lru_cache(maxsize=50_000)
def _is_ascii(token: str) -> bool:
    return token.isascii()


def _is_number(token: str) -> bool:
    return token[:1].isdigit()


@dataclass(frozen=True, slots=True)
class Signature:
    """What grouping compares of one text, computed once."""

    key: str                    # normalize(text): stored as the group's key
    words: tuple[str, ...]      # the words that carry the content, marks included, in order
    marks: tuple[str, ...]      # numbers, negations, agreement and objection, in order: the blocking key
    folded: tuple[str, ...]     # ``words`` without diacritics (for the blocking keys)

    @property
    def exact(self) -> str:
        return " ".join(self.words) if self.words else "\x00" + self.key

    @property
    def slips(self) -> int:
        """Typing slips tolerated: none under 10 words, then one per 10 words, at most 3."""
        return min(len(self.words) // 10, 3)

    @property
    def block(self) -> tuple:
        return len(self.words), self.marks

    def runs(self) -> list[tuple[int, tuple[str, ...]]]:
        """``slips + 1`` consecutive runs of the folded words: one of them survives any allowed slips."""
        n, pieces = len(self.folded), self.slips + 1
        bounds = [round(i * n / pieces) for i in range(pieces + 1)]
        return [(i, self.folded[bounds[i]:bounds[i + 1]]) for i in range(pieces)]


def signature(text: str) -> Signature:
    key = normalize(text)
    tokens = key.split()
    words: list[str] = []
    marks: list[str] = []
    i, n = 0, len(tokens)
    while i < n:
        pair = tuple(tokens[i:i + 2])
        if len(pair) == 2 and pair in _FILLER_PHRASES:
            i += 2
            continue
        if len(pair) == 2 and pair in _PHRASES:
            mark = _PHRASES[pair]
            words.append(mark)
            marks.append(mark)
            i += 2
            continue
        token = tokens[i]
        i += 1
        if token in _FILLERS:
            continue
        if token in _NEGATIONS:
            token = _NEGATIONS[token]
            marks.append(token)
        elif _is_number(token):
            marks.append(token)
        words.append(token)
    return Signature(key, tuple(words), tuple(marks), tuple(_fold(w) for w in words))


def _is_mark(token: str) -> bool:
    return (token in _MARK_WORDS or _is_number(token) or token in (AGREE, OBJECT)
            or token in _NEGATIONS.values() or "_" in token)


def same_opinion(first: Signature, other: Signature) -> bool:
    """Whether ``other`` says what ``first`` (a group's first text) says. See the module's rule.

    Directed: a word of ``other`` typed without diacritics matches the accented word of
    ``first``, not the reverse (an unaccented first text cannot tell "bỏ" from "bổ").
    """
    if first.block != other.block:
        return False
    if first.words == other.words:
        return True
    slips = 0
    first_set, other_set = None, None
    for a, b in zip(first.words, other.words):
        if a == b:
            continue
        if _is_ascii(b) and not _is_ascii(a) and _fold(a) == b:
            continue  # typed without diacritics (GroupIndex.find refuses a text two groups could claim)
        if _is_mark(a) or _is_mark(b) or _fold(a) in _FOLDED_MARKS or _fold(b) in _FOLDED_MARKS:
            return False  # a different mark, or a slip that could make one
        fa, fb = _fold(a), _fold(b)
        if fa == fb or max(len(fa), len(fb)) < 5 or Levenshtein.distance(fa, fb, score_cutoff=1) > 1:
            return False  # another tone mark is another word; short words have no safe slip
        if first_set is None:
            first_set, other_set = set(first.folded), set(other.folded)
        if fb in first_set or fa in other_set:
            return False  # a real word of the other text: words swapped, not a slip
        slips += 1
        if slips > first.slips:
            return False
    # Last guard on the whole text, as a person would read it.
    return Levenshtein.normalized_similarity(" ".join(first.folded), " ".join(other.folded),
                                             score_cutoff=0.85) >= 0.85


def similar(a: str, b: str) -> bool:
    """Whether two texts are near-duplicates, either way round."""
    sa, sb = signature(a), signature(b)
    return same_opinion(sa, sb) or same_opinion(sb, sa)


# --- the index ------------------------------------------------------------------------------

class GroupIndex:
    """Groups' first texts by part, looked up by exact words or by blocking keys."""

    def __init__(self) -> None:
        self._exact: dict[tuple, Hashable] = {}
        self._buckets: dict[tuple, list[tuple[int, Signature, Hashable]]] = {}
        self._order = 0

    def add(self, part: Hashable, sig: Signature, group: Hashable) -> None:
        """Register a group by its first text; a second group with the same words is not needed for matching."""
        exact = (part, sig.exact)
        if exact in self._exact:
            return
        self._exact[exact] = group
        if not sig.words:
            return
        self._order += 1
        entry = (self._order, sig, group)
        for i, run in sig.runs():
            self._buckets.setdefault((part, sig.block, i, run), []).append(entry)

    def find(self, part: Hashable, sig: Signature) -> Hashable | None:
        """The group ``sig`` belongs to, or None (a new group, or a text that could belong to two)."""
        group = self._exact.get((part, sig.exact))
        if group is not None or not sig.words:
            return group
        matches: dict[int, tuple[Signature, Hashable]] = {}
        for i, run in sig.runs():
            for order, first, candidate in self._buckets.get((part, sig.block, i, run), ()):
                if order not in matches and same_opinion(first, sig):
                    matches[order] = (first, candidate)
        if not matches:
            return None
        if len({first.words for first, _ in matches.values()}) > 1:
            return None  # it could belong to two different groups: let the officer see it apart
        return matches[min(matches)][1]


@contextmanager
def gc_paused() -> Iterator[None]:
    """No cyclic garbage collection while a large index is built.

    Grouping makes a few small objects per opinion and no reference cycles; the
    collector's full passes over the growing index were a third of the time for
    30,000 opinions and made it grow faster than the number of opinions.
    Reference counting still frees everything; the collector is back at the end.
    """
    was_enabled = gc.isenabled()
    gc.disable()
    try:
        yield
    finally:
        if was_enabled:
            gc.enable()


def propose_groups(items: Iterable[tuple[Hashable, str]]) -> list[int]:
    """For (part, text) pairs in the order they arrived, the number of each one's proposed group."""
    index = GroupIndex()
    result: list[int] = []
    count = 0
    with gc_paused():
        for part, text in items:
            sig = signature(text)
            group = index.find(part, sig)
            if group is None:
                group = count
                count += 1
                index.add(part, sig, group)
            result.append(group)
    return result
