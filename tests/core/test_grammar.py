"""The /post grammar: the issue's examples, quoting, key:value forms, and clear refusals."""

from __future__ import annotations

import pytest

from bot.errors import BadCommand
from bot.grammar import media_list, parse_post, tokenize
from bot.model import PostDraft


def test_video_with_accounts_time_and_dash_caption() -> None:
    draft = parse_post("https://cdn.example.com/v.mp4 to acc_123, acc_456 at tomorrow noon -- Check this out #viral")
    assert draft == PostDraft(
        media=("https://cdn.example.com/v.mp4",),
        accounts=("acc_123", "acc_456"),
        when="at tomorrow noon",
        caption="Check this out #viral",
    )


def test_slideshow_with_duration_and_quoted_caption() -> None:
    draft = parse_post('https://e.com/1.jpg https://e.com/2.jpg to acc_1 in 2 hours slides 6 "Swipe 👉"')
    assert draft.media == ("https://e.com/1.jpg", "https://e.com/2.jpg")
    assert draft.when == "in 2 hours"
    assert draft.slides == 6
    assert draft.caption == "Swipe 👉"


def test_now_means_no_time() -> None:
    draft = parse_post("https://e.com/v.mp4 to acc_1 now")
    assert draft.when is None
    assert draft.accounts == ("acc_1",)


def test_sound_then_time_phrase_then_caption() -> None:
    draft = parse_post("https://e.com/v.mp4 to acc_1 sound https://e.com/a.mp3 on friday 9am -- hi")
    assert draft.sound_url == "https://e.com/a.mp3"
    assert draft.when == "on friday 9am"
    assert draft.caption == "hi"


@pytest.mark.parametrize("quotes", ["“We’re live!”", "‘We’re live!’", '"We’re live!"', "„We’re live!“"])
def test_curly_and_straight_quotes_keep_the_caption_as_typed(quotes: str) -> None:
    assert parse_post(f"https://e.com/v.mp4 to acc_1 {quotes}").caption == "We’re live!"


def test_caption_after_dashes_is_kept_raw() -> None:
    draft = parse_post('https://e.com/v.mp4 to acc_1 -- "quoted" -- and to at now #tag')
    assert draft.caption == '"quoted" -- and to at now #tag'


@pytest.mark.parametrize("dash", ["\u2014", "\u2013"])
def test_the_dash_a_phone_makes_of_two_hyphens_starts_the_caption_too(dash: str) -> None:
    draft = parse_post(f"https://e.com/v.mp4 to acc_1 at tomorrow 9am {dash} We're live \u2014 finally")
    assert (draft.when, draft.caption) == ("at tomorrow 9am", "We're live \u2014 finally")


@pytest.mark.parametrize(
    ("text", "accounts", "caption"),
    [
        ('https://e.com/v.mp4 to "Brand TikTok" in 2 hours "Hi"', ("Brand TikTok",), "Hi"),
        ('https://e.com/v.mp4 to acc_1, "Brand TikTok" -- Hi', ("acc_1", "Brand TikTok"), "Hi"),
        ('https://e.com/v.mp4 to "Brand TikTok", acc_1 -- Hi', ("Brand TikTok", "acc_1"), "Hi"),
        ('https://e.com/v.mp4 to:acc_1, "Brand TikTok" now', ("acc_1", "Brand TikTok"), None),
        ('https://e.com/v.mp4 to acc_1 "Hi, there", now', ("acc_1",), "Hi, there"),
        ('https://e.com/v.mp4 to acc_1 and "Brand TikTok" now', ("acc_1", "Brand TikTok"), None),
        ('https://e.com/v.mp4 to acc_1 "Hi"', ("acc_1",), "Hi"),  # after a name, a quoted text is the caption
    ],
)
def test_quoted_account_names_may_hold_spaces(text: str, accounts: tuple[str, ...], caption: str | None) -> None:
    draft = parse_post(text)
    assert (draft.accounts, draft.caption) == (accounts, caption)


def test_an_empty_caption_value_is_empty_and_takes_nothing_after_it() -> None:
    draft = parse_post('https://e.com/v.mp4 to acc_1 caption:"" in 2 hours video')
    assert (draft.caption, draft.when, draft.content_type) == (None, "in 2 hours", "video")


def test_key_value_forms() -> None:
    draft = parse_post(
        'https://e.com/1.png https://e.com/2.png to:acc_1,acc_2 when:friday 9am slides:8 caption:"Hi there"'
    )
    assert draft.accounts == ("acc_1", "acc_2")
    assert draft.when == "friday 9am"
    assert draft.slides == 8
    assert draft.caption == "Hi there"


def test_time_phrase_keeps_inner_at_and_on() -> None:
    assert parse_post("https://e.com/v.mp4 on friday at 9am to acc_1").when == "on friday at 9am"


def test_explicit_type_words() -> None:
    assert parse_post("https://e.com/file video to acc_1").content_type == "video"
    assert parse_post("https://e.com/a slideshow to acc_1").content_type == "slideshow"


def test_apostrophe_inside_a_word_is_not_a_quote() -> None:
    tokens, caption = tokenize("don't stop")
    assert [t.text for t in tokens] == ["don't", "stop"]
    assert caption is None


@pytest.mark.parametrize(
    ("text", "expected"),
    [
        ('https://e.com/v.mp4 to acc_1 "never closed', "never closed"),
        ("https://e.com/v.mp4 to", "`to` needs at least one account"),
        ("https://e.com/v.mp4 to acc_1 at", "needs a time after it"),
        ("https://e.com/v.mp4 slides 5 to acc_1", "`slides` takes 4, 6 or 8"),
        ("https://e.com/v.mp4 sound notalink to acc_1", "`sound` takes a link"),
        ("https://e.com/v.mp4 to acc_1 at 9am now", "either `now` or a time"),
        ("https://e.com/v.mp4 to acc_1 at 9am on friday 10am to acc_2 in 2 hours", "Give the time once"),
        ('https://e.com/v.mp4 "one" to acc_1 "two"', "Give the caption once"),
        ("https://e.com/v.mp4 video slideshow", "not both"),
        ("hello there", "I don't understand `hello`"),
    ],
)
def test_bad_commands_say_what_is_wrong(text: str, expected: str) -> None:
    with pytest.raises(BadCommand) as caught:
        parse_post(text)
    assert expected in caught.value.user_message


def test_command_text_over_slacks_limit_is_refused() -> None:
    with pytest.raises(BadCommand, match="limit is 4,000"):
        parse_post("https://e.com/v.mp4 -- " + "x" * 4000)


@pytest.mark.parametrize(
    ("text", "accounts", "when"),
    [
        ("https://e.com/v.mp4 to acc_1 tomorrow 9am", ("acc_1",), "tomorrow 9am"),
        ("https://e.com/v.mp4 to acc_1, acc_2 friday 17:30 -- hi", ("acc_1", "acc_2"), "friday 17:30"),
        ("https://e.com/v.mp4 tomorrow 9am to acc_1", ("acc_1",), "tomorrow 9am"),
        ("https://e.com/v.mp4 to acc_1 acc_2 in 2 hours", ("acc_1", "acc_2"), "in 2 hours"),
        ("https://e.com/v.mp4 to acc_1 brand-ig", ("acc_1", "brand-ig"), None),
        ("https://e.com/v.mp4 to acc_1 eod", ("acc_1",), "eod"),  # a time word: its own question follows
        ("https://e.com/v.mp4 to acc_1, tomorrow 9am", ("acc_1",), "tomorrow 9am"),
        ("https://e.com/v.mp4 to brand-us, uk, la", ("brand-us", "uk", "la"), None),  # a zone alone is no time
        ("https://e.com/v.mp4 to brand-us uk 9am", ("brand-us",), "uk 9am"),
    ],
)
def test_a_time_needs_no_keyword_after_the_accounts(text: str, accounts: tuple[str, ...], when: str | None) -> None:
    draft = parse_post(text)
    assert (draft.accounts, draft.when) == (accounts, when)


def test_words_after_the_time_are_refused_with_the_command_written_right() -> None:
    with pytest.raises(BadCommand) as refused:
        parse_post("https://e.com/v.mp4 to acc_1 at tomorrow 9am We're live #launch")
    assert refused.value.user_message == (
        "I don't understand `We're live #launch` there; if it is the caption: "
        "`/post https://e.com/v.mp4 to acc_1 at tomorrow 9am -- We're live #launch`"
    )
    with pytest.raises(BadCommand) as keywordless:
        parse_post("https://e.com/v.mp4 to acc_1 tomorrow 9am big news")
    assert "`/post https://e.com/v.mp4 to acc_1 tomorrow 9am -- big news`" in keywordless.value.user_message


@pytest.mark.parametrize(
    "caption",
    ["new video now live", "we go live in 2 hours", "Launch day sound on", "our new slideshow to see", "great video"],
)
def test_a_caption_without_its_dashes_is_suggested_whole_even_where_it_holds_keywords(caption: str) -> None:
    command = "https://e.com/v.mp4 to acc_1 tomorrow 9am"
    with pytest.raises(BadCommand) as refused:
        parse_post(f"{command} {caption}")
    suggested = f"{command} -- {caption}"
    assert f"if it is the caption: `/post {suggested}`" in refused.value.user_message
    draft = parse_post(suggested)  # the suggestion is itself accepted, the caption whole
    assert (draft.accounts, draft.when, draft.caption) == (("acc_1",), "tomorrow 9am", caption)


def test_words_where_accounts_go_are_refused_with_both_ways_to_write_them() -> None:
    with pytest.raises(BadCommand) as refused:
        parse_post("https://e.com/v.mp4 acc_1 tomorrow 9am")  # `to` forgotten
    assert refused.value.user_message == (
        "I don't understand `acc_1` there; if it names accounts: `/post https://e.com/v.mp4 to acc_1 tomorrow 9am`; "
        "if it is the caption: `/post https://e.com/v.mp4 tomorrow 9am -- acc_1`"
    )
    assert parse_post("https://e.com/v.mp4 for acc_1 tomorrow 9am").accounts == ("acc_1",)  # as people say it


@pytest.mark.parametrize(
    ("written", "media"),
    [
        ("https://e.com/1.jpg https://e.com/2.jpg", ("https://e.com/1.jpg", "https://e.com/2.jpg")),
        ("https://e.com/1.jpg, https://e.com/2.jpg", ("https://e.com/1.jpg", "https://e.com/2.jpg")),
        ("https://e.com/1.jpg,https://e.com/2.jpg", ("https://e.com/1.jpg", "https://e.com/2.jpg")),
        ("https://e.com/1.jpg\nhttps://e.com/2.jpg", ("https://e.com/1.jpg", "https://e.com/2.jpg")),
        ("https://img.example.com/w_400,h_300/v.jpg", ("https://img.example.com/w_400,h_300/v.jpg",)),
    ],
)
def test_a_media_list_reads_alike_in_a_field_and_in_the_post_command(written: str, media: tuple[str, ...]) -> None:
    assert media_list(written) == media
    assert parse_post(f"{written} to acc_1").media == media
