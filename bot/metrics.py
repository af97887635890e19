"""What the bot counts for its operator, served as `GET /metrics` in Prometheus's text format.

The core counts as it works (commands, creates, Infinipost's errors); what the database holds (the outbox's
backlog, the tracker's lag) is read at scrape time. Each runtime has a registry of its own, not the process-wide
default, so that several bots in one process (tests) never count into each other.

Labels take values only from the small fixed sets below: never a person, a channel, a caption or a post.
"""

from __future__ import annotations

from collections.abc import Iterable, Sequence
from dataclasses import dataclass
from datetime import datetime
from typing import Literal, get_args

from prometheus_client import CollectorRegistry, Counter, disable_created_metrics, generate_latest
from prometheus_client.core import GaugeMetricFamily, Metric
from prometheus_client.registry import Collector

from bot.ports import Store

PREFIX = "infinipost_bot"
CommandOutcome = Literal["ok", "refused", "failed"]
CreateOutcome = Literal["created", "refused", "unconfirmed"]
ApiErrorKind = Literal["auth", "not_found", "rejected", "rate_limited", "server", "timeout", "connection", "unreadable"]
UNKNOWN_COMMAND = "unknown"  # any name that is not a command: what people mistype is theirs, not a label


@dataclass(frozen=True, kw_only=True)
class StateSample:
    """What the database said at one scrape; None where it did not answer in time."""

    outbox_backlog: int | None = None
    oldest_notice_seconds: float | None = None
    tracker_lag_seconds: float | None = None
    claims_held: int | None = None

    @property
    def database_answered(self) -> bool:
        return self.outbox_backlog is not None


async def sample_state(store: Store, *, now: datetime, platforms: Sequence[str]) -> StateSample:
    """The outbox backlog of the chat platforms this process delivers to, and the tracker's lag, as of `now`.
    The caller bounds the time it takes."""
    backlog = await store.notices.backlog(now, platforms=platforms)
    next_check = await store.posts.next_check_time()
    return StateSample(
        outbox_backlog=backlog.due,
        oldest_notice_seconds=max(0.0, (now - backlog.oldest).total_seconds()) if backlog.oldest else 0.0,
        tracker_lag_seconds=max(0.0, (now - next_check).total_seconds()) if next_check else 0.0,
        claims_held=await store.claims_held(now),
    )


class _Sampled(Collector):
    """The gauges read from the database, as of the scrape being rendered; absent when it did not answer, so
    that a stale value is never mistaken for a fresh one."""

    def __init__(self) -> None:
        self.sample = StateSample()

    def collect(self) -> Iterable[Metric]:
        sample = self.sample
        yield GaugeMetricFamily(
            f"{PREFIX}_database_up",
            "1 if the database answered this scrape in time, else 0 (and the gauges read from it are absent).",
            value=1.0 if sample.database_answered else 0.0,
        )
        gauges = (
            ("outbox_backlog", "Notices due to a chat platform and not yet delivered.", sample.outbox_backlog),
            (
                "outbox_oldest_undelivered_seconds",
                "Age of the oldest notice not yet delivered (0: none waiting).",
                sample.oldest_notice_seconds,
            ),
            (
                "claims_held",
                "Posts, requests and notices this replica has claimed and not yet finished (its work under way).",
                sample.claims_held,
            ),
            (
                "tracker_lag_seconds",
                "How far behind its due check the most overdue tracked post is (0: none overdue).",
                sample.tracker_lag_seconds,
            ),
        )
        for name, documentation, value in gauges:
            if value is not None:
                yield GaugeMetricFamily(f"{PREFIX}_{name}", documentation, value=float(value))


class Metrics:
    """The counters the core increments, and the rendering of one scrape."""

    def __init__(self) -> None:
        # A `<counter>_created` gauge beside each counter says when the process started counting: noise beside
        # the process's own start time. The switch is process-wide, and the bot is the process's only user.
        disable_created_metrics()  # type: ignore[no-untyped-call]  # prometheus_client leaves it unannotated
        self.registry = CollectorRegistry(auto_describe=True)
        self._commands = Counter(
            f"{PREFIX}_commands",
            "Commands handled, by command and outcome (refused: the user was told why; failed: a bug).",
            ["command", "outcome"],
            registry=self.registry,
        )
        self._creates = Counter(
            f"{PREFIX}_creates",
            "Create calls sent to Infinipost, by outcome (unconfirmed: not known whether it created the posts).",
            ["outcome"],
            registry=self.registry,
        )
        self._api_errors = Counter(
            f"{PREFIX}_api_errors",
            "Failed Infinipost calls, every attempt counted, by kind.",
            ["kind"],
            registry=self.registry,
        )
        # Every outcome and kind is there from the start, at 0, so that a rate over them needs no first event.
        for create_outcome in get_args(CreateOutcome):
            self._creates.labels(outcome=create_outcome)
        for kind in get_args(ApiErrorKind):
            self._api_errors.labels(kind=kind)
        self._sampled = _Sampled()
        self.registry.register(self._sampled)

    def command_handled(self, command: str, outcome: CommandOutcome) -> None:
        """`command` must be one of the bot's command names (or UNKNOWN_COMMAND)."""
        self._commands.labels(command=command, outcome=outcome).inc()

    def create_sent(self, outcome: CreateOutcome) -> None:
        self._creates.labels(outcome=outcome).inc()

    def api_error(self, kind: ApiErrorKind) -> None:
        self._api_errors.labels(kind=kind).inc()

    def render(self, sample: StateSample) -> bytes:
        """The text of one scrape, with the database's gauges as `sample` has them."""
        # No await between setting the sample and rendering it: two scrapes at once cannot mix their samples.
        self._sampled.sample = sample
        return generate_latest(self.registry)
