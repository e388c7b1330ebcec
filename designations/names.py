"""
Names across scripts: one normal form for scoring, and blocking keys for the database.

A name in any script is transliterated to Latin with rigour (which falls back to normality
for scripts it does not admit), lower-cased, and the spelling variants of transliteration
systems are folded together (the same folds as reviews.matching: Aleksey / Alexei, Akhmatovich
/ Ahmatovich). Each word then gets a phonetic code (metaphone). A party's blocking keys are the
unordered pairs of its names' word codes, so "Ivan Petrov", "Petrov Ivan Sergeyevich" and
"Иван Петров" share the key "IFN PTRF"; a one-word name keys on its single code. Screening
looks up a handful of keys in an index and scores only the parties found.
"""

import re
from collections.abc import Iterable
from functools import lru_cache
from itertools import combinations

from rigour.text.phonetics import metaphone
from rigour.text.scripts import text_scripts
from rigour.text.translit import ascii_text

from reviews.matching import FOLDS

_NOT_LETTERS = re.compile(r"[^a-z0-9\s]+")
_REPEATS = re.compile(r"(.)\1+")
# Words kept per name for pair keys: enough for given names, patronymic and surname.
MAX_WORDS = 5
KEY_LENGTH = 64


def normalise(name: str) -> str:
    """Return `name` in Latin letters, folded so that transliterations of it coincide."""
    return " ".join(w for w in (_word(word) for word in (name or "").split()) if w)


@lru_cache(maxsize=100_000)
def _word(word: str) -> str:
    """One word, transliterated and folded: names repeat their words, so this is cached
    (and a word in two scripts, which rigour hands to a slower path, costs only once)."""
    text = _NOT_LETTERS.sub(" ", ascii_text(word).lower().replace("'", ""))
    folded = []
    for part in text.split():
        for variant, replacement in FOLDS:
            part = part.replace(variant, replacement)
        folded.append(_REPEATS.sub(r"\1", part))
    return " ".join(folded)


def variants(names: Iterable[str]) -> list[str]:
    """The distinct normal forms of several names, in order."""
    seen: dict[str, None] = {}
    for name in names:
        if isinstance(name, str) and (form := normalise(name)):
            seen.setdefault(form, None)
    return list(seen)


def word_code(word: str) -> str:
    return metaphone(word) or word


def blocking_keys(names: Iterable[str]) -> set[str]:
    """The blocking keys of a party's (or a person's) names."""
    keys: set[str] = set()
    for form in variants(names):
        codes = _codes(form)
        if len(codes) == 1:
            keys.add(codes[0][:KEY_LENGTH])
        for left, right in combinations(codes, 2):
            keys.add(f"{left} {right}"[:KEY_LENGTH])
    return keys


def _codes(form: str) -> list[str]:
    words = [w for w in form.split() if len(w) > 1][:MAX_WORDS]
    return sorted({word_code(w) for w in words})


def script_of(name: str) -> str:
    """The writing system of a name: Latin, Cyrillic, Han ...; "Mixed" if more than one."""
    scripts = text_scripts(name or "")
    if len(scripts) == 1:
        return next(iter(scripts))
    return "Mixed" if scripts else ""


def clean_identifier(number: str) -> str:
    """Passport and ID numbers compare without spaces, dashes or case."""
    return re.sub(r"[^0-9A-Za-z]", "", number or "").upper()
