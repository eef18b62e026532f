"""The show file: defaults, validation naming the key, time zone of "today", init."""

import datetime as dt

import pytest

from digest.errors import InputError
from digest.show import SHOW_TEMPLATE, Show, init_show, load_show, show_from_dict


def test_the_template_reads_back_as_the_defaults(tmp_path):
    path = tmp_path / "show.toml"
    path.write_text(SHOW_TEMPLATE, encoding="utf-8")
    show = load_show(path)
    assert show.name == Show().name and show.voices == ("xiaoxiao",)
    assert show.publish_time == dt.time(6, 0) and show.loudness == -19.0
    assert show.public is False and show.keep is None and show.folder == tmp_path
    assert show.templates == Show().templates and show.pauses == Show().pauses


def test_init_creates_a_commented_show_file_and_refuses_to_overwrite(tmp_path):
    path = init_show(tmp_path / "daily", name='早间 "简报"')
    assert (tmp_path / "daily" / "episodes").is_dir()
    assert "# A digest show" in path.read_text(encoding="utf-8")
    assert load_show(path).name == '早间 "简报"'
    with pytest.raises(InputError, match="already exists"):
        init_show(tmp_path / "daily")


@pytest.mark.parametrize(
    ("data", "complaint"),
    [
        ({"show": {"timezone": "Mars/Base"}}, "show.timezone: unknown time zone"),
        ({"show": {"publish_time": "6am"}}, "show.publish_time:"),
        ({"show": {"language": "en"}}, "show.language:"),
        ({"feed": {"email": "nobody"}}, "feed.email:"),
        ({"feed": {"base_url": "ftp://x"}}, "feed.base_url:"),
        ({"feed": {"privacy": "secret"}}, "feed.privacy:"),
        ({"feed": {"explicit": "no"}}, "feed.explicit: must be true or false"),
        ({"feed": {"keep": -1}}, "feed.keep:"),
        ({"briefing": {"voices": []}}, "briefing.voices:"),
        ({"briefing": {"loudness": 3}}, "briefing.loudness:"),
        ({"pauses": {"story": 99}}, "pauses.story:"),
        ({"templates": {"intro": "今天{date"}}, "templates.intro: not a valid template"),
        ({"show": {"nmae": "typo"}}, "show.nmae: unknown key"),
        ({"shows": {}}, "shows: unknown key"),
        ({"show": "x"}, "show: must be a table"),
    ],
)
def test_each_bad_value_is_one_line_naming_the_key(data, complaint):
    with pytest.raises(InputError) as info:
        show_from_dict(data, "show.toml")
    message = str(info.value)
    assert "\n" not in message and message.startswith("show.toml: ")
    assert complaint in message


def test_unreadable_show_files_are_one_line(tmp_path):
    bad = tmp_path / "show.toml"
    bad.write_bytes(b'[show]\nname = "\xff"\n')
    with pytest.raises(InputError, match="not UTF-8"):
        load_show(bad)
    bad.write_text("[show\n", encoding="utf-8")
    with pytest.raises(InputError, match="malformed TOML"):
        load_show(bad)
    with pytest.raises(InputError, match="does not exist"):
        load_show(tmp_path / "missing.toml")


def test_today_is_the_date_in_the_shows_time_zone():
    early_utc = dt.datetime(2026, 11, 29, 22, 30, tzinfo=dt.timezone.utc)  # 06:30 in Beijing
    assert Show().today(early_utc) == dt.date(2026, 11, 30)
    assert Show(timezone="America/New_York").today(early_utc) == dt.date(2026, 11, 29)


def test_loudness_off_and_relative_cover(tmp_path):
    show = show_from_dict(
        {"briefing": {"loudness": "off"}, "feed": {"cover": "art.png"}}, tmp_path / "show.toml"
    )
    assert show.loudness is None and show.cover == tmp_path / "art.png"
