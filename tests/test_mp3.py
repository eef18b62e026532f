import pytest

from digest.mp3 import EPISODE_FORMAT, Mp3Error, join, read_frames, silence

FRAME = bytes([0xFF, 0xF3, 0x64, 0xC4]) + bytes(140)


def id3v2(body: bytes = b"TIT2\x00\x00\x00\x02\x00\x00\x03a") -> bytes:
    size = len(body)
    syncsafe = bytes([(size >> 21) & 0x7F, (size >> 14) & 0x7F, (size >> 7) & 0x7F, size & 0x7F])
    return b"ID3\x03\x00\x00" + syncsafe + body


def info_frame() -> bytes:
    # Header, 9 bytes of MPEG-2 mono side info, then the "Info" tag LAME writes.
    return FRAME[:4] + bytes(9) + b"Info" + bytes(144 - 17)


def test_silence_is_whole_frames_of_the_episode_format():
    one_second = silence(1.0)
    assert one_second.count == 42
    assert one_second.duration == pytest.approx(1.008)
    assert read_frames(one_second.data) == one_second


def test_read_frames_strips_id3v2_id3v1_and_info_frame():
    data = id3v2() + info_frame() + FRAME * 5 + b"TAG" + bytes(125)
    frames = read_frames(data)
    assert frames.count == 5
    assert frames.data == FRAME * 5
    assert frames.format == EPISODE_FORMAT


def test_a_partial_last_frame_is_dropped():
    frames = read_frames(FRAME * 3 + FRAME[:50])
    assert frames.count == 3


def test_garbage_and_wrong_formats_are_refused():
    with pytest.raises(Mp3Error):
        read_frames(b"not an mp3 at all")
    with pytest.raises(Mp3Error):
        read_frames(b"")
    mpeg1_128k = bytes([0xFF, 0xFB, 0x90, 0xC4]) + bytes(413)  # 44.1 kHz, 128 kbps
    with pytest.raises(Mp3Error, match="expected"):
        read_frames(mpeg1_128k * 2)
    assert read_frames(mpeg1_128k * 2, expected=None).count == 2


def test_join_adds_counts_and_refuses_mixed_formats():
    joined = join([silence(0.5), silence(0.25)])
    assert joined.count == silence(0.5).count + silence(0.25).count
    assert joined.data == silence(0.5).data + silence(0.25).data
    other = read_frames(bytes([0xFF, 0xFB, 0x90, 0xC4]) + bytes(413), expected=None)
    with pytest.raises(Mp3Error):
        join([silence(0.1), other])
