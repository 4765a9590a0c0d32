"""Password strength in the manner of zxcvbn: how many guesses would an attacker who knows
how people pick passwords need? Pure Python, no word lists to download.

A password is split (by dynamic programming, cheapest split wins) into patterns an attacker
tries first, each with a guess count:

- common passwords and words (`password`, `admin`, `qwerty`, `iloveyou`, `woaini`…), also
  in l33t spelling (`P@ssw0rd`);
- Chinese pinyin: syllables (`zhang`, `wei`, `lan`…), so names and phrases written in pinyin
  (`zhangwei`, `woaini`) cost little; lucky numbers (520, 1314, 5201314, 666, 888…);
- keyboard walks (`qwertyuiop`, `1qaz2wsx`, `asdfgh`, keypad `147258369`);
- sequences (`123456`, `abcdef`, `987654`) and repeats (`aaaa`, `121212`);
- years and dates (`1988`, `19900101`, `2024`);
- anything else costs its character set (10 digits, 26 letters, 33 symbols, 3,000 汉字).

The product of the parts' guesses is the estimate; `analyse()` also names the parts, so the
refusal says *why* ("a common password with a keyboard walk").
"""

from __future__ import annotations

import math
import re
from dataclasses import dataclass

# Enough guesses that an offline attack on an argon2id hash (~20 ms each) takes centuries.
MIN_GUESSES = 1e12

COMMON_WORDS: tuple[str, ...] = (
    "password", "passwd", "pass", "admin", "administrator", "root", "user", "guest", "test", "login",
    "welcome", "letmein", "iloveyou", "love", "monkey", "dragon", "master", "shadow", "sunshine",
    "princess", "football", "baseball", "superman", "batman", "trustno", "hello", "secret", "qwerty",
    "abc", "abcd", "china", "beijing", "shanghai", "huawei", "xiaomi", "taobao", "baidu", "tencent",
    "weixin", "wechat", "alipay", "zhifubao", "service", "kefu", "manager", "system", "changeme",
    "default", "temp", "server", "company", "office", "anfu", "summer", "winter", "spring", "autumn",
    "woaini", "aini", "woaiwojia", "zhongguo", "mima", "wodemima", "nihao", "laopo", "laogong",
    "baobei", "qinai", "xingfu", "kuaile", "pingan", "shengri", "lucky", "happy", "angel", "flower",
)
# Lucky and love numbers people append or use whole.
LUCKY_NUMBERS: tuple[str, ...] = ("5201314", "1314520", "521", "520", "1314", "666", "888", "168", "518",
                                  "999", "886", "88", "66", "99")
WALKS: tuple[str, ...] = (
    "1234567890-=", "qwertyuiop[]", "asdfghjkl;'", "zxcvbnm,./", "!@#$%^&*()_+",
    "1qaz2wsx3edc4rfv5tgb6yhn7ujm8ik,9ol.0p;/", "qazwsxedcrfvtgbyhnujmikolp", "zaqxswcdevfrbgtnhymjukilop",
    "147258369", "963852741", "159357", "753951", "789456123", "123698745", "741852963",
)
_INITIALS = ("b", "p", "m", "f", "d", "t", "n", "l", "g", "k", "h", "j", "q", "x", "zh", "ch", "sh", "r",
             "z", "c", "s", "y", "w", "")
_FINALS = ("a", "o", "e", "i", "u", "v", "ai", "ei", "ui", "ao", "ou", "iu", "ie", "ve", "er", "an", "en",
           "in", "un", "vn", "ang", "eng", "ing", "ong", "ia", "ian", "iang", "iao", "iong", "ua", "uai",
           "uan", "uang", "uo", "ue", "ueng")
# A superset of the ~410 pinyin syllables: every initial with every final (an attacker's
# generator does the same), at least two letters or one of a/e/o.
PINYIN: frozenset[str] = frozenset(i + f for i in _INITIALS for f in _FINALS if len(i + f) >= 2 or i + f in "aeo")
_LEET = str.maketrans({"@": "a", "4": "a", "0": "o", "1": "i", "!": "i", "3": "e", "$": "s", "5": "s",
                       "7": "t", "+": "t", "8": "b", "9": "g"})
_YEAR = re.compile(r"(?:19|20)\d\d")
_DATE = re.compile(r"(?:19|20)\d\d(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])|(?:0[1-9]|1[0-2])(?:0[1-9]|[12]\d|3[01])")


@dataclass(frozen=True)
class Part:
    kind: str       # word, pinyin, lucky, walk, sequence, repeat, year, date, chars
    text: str
    guesses: float


@dataclass(frozen=True)
class Strength:
    guesses: float
    parts: tuple[Part, ...]

    @property
    def log10(self) -> float:
        return math.log10(max(self.guesses, 1.0))

    def weak(self, minimum: float = MIN_GUESSES) -> bool:
        return self.guesses < minimum

    def reason(self) -> str:
        """Why the password is easy to guess, in words."""
        named = {"word": "a common password or word", "pinyin": "pinyin (names and phrases)",
                 "lucky": "a lucky number", "walk": "a keyboard pattern", "sequence": "a sequence",
                 "repeat": "repeated characters", "year": "a year", "date": "a date"}
        seen: list[str] = []
        for part in self.parts:
            if part.kind in named:
                label = f"{named[part.kind]} ({part.text})"
                if label not in seen:
                    seen.append(label)
        made_of = ", ".join(seen[:4]) if seen else "too few different characters"
        return (f"too easy to guess (about 10^{self.log10:.0f} guesses): it is made of {made_of}. "
                "Use a passphrase of several unrelated words or a password manager")


def _charset(ch: str) -> int:
    if ch.isdigit():
        return 10
    if ch.isascii() and ch.isalpha():
        return 26
    if ch.isascii():
        return 33
    return 3000  # a Chinese character or another script


def _sequence_len(s: str, i: int) -> int:
    """Length of the arithmetic run (step ±1 or 0 … ±2) of digits or letters starting at i."""
    if i + 1 >= len(s) or s[i].isalnum() is False:
        return 1
    step = ord(s[i + 1]) - ord(s[i])
    if abs(step) > 2 or s[i].isdigit() != s[i + 1].isdigit():
        return 1
    j = i + 1
    while j < len(s) and ord(s[j]) - ord(s[j - 1]) == step and s[j].isdigit() == s[i].isdigit():
        j += 1
    return j - i


def _candidates(raw: str, low: str, leet: str, i: int) -> list[Part]:
    out: list[Part] = []
    n = len(low)
    for j in range(i + 2, min(n, i + 16) + 1):
        piece, plain = low[i:j], leet[i:j]
        variants = 1.0 + sum(1 for a, b in zip(piece, plain) if a != b) * 2  # l33t spellings
        if raw[i:j] != piece:
            variants *= 2  # capitals
        if plain in COMMON_WORDS:
            out.append(Part("word", raw[i:j], (COMMON_WORDS.index(plain) + 1) * variants))
        if plain in PINYIN:
            out.append(Part("pinyin", raw[i:j], 400 * variants))
        if piece in LUCKY_NUMBERS:
            out.append(Part("lucky", raw[i:j], 20))
        if j - i >= 4 and _YEAR.fullmatch(piece):
            out.append(Part("year", raw[i:j], 200))
        if j - i in (4, 8) and _DATE.fullmatch(piece):
            out.append(Part("date", raw[i:j], 366 * (200 if j - i == 8 else 1)))
        if j - i >= 3 and any(piece in walk for walk in WALKS):
            out.append(Part("walk", raw[i:j], 100 * (j - i)))
    run = _sequence_len(low, i)
    for j in range(i + 3, i + run + 1):
        out.append(Part("repeat" if low[i] == low[i + 1] else "sequence", raw[i:j], 20 * (j - i)))
    # repeated blocks: "121212", "abcabc"
    for size in range(1, 5):
        block = low[i:i + size]
        if len(block) < size:
            break
        j = i + size
        while low[j:j + size] == block:
            j += size
        if j - i >= max(3, 2 * size) and j > i + size:
            out.append(Part("repeat", raw[i:j], 10 * size * (j - i) / size))
    return out


def analyse(password: str) -> Strength:
    """The cheapest way to build `password` from guessable parts, and its guess count."""
    low = password.lower()
    leet = low.translate(_LEET)
    n = len(password)
    best: list[tuple[float, tuple[Part, ...]]] = [(0.0, ())] + [(math.inf, ())] * n
    for i in range(n):
        cost, parts = best[i]
        if cost == math.inf:
            continue
        options = [Part("chars", password[i], _charset(password[i]) * (2 if password[i].isupper() else 1))]
        options += _candidates(password, low, leet, i)
        for part in options:
            j = i + len(part.text)
            total = cost + math.log10(part.guesses)
            if total < best[j][0]:
                best[j] = (total, parts + (part,))
    log_guesses, parts = best[n]
    # a password of k parts also costs the choice of how to split it (zxcvbn's k! term)
    log_guesses += math.log10(math.factorial(len(parts)))
    return Strength(10 ** log_guesses, parts)
