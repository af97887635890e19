"""Words the bot says: the command list, help, how a request is described, and the sentences every adapter shares.

Adapters take their sentences from here rather than writing their own, so that one wording serves every platform
(a platform's own name, or its own way to do something, is passed in).
"""

from __future__ import annotations

from zoneinfo import ZoneInfo

from bot.dates import format_local
from bot.model import PostRequest

# Anything that fails for a reason the person cannot fix: never the error's own text.
GENERIC_ERROR = "Sorry, something went wrong on my side and nothing was changed. Please try again."
# Before every reply and notice of a bot that posts to the built-in sandbox API, not to Infinipost.
SANDBOX_PREFIX = "[sandbox] "
FORM_FAILED = "I could not open the form in time. Try again, or type `/post <link> to <account> at <time> -- caption`."
FORM_ALREADY_SENT = "This form was sent already; its answer is on its way."
FORM_EXPIRED = "This form has expired; pick “Schedule as post” again."
# What a form's or an option's time field shows as examples, on every platform.
WHEN_EXAMPLES = "tomorrow 9am, friday 17:30, in 2 hours"
NO_ACCOUNT_READY = "No account is ready for posting here."  # a /post form with no account to offer
CHECKING_POST = "⏳ Checking your post…"  # said at once, while a typed /post is checked and sent


def no_files(other_way: str) -> str:
    """“Schedule as post” on a message without files; `other_way`: how to post by command on that platform."""
    return f"That message has no files. Use “Schedule as post” on a message with a video or images, or {other_way}."


def busy(platform: str) -> str:
    """The platform did not answer in time for a form to open."""
    return f"{platform} took too long to answer, so the form could not open. Pick “Schedule as post” again."


# The private form `/infinipost connect` opens, on every platform.
KEY_FORM_TITLE = "Connect Infinipost"
KEY_FIELD_LABEL = "Infinipost API key"
KEY_FIELD_HINT = "From Infinipost's dashboard: Settings → API Keys. Only its last 4 characters are ever shown."
KEY_FORM_FAILED = "I could not open the form in time. Send `/infinipost connect` again."
KEY_PROMPT = "Paste this workspace's Infinipost API key (sk_live_… or sk_test_…), or an empty line to give up:"
KEY_NOT_GIVEN = "No key was given; nothing changed."

NOTHING_TO_ANSWER = "Nothing is waiting for a yes or no. Send a /post to get a preview."

# Where a file an answer carries (`/posts export`) went, on a platform that sends it apart from the answer.
FILE_IN_DIRECT_MESSAGES = "📎 The file is in your direct messages with the bot."
FILE_IN_CHANNEL = "📎 Your direct messages with the bot could not take the file, so it is shared in this channel."


def file_not_sent(platform: str, code: str, *, scope: str | None = None) -> str:
    """The platform refused a file an answer carries (`code`: its error); `scope`: one the app lacks."""
    fix = f" An admin adds the `{scope}` scope to the app and reinstalls it." if scope else " Try again later."
    return f"⚠️ {platform} refused the file (`{code}`), so it could not be sent.{fix}"


def answers_for(labels: tuple[str, str] | None) -> str:
    """How to answer a preview (`labels` None) or a question with typed words, where there are no buttons."""
    if labels is None:
        return "yes to schedule it, or no to drop it"
    yes, no = labels
    return f"yes to {yes.lower()}, or no to {no.lower()}"


def still_waiting(what: str, answers: str) -> str:
    """Something other than an answer was typed while a preview or a question (`what`) waits for one."""
    return f"A {what} is waiting: type {answers} (or send another command)."


NOT_IN_DIRECT_MESSAGES = "Use the bot's commands in a server channel, not in direct messages."


def option_without_file(option: str) -> str:
    """A command's file option arrived without its file."""
    return f"`{option}` came without its file. Attach the file again and send the command once more."


def option_of_another_kind(option: str, wanted: str, platform: str) -> str:
    """A command's option arrived as another kind of value than declared (`wanted`: "a number", ...)."""
    return (
        f"`{option}` takes {wanted}, and {platform} sent something else. {platform} may be showing you an older "
        "version of this command; try again in a minute."
    )


def option_not_a_choice(option: str, choices: str, platform: str) -> str:
    """A command's option holds a value that is not among its choices."""
    return f"`{option}` takes one of: {choices}. Pick one from the list {platform} shows."


def file_needs_permission(platform: str, name: str, permission: str) -> str:
    """The platform will not hand over an uploaded file: the bot's app lacks `permission`."""
    return (
        f"I could not read the {platform} file {name}: the app lacks the `{permission}` permission. Ask whoever "
        f"runs the bot to add it to the {platform} app and reinstall the app, then retry."
    )


def file_out_of_reach(platform: str, name: str, invite: str) -> str:
    """An uploaded file was deleted, or is where the bot is not; `invite`: how to bring the bot there."""
    return (
        f"I could not read the {platform} file {name}: it was deleted, or it is in a channel I am not in. "
        f"Invite me to the channel ({invite}) or share the file again, and retry."
    )


def file_unreadable(platform: str, name: str, code: str) -> str:
    """The platform refused an uploaded file for a reason of its own (`code`)."""
    return f"I could not read the {platform} file {name} ({code}). Share it again and retry."


def stale_command(platform: str) -> str:
    """The platform sent a command in a shape this bot no longer declares."""
    return f"{platform} showed you an older version of this command. Try again in a minute."


# name -> (usage, what it does). The adapters register exactly these commands.
COMMANDS: dict[str, tuple[str, str]] = {
    "post": (
        "/post <links> [to <accounts>] [at <time> | now | every <rule>] [sound <link>] [slides 4|6|8] "
        '[video|slideshow] ["caption" | -- caption]',
        "Schedule a TikTok/Instagram video or slideshow.",
    ),
    "posts": (
        "/posts [upcoming | past | failed] [mine] [@account] [refresh] | /posts more | /posts export",
        "This channel's queue, upcoming posts first; `refresh` asks Infinipost now; `export` sends it as CSV.",
    ),
    "cancel": ("/cancel <post-id | #request>", "Cancel a post that has not gone out yet."),
    "reschedule": ("/reschedule <post-id | #request> <time>", "Move a post that has not gone out yet."),
    "accounts": (
        "/accounts [default <accounts> | alias <name> <account> | allow <accounts|all>]",
        "List the accounts; set this channel's default accounts, aliases and allowed accounts.",
    ),
    "timezone": ("/timezone [<zone> | reset]", "Show or set the time zone your times are read in."),
    "infinipost": (
        "/infinipost [status | connect | disconnect]",
        "Which Infinipost API key this workspace uses; admins connect its own (in a private form) or disconnect it.",
    ),
    "edit": (
        "/edit #<request> [to <accounts>] [at <time> | now] [<links>] [sound <link>] [slides 4|6|8] [-- caption]",
        "Change a request waiting for approval, or a post already scheduled.",
    ),
    "approvals": (
        "/approvals [off | required by <people or groups> | authors-may-approve yes|no]",
        "Whether this channel's posts wait for approval, and by whom.",
    ),
    "approve": ("/approve #<request> [<time> | now]", "Approve a request waiting for you; it is sent at once."),
    "changes": ("/changes #<request> <note>", "Ask the author of a waiting request for changes."),
    "reject": ("/reject #<request> <reason>", "Turn down a waiting request; nothing is sent."),
    "calendar": (
        "/calendar [next | previous | week <n>] [@account] | /calendar link | /calendar ical [revoke]",
        "The coming week's posts; a link to the whole calendar; a private feed for your calendar app.",
    ),
    "digest": ("/digest [off | on | <day> <time>]", "When this channel's weekly digest goes out (Monday 9am)."),
    "slots": (
        "/slots [set <days> <times>; … | clear]",
        "This channel's posting slots, which `/post … at next slot` fills.",
    ),
    "import": (
        "/import <CSV file> | /import <path> (console)",
        "Schedule many posts from a CSV file (media, accounts, when, caption, sound, slides): previewed first.",
    ),
    "help": ("/help [command]", "This help."),
}

# Two or three of each, shown by `/help <command>`; every one works as written (tests/core/test_first_hour.py).
COMMAND_EXAMPLES: dict[str, tuple[str, ...]] = {
    "post": (
        "/post https://cdn.example.com/launch.mp4 to acc_123, acc_456 at tomorrow noon -- We're live! #launch",
        '/post https://e.com/1.jpg https://e.com/2.jpg to acc_1 in 2 hours slides 6 "Swipe 👉"',
        "/post https://e.com/v.mp4 to acc_1 friday 17:30 -- No keyword needed before a time",
    ),
    "posts": ("/posts", "/posts upcoming mine", "/posts @brand-ig", "/posts export"),
    "cancel": ("/cancel #1", "/cancel #2"),
    "reschedule": ("/reschedule #1 friday 17:30", "/reschedule #2 in 3 hours"),
    "accounts": ("/accounts", "/accounts default acc_123, acc_456", "/accounts alias launch acc_123"),
    "timezone": ("/timezone", "/timezone Europe/Paris", "/timezone reset"),
    "infinipost": ("/infinipost", "/infinipost connect", "/infinipost disconnect"),
    "edit": ("/edit #1 at friday 17:30", "/edit #1 -- A better caption"),
    "approvals": ("/approvals", "/approvals authors-may-approve no"),
    "approve": ("/approve #1", "/approve #2 now"),
    "changes": ("/changes #3 Shorter caption, please", "/changes #4 Tag the brand account"),
    "reject": ("/reject #3 Off-brand", "/reject #4 Wrong account"),
    "calendar": ("/calendar", "/calendar next", "/calendar link"),
    "digest": ("/digest", "/digest fri 4pm"),
    "slots": ("/slots set mon-fri 9am, 6pm; sat 11am", "/slots"),
    "import": ("/import week-48.csv", "/import ~/Downloads/launch-posts.csv"),
    "help": ("/help", "/help post"),
}
assert set(COMMAND_EXAMPLES) == set(COMMANDS)

EXAMPLES = (
    "/post https://cdn.example.com/launch.mp4 to acc_123, acc_456 at tomorrow noon -- We're live! #launch",
    '/post https://e.com/1.jpg https://e.com/2.jpg to acc_1 in 2 hours slides 6 "Swipe 👉"',
    "/post https://e.com/v.mp4 to acc_1 sound https://e.com/a.mp3 on friday 9am -- hi",
    "/reschedule #12 friday 17:30",
)


def clip(text: str, limit: int) -> str:
    """`text` cut to at most `limit` characters, with an ellipsis where it was cut."""
    return text if len(text) <= limit else text[: limit - 1] + "…"


def help_text(topic: str = "") -> str:
    topic = next(iter(topic.split()), "").lstrip("/").lower()  # `/help accounts alias` is about /accounts
    if topic in COMMANDS:
        usage, what = COMMANDS[topic]
        extra = ""
        if topic == "post":
            extra = (
                "\nTimes are read in your time zone (see /timezone): `tomorrow 9am`, `friday 17:30`, `in 2 hours`,"
                " `the 3rd at 2pm`, `now`, or `next slot` (the channel's next free posting slot, see /slots)."
                " `every monday 9am` (or `every day at 18:00`, `every 2 weeks on fri 10am`, `every weekday 8am`, with"
                " `until <date>` or `for <N> times`) repeats it. Without `to`, the channel's default accounts are"
                " used. A quoted text or everything after ` -- ` is the caption."
            )
        examples = "\n".join(f"`{example}`" for example in COMMAND_EXAMPLES[topic])
        return f"`{usage}`\n{what}{extra}\nExamples:\n{examples}"
    lines = [f"There is no `/{topic}`; these are the commands:"] if topic else []
    lines.append("Schedule TikTok and Instagram posts through Infinipost:")
    lines += [f"• `{usage}` — {what}" for usage, what in COMMANDS.values()]
    lines.append("Examples:")
    lines += [f"`{example}`" for example in EXAMPLES]
    lines.append("More on one command: `/help post`.")
    return "\n".join(lines)


def describe_media(request: PostRequest) -> str:
    count = len(request.media_urls)
    if request.content_type == "video":
        return "video, 1 file"
    return f"slideshow, {count} image{'s' if count != 1 else ''}"


def describe_when(request: PostRequest, tz: ZoneInfo) -> str:
    if request.scheduled_time is None:
        return "now (as soon as it is sent)"
    return format_local(request.scheduled_time, tz)


def request_fields(request: PostRequest, tz: ZoneInfo) -> tuple[tuple[str, str], ...]:
    """The facts of a request, as a preview or confirmation lays them out."""
    fields = [
        ("Accounts", ", ".join(a.label for a in request.accounts)),
        ("Type", describe_media(request)),
        ("When", describe_when(request, tz)),
        ("Caption", request.caption or "(none)"),
    ]
    if request.sound_url:
        fields.append(("Sound", request.sound_url))
        instagram = [a.label for a in request.accounts if a.platform == "instagram"]
        if instagram:  # Infinipost documents sounds for TikTok only
            fields.append(("Note", f"Sounds are for TikTok only: {', '.join(instagram)} will post without it."))
    if request.slide_duration:
        fields.append(("Slides", f"{request.slide_duration} s each"))
    return tuple(fields)


def fields_text(fields: tuple[tuple[str, str], ...]) -> str:
    return "\n".join(f"{name}: {value}" for name, value in fields)
