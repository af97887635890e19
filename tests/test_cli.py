"""The `infinipost-bot` command as a person runs it: `when`, a scripted console, and `run` with nothing set."""

from __future__ import annotations

import io
import json
import logging
import os
import shutil
import socket
import sqlite3
import stat
import subprocess
import sys
from collections.abc import Iterator
from contextlib import contextmanager
from pathlib import Path

import pytest

from app.cli import main
from bot.texts import COMMANDS
from sandbox import SandboxServer
from tests.processes import clean_env, run_until_exit

BOT = [sys.executable, "-m", "app"]


def console(cwd: Path, *lines: str, **env: str) -> subprocess.CompletedProcess[str]:
    """The console fed `lines` as typed, to the end of its input: a session that must end with exit status 0."""
    result = run(["console"], cwd, stdin="".join(f"{line}\n" for line in lines), **env)
    assert result.returncode == 0, result.stderr
    return result


def run(args: list[str], cwd: Path, stdin: str = "", **env: str) -> subprocess.CompletedProcess[str]:
    clean = clean_env(BOT_HTTP_PORT="0")  # the console serves media links; any free port will do
    return subprocess.run(
        [*BOT, *args],
        cwd=cwd,
        input=stdin,
        capture_output=True,
        text=True,
        env={**clean, **env},
        timeout=60,
        check=False,
    )


def test_when_prints_one_line_per_phrase(tmp_path: Path) -> None:
    result = run(
        [
            "when",
            "--tz",
            "America/New_York",
            "--now",
            "2026-11-28T10:00:00-05:00",
            "tomorrow noon",
            "on friday 9am",
            "tomorrow",
        ],
        tmp_path,
    )
    assert result.returncode == 1  # a script can tell that one phrase was refused
    lines = result.stdout.splitlines()
    assert lines[:2] == ["2026-11-29T17:00:00Z", "2026-12-04T14:00:00Z"]
    assert lines[2].startswith("error: ")
    assert "no time of day" in lines[2]


def test_when_exits_zero_only_when_every_phrase_is_read(tmp_path: Path) -> None:
    now = ["--now", "2026-11-28T10:00:00-05:00", "--tz", "America/New_York"]
    assert run(["when", *now, "tomorrow noon", "in 2 hours"], tmp_path).returncode == 0
    assert run(["when", *now, "tomorrow noon", "eod"], tmp_path).returncode == 1


def test_when_reads_numeric_dates_in_the_order_of_the_locale_given(tmp_path: Path) -> None:
    now = ["--now", "2026-11-28T10:00:00+00:00", "--tz", "UTC"]
    assert run(["when", *now, "--locale", "en-GB", "3/12 9am"], tmp_path).stdout.strip() == "2026-12-03T09:00:00Z"
    assert run(["when", *now, "--locale", "en-US", "12/3 9am"], tmp_path).stdout.strip() == "2026-12-03T09:00:00Z"
    asked = run(["when", *now, "3/12 9am"], tmp_path)  # UTC is no country's zone: nothing says which comes first
    assert asked.returncode == 1
    assert "could be 3 December or March 12" in asked.stdout


def test_when_options_after_phrases_and_default_zone_from_settings(tmp_path: Path) -> None:
    result = run(["when", "in 2 hours", "--now", "2026-11-28T15:00:00Z"], tmp_path, BOT_DEFAULT_TIMEZONE="Asia/Tokyo")
    assert result.stdout.strip() == "2026-11-28T17:00:00Z"


def test_when_refuses_a_now_without_offset(tmp_path: Path) -> None:
    result = run(["when", "--now", "2026-11-28T10:00:00", "noon"], tmp_path)
    assert result.returncode == 2
    assert "UTC offset" in result.stderr


def test_scripted_console_schedules_and_lists_against_the_sandbox(tmp_path: Path) -> None:
    result = console(
        tmp_path,
        "/post https://cdn.example.com/v.mp4 to acc_123, acc_456 at tomorrow noon -- Check this out #viral",
        "yes",
        '/post https://e.com/1.jpg https://e.com/2.jpg to acc_1 in 2 hours slides 6 "Swipe 👉"',
        "yes",
        "/post https://e.com/v.mp4 to acc_1 now",
        "yes",
        "/post https://e.com/v.mp4 to acc_1 sound https://e.com/a.mp3 on friday 9am -- hi",
        "yes",
        "/posts",
        "/cancel #1",
        "yes",
    )
    out = result.stdout
    assert "Traceback" not in out + result.stderr
    assert "sandbox" in result.stderr  # the banner line
    assert out.count("Schedule this post?") == 4
    assert out.count("[sandbox] Scheduled") == 4
    assert out.count("📣 #console:") == 4  # each announcement printed
    assert "Type yes to cancel them, or no to keep them." in out  # request #1 has two posts: asked first
    assert "Cancelled `post_" in out
    with sqlite3.connect(tmp_path / "data" / "bot.db") as db:
        states = [row[0] for row in db.execute("SELECT state FROM requests ORDER BY id")]
        post_count = db.execute("SELECT COUNT(*) FROM posts").fetchone()[0]
        cancelled = db.execute("SELECT COUNT(*) FROM posts WHERE status = 'cancelled'").fetchone()[0]
        actions = [row[0] for row in db.execute("SELECT action FROM audit_log ORDER BY id")]
    assert states == ["sent"] * 4
    assert post_count == 5
    assert cancelled == 2
    assert actions == ["schedule"] * 4 + ["cancel"]


def test_the_console_reads_times_in_the_machines_zone_and_says_so(tmp_path: Path) -> None:
    result = console(tmp_path, "/post https://e.com/v.mp4 to acc_1 at tomorrow 9am", TZ="Asia/Tokyo")
    assert "Times are read in Asia/Tokyo (this machine's zone" in result.stderr
    assert "09:00 JST (Asia/Tokyo)" in result.stdout
    asked = run(["console"], tmp_path, stdin="/timezone\n", TZ="Asia/Tokyo")
    assert "Your times are read in Asia/Tokyo (this machine's zone)" in asked.stdout
    chosen = run(["console"], tmp_path, stdin="/timezone\n", TZ="Asia/Tokyo", BOT_DEFAULT_TIMEZONE="Europe/Paris")
    assert "Times are read in Europe/Paris (BOT_DEFAULT_TIMEZONE" in chosen.stderr
    assert "Your times are read in Europe/Paris" in chosen.stdout


def test_a_tz_the_bot_cannot_read_is_said_rather_than_taken_for_utc(tmp_path: Path) -> None:
    posix = run(["console"], tmp_path, stdin="/timezone\n", TZ="CET-1CEST,M3.5.0,M10.5.0/3")
    assert "Times are read in UTC (TZ=CET-1CEST,M3.5.0,M10.5.0/3 is not a zone name the bot reads" in posix.stderr
    file_name = run(["console"], tmp_path, stdin="/timezone\n", TZ=":America/Chicago")
    assert "Times are read in America/Chicago (this machine's zone" in file_name.stderr


def test_when_reads_phrases_in_the_machines_zone_unless_told(tmp_path: Path) -> None:
    now = "--now=2026-11-28T10:00:00+00:00"
    assert run(["when", now, "tomorrow 9am"], tmp_path, TZ="Asia/Tokyo").stdout.strip() == "2026-11-29T00:00:00Z"
    told = run(["when", now, "--tz", "Europe/Paris", "tomorrow 9am"], tmp_path, TZ="Asia/Tokyo")
    assert told.stdout.strip() == "2026-11-29T08:00:00Z"


async def test_a_key_infinipost_refuses_stops_the_bot_at_start_with_one_line(tmp_path: Path) -> None:
    async with SandboxServer() as infinipost:  # refuses any key that is not sk_test_/sk_live_
        env = clean_env(INFINIPOST_API_URL=infinipost.url, INFINIPOST_API_KEY="not-a-key", BOT_HTTP_PORT="0")
        code, out, err = await run_until_exit(tmp_path, "console", env=env, stdin=b"/help\n")
    assert code == 1
    assert err.strip().splitlines() == [
        "infinipost-bot: Infinipost refused INFINIPOST_API_KEY (invalid_api_key); check the key in Infinipost's "
        "dashboard (Settings -> API Keys) and INFINIPOST_API_URL."
    ]
    assert "did not answer" not in out + err
    assert "not-a-key" not in err


def test_the_sandbox_keeps_its_posts_across_a_restart_of_the_bot(tmp_path: Path) -> None:
    first = console(tmp_path, "/post https://e.com/v.mp4 to acc_1 at tomorrow noon -- hi", "yes")
    assert "[sandbox] Scheduled" in first.stdout
    assert (tmp_path / "data" / "sandbox.db").exists()  # beside the bot's own database
    again = console(tmp_path, "/posts refresh")
    assert "scheduled" in again.stdout
    assert "cancelled" not in again.stdout
    assert "not found" not in again.stdout
    with sqlite3.connect(tmp_path / "data" / "bot.db") as db:
        assert [row[0] for row in db.execute("SELECT status FROM posts")] == ["scheduled"]


def test_a_new_preview_replaces_the_one_waiting_for_yes(tmp_path: Path) -> None:
    result = console(
        tmp_path,
        "yes",
        "/post https://e.com/a.mp4 to acc_1 in 1 hour -- first",
        "/post https://e.com/b.mp4 to acc_1 in 2 hours -- second",
        "yes",
    )
    assert "[sandbox] Nothing is waiting for a yes or no." in result.stdout
    assert "[sandbox] (The earlier preview was dropped; this one replaces it.)" in result.stdout
    with sqlite3.connect(tmp_path / "data" / "bot.db") as db:
        states = [row[0] for row in db.execute("SELECT state FROM requests ORDER BY id")]
    assert states == ["discarded", "sent"]


def test_cancel_alone_with_nothing_waiting_is_the_cancel_command(tmp_path: Path) -> None:
    result = console(tmp_path, "/cancel", "cancel")
    first, second = [line for line in result.stdout.splitlines() if line.startswith("[sandbox]")]
    assert first.startswith("[sandbox] `/cancel` takes one post ID or request number")
    assert second == "[sandbox] Nothing is waiting for a yes or no. Send a /post to get a preview."


def test_run_without_a_terminal_or_platform_exits_naming_the_variables(tmp_path: Path) -> None:
    result = run(["run"], tmp_path)
    assert result.returncode != 0
    for name in ("SLACK_BOT_TOKEN", "DISCORD_TOKEN", "INFINIPOST_API_KEY"):
        assert name in result.stderr


UNSHARED_MEDIA = (
    "BOT_DATABASE is a PostgreSQL database, which several replicas may share, but BOT_MEDIA_STORE=local keeps "
    "uploads in BOT_MEDIA_DIR (data/media) on this replica only, so another replica cannot serve their links. With "
    "several replicas, set BOT_MEDIA_STORE=s3, or point BOT_MEDIA_DIR at a directory every replica shares and give "
    "them all the same BOT_MEDIA_SECRET."
)


def start_without_a_platform(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, **env: str
) -> list[logging.LogRecord]:
    """`run` as it starts, up to the message that nothing is configured to run: the warnings it logged."""
    for name, value in env.items():
        monkeypatch.setenv(name, value)
    monkeypatch.setattr(sys, "stdin", io.StringIO())  # no terminal: `run` stops before opening anything
    with caplog.at_level(logging.WARNING):
        assert main(["run"]) == 2
    return [record for record in caplog.records if record.levelno >= logging.WARNING]


@pytest.mark.parametrize(
    "database",
    [
        "postgresql://bot:s3cret@db.internal:5432/bot",
        "postgres://bot:s3cret@db.internal/bot",
        "postgresql+asyncpg://bot:s3cret@db.internal:5432/bot",
    ],
)
def test_a_shared_database_with_media_on_this_replica_only_is_one_warning_at_start(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, database: str
) -> None:
    [warning] = start_without_a_platform(monkeypatch, caplog, BOT_DATABASE=database)
    assert warning.levelno == logging.WARNING
    assert warning.getMessage() == UNSHARED_MEDIA
    assert "s3cret" not in caplog.text
    assert "db.internal" not in caplog.text


@pytest.mark.parametrize(
    "env",
    [
        {"BOT_DATABASE": "postgresql://bot:s3cret@db.internal:5432/bot", "BOT_MEDIA_STORE": "s3", "BOT_S3_BUCKET": "b"},
        {"BOT_DATABASE": "data/bot.db"},
        {"BOT_DATABASE": "postgres-data/bot.db"},
        {},
    ],
)
def test_media_every_replica_reaches_or_an_sqlite_file_is_no_warning(
    monkeypatch: pytest.MonkeyPatch, caplog: pytest.LogCaptureFixture, env: dict[str, str]
) -> None:
    assert start_without_a_platform(monkeypatch, caplog, **env) == []


def test_bad_settings_are_named_without_a_traceback(tmp_path: Path) -> None:
    result = run(["console"], tmp_path, BOT_DEFAULT_TIMEZONE="Mars/Olympus")
    assert result.returncode == 2
    assert "BOT_DEFAULT_TIMEZONE" in result.stderr
    assert "Traceback" not in result.stderr


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({"DISCORD_SHARD_COUNT": "0"}, "DISCORD_SHARD_COUNT: must be the total number of shards, a whole number"),
        ({"DISCORD_SHARD_COUNT": "two"}, "DISCORD_SHARD_COUNT: must be the total number of shards, a whole number"),
        ({"DISCORD_SHARD_IDS": "0,1"}, "DISCORD_SHARD_IDS: needs DISCORD_SHARD_COUNT, the total number of shards"),
        (
            {"DISCORD_SHARD_COUNT": "2", "DISCORD_SHARD_IDS": "1,2"},
            "DISCORD_SHARD_IDS: has shard 2, but DISCORD_SHARD_COUNT=2 numbers the shards 0 to 1",
        ),
        ({"DISCORD_SHARD_COUNT": "2", "DISCORD_SHARD_IDS": "1,1"}, "DISCORD_SHARD_IDS: lists shard 1 twice"),
        ({"DISCORD_SHARD_COUNT": "2", "DISCORD_SHARD_IDS": "first"}, "DISCORD_SHARD_IDS: must be shard numbers"),
    ],
)
def test_bad_shard_settings_stop_run_with_one_line_naming_the_setting(
    tmp_path: Path, env: dict[str, str], says: str
) -> None:
    result = run(["run"], tmp_path, DISCORD_TOKEN="x", **env)
    assert result.returncode == 2
    assert result.stderr.splitlines()[0] == "infinipost-bot: bad settings"
    [line] = result.stderr.splitlines()[1:]
    assert line.startswith(says)


@pytest.mark.parametrize("line", ["/post", "/post https://e.com/v.mp4 to acc_1 at yesterday 9am", "/nonsense"])
def test_console_errors_are_single_messages(tmp_path: Path, line: str) -> None:
    result = run(["console"], tmp_path, stdin=line + "\n")
    assert result.returncode == 0
    assert len(result.stdout.strip().splitlines()) == 1
    assert "Traceback" not in result.stdout + result.stderr


def test_slack_manifest_for_http_mode_points_every_url_at_the_public_address(tmp_path: Path) -> None:
    result = run(["slack-manifest"], tmp_path, BOT_PUBLIC_URL="https://bot.example.com")
    assert result.returncode == 0
    manifest = json.loads(result.stdout)
    commands = {c["command"]: c for c in manifest["features"]["slash_commands"]}
    assert set(commands) == {f"/{name}" for name in COMMANDS}  # every command, each once
    assert commands["/infinipost"]["usage_hint"] == "[status | connect | disconnect]"
    assert [name for name, c in commands.items() if c["should_escape"]] == ["/approvals"]
    assert {c["url"] for c in commands.values()} == {"https://bot.example.com/slack/events"}
    assert manifest["settings"]["interactivity"]["request_url"] == "https://bot.example.com/slack/events"
    assert manifest["settings"]["event_subscriptions"]["request_url"] == "https://bot.example.com/slack/events"
    assert manifest["settings"]["socket_mode_enabled"] is False
    assert manifest["features"]["shortcuts"][0]["name"] == "Schedule as post"
    assert {"commands", "chat:write", "files:read", "users:read"} <= set(manifest["oauth_config"]["scopes"]["bot"])


def test_slack_manifest_for_socket_mode_needs_no_urls(tmp_path: Path) -> None:
    manifest = json.loads(run(["slack-manifest", "--socket-mode"], tmp_path).stdout)
    assert manifest["settings"]["socket_mode_enabled"] is True
    assert all("url" not in c for c in manifest["features"]["slash_commands"])


def test_slack_manifest_works_without_the_slack_extra(tmp_path: Path) -> None:
    """The manifest is what a person pastes before installing anything for Slack: it needs no chat library."""
    code = (
        "import sys\n"
        "for name in ('slack_bolt', 'slack_sdk', 'discord'):\n"
        "    sys.modules[name] = None\n"
        "from app.cli import main\n"
        "sys.exit(main(['slack-manifest']))\n"
    )
    env = clean_env(BOT_PUBLIC_URL="https://bot.example.com")
    result = subprocess.run(
        [sys.executable, "-c", code], cwd=tmp_path, env=env, capture_output=True, text=True, timeout=60, check=False
    )
    assert result.returncode == 0, result.stderr
    manifest = json.loads(result.stdout)
    assert manifest["settings"]["event_subscriptions"]["request_url"] == "https://bot.example.com/slack/events"
    assert manifest["features"]["shortcuts"][0]["callback_id"] == "schedule_as_post"


@pytest.mark.parametrize(
    ("database", "says"),
    [
        ("a-folder", "BOT_DATABASE (a-folder) is a folder; point it at a new file or the bot's own one."),
        ("notes.txt", "BOT_DATABASE (notes.txt) is not an SQLite database"),
        ("/proc/no/such/bot.db", "Cannot create the database at /proc/no/such/bot.db"),
    ],
)
def test_a_database_setting_the_bot_cannot_use_is_one_line_at_start(tmp_path: Path, database: str, says: str) -> None:
    (tmp_path / "a-folder").mkdir()
    (tmp_path / "notes.txt").write_text("shopping list\n" * 200)
    result = run(["console"], tmp_path, stdin="/help\n", BOT_DATABASE=database)
    assert result.returncode == 1
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(f"infinipost-bot: {says}")


@contextmanager
def read_only(path: Path) -> Iterator[None]:
    """`path` read-only, even to root, whom a mode of 0400 does not stop: immutable then (chattr +i)."""
    path.chmod(0o400)
    if os.geteuid() != 0:
        yield
        return
    chattr = shutil.which("chattr")
    if chattr is None or subprocess.run([chattr, "+i", path], capture_output=True, check=False).returncode:
        pytest.skip("as root, a file is read-only only when immutable, and chattr +i is not possible here")
    try:
        yield
    finally:
        subprocess.run([chattr, "-i", path], check=True)


@pytest.mark.parametrize(
    ("file", "says"),
    [
        (
            "bot.db",
            "Cannot use the database at data/bot.db (attempt to write a readonly database); set BOT_DATABASE to a "
            "file the bot may write.",
        ),
        (
            "sandbox.db",
            "Cannot use the sandbox's file at data/sandbox.db (attempt to write a readonly database); let the bot "
            "write it, or set BOT_DATABASE to a file in another folder.",
        ),
    ],
)
def test_a_database_the_bot_may_not_write_is_one_line_at_start(tmp_path: Path, file: str, says: str) -> None:
    """SQLite opens such a file without a word and fails at the first write: a /post, long after start-up."""
    assert run(["console"], tmp_path, stdin="/help\n").returncode == 0
    with read_only(tmp_path / "data" / file):
        result = run(["console"], tmp_path, stdin="/post https://e.com/v.mp4 to acc_1 in 1 hour\nyes\n")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [f"infinipost-bot: {says}"]


@pytest.mark.parametrize(("there", "says"), [("a folder", "is a folder"), ("a text file", "is not an SQLite database")])
def test_a_sandbox_file_the_bot_cannot_use_is_one_line_at_start(tmp_path: Path, there: str, says: str) -> None:
    sandbox_db = tmp_path / "data" / "sandbox.db"
    sandbox_db.mkdir(parents=True)
    if there == "a text file":
        sandbox_db.rmdir()
        sandbox_db.write_text("shopping list\n" * 200)
    result = run(["console"], tmp_path, stdin="/help\n")
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        f"infinipost-bot: The sandbox's file beside BOT_DATABASE (data/sandbox.db) {says}; move it away, or set "
        "BOT_DATABASE to a file in another folder."
    ]


def test_a_sandbox_state_option_the_sandbox_cannot_use_is_one_line(tmp_path: Path) -> None:
    (tmp_path / "posts").mkdir()
    result = run(["sandbox", "--port", "0", "--state", "posts"], tmp_path)
    assert result.returncode == 1
    assert result.stderr.strip().splitlines() == [
        "infinipost-bot: --state (posts) is a folder; pass --state a new file or the sandbox's own one."
    ]


def test_the_sandbox_file_is_readable_by_the_bots_user_only(tmp_path: Path) -> None:
    """It holds the captions of every post tried in the sandbox, as the bot's own database does."""
    console(tmp_path, "/post https://e.com/v.mp4 to acc_1 in 1 hour -- hi", "yes")
    files = sorted((tmp_path / "data").glob("sandbox.db*"))
    assert tmp_path / "data" / "sandbox.db" in files
    assert {f.name: stat.S_IMODE(f.stat().st_mode) for f in files} == {f.name: 0o600 for f in files}


def test_the_sandbox_on_a_port_in_use_says_so_in_one_line(tmp_path: Path) -> None:
    with socket.socket() as taken:
        taken.bind(("127.0.0.1", 0))
        taken.listen()
        port = taken.getsockname()[1]
        result = run(["sandbox", "--port", str(port)], tmp_path)
    assert result.returncode == 2
    [line] = result.stderr.strip().splitlines()
    assert line.startswith(f"infinipost-bot: cannot listen on 127.0.0.1:{port}")


@pytest.mark.parametrize(
    ("args", "says"),
    [
        (["--port", "99999"], "99999 is not a port; ports run from 0 (any free one) to 65535"),
        (["--host", "no-such-host.invalid"], "`no-such-host.invalid` is no address of this machine; pass --host"),
    ],
)
def test_a_sandbox_address_that_cannot_be_is_refused_in_one_line(tmp_path: Path, args: list[str], says: str) -> None:
    result = run(["sandbox", *args], tmp_path)
    assert result.returncode == 2
    assert says in result.stderr
    assert "Traceback" not in result.stderr


def test_at_a_waiting_preview_the_console_takes_everyday_answers(tmp_path: Path) -> None:
    result = console(
        tmp_path,
        "/post https://e.com/v.mp4 to acc_1 in 1 hour -- Line one\\nLine two",
        "maybe later",
        "sure",
        "/post https://e.com/w.mp4 to acc_1 in 2 hours -- second",
        "cancel",
        "sure",
    )
    out = result.stdout
    assert "A preview is waiting: type yes to schedule it, or no to drop it" in out
    assert "I don't know" not in out
    assert out.count("[sandbox] Scheduled") == 1
    assert "Dropped request #2" in out
    assert "Nothing is waiting for a yes or no" in out  # the last `sure`: nothing was waiting
    with sqlite3.connect(tmp_path / "data" / "bot.db") as db:
        [(caption,)] = db.execute("SELECT json_extract(request_json, '$.caption') FROM requests WHERE id = 1")
    assert caption == "Line one\nLine two"


def test_a_waiting_cancel_question_is_named_as_such_and_answered_with_a_slash_too(tmp_path: Path) -> None:
    result = console(
        tmp_path,
        "/post https://e.com/v.mp4 to acc_1, acc_123 in 1 hour -- two posts",
        "/ok",
        "/cancel\u00a0#1",  # a no-break space pasted from a web page
        "what now",
        "/ok",
    )
    out = result.stdout
    assert out.count("[sandbox] Scheduled") == 1
    assert "A question is waiting: type yes to cancel them, or no to keep them" in out
    assert out.count("Cancelled `post_") == 2


FERNET_KEY = "x3Y0vCm5b5Qn6cTq8oYyK1n2f5c8d0e3g6h9j2k5m8o="  # 32 bytes, url-safe base64
OAUTH_ENV = {
    "SLACK_CLIENT_ID": "1111.2222",
    "SLACK_CLIENT_SECRET": "client-secret-value",
    "SLACK_STATE_SECRET": "state-secret-value",
    "SLACK_SIGNING_SECRET": "signing-secret-value",
}


def test_slack_manifest_with_oauth_gives_slack_the_redirect_url(tmp_path: Path) -> None:
    result = run(["slack-manifest"], tmp_path, BOT_PUBLIC_URL="https://bot.example.com", **OAUTH_ENV)
    assert result.returncode == 0, result.stderr
    manifest = json.loads(result.stdout)
    assert manifest["oauth_config"]["redirect_urls"] == ["https://bot.example.com/slack/oauth_redirect"]
    without = json.loads(run(["slack-manifest"], tmp_path, BOT_PUBLIC_URL="https://bot.example.com").stdout)
    assert "redirect_urls" not in without["oauth_config"]


def test_oauth_without_an_encryption_key_stops_run_with_one_line_saying_how_to_make_one(tmp_path: Path) -> None:
    result = run(["run"], tmp_path, **OAUTH_ENV)
    assert result.returncode == 2
    [line] = result.stderr.splitlines()
    assert line.startswith("infinipost-bot: Slack's OAuth install keeps each workspace's bot token encrypted with ")
    assert line.endswith(
        'BOT_ENCRYPTION_KEY; make one with python -c "from cryptography.fernet import Fernet; '
        'print(Fernet.generate_key().decode())"'
    )
    assert "secret-value" not in result.stderr


def test_a_bot_token_and_oauth_together_stop_run_with_one_line(tmp_path: Path) -> None:
    result = run(["run"], tmp_path, SLACK_BOT_TOKEN="xoxb-1", BOT_ENCRYPTION_KEY=FERNET_KEY, **OAUTH_ENV)
    assert result.returncode == 2
    assert result.stderr.splitlines() == [
        "infinipost-bot: Slack takes SLACK_BOT_TOKEN (one workspace) or SLACK_CLIENT_ID, SLACK_CLIENT_SECRET and "
        "SLACK_STATE_SECRET (any workspace that installs the app), not both: unset one of them"
    ]


@pytest.mark.parametrize(
    ("env", "says"),
    [
        ({"SLACK_CLIENT_SECRET": ""}, "infinipost-bot: Slack's OAuth install also needs SLACK_CLIENT_SECRET"),
        (
            {"SLACK_APP_TOKEN": "xapp-1"},
            "infinipost-bot: Slack's OAuth install runs in HTTP mode: set SLACK_SIGNING_SECRET and unset "
            "SLACK_APP_TOKEN",
        ),
    ],
)
def test_an_incomplete_oauth_setup_stops_run_with_one_line(tmp_path: Path, env: dict[str, str], says: str) -> None:
    result = run(["run"], tmp_path, BOT_ENCRYPTION_KEY=FERNET_KEY, **{**OAUTH_ENV, **env})
    assert result.returncode == 2
    assert result.stderr.splitlines() == [says]


def test_a_bad_encryption_key_is_named_without_echoing_it(tmp_path: Path) -> None:
    result = run(["run"], tmp_path, BOT_ENCRYPTION_KEY="not-a-fernet-key", **OAUTH_ENV)
    assert result.returncode == 2
    assert "BOT_ENCRYPTION_KEY: each key must be 32 url-safe base64-encoded bytes" in result.stderr
    assert "not-a-fernet-key" not in result.stderr


def test_console_imports_a_csv_file_from_this_machine(tmp_path: Path) -> None:
    sheet = tmp_path / "week.csv"
    sheet.write_text(
        "\ufeffmedia;accounts;when;caption\r\n"
        "https://e.com/1.mp4;acc_1;in 2 days 9am;First\r\n"
        "https://e.com/2.mp4;acc_1;in 3 days 9am;Second\r\n"
        "https://e.com/3.mp4;nobody;in 4 days 9am;Third\r\n",
        encoding="utf-8",
    )
    out = console(tmp_path, f"/import {sheet}", "yes", TZ="UTC").stdout
    assert "Import 2 posts from `week.csv`?" in out
    assert "• Row 4: I don't know an account called `nobody`." in out
    assert "Send it? Type yes to schedule it, or no to drop it." in out
    assert "Imported `week.csv`: 2 of 2 posts scheduled." in out
    assert "Sent: rows 2–3 (requests #1–#2)." in out
    assert "import of `week.csv` is done: 2 rows handled, 2 scheduled, 0 refused by Infinipost." in out
