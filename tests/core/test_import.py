"""`/import`: a CSV file of posts, previewed with its refused rows, then sent row by row under the no-double-post
rules; the sandbox plays Infinipost, and the file is a real one on disk, fetched as uploads are."""

from __future__ import annotations

import csv
import io
from pathlib import Path

import pytest

from bot.importing import PROGRESS_EVERY
from bot.model import LOCAL_FILES, Attachment, Command, Reply
from bot.notices import NoticeKind
from sandbox import Fault, SandboxServer
from tests.fakes.chat import ChatHarness

HEADER = ["media", "accounts", "when", "caption", "slides"]
BAD_ROWS = {5: "an account called `nobody`", 17: "in `the day after never`", 30: "`slides` only applies to slideshows"}


def spreadsheet_csv(rows: int = 40, *, bad: bool = True) -> bytes:
    """What a spreadsheet in a comma-decimal locale saves: a BOM, semicolons, CRLF, quoted cells, a blank row."""
    lines = [";".join(HEADER)]
    for i in range(rows):
        number = i + 2  # the header is row 1
        accounts = "acc_1" if i % 2 else "brand-tiktok"
        when = f"2026-12-{1 + i % 28:02d}T{9 + i // 28:02d}:30"
        cells = [f"https://cdn.example.com/v{i}.mp4", accounts, when, f'"Day {i}; see you there"', ""]
        if bad and number == 5:
            cells[1] = "nobody"
        if bad and number == 17:
            cells[2] = "the day after never"
        if bad and number == 30:
            cells[4] = "6"
        lines.append(";".join(cells))
    lines.append(";;;;")
    return ("\ufeff" + "\r\n".join(lines) + "\r\n").encode()


def attached(path: Path, data: bytes) -> Attachment:
    path.write_bytes(data)
    return Attachment(filename=path.name, url=path.as_uri(), source=LOCAL_FILES, size=len(data))


async def send_import(chat: ChatHarness, upload: Attachment, *, user: str = "U1") -> Reply:
    reply = await chat.core.handle(Command(name="import", caller=chat.caller(user), attachments=(upload,)))
    await chat.core.deliver_notices()
    return reply


async def answer(chat: ChatHarness, token: str, *, yes: bool = True, user: str = "U1") -> Reply:
    reply = await chat.core.handle(Command(name="confirm" if yes else "discard", caller=chat.caller(user), text=token))
    await chat.core.deliver_notices()
    return reply


async def test_a_spreadsheet_csv_is_previewed_with_its_bad_rows_and_only_the_good_ones_are_sent(
    chat: ChatHarness, sandbox: SandboxServer, tmp_path: Path
) -> None:
    upload = attached(tmp_path / "week 48.csv", spreadsheet_csv())
    preview = await send_import(chat, upload)
    assert preview.confirm_token, preview.text
    assert not sandbox.state.posts
    assert not chat.channel
    text = preview.text
    assert text.startswith("Import 37 posts from `week 48.csv`?")
    assert ("Posts", "37 of 40 rows, each its own request, sent in the file's order") in preview.fields
    assert "Accounts: Brand TikTok (@brand-tiktok) on TikTok: 19, Demo TikTok (@demo) on TikTok: 18" in text
    assert "from Tue 1 December 2026, 09:30 EST (America/New_York) to Mon 28 December 2026, 09:30 EST" in text
    assert "Refused rows (3 of 40; the header is row 1):" in text
    for number, reason in BAD_ROWS.items():
        line = next(line for line in text.splitlines() if line.startswith(f"• Row {number}: "))
        assert reason in line, line

    done = await answer(chat, preview.confirm_token)
    assert not done.error, done.text
    assert done.text.startswith("Imported `week 48.csv`: 37 of 37 posts scheduled.")
    assert "Sent: rows 2–4, 6–16, 18–29, 31–41 (requests #1–#37)." in done.text
    created = sorted(sandbox.state.posts.values(), key=lambda p: p["createdAt"])
    assert len(created) == 37
    assert {p["caption"] for p in created} == {f"Day {i}; see you there" for i in range(40)} - {
        "Day 3; see you there",
        "Day 15; see you there",
        "Day 28; see you there",
    }
    announced = [m for m in chat.channel if m.notices[0].kind is NoticeKind.SCHEDULED]
    assert len(announced) == 37
    progress = [m.text for m in chat.channel if m.notices[0].kind is NoticeKind.IMPORT_PROGRESS]
    assert progress == [
        "📥 <@U1>'s import of `week 48.csv` is done: 37 rows handled, 37 scheduled, 0 refused by Infinipost."
    ]

    again = await answer(chat, preview.confirm_token)  # a second press sends nothing
    assert again.error
    assert "no longer available" in again.text
    assert len(sandbox.state.posts) == 37


async def test_an_unconfirmed_create_stops_the_batch_and_says_which_rows_are_which(
    chat: ChatHarness, sandbox: SandboxServer, tmp_path: Path
) -> None:
    preview = await send_import(chat, attached(tmp_path / "posts.csv", spreadsheet_csv(20, bad=False)))
    assert preview.confirm_token, preview.text
    sandbox.state.faults.append(Fault(kind="status", route="create", status=503, after=9))
    stopped = await answer(chat, preview.confirm_token)
    assert stopped.error
    lines = stopped.text.splitlines()
    assert lines[0].startswith("The import of `posts.csv` stopped at row 11: Infinipost did not say whether it created")
    assert lines[1:] == [
        "Sent: rows 2–10 (requests #1–#9).",
        "Unknown: row 11 (request #10).",
        "Not sent: rows 12–21: import them again in a new file once row 11 is settled.",
    ]
    assert len(sandbox.state.posts) == 9
    creates = [r for r in sandbox.state.received if r.method == "POST" and r.path == "/v1/posts"]
    assert len(creates) == 10  # the unknown one was never repeated, and nothing after it was sent
    request = await chat.core.ctx.storage.requests.get(10)
    assert request is not None
    assert request.state == "unconfirmed"
    assert await chat.core.ctx.storage.requests.get(11) is None
    progress = [m.text for m in chat.channel if m.notices[0].kind is NoticeKind.IMPORT_PROGRESS]
    assert len(progress) == 1
    assert "stopped at row 11" in progress[0]
    assert "10 not sent" in progress[0]


async def test_a_row_infinipost_refuses_is_reported_and_the_batch_goes_on(
    chat: ChatHarness, sandbox: SandboxServer, tmp_path: Path
) -> None:
    preview = await send_import(chat, attached(tmp_path / "posts.csv", spreadsheet_csv(6, bad=False)))
    assert preview.confirm_token
    sandbox.state.faults.append(Fault(kind="status", route="create", status=429, after=2))
    done = await answer(chat, preview.confirm_token)
    assert done.text.startswith("Imported `posts.csv`: 5 of 6 posts scheduled."), done.text
    assert "Sent: rows 2–3, 5–7" in done.text
    assert "• Row 4: Nothing was scheduled." in done.text
    assert len(sandbox.state.posts) == 5


async def test_progress_is_told_in_the_channel_every_fifty_rows(
    chat: ChatHarness, sandbox: SandboxServer, tmp_path: Path
) -> None:
    lines = ["media,accounts,when"] + [
        f"https://e.com/{i}.mp4,acc_1,2026-12-{1 + i % 28:02d} {8 + i // 28:02d}:00" for i in range(120)
    ]
    preview = await send_import(chat, attached(tmp_path / "many.csv", "\n".join(lines).encode()))
    assert preview.confirm_token, preview.text
    await answer(chat, preview.confirm_token)
    progress = [m.text for m in chat.channel if m.notices[0].kind is NoticeKind.IMPORT_PROGRESS]
    assert progress == [
        f"📥 user-U1's import of `many.csv`: {PROGRESS_EVERY} of 120 rows handled so far (50 scheduled, 0 refused by "
        "Infinipost).",
        "📥 user-U1's import of `many.csv`: 100 of 120 rows handled so far (100 scheduled, 0 refused by Infinipost).",
        "📥 <@U1>'s import of `many.csv` is done: 120 rows handled, 120 scheduled, 0 refused by Infinipost.",
    ]


@pytest.mark.parametrize(
    ("name", "data", "refusal"),
    [
        ("big.csv", b"media\n" + b"https://e.com/v.mp4\n" * 60_000, "is 1.1 MB; the limit is 1.0 MB"),
        ("posts.xlsx", b"PK\x03\x04 a spreadsheet", "`posts.xlsx` is not a CSV file."),
        ("posts.csv", b"\xff\xfem\x00e\x00d\x00i\x00a\x00", "`posts.csv` is not a CSV file."),
        ("posts.csv", "média\nhttps://e.com/v.mp4\n".encode("latin-1"), "`posts.csv` is not UTF-8 text"),
        ("posts.csv", b"name,price\nshoes,12\n", "no `media` column"),
        (
            "posts.csv",
            b'media,accounts,caption\nhttps://e.com/v.mp4,acc_1,=HYPERLINK("x")\n=1+2,@demo,hi\n',
            "3 cells (row 2 `caption`, row 3 `media`, row 3 `accounts`) begin with `=`, `+`, `-` or `@`",
        ),
        (
            "posts.csv",
            b"media\n" + b"https://e.com/v.mp4\n" * 501,
            "has 501 posts; an import takes at most 500. Split it into several files.",
        ),
    ],
    ids=["over 1 MB", "not CSV by name", "not CSV by content", "not UTF-8", "no media column", "formulas", "501 rows"],
)
async def test_a_file_that_cannot_be_imported_is_refused_whole(
    chat: ChatHarness, sandbox: SandboxServer, tmp_path: Path, name: str, data: bytes, refusal: str
) -> None:
    reply = await send_import(chat, attached(tmp_path / name, data))
    assert reply.error
    assert not reply.confirm_token
    assert refusal in reply.text, reply.text
    assert not sandbox.state.posts


async def test_only_its_author_answers_an_import_and_no_drops_it(
    chat: ChatHarness, sandbox: SandboxServer, tmp_path: Path
) -> None:
    preview = await send_import(chat, attached(tmp_path / "posts.csv", spreadsheet_csv(3, bad=False)))
    assert preview.confirm_token
    other = await answer(chat, preview.confirm_token, user="U2")
    assert other.error
    assert "Only the person who sent this import" in other.text
    dropped = await answer(chat, preview.confirm_token, yes=False)
    assert dropped.text == "Dropped the import of `posts.csv`. Nothing was sent."
    assert not sandbox.state.posts


async def test_rows_may_not_name_files_on_the_bots_disk(chat: ChatHarness, tmp_path: Path) -> None:
    (tmp_path / "v.mp4").write_bytes(b"secret")
    caller = chat.caller(local_files=True)
    path = tmp_path / "posts.csv"
    path.write_text(f"media,accounts\n{tmp_path / 'v.mp4'},acc_1\n")
    reply = await chat.core.handle(Command(name="import", caller=caller, text=str(path)))
    assert reply.error
    assert "• Row 2: " in reply.text, reply.text


async def test_an_export_imported_again_is_refused_where_it_would_post_twice(
    chat: ChatHarness, sandbox: SandboxServer, tmp_path: Path
) -> None:
    await chat.say("/post https://e.com/a.mp4 to acc_1 at tomorrow 9am -- -50% today only")
    await chat.say("/post https://e.com/b.mp4 to acc_123 at tomorrow 10am -- Second")
    exported = await chat.say("/posts export")
    assert exported.file is not None
    reimported = await send_import(chat, attached(tmp_path / exported.file.name, exported.file.content))
    assert reimported.error
    assert "Nothing in" in reimported.text
    assert reimported.text.count("would post it twice") == 2
    text = exported.file.content.decode("utf-8-sig")
    rows = list(csv.DictReader(io.StringIO(text)))
    rows[0]["id"] = ""  # its author clears the id: a new post on purpose
    out = io.StringIO()
    writer = csv.DictWriter(out, fieldnames=list(rows[0]), lineterminator="\r\n")
    writer.writeheader()
    writer.writerows(rows)
    again = await send_import(chat, attached(tmp_path / "again.csv", out.getvalue().encode()))
    assert again.confirm_token, again.text
    assert "would post it twice" in again.text  # the second row still names its live post
    done = await answer(chat, again.confirm_token)
    assert not done.error, done.text
    captions = sorted(post["caption"] for post in sandbox.state.posts.values())
    assert captions == ["-50% today only", "-50% today only", "Second"]  # the export's `'` mark taken off


async def test_approvals_turned_on_while_an_import_waits_stop_it(
    chat: ChatHarness, sandbox: SandboxServer, tmp_path: Path
) -> None:
    preview = await send_import(chat, attached(tmp_path / "two.csv", spreadsheet_csv(2, bad=False)))
    assert preview.confirm_token, preview.text
    await chat.say("/approvals required by <@U2>", caller=chat.caller("U9", is_admin=True))
    refused = await answer(chat, preview.confirm_token)
    assert refused.error
    assert "now wait for approval" in refused.text
    assert not sandbox.state.posts
