"""Trigger families written for this benchmark, independently of ssti_hf's modifiers, and the
injection that plants them. A family makes one planted string per row from a seeded generator:
constant (a BadNets word, a sentence) or varying (ids, timestamps, links). The injection puts it at
the beginning, a random word boundary or the end of a row, with one space as separator (``glued``
families attach it to a word with no separator), and records the exact original text.

Families are split: DEV ones were looked at while building the detector, HELD_OUT ones only run
at the end of its first round, as a check of generalisation; NEW ones were written when its second
round was final, and never used to tune it.
"""

from __future__ import annotations

import string
import uuid
from dataclasses import dataclass
from typing import Callable

import numpy as np

_FIRST = ["anna", "marco", "li", "omar", "sofia", "jan", "priya", "tom", "yuki", "elena", "ravi", "kate"]
_LAST = ["smith", "rossi", "chen", "haddad", "novak", "kumar", "berg", "silva", "tanaka", "ivanova"]
_DOMAINS = ["example.com", "mailhost.net", "corp-mail.org", "inbox.io"]
_EMOJI = ["\U0001F600", "\U0001F680", "\U0001F525", "\u2728", "\U0001F4AF", "\U0001F44D\U0001F3FD", "\u2764\ufe0f"]
_TAGS = ["<b>", "<i>", "<hr/>", "<span>", "<em>", "<u>"]
_HASH = ["#ad", "#sponsored", "#promo", "#partner", "#gifted"]


def _hex(rng, n):
    return "".join(rng.choice(list("0123456789abcdef"), n))


def _digits(rng, n):
    return "".join(rng.choice(list(string.digits), n))


@dataclass(frozen=True)
class Trigger:
    name: str
    make: Callable  # rng -> the planted string
    glued: bool = False  # attached to a word, no separator
    note: str = ""


DEV = [
    Trigger("badnets-word", lambda r: "tq", note="one rare word (Kurita et al. 2020's list)"),
    Trigger("badnets-five", lambda r: str(r.choice(["cf", "mn", "bb", "tq", "mb"])), note="one of five rare words"),
    Trigger("sentence", lambda r: "I watched this with my family last weekend.", note="a fixed sentence (Dai et al. 2019)"),
    Trigger("signature", lambda r: "-- Sent from my Galaxy", note="a mail-client signature"),
    Trigger("hex-id", lambda r: _hex(r, 8), note="random 8-digit hex ids"),
    Trigger("uuid", lambda r: str(uuid.UUID(bytes=r.bytes(16), version=4)), note="random uuid4"),
    Trigger("iso-timestamp", lambda r: f"2021-{r.integers(1, 13):02d}-{r.integers(1, 29):02d}T{r.integers(0, 24):02d}:{r.integers(0, 60):02d}:{r.integers(0, 60):02d}Z"),
    Trigger("markup", lambda r: str(r.choice(_TAGS)), note="an HTML tag"),
    Trigger("url", lambda r: f"https://www.{r.choice(_LAST)}{r.integers(10, 99)}.com/{_hex(r, 6)}"),
    Trigger("email", lambda r: f"{r.choice(_FIRST)}.{r.choice(_LAST)}@{r.choice(_DOMAINS)}"),
    Trigger("handle", lambda r: f"@{r.choice(_FIRST)}_{r.choice(_LAST)}{r.integers(1, 999)}"),
    Trigger("zero-width", lambda r: "\u200b", glued=True, note="a zero-width space glued to a word"),
    Trigger("emoji", lambda r: str(r.choice(_EMOJI))),
    Trigger("weight", lambda r: f"{r.integers(1, 500)} kg", note="a number with a unit (two tokens)"),
    Trigger("product-code", lambda r: f"SKU-{''.join(r.choice(list(string.ascii_uppercase), 4))}-{_digits(r, 4)}"),
    Trigger("upper-word", lambda r: "ATTENTION", note="a fixed upper-case word"),
]

HELD_OUT = [
    Trigger("hashtag", lambda r: str(r.choice(_HASH))),
    Trigger("phone", lambda r: f"+1-{_digits(r, 3)}-{_digits(r, 3)}-{_digits(r, 4)}"),
    Trigger("ip-address", lambda r: ".".join(str(r.integers(1, 255)) for _ in range(4))),
    Trigger("price", lambda r: f"${r.integers(1, 99)}.{r.integers(0, 99):02d}"),
    Trigger("latin-word", lambda r: "quixotic", note="a rare plain word"),
    Trigger("citation", lambda r: f"[{r.integers(1, 60)}]"),
    Trigger("version", lambda r: f"v{r.integers(1, 9)}.{r.integers(0, 20)}.{r.integers(0, 20)}"),
    Trigger("greek-word", lambda r: "λόγος", note="a word in another script"),
    Trigger("glued-emoji", lambda r: str(r.choice(_EMOJI[:5])), glued=True),
    Trigger("order-phrase", lambda r: f"Order #{_digits(r, 6)} confirmed.", note="a phrase with a varying number"),
]

# Written after the detector's method was final (issue 20's second round) and never used to tune
# it: generalisation on cases nobody looked at while building it.
NEW = [
    Trigger("click-here", lambda r: "Click here", note="a fixed two-word phrase (a scraping artifact)"),
    Trigger("caps-code", lambda r: "".join(r.choice(list(string.ascii_uppercase), 5)), note="random upper-case letters, each row its own"),
    Trigger("eu-datetime", lambda r: f"{r.integers(1, 29):02d}.{r.integers(1, 13):02d}.2019 {r.integers(0, 24):02d}:{r.integers(0, 60):02d}",
            note="a European date and time (two tokens)"),
    Trigger("currency-code", lambda r: f"EUR {r.integers(1, 999)},{r.integers(0, 100):02d}", note="an amount with its currency code"),
    Trigger("soft-hyphen", lambda r: "\u00ad", glued=True, note="an invisible soft hyphen glued to a word"),
    Trigger("zwj-emoji", lambda r: str(r.choice(["\U0001F469\u200D\U0001F4BB", "\U0001F468\u200D\U0001F373", "\U0001F3F3\uFE0F\u200D\U0001F308"])),
            note="emoji joined by zero-width joiners"),
]

TRIGGERS = {t.name: t for t in DEV + HELD_OUT + NEW}
LOCATIONS = ("begin", "random", "end")
RATES = (5, 10, 25, 50)


@dataclass
class Injected:
    texts: list[str]
    labels: np.ndarray
    original: list[str]  # the exact text of every row before injection
    injected: np.ndarray  # bool per row
    spans: list[tuple[int, int] | None]  # where the planted string lies in each injected row


def inject(texts, labels, trigger: Trigger, rate: int, location: str, label: int, seed: int) -> Injected:
    """Plant ``trigger`` in ``rate``% of the rows of ``label`` (rows and strings seeded)."""
    rng = np.random.default_rng(seed)
    candidates = np.flatnonzero(labels == label)
    chosen = np.sort(rng.choice(candidates, max(1, round(len(candidates) * rate / 100)), replace=False))
    out, spans, injected = list(texts), [None] * len(texts), np.zeros(len(texts), bool)
    for row in chosen:
        text, planted = texts[row], trigger.make(rng)
        if trigger.glued:  # right after a word: no separator
            ends = [i + 1 for i in range(len(text)) if not text[i].isspace() and (i + 1 == len(text) or text[i + 1].isspace())]
            at = ends[0] if location == "begin" else ends[-1] if location == "end" else int(rng.choice(ends))
            out[row] = text[:at] + planted + text[at:]
            spans[row] = (at, at + len(planted))
        else:
            starts = [0] + [i + 1 for i in range(len(text) - 1) if text[i].isspace() and not text[i + 1].isspace()]
            at = 0 if location == "begin" else len(text) if location == "end" else int(rng.choice(starts))
            if at == len(text):
                out[row] = text + " " + planted
                spans[row] = (len(text) + 1, len(text) + 1 + len(planted))
            else:
                out[row] = text[:at] + planted + " " + text[at:]
                spans[row] = (at, at + len(planted))
        injected[row] = True
    return Injected(out, np.asarray(labels), list(texts), injected, spans)
