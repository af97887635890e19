"""Web links, checked in one place: media and sound links in `/post` and its forms, and every address a download
goes to, redirects included.

A link is read by httpx, the parser the bot's own downloads connect with, so that the host an allow-list is checked
against is the host that is reached (a fullwidth dot in a host name is a plain dot to it). What is wrong with a
link is said in words, naming the link; a parser's exception text never reaches a chat.
"""

from __future__ import annotations

import re
from dataclasses import dataclass

import httpx

from bot.errors import BadLink
from bot.texts import clip

MAX_LINK = 2048  # what browsers and CDNs reliably take
# The one rule for media and sound links, stated in every refusal of one that breaks it.
RULE = "a link is https:// (or http://) and a host name, e.g. `https://cdn.example.com/launch.mp4`"
_LABEL = re.compile(r"^(?!-)[a-z0-9-]{1,63}(?<!-)$")
_IPV4 = re.compile(r"^\d{1,3}(\.\d{1,3}){3}$")
_SCHEME = re.compile(r"^[A-Za-z][A-Za-z0-9+.-]*:")
# `e.com/v.mp4`, `www.example.com`: a link written without its https://
_SCHEMELESS = re.compile(r"[a-z0-9-]+(?:\.[a-z0-9-]+)*\.[a-z]{2,}(?::\d+)?/\S*$|www\.\S+$", re.IGNORECASE)


@dataclass(frozen=True, kw_only=True)
class Link:
    """A web link as it will be fetched."""

    url: str  # as given
    scheme: str  # http or https
    host: str  # lowercase, ASCII (IDNA) for names, without brackets for IPv6
    port: int | None  # only when the link names one

    @property
    def netloc(self) -> str:
        """`host` or `host:port`, as allow-lists name hosts."""
        host = f"[{self.host}]" if ":" in self.host else self.host
        return host if self.port is None else f"{host}:{self.port}"


def parse_link(url: str) -> Link:
    """The link, if it is an http(s) address that can be fetched; otherwise BadLink, saying what is wrong."""
    shown = _shown(url)
    if len(url) > MAX_LINK:
        raise BadLink(f"{shown} is {len(url):,} characters long; a link may have at most {MAX_LINK:,}.")
    scheme, separator, rest = url.partition("://")
    if not separator or scheme.lower() not in ("http", "https"):
        raise BadLink(f"{shown} is not a web link: {RULE}.")
    authority = re.split(r"[/?#]", rest, maxsplit=1)[0].rsplit("@", 1)[-1]
    if authority.startswith("[") and "]" not in authority:
        raise BadLink(f"{shown} is not a valid link: its host `{clip(authority, 40)}` lacks the closing `]`.")
    written = _written_host(authority)
    try:
        parsed = httpx.URL(url)
        reads_as = parsed.host
    except (httpx.InvalidURL, ValueError):  # idna's errors are ValueErrors too
        port = authority.removeprefix(f"[{written}]" if authority.startswith("[") else written).removeprefix(":")
        if port and not port.isdigit():
            raise BadLink(f"{shown} is not a valid link: its port `{clip(port, 20)}` is not a number.") from None
        raise BadLink(f"{shown} is not a valid link: `{clip(written, 40)}` is not a host name; {RULE}.") from None
    host = parsed.raw_host.decode("ascii", "replace").lower()
    if not host:
        raise BadLink(f"{shown} has no host name: {RULE}.")
    if not _valid_host(host):
        raise BadLink(f"{shown} is not a valid link: `{clip(written, 40)}` is not a host name; {RULE}.")
    if written.lower() != reads_as:
        # Another program reading the link (Infinipost's fetcher) may not rewrite it the same way.
        raise BadLink(
            f"{shown} is not a valid link: its host `{clip(written, 40)}` has characters that stand for others "
            f"(it reads as `{clip(reads_as, 40)}`). Type the host name plainly."
        )
    if parsed.port is not None and not 0 < parsed.port < 65536:
        raise BadLink(f"{shown} is not a valid link: its port {parsed.port} is not between 1 and 65535.")
    return Link(url=url, scheme=parsed.scheme, host=host, port=parsed.port)


def without_scheme(word: str) -> BadLink | None:
    """The refusal for a word that is a link written without its https:// (`e.com/v.mp4`); None for any other."""
    return BadLink(f"{_shown(word)} is not a web link: {RULE}.") if _SCHEMELESS.match(word) else None


def _shown(url: str) -> str:
    return "`" + clip(url.replace("`", "'"), 80) + "`"


def _written_host(authority: str) -> str:
    """The host of `host`, `host:port` or `[ipv6]:port`, as it was typed."""
    if authority.startswith("["):
        return authority[1:].partition("]")[0]
    return authority.rpartition(":")[0] if ":" in authority else authority


def _valid_host(host: str) -> bool:
    if ":" in host:
        return True  # an IPv6 address: httpx has checked it
    if _IPV4.match(host):
        return all(int(part) < 256 for part in host.split("."))
    return all(_LABEL.match(label) for label in host.removesuffix(".").split("."))


def redirected(link: Link, location: str) -> Link:
    """Where a redirect from `link` leads (`location` may be relative), checked like any link."""
    # Joining would tidy the host of an absolute location, hiding what is wrong with it: only a path is joined.
    if _SCHEME.match(location):
        return parse_link(location)
    if location.startswith("//"):
        return parse_link(f"{link.scheme}:{location}")
    try:
        return parse_link(str(httpx.URL(link.url).join(location)))
    except (httpx.InvalidURL, ValueError):
        return parse_link(location)  # what is wrong, said of the redirect as it was sent


def host_allowed(link: Link, hosts: tuple[str, ...]) -> bool:
    """Is the link's host one of `hosts`? Entries are "host", "host:port", or ".suffix" for any subdomain."""
    for allowed in hosts:
        allowed = allowed.lower()
        if allowed.startswith("."):
            if link.host.endswith(allowed):
                return True
        elif allowed in (link.host, link.netloc):
            return True
    return False
