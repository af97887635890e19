"""The core driven through an in-memory chat: what people type, what they read, what Infinipost receives."""

from __future__ import annotations

from pathlib import Path

import pytest

from app.runtime import Runtime, start_runtime
from bot.config import Settings
from bot.errors import NotSetUp
from bot.model import PostDraft
from sandbox import Fault, SandboxServer
from tests.conftest import FakeClock, make_settings
from tests.database import audit_entries
from tests.fakes.chat import ChatHarness


def creates(sandbox: SandboxServer) -> list[dict[str, object]]:
    return [r.body for r in sandbox.state.received if (r.method, r.path) == ("POST", "/v1/posts")]


@pytest.mark.parametrize(
    ("typed", "body"),
    [
        (
            "/post https://cdn.example.com/v.mp4 to acc_123, acc_456 at tomorrow noon -- Check this out #viral",
            {
                "accountIds": ["acc_123", "acc_456"],
                "contentType": "video",
                "contentUrl": "https://cdn.example.com/v.mp4",
                "caption": "Check this out #viral",
                "scheduledTime": "2026-11-29T17:00:00Z",
            },
        ),
        (
            '/post https://e.com/1.jpg https://e.com/2.jpg to acc_1 in 2 hours slides 6 "Swipe 👉"',
            {
                "accountIds": ["acc_1"],
                "contentType": "slideshow",
                "contentUrl": ["https://e.com/1.jpg", "https://e.com/2.jpg"],
                "caption": "Swipe 👉",
                "slideDuration": 6,
                "scheduledTime": "2026-11-28T17:00:00Z",
            },
        ),
        (
            "/post https://e.com/v.mp4 to acc_1 now",
            {"accountIds": ["acc_1"], "contentType": "video", "contentUrl": "https://e.com/v.mp4"},
        ),
        (
            "/post https://e.com/v.mp4 to acc_1 sound https://e.com/a.mp3 on friday 9am -- hi",
            {
                "accountIds": ["acc_1"],
                "contentType": "video",
                "contentUrl": "https://e.com/v.mp4",
                "caption": "hi",
                "soundUrl": "https://e.com/a.mp3",
                "scheduledTime": "2026-12-04T14:00:00Z",
            },
        ),
    ],
)
async def test_the_issue_examples_send_exactly_these_bodies(
    chat: ChatHarness, sandbox: SandboxServer, typed: str, body: dict[str, object]
) -> None:
    reply = await chat.say(typed)
    assert not reply.error, reply.text
    assert creates(sandbox) == [body]
    assert "Scheduled" in reply.text


async def test_schedule_is_announced_in_the_channel_and_stored(chat: ChatHarness, runtime: Runtime) -> None:
    reply = await chat.say(
        "/post https://e.com/v.mp4 to brand-tiktok, brand-ig at tomorrow noon -- We're live! #launch"
    )
    assert "Sun 29 November 2026, 12:00 EST (America/New_York)" in reply.text
    [announcement] = chat.channel
    assert announcement.channel == "C1"
    assert "<@U1> scheduled a video for 2026-11-29T17:00Z" in announcement.text
    assert "Brand TikTok (@brand-tiktok) on TikTok" in announcement.text
    assert "Brand Instagram (@brand-ig) on Instagram" in announcement.text
    assert "We're live! #launch" in announcement.text
    storage = runtime.ctx.storage
    stored = await storage.requests.get(1)
    assert stored is not None
    assert stored.state == "sent"
    assert stored.user_id == "U1"
    assert stored.channel.channel_id == "C1"
    assert stored.announcement is not None  # kept for later status updates in its thread
    posts = (await storage.posts.of_requests([1]))[1]
    assert [p.account_id for p in posts] == ["acc_123", "acc_456"]
    [audit] = audit_entries(runtime.ctx.settings.database)
    assert audit["action"] == "schedule"
    assert audit["detail"]["posts"] == [p.id for p in posts]


async def test_preview_then_yes_sends_once(tmp_path: Path, sandbox: SandboxServer, clock: FakeClock) -> None:
    settings = make_settings(tmp_path, api_key="sk_test_x", api_url=sandbox.url, confirm_posts=True)
    async with start_runtime(settings, clock=clock, workers=False) as runtime:
        chat = ChatHarness(runtime.core)
        preview = await chat.say("/post https://e.com/1.jpg https://e.com/2.png to acc_123 at friday 9am -- Two")
        assert preview.confirm_token
        assert dict(preview.fields) == {
            "Accounts": "Brand TikTok (@brand-tiktok) on TikTok",
            "Type": "slideshow, 2 images",
            "When": "Fri 4 December 2026, 09:00 EST (America/New_York)",
            "Caption": "Two",
        }
        assert creates(sandbox) == []
        someone_else = await chat.say(f"/confirm {preview.confirm_token}", caller=chat.caller("U2"))
        assert someone_else.error
        assert "Only user-U1" in someone_else.text
        assert creates(sandbox) == []
        first = await chat.say(f"/confirm {preview.confirm_token}")
        second = await chat.say(f"/confirm {preview.confirm_token}")
        assert "Scheduled" in first.text
        assert "already scheduled" in second.text
        assert len(creates(sandbox)) == 1
        assert len(chat.channel) == 1


async def test_preview_then_no_sends_nothing(tmp_path: Path, sandbox: SandboxServer, clock: FakeClock) -> None:
    settings = make_settings(tmp_path, api_key="sk_test_x", api_url=sandbox.url, confirm_posts=True)
    async with start_runtime(settings, clock=clock, workers=False) as runtime:
        chat = ChatHarness(runtime.core)
        preview = await chat.say("/post https://e.com/v.mp4 to acc_1 in 1 hour")
        dropped = await chat.say(f"/discard {preview.confirm_token}")
        late_yes = await chat.say(f"/confirm {preview.confirm_token}")
        assert "Nothing was sent" in dropped.text
        assert "dropped" in late_yes.text
        assert creates(sandbox) == []


async def test_a_preview_whose_time_passed_is_not_sent(
    tmp_path: Path, sandbox: SandboxServer, clock: FakeClock
) -> None:
    settings = make_settings(tmp_path, api_key="sk_test_x", api_url=sandbox.url, confirm_posts=True)
    async with start_runtime(settings, clock=clock, workers=False) as runtime:
        chat = ChatHarness(runtime.core)
        preview = await chat.say("/post https://e.com/v.mp4 to acc_1 in 5 minutes")
        clock.advance(minutes=10)
        reply = await chat.say(f"/confirm {preview.confirm_token}")
        assert reply.error
        assert "passed while the preview waited" in reply.text
        assert creates(sandbox) == []


@pytest.mark.parametrize(
    ("typed", "expected"),
    [
        ("/post", "Tell me what to post"),
        ("/post https://e.com/v.mp4 at tomorrow 9am", "this channel has no default accounts"),
        ("/post https://e.com/v.mp4 to nobody at 9am", "I don't know an account called `nobody`"),
        (
            "/post https://e.com/v.mp4 to acc_123 Check this out",
            "If `Check this out` is the caption, put it after ` -- `: `to acc_123 -- Check this out`",
        ),
        ("/post https://e.com/v.mp4 to acc_1 at tomorrow", "no time of day"),
        ("/post https://e.com/v.mp4 to acc_1 at yesterday 9am", "already passed"),
        ("/post https://e.com/v.mp4 https://e.com/1.jpg to acc_1", "not both"),
        ("/post https://e.com/a.mp4 https://e.com/b.mp4 to acc_1", "one video"),
        ("/post https://e.com/v.mp4 to acc_1 slides 6", "only applies to slideshows"),
        ("/post https://e.com/file to acc_1", "Add `video` or `slideshow`"),
        ("/post " + " ".join(f"https://e.com/{i}.jpg" for i in range(36)) + " to acc_1", "at most 35 images"),
        ("/post https://e.com/v.mp4 to acc_1 -- " + "x" * 2201, "the limit is 2,200"),
        ("/post https://e.com/v.mp4 to acc_1,acc_2,acc_3,acc_4,acc_5,acc_6,a7,a8,a9,a10,a11", "at most 10 accounts"),
        ("/fly me to the moon", "I don't know `/fly`. Try /help."),
        ("/pots", "I don't know `/pots`. Did you mean `/posts`?"),
        ("/shedule", "Did you mean"),
        ("\\post https://e.com/v.mp4 to acc_1", "I don't know `/\\post`. Did you mean `/post`?"),
        ("/" + "x" * 500, "I don't know `/" + "x" * 29 + "…`"),
    ],
)
async def test_bad_commands_get_one_clear_message_and_nothing_is_sent_or_stored(
    chat: ChatHarness, sandbox: SandboxServer, runtime: Runtime, typed: str, expected: str
) -> None:
    reply = await chat.say(typed)
    assert reply.error
    assert expected in reply.text
    assert "Traceback" not in reply.text
    assert creates(sandbox) == []
    assert await runtime.ctx.storage.requests.get(1) is None


MALFORMED_LINKS = {
    "an IPv6 host never closed": (
        "https://[::1/v.mp4",
        "`https://[::1/v.mp4` is not a valid link: its host `[::1` lacks the closing `]`.",
    ),
    "a fullwidth dot in the host": (
        "https://cdn\uff0eexample.com/v.mp4",
        "its host `cdn\uff0eexample.com` has characters that stand for others (it reads as `cdn.example.com`)",
    ),
    "a port out of range": ("https://e.com:99999/v.mp4", "its port 99999 is not between 1 and 65535"),
    "a port that is no number": ("https://e.com:x/v.mp4", "its port `x` is not a number"),
    "no host": ("http:///v.mp4", "`http:///v.mp4` has no host name"),
    "a bad host name": ("https://-cdn.e.com/v.mp4", "`-cdn.e.com` is not a host name"),
}


@pytest.mark.parametrize("case", MALFORMED_LINKS)
@pytest.mark.parametrize("where", ["media", "sound", "form"])
async def test_a_malformed_link_is_named_with_what_is_wrong_and_nothing_is_sent(
    chat: ChatHarness, sandbox: SandboxServer, runtime: Runtime, case: str, where: str
) -> None:
    link, problem = MALFORMED_LINKS[case]
    if where == "form":  # the Slack form's links field, or Discord's url option
        draft = PostDraft(media=(link,), accounts=("acc_1",), when="in 2 hours")
        reply = await chat.say("/post", draft=draft)
    elif where == "sound":
        reply = await chat.say(f"/post https://e.com/v.mp4 to acc_1 sound {link} in 2 hours")
    else:
        reply = await chat.say(f"/post {link} video to acc_1 in 2 hours")
    assert reply.error
    assert problem in reply.text
    assert creates(sandbox) == []
    assert await runtime.ctx.storage.requests.get(1) is None


@pytest.mark.parametrize(
    ("fault", "said"),
    [
        (Fault(kind="status", status=404, path="/v1/accounts", times=None), "answered 404"),
        (Fault(kind="status", status=403, path="/v1/accounts", times=None), "answered 403"),
        (Fault(kind="status", status=405, path="/v1/accounts", times=None), "answered 405"),
        (Fault(kind="unknown_shape", path="/v1/accounts", times=None), "answered in a shape the bot does not know"),
    ],
)
async def test_without_an_account_list_the_accounts_in_settings_serve_every_command(
    tmp_path: Path, sandbox: SandboxServer, clock: FakeClock, fault: Fault, said: str, caplog: pytest.LogCaptureFixture
) -> None:
    """GET /v1/accounts is not in Infinipost's reference: whatever it answers, BOT_ACCOUNTS stands in."""
    sandbox.state.faults = [fault]
    settings = make_settings(tmp_path, api_key="sk_test_x", api_url=sandbox.url, accounts="acc_1, acc_123")
    async with start_runtime(settings, clock=clock, workers=False) as runtime:
        chat = ChatHarness(runtime.core)
        listed = await chat.say("/accounts")
        assert "`acc_1` Demo TikTok" in listed.text
        assert "`acc_123` Brand TikTok" in listed.text
        runtime.ctx.accounts.forget()  # the list is fetched again, as every few minutes
        form = await runtime.core.post_form(chat.caller())  # what the form and Discord's autocomplete offer
        assert [a.id for a in form.accounts] == ["acc_1", "acc_123"]
        posted = await chat.say("/post https://e.com/v.mp4 to acc_1 in 2 hours")
        assert "Scheduled for" in posted.text
    warnings = [r.getMessage() for r in caplog.records if "GET /accounts" in r.getMessage()]
    assert warnings == [f"GET /accounts {said}; using the accounts in BOT_ACCOUNTS"]


async def test_infinipost_refusal_reaches_the_user_and_is_stored_as_failed(
    chat: ChatHarness, sandbox: SandboxServer, runtime: Runtime
) -> None:
    await runtime.ctx.accounts.all()  # the bot's cached list still has acc_456 ...
    del sandbox.state.accounts["acc_456"]  # ... which Infinipost no longer has
    reply = await chat.say("/post https://e.com/v.mp4 to acc_456 at 9am -- x")
    assert reply.error
    assert reply.text == "Nothing was scheduled. Infinipost refused it: Account acc_456 not found."
    stored = await runtime.ctx.storage.requests.get(1)
    assert stored is not None
    assert stored.state == "failed"
    assert chat.channel == []


async def test_posts_cancel_and_reschedule(chat: ChatHarness, sandbox: SandboxServer, runtime: Runtime) -> None:
    await chat.say("/post https://e.com/v.mp4 to acc_123, acc_456 at tomorrow noon -- first")
    await chat.say("/post https://e.com/w.mp4 to acc_1 at friday 9am -- second")
    listing = await chat.say("/posts")
    assert listing.text.splitlines()[1:] == [
        "#1 · Sun 29 November 2026, 12:00 EST (America/New_York) · Brand TikTok, Brand Instagram · scheduled · “first”",
        "#2 · Fri 4 December 2026, 09:00 EST (America/New_York) · Demo TikTok · scheduled · “second”",
    ]
    posts = await runtime.ctx.storage.posts.of_requests([1, 2])
    first_ids = [p.id for p in posts[1]]

    refused = await chat.say("/cancel #1", caller=chat.caller("U2"))
    assert refused.error
    assert "Only user-U1" in refused.text

    question = await chat.say("/cancel #1")  # two posts: asked first, listing them
    assert question.confirm_labels == ("Cancel them", "Keep them")
    assert question.text.splitlines()[0] == "Cancel these 2 posts of request #1?"
    assert all(f"• `{i}` " in question.text for i in first_ids)
    assert all(i in sandbox.state.posts for i in first_ids)  # nothing cancelled yet
    cancelled = await chat.say(f"/confirm {question.confirm_token}")
    assert all(f"Cancelled `{i}`" in cancelled.text for i in first_ids)
    assert all(i not in sandbox.state.posts for i in first_ids)
    assert "🚫 cancelled" in chat.channel[-1].text  # the announcement is edited
    assert chat.channel[-1].edits == "m1"

    moved = await chat.say(f"/reschedule {posts[2][0].id} dec 5 5pm")
    assert "Sat 5 December 2026, 17:00 EST" in moved.text
    assert sandbox.state.posts[posts[2][0].id]["scheduledTime"] == "2026-12-05T22:00:00Z"

    again = await chat.say("/cancel #1")
    assert "Nothing to cancel" in again.text
    actions = [e["action"] for e in audit_entries(runtime.ctx.settings.database)]
    assert actions[:2] == ["reschedule", "cancel"]


async def test_cancelling_one_post_keeps_the_others_in_the_announcement(chat: ChatHarness, runtime: Runtime) -> None:
    await chat.say("/post https://e.com/v.mp4 to acc_123, acc_1 at tomorrow noon -- two accounts")
    brand, demo = (await runtime.ctx.storage.posts.of_requests([1]))[1]
    reply = await chat.say(f"/cancel `{brand.id}`")  # as copied from the bot's own reply, backticks and all
    assert reply.text == f"Cancelled `{brand.id}` ({brand.account_label})."
    edited = chat.channel[-1]
    assert edited.edits == "m1"
    assert f"`{brand.id}`" in edited.text
    assert f"`{demo.id}`" in edited.text
    assert "🚫 cancelled" in edited.text
    assert "⏳ scheduled" in edited.text


async def test_a_refused_cancel_shows_infinipost_s_reason_without_its_markup(
    chat: ChatHarness, sandbox: SandboxServer
) -> None:
    await chat.say("/post https://e.com/v.mp4 to acc_1 in 1 hour")
    [post_id] = sandbox.state.posts
    sandbox.state.posts[post_id]["status"] = "held <!channel>\n`under review`"  # a state the docs never named
    reply = await chat.say("/cancel #1")
    assert reply.error
    assert reply.text == (
        f"Could not cancel `{post_id}` (Demo TikTok (@demo) on TikTok): Post is already held ‹!channel› 'under review'."
    )


async def test_posts_refresh_sees_posts_go_live(chat: ChatHarness, clock: FakeClock) -> None:
    await chat.say("/post https://e.com/v.mp4 to acc_1 in 1 hour")
    await chat.say("/post https://e.com/fail.mp4 to acc_123 in 1 hour")
    clock.advance(hours=2)
    listing = await chat.say("/posts refresh")
    assert "✅ live" in listing.text
    assert "❌ failed" in listing.text
    texts = [m.text for m in chat.channel]
    assert any("Live now on Demo TikTok" in t for t in texts)
    assert any("<@U1> the video for Brand TikTok" in t and "failed" in t for t in texts)


async def test_channel_defaults_need_an_admin_and_then_apply(chat: ChatHarness, sandbox: SandboxServer) -> None:
    refused = await chat.say("/accounts default acc_123")
    assert refused.error
    assert "Only an admin" in refused.text
    admin = chat.caller("U9", is_admin=True)
    await chat.say("/accounts default brand-tiktok", caller=admin)
    await chat.say("/accounts alias launch acc_456", caller=admin)
    listing = await chat.say("/accounts")
    assert "`acc_123` Brand TikTok (@brand-tiktok) on TikTok · ready, default here" in listing.text
    assert "also `launch`" in listing.text
    await chat.say("/post https://e.com/v.mp4 at 9am")
    await chat.say("/post https://e.com/v.mp4 to launch at 9am")
    assert [b["accountIds"] for b in creates(sandbox)] == [["acc_123"], ["acc_456"]]


async def test_channel_allow_list_refuses_other_accounts(chat: ChatHarness, sandbox: SandboxServer) -> None:
    admin = chat.caller("U9", is_admin=True)
    await chat.say("/accounts allow acc_1", caller=admin)
    reply = await chat.say("/post https://e.com/v.mp4 to acc_123 at 9am")
    assert reply.error
    assert "may not post to Brand TikTok" in reply.text
    assert creates(sandbox) == []


@pytest.mark.parametrize(
    ("alias", "says"),
    [
        ("ACC_123", "`ACC_123` already names Brand TikTok"),
        ("acc_1", "`acc_1` already names Demo TikTok"),
        ("demo", "`demo` already names Demo TikTok"),
        ("@Demo", "`Demo` already names Demo TikTok"),
        ("brand-ig", "`brand-ig` already names Brand Instagram"),
        ("now", "`now` is a word the bot's commands use"),
        ("Slides", "`Slides` is a word the bot's commands use"),
        ("and", "`and` is a word the bot's commands use"),
        ("--", "`--` is a word the bot's commands use"),
        ("none", "`none` is a word the bot's commands use"),
        ("friday", "`friday` reads as a time"),
        ("tomorrow", "`tomorrow` reads as a time"),
        ("noon", "`noon` reads as a time"),
        ('"launch"', "An alias has only letters, digits"),
        ("to:launch", "An alias has only letters, digits"),
        ("my launch", "with a one-word name"),
        ("a,b", "with a one-word name"),
    ],
)
async def test_aliases_that_hide_an_account_or_cannot_be_typed_are_refused(
    chat: ChatHarness, sandbox: SandboxServer, alias: str, says: str
) -> None:
    admin = chat.caller("U9", is_admin=True)
    reply = await chat.say(f"/accounts alias {alias} acc_456", caller=admin)
    assert reply.error
    assert says in reply.text
    assert "also" not in (await chat.say("/accounts")).text


async def test_aliases_ignore_case_and_a_leading_at(chat: ChatHarness, sandbox: SandboxServer) -> None:
    admin = chat.caller("U9", is_admin=True)
    named = await chat.say("/accounts alias @launch acc_456", caller=admin)
    assert named.text == "`launch` now means Brand Instagram (@brand-ig) on Instagram (`acc_456`)."
    await chat.say("/accounts alias main acc_123", caller=admin)
    replaced = await chat.say("/accounts alias Main acc_456", caller=admin)
    assert "`Main` now means Brand Instagram" in replaced.text
    assert "it replaces `main`, which meant `acc_123`" in replaced.text
    listing = (await chat.say("/accounts")).text
    assert "`acc_123` Brand TikTok (@brand-tiktok) on TikTok · ready\n" in listing
    assert "Brand Instagram (@brand-ig) on Instagram · also `Main`, `launch`" in listing
    for target in ("@launch", "MAIN", "main", "@demo"):
        assert not (await chat.say(f"/post https://e.com/v.mp4 to {target} at 9am")).error
    assert [b["accountIds"] for b in creates(sandbox)] == [["acc_456"], ["acc_456"], ["acc_456"], ["acc_1"]]


async def test_an_alias_made_before_an_account_of_that_name_is_ambiguous(
    chat: ChatHarness, sandbox: SandboxServer
) -> None:
    # As if `demo` had been made an alias before Infinipost had an account with that username.
    await chat.core.ctx.storage.preferences.set_alias(chat.caller("U9", is_admin=True), "demo", "acc_456")
    reply = await chat.say("/post https://e.com/v.mp4 to demo at 9am")
    assert reply.error
    assert "`demo` could mean `acc_1` (Demo TikTok" in reply.text
    assert "`acc_456` (Brand Instagram" in reply.text
    assert creates(sandbox) == []


async def test_removing_an_alias_says_whether_there_was_one(chat: ChatHarness, sandbox: SandboxServer) -> None:
    admin = chat.caller("U9", is_admin=True)
    await chat.say("/accounts alias launch acc_456", caller=admin)
    assert (await chat.say("/accounts alias LAUNCH none", caller=admin)).text == "Removed the alias `LAUNCH`."
    missing = await chat.say("/accounts alias launch none", caller=admin)
    assert missing.error
    assert missing.text == "There is no alias `launch`, so nothing changed. `/accounts` lists the aliases."
    assert "also" not in (await chat.say("/accounts")).text


async def test_defaults_stay_within_the_allow_list(chat: ChatHarness, sandbox: SandboxServer) -> None:
    admin = chat.caller("U9", is_admin=True)
    await chat.say("/accounts allow acc_1", caller=admin)
    refused = await chat.say("/accounts default acc_123", caller=admin)
    assert refused.error
    assert refused.text.startswith("This channel may not post to Brand TikTok (@brand-tiktok) on TikTok, so it can't")
    assert "It may post to `acc_1`" in refused.text
    assert "this channel has no default accounts" in (await chat.say("/post https://e.com/v.mp4 at 9am")).text

    await chat.say("/accounts allow all", caller=admin)
    await chat.say("/accounts default acc_123 acc_1", caller=admin)
    narrowed = await chat.say("/accounts allow acc_1", caller=admin)
    assert narrowed.text == "This channel may now post only to `acc_1`. `acc_123` is no longer a default here."
    assert not (await chat.say("/post https://e.com/v.mp4 at 9am")).error
    assert [b["accountIds"] for b in creates(sandbox)] == [["acc_1"]]


async def test_timezone_is_per_user_and_used_for_times(chat: ChatHarness, sandbox: SandboxServer) -> None:
    shown = await chat.say("/timezone")
    assert "America/New_York (the bot's default)" in shown.text
    assert "Sat 28 November 2026, 10:00 EST" in shown.text
    assert "Europe/Paris" in (await chat.say("/timezone europe/paris")).text
    await chat.say("/post https://e.com/v.mp4 to acc_1 at tomorrow 9am")
    assert creates(sandbox)[0]["scheduledTime"] == "2026-11-29T08:00:00Z"
    bad = await chat.say("/timezone Mars/Olympus")
    assert bad.error
    assert "not a time zone name" in bad.text
    abbreviation = await chat.say("/timezone est")
    assert abbreviation.error
    assert "Did you mean `America/New_York`, `Australia/Sydney`" in abbreviation.text
    assert "Bucharest" not in abbreviation.text  # the zones that go by EST, not every name holding the letters


@pytest.mark.parametrize(
    ("typed", "says"),
    [
        ("+3", "Zones at UTC+3 now: `Asia/Riyadh`"),
        ("GMT+1", "Zones at UTC+1 now: `Europe/Paris`"),
        ("utc-5", "Zones at UTC-5 now: `America/New_York`"),
        ("pacific", "Did you mean `America/Los_Angeles`"),
        ("uk", "Did you mean `Europe/London`"),
    ],
)
async def test_timezone_answers_an_offset_or_a_region_word_with_real_zones(
    chat: ChatHarness, typed: str, says: str
) -> None:
    reply = await chat.say(f"/timezone {typed}")
    assert reply.error
    assert says in reply.text
    assert "Etc/" not in reply.text  # `Etc/GMT+3` is UTC-3: its sign is the reverse of what was typed
    assert "America/New_York (the bot's default)" in (await chat.say("/timezone")).text


async def test_profile_zone_is_used_until_the_user_sets_one(chat: ChatHarness, sandbox: SandboxServer) -> None:
    tokyo_user = chat.caller("U5", profile_timezone="Asia/Tokyo")
    await chat.say("/post https://e.com/v.mp4 to acc_1 at tomorrow 9am", caller=tokyo_user)
    # It is already Sunday 00:00 in Tokyo, so "tomorrow" is Monday there.
    assert creates(sandbox)[0]["scheduledTime"] == "2026-11-30T00:00:00Z"


async def test_help_lists_every_command(chat: ChatHarness) -> None:
    text = (await chat.say("/help")).text
    for command in ("/post", "/posts", "/cancel", "/reschedule", "/accounts", "/timezone", "/help"):
        assert command in text
    assert "tomorrow 9am" in (await chat.say("/help post")).text


async def test_sandbox_replies_say_so(tmp_path: Path, clock: FakeClock) -> None:
    settings = make_settings(tmp_path)
    assert settings.uses_sandbox
    async with start_runtime(settings, clock=clock, workers=False) as runtime:
        chat = ChatHarness(runtime.core)
        reply = await chat.say("/post https://e.com/v.mp4 to acc_1 in 1 hour")
        assert reply.text.startswith("[sandbox] Scheduled")
        assert chat.channel[0].text.startswith("[sandbox] ")
        assert runtime.sandbox is not None
        assert len(runtime.sandbox.state.posts) == 1


async def test_posts_from_other_channels_are_not_listed(chat: ChatHarness) -> None:
    await chat.say("/post https://e.com/v.mp4 to acc_1 in 1 hour", caller=chat.caller(channel="C2"))
    assert "No posts from this channel yet" in (await chat.say("/posts")).text


async def test_settings_object_reads_names_from_environment(monkeypatch: pytest.MonkeyPatch) -> None:
    monkeypatch.setenv("BOT_ACCOUNTS", "acc_1, acc_2 acc_3")
    monkeypatch.setenv("BOT_CONFIRM_POSTS", "false")
    monkeypatch.setenv("INFINIPOST_API_KEY", "sk_test_secret")
    settings = Settings(_env_file=None)
    assert settings.accounts == ("acc_1", "acc_2", "acc_3")
    assert settings.confirm_posts is False
    assert "sk_test_secret" not in repr(settings)


@pytest.mark.parametrize("target", ["#99999999999999999999999999", "#0", "post_nope"])
async def test_unknown_targets_are_said_plainly(chat: ChatHarness, target: str) -> None:
    reply = await chat.say(f"/cancel {target}")
    assert reply.error
    assert "I have no post" in reply.text


async def test_control_characters_and_broken_unicode_are_dropped_not_sent(
    chat: ChatHarness, sandbox: SandboxServer
) -> None:
    reply = await chat.say("/post https://e.com/v.mp4 to acc_1 in 2 hours -- bell\x07 esc\x1b[31m half \ud83d end")
    assert not reply.error, reply.text
    assert creates(sandbox)[0]["caption"] == "bell esc[31m half ? end"


@pytest.mark.parametrize("command", ["/timezone", "/cancel", "/reschedule", "/accounts alias"])
async def test_overlong_arguments_are_refused_without_being_echoed(chat: ChatHarness, command: str) -> None:
    reply = await chat.say(f"{command} {'x' * 5000}")
    assert reply.error
    assert len(reply.text) < 200
    assert "takes at most 500" in reply.text


async def test_an_account_can_be_named_in_quotes_with_its_spaces(chat: ChatHarness, sandbox: SandboxServer) -> None:
    reply = await chat.say('/post https://e.com/v.mp4 to "Demo TikTok" in 2 hours')
    assert not reply.error, reply.text
    assert creates(sandbox)[0]["accountIds"] == ["acc_1"]


async def test_help_on_an_unknown_command_says_so_and_lists_the_real_ones(chat: ChatHarness) -> None:
    reply = await chat.say("/help frobnicate")
    assert reply.text.startswith("There is no `/frobnicate`; these are the commands:")
    assert "/reschedule" in reply.text


async def test_help_on_a_subcommand_is_the_help_of_its_command(chat: ChatHarness) -> None:
    reply = await chat.say("/help accounts alias")
    assert reply.text.startswith("`/accounts")


async def test_only_the_places_the_operator_named_are_served(
    chat: ChatHarness, runtime: Runtime, sandbox: SandboxServer
) -> None:
    stranger = chat.caller("U9", workspace_id="T9", is_admin=True)
    for line in ("/post https://e.com/v.mp4 to acc_1 now", "/accounts", "/help", "/posts", "/timezone Europe/Paris"):
        reply = await chat.say(line, caller=stranger)
        assert (reply.text, reply.error) == (NotSetUp.default_message, True)
    with pytest.raises(NotSetUp):
        await runtime.core.post_form(stranger)
    assert await runtime.core.time_problem(stranger, "tomorrow 9am") == NotSetUp.default_message
    assert [r for r in sandbox.state.received if r.path.startswith("/v1/")] == []
    assert audit_entries(runtime.ctx.settings.database) == []
    # The same organization is not enough unless the whole organization was named (a Slack org-wide install).
    grid = chat.caller("U9", workspace_id="T9", organization_id="E1")
    assert (await chat.say("/help", caller=grid)).text == NotSetUp.default_message
    runtime.ctx.places.allow("memory", organizations=["E1"])
    assert "/reschedule" in (await chat.say("/help", caller=grid)).text
    assert "/reschedule" in (await chat.say("/help")).text  # the named workspace, as before


@pytest.mark.parametrize(
    ("draft", "says"),
    [
        (PostDraft(media=("https://e.com/1.jpg", "https://e.com/2.jpg"), accounts=("acc_1",), slides=5), "not 5"),
        (PostDraft(media=("https://e.com/v.mp4",), accounts=("acc_1",), content_type="gif"), "not `gif`"),
    ],
)
async def test_a_form_choice_no_form_offers_is_refused_before_infinipost(
    chat: ChatHarness, sandbox: SandboxServer, draft: PostDraft, says: str
) -> None:
    reply = await chat.say("/post", draft=draft)
    assert reply.error
    assert says in reply.text
    assert [r for r in sandbox.state.received if r.path.startswith("/v1/")] == []


async def test_cancelling_a_request_of_several_posts_is_asked_and_answered_once(
    chat: ChatHarness, sandbox: SandboxServer, clock: FakeClock
) -> None:
    await chat.say("/post https://e.com/v.mp4 to acc_123, acc_1 at tomorrow noon -- two accounts")
    question = await chat.say("/cancel #1")
    assert question.confirm_token
    other = await chat.say(f"/confirm {question.confirm_token}", caller=chat.caller("U2", is_admin=True))
    assert other.error
    assert "Only the person who asked to cancel can answer this" in other.text
    kept = await chat.say(f"/discard {question.confirm_token}")
    assert kept.text == "Kept `#1`: nothing was cancelled."
    assert len(sandbox.state.posts) == 2
    late = await chat.say(f"/confirm {question.confirm_token}")  # the question was answered: no second answer
    assert late.error
    assert "expired; nothing was cancelled" in late.text
    again = await chat.say("/cancel #1")
    clock.advance(minutes=20)
    expired = await chat.say(f"/confirm {again.confirm_token}")
    assert "That question has expired; nothing was cancelled. Send `/cancel` again." in expired.text
    assert len(sandbox.state.posts) == 2
