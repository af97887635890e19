"""The `/post` command text grammar.

    /post <media>... [to <account>[, <account>...]] [at|on|in|when <time phrase> | now] [sound <url>]
          [slides 4|6|8] [video|slideshow] ["caption" | -- caption]

Tokens are shell-like, but straight and curly quotes both quote (phones and Slack turn " into “ ”), a quote
only opens at the start of a word (so "don't" needs no escaping), and nothing inside a caption is changed.
`key:value` forms (`to:`, `when:`, `sound:`, `slides:`, `caption:`) work too.
"""

from __future__ import annotations

import re
from collections.abc import Iterable
from dataclasses import dataclass

from bot.dates import reads_as_time
from bot.errors import BadCommand
from bot.links import RULE, without_scheme
from bot.model import SLIDE_SECONDS, ContentType, PostDraft
from bot.texts import clip

MAX_COMMAND_LENGTH = 4000  # Slack's own limit on slash command text
USAGE = (
    "Write it as `/post <video or image links> to <accounts> at <time> -- <caption>`, e.g. "
    "`/post https://cdn.example.com/v.mp4 to acc_123 at tomorrow noon -- We're live!`"
)

# Opening quote -> the characters that may close it. Phones mix straight and curly quotes freely.
_QUOTES = {
    '"': '"”“',
    "“": '”“"',
    "”": '”“"',
    "„": '“”"',
    "'": "'’",
    "‘": "’‘'",
    "’": "’‘'",
    "«": "»",
}
_KEYS = {"to", "when", "at", "on", "in", "sound", "slides", "caption"}
_TIME_KEYWORDS = {"at", "on", "in", "when"}
_CLAUSE_KEYWORDS = {"to", "now", "sound", "slides", "video", "slideshow", "every"} | _TIME_KEYWORDS
_KEY_PREFIX = re.compile(r"([a-zA-Z]+):")


@dataclass(frozen=True)
class Token:
    text: str
    quoted: bool = False
    key: str | None = None  # "to" for `to:acc_1`
    start: int = 0  # where it begins in the command text

    @property
    def word(self) -> str:
        return "" if self.quoted else self.text.lower()

    @property
    def is_url(self) -> bool:
        """Written as a link (`scheme://...`): whether it is one the bot takes is bot.links' one rule to say."""
        return not self.quoted and bool(re.match(r"^[a-z][a-z0-9+.-]*://\S*$", self.text, re.IGNORECASE))


# `--`, and the dashes phones and Slack make of it as it is typed.
_CAPTION_MARKS = {"--", "\u2014", "\u2013"}
# Words /post reads as its own, so no account can be called by one (`and` is skipped in `to a and b`).
RESERVED_WORDS = frozenset(_KEYS | _CLAUSE_KEYWORDS | _CAPTION_MARKS | {"and"})


def _ends_word(text: str, i: int) -> bool:
    return i == len(text) or text[i].isspace() or (text[i] == "," and (i + 1 == len(text) or text[i + 1].isspace()))


def tokenize(text: str, *, clauses: bool = True) -> tuple[list[Token], str | None]:
    """Split command text into tokens; the raw text after an unquoted `--` is returned as the caption. Without
    `clauses` (a field that holds one thing), neither `key:` nor `--` means anything: only quotes do."""
    tokens: list[Token] = []
    i, n = 0, len(text)
    while i < n:
        if text[i].isspace():
            i += 1
            continue
        key = None
        start = i
        match = _KEY_PREFIX.match(text, i) if clauses and text[i].isalpha() else None
        if match and match.group(1).lower() in _KEYS:
            key = match.group(1).lower()
            i = match.end()
            if i >= n or text[i].isspace():
                tokens.append(Token("", key=key, start=start))
                continue
        if text[i] in _QUOTES:
            closers = _QUOTES[text[i]]
            # A closing quote ends a word (or a name in a list: `"Brand TikTok", acc_1`): the ’ in “We’re” is an
            # apostrophe, not the end of the caption.
            end = next((j for j in range(i + 1, n) if text[j] in closers and _ends_word(text, j + 1)), -1)
            if end < 0:
                # A field of its own (`clauses=False`) holds names only: no caption to speak of.
                how = (
                    "Put the caption between two quotes, or after ` -- `"
                    if clauses
                    else ('Put a name with spaces between two quotes: `"Brand TikTok", acc_1`')
                )
                raise BadCommand(f"A quote ({text[i]}) is never closed. {how}.")
            tokens.append(Token(text[i + 1 : end], quoted=True, key=key, start=start))
            i = end + 1
            continue
        end = i
        while end < n and not text[end].isspace():
            end += 1
        word = text[i:end]
        if clauses and word in _CAPTION_MARKS and key is None:
            return tokens, text[end:].strip()
        tokens.append(Token(word, key=key, start=start))
        i = end
    return tokens, None


def account_list(text: str) -> tuple[str, ...]:
    """The accounts a form's or an option's accounts field names, read as `/post … to <accounts>` reads them:
    separated by commas, spaces or `and`, a quoted name holding spaces (`"Brand TikTok", acc_1`). Raises
    BadCommand for a quote never closed."""
    tokens, _ = tokenize(text, clauses=False)
    return account_names(tokens)


def account_names(tokens: Iterable[Token]) -> tuple[str, ...]:
    """The account names in the tokens of a list: a quoted one whole, others split at commas; `and` joins."""
    names: list[str] = []
    for token in tokens:
        names += [token.text] if token.quoted else token.text.split(",")
    return tuple(name.strip() for name in names if name.strip() and name.strip().lower() != "and")


# A comma between two links written together: `https://e.com/1.jpg,https://e.com/2.jpg`. Other commas belong to
# the link (image services put them in paths: `w_400,h_300`).
_LINK_AFTER_COMMA = re.compile(r",+(?=[a-z][a-z0-9+.-]*://)", re.IGNORECASE)


def media_list(text: str) -> tuple[str, ...]:
    """The media links (or, on the console, paths) a field or one word of `/post` names: separated by spaces,
    line breaks, or commas before the next link; a comma at the end of one is the list's, not the link's."""
    items: list[str] = []
    for word in text.split():
        items += (item.rstrip(",") for item in _LINK_AFTER_COMMA.split(word))
    return tuple(item for item in items if item)


def parse_post(text: str) -> PostDraft:
    """Turn `/post` text into a draft. Raises BadCommand with a way to write it right."""
    if len(text) > MAX_COMMAND_LENGTH:
        raise BadCommand(f"That command is {len(text):,} characters; the limit is {MAX_COMMAND_LENGTH:,}.")
    tokens, caption = tokenize(text)
    return _PostParser(tokens, caption, text).draft()


def parse_changes(text: str) -> tuple[PostDraft, bool]:
    """`/edit` text: the parts of the `/post` grammar it changes (none need be given), and whether it said `now`."""
    if len(text) > MAX_COMMAND_LENGTH:
        raise BadCommand(f"That command is {len(text):,} characters; the limit is {MAX_COMMAND_LENGTH:,}.")
    tokens, caption = tokenize(text)
    parser = _PostParser(tokens, caption, text)
    return parser.draft(), parser.now


class _PostParser:
    def __init__(self, tokens: list[Token], caption: str | None, text: str) -> None:
        self.text = text
        self.tokens = tokens
        self.pos = 0
        self.caption = caption
        self.media: list[str] = []
        self.accounts: list[str] = []
        self.when: str | None = None
        self.now = False
        self.sound: str | None = None
        self.slides: int | None = None
        self.content_type: ContentType | None = None
        self.every: str | None = None

    def draft(self) -> PostDraft:
        while self.pos < len(self.tokens):
            self._clause(self._take())
        if self.now and self.when is not None:
            raise BadCommand("Say either `now` or a time, not both.")
        if self.every is not None and (self.now or self.when is not None):
            raise BadCommand("Say either a time or `every …` (which has its own times), not both.")
        return PostDraft(
            media=tuple(self.media),
            accounts=tuple(self.accounts),
            when=self.when,
            sound_url=self.sound,
            slides=self.slides,
            content_type=self.content_type,
            caption=self.caption or None,
            every=self.every,
        )

    def _take(self) -> Token:
        token = self.tokens[self.pos]
        self.pos += 1
        return token

    def _clause(self, token: Token) -> None:
        keyword = token.key or token.word
        if token.text == "," and not token.quoted and token.key is None:
            return  # the comma after a quoted text: `"Hi", now`
        if token.key == "caption" or (token.quoted and token.key is None):
            self._set_caption(token if token.key is None else self._value(token, "caption"))
        elif token.is_url and token.key is None:
            self.media.extend(media_list(token.text))
        elif keyword == "to":
            self._accounts(token)
        elif keyword in _TIME_KEYWORDS:
            self._time(token, keyword)
        elif keyword == "now":
            self.now = True
        elif keyword == "every":
            self._every()
        elif keyword == "sound":
            value = self._value(token, "sound")
            if not value.is_url:
                raise BadCommand(f"`sound` takes a link to an audio file: {RULE}.")
            self.sound = value.text
        elif keyword == "slides":
            self._slides(self._value(token, "slides"))
        elif keyword in ("video", "slideshow"):
            if self.content_type and self.content_type != keyword:
                raise BadCommand("Say `video` or `slideshow`, not both.")
            self.content_type = "video" if keyword == "video" else "slideshow"
        elif _looks_like_path(token.text) and not token.quoted:
            self.media.extend(media_list(token.text))
        elif not token.quoted and (refusal := without_scheme(token.text)):
            raise refusal
        elif not token.quoted and token.key is None and self.when is None and self._time_run(self.pos - 1):
            self.pos -= 1  # a time with no keyword before it: `tomorrow 9am`
            self._time_words([])
        elif token.word == "for" and not self.accounts:
            self._accounts(token)  # `for acc_1`: as people say it
        else:
            raise self._stray(token)

    def _every(self) -> None:
        """`every monday 9am until dec 31`: how often, read whole by bot/recurrence.py."""
        if self.every is not None:
            raise BadCommand("Say `every …` once, e.g. `every monday 9am`.")
        run = self._clause_run(self.pos)
        if not run:
            raise BadCommand("`every` needs how often, e.g. `every monday 9am` or `every day at 18:00`.")
        self.every = " ".join(self._take().text for _ in run)

    def _value(self, token: Token, name: str) -> Token:
        """The value of a keyword: glued on (`slides:6`) or the next token (`slides 6`)."""
        if token.key and (token.text or token.quoted):  # `caption:""` is an empty value, not a missing one
            return Token(token.text, quoted=token.quoted)
        if self.pos >= len(self.tokens):
            raise BadCommand(f"`{name}` needs a value after it. {USAGE}")
        return self._take()

    def _set_caption(self, token: Token) -> None:
        if self.caption is not None:
            raise BadCommand("Give the caption once: in quotes, or after ` -- `.")
        self.caption = token.text

    def _ends_clause(self, token: Token) -> bool:
        return token.quoted or token.key is not None or token.is_url or token.word in _CLAUSE_KEYWORDS

    def _accounts(self, token: Token) -> None:
        taken: list[Token] = []
        if token.key and token.text:
            taken.append(Token(token.text, quoted=token.quoted))
        # A name is due right after `to`, a comma or `and`.
        expecting = not taken or token.text.endswith(",")
        while self.pos < len(self.tokens):
            upcoming = self.tokens[self.pos]
            if upcoming.quoted and upcoming.key is None and expecting:
                taken.append(self._take())  # a quoted name may hold spaces: `to "Brand TikTok", acc_1`
                expecting = False
                continue
            if self._ends_clause(upcoming) or (taken and self.when is None and self._time_run(self.pos)):
                break  # `to acc_1 tomorrow 9am`, `to acc_1, tomorrow 9am`: no keyword is needed after the accounts
            word = self._take()
            taken.append(word)
            expecting = word.text.endswith(",") or word.text.lower() == "and"
        names = account_names(taken)
        if not names:
            raise BadCommand("`to` needs at least one account, e.g. `to acc_123, acc_456`.")
        self.accounts.extend(names)

    def _time(self, token: Token, keyword: str) -> None:
        if self.when is not None:
            raise BadCommand("Give the time once, e.g. `at tomorrow 9am`.")
        words = [keyword] if token.key is None or keyword != "when" else []
        if token.key and token.text:
            words.append(token.text)
        phrase = self._time_words(words)
        if phrase.lower() in _TIME_KEYWORDS or not phrase:
            raise BadCommand(f"`{keyword}` needs a time after it, e.g. `at tomorrow 9am` or `in 2 hours`.")
        if phrase.lower() in ("at now", "when now"):
            self.when, self.now = None, True

    def _time_words(self, words: list[str]) -> str:
        """Take the time phrase that starts at the next token (after `words`, its keyword): up to the next clause,
        and no further than its words read as a time, so that `at 9am We're live` leaves `We're live` behind to
        be refused with the command written right."""
        run = self._clause_run(self.pos)
        taken = self._time_run(self.pos, before=words) or len(run)
        words += [self._take().text for _ in range(taken)]
        self.when = " ".join(w for w in words if w)
        return self.when

    def _clause_run(self, start: int) -> list[Token]:
        """The tokens from `start` to the next clause: inside a time phrase "at", "on" and "in" belong to it
        ("on friday at 9am" is one phrase)."""
        run: list[Token] = []
        for token in self.tokens[start:]:
            if token.key is not None or (self._ends_clause(token) and token.word not in _TIME_KEYWORDS):
                break
            run.append(token)
        return run

    def _time_run(self, start: int, *, before: list[str] | None = None) -> int:
        """How many tokens from `start` read as a time phrase (with `before`, its keyword, in front); 0: none."""
        run = self._clause_run(start)
        for size in range(len(run), 0, -1):
            if reads_as_time(" ".join([*(before or []), *(t.text for t in run[:size])])):
                return size
        return 0

    def _stray(self, token: Token) -> BadCommand:
        """Words the grammar has no place for, up to the next clause or time: most often accounts without `to`, or
        a caption without `--`. The refusal shows the command written each way that could be meant."""
        first = self.pos - 1
        last = first
        while last + 1 < len(self.tokens) and not self._ends_clause(self.tokens[last + 1]):
            if self._time_run(last + 1):
                break
            last += 1
        start = token.start
        end = self.tokens[last + 1].start if last + 1 < len(self.tokens) else len(self.text)
        stray = self.text[start:end].strip()
        before, after = self.text[:start].rstrip(), self.text[end:].strip()
        later = self.tokens[last + 1 :]
        ways: list[str] = []
        if not before:  # nothing placed yet: no command to show written right
            return BadCommand(f"I don't understand `{_short(token.text)}` there. {USAGE}")
        if not self.accounts and last - first < 3 and not any("to" in (t.key, t.word) for t in later):
            ways.append(f"if it names accounts: `/post {clip(' '.join((before, 'to', stray, after)).strip(), 300)}`")
        if self.caption is None:
            rest, caption = f"{before} {after}".strip(), stray
            if self._all_placed_but(later):  # `… tomorrow 9am new video now live`: all of it is the caption
                rest, caption = before, self.text[start:].strip()
            ways.append(f"if it is the caption: `/post {clip(rest, 300)} -- {clip(caption, 300)}`")
        if not ways:
            return BadCommand(f"I don't understand `{_short(token.text)}` there. {USAGE}")
        return BadCommand(f"I don't understand `{_short(stray)}` there; " + "; ".join(ways))

    def _all_placed_but(self, later: list[Token]) -> bool:
        """Whether the command has its accounts and its time, and nothing after the stray words carries a link or a
        `key:value`: then words such as `now`, `video` or `sound` there are the caption's, not clauses."""
        return bool(self.accounts) and (self.when is not None or self.now) and not any(t.is_url or t.key for t in later)

    def _slides(self, value: Token) -> None:
        if value.text not in {str(seconds) for seconds in SLIDE_SECONDS}:
            raise BadCommand(f"`slides` takes 4, 6 or 8 (seconds per slide), not `{_short(value.text)}`.")
        self.slides = int(value.text)


def _looks_like_path(word: str) -> bool:
    return word.startswith(("/", "./", "../", "~/"))


def _short(text: str) -> str:
    return clip(text.replace("`", "'"), 40)
