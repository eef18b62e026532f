"""index.html: a static page that plays the show on a phone.

No build step and no external requests: one HTML file (the template in
`templates/page.html`, with its CSS and script inline) next to the episodes.
Each episode gets an <audio> player with its WebVTT as a <track>, its
chapters as buttons that seek, and its transcript, whose current sentence the
script highlights.  Every text from the show or an episode is HTML-escaped.
"""

from __future__ import annotations

import html
import re
from importlib.resources import files
from pathlib import Path

from digest.feed import clock
from digest.publish import EPISODES, PublishedEpisode
from digest.show import Show
from digest.transcripts import parse_vtt


def _template() -> str:
    return files("digest").joinpath("templates/page.html").read_text(encoding="utf-8")


def _src(path: Path) -> str:
    from urllib.parse import quote

    return f"{EPISODES}/{quote(path.name)}"


def render_episode(episode: PublishedEpisode, language: str) -> str:
    """One <article>: title, player with captions track, chapter buttons, transcript."""
    e = html.escape
    captions = episode.side_file(".vtt")
    parts = [
        f'<article id="{e(episode.stem)}" data-episode>',
        f"<h2>{e(episode.title)}</h2>",
        f'<p class="meta"><time datetime="{episode.date.isoformat()}">{episode.date.isoformat()}'
        f"</time> · {clock(episode.duration)}</p>",
        f'<audio controls preload="metadata" src="{_src(episode.mp3)}">',
    ]
    if captions:
        parts.append(
            f'<track kind="captions" srclang="{e(language)}" label="字幕" src="{_src(captions)}" default>'
        )
    parts.append("</audio>")
    if episode.chapters:
        parts.append('<ol class="chapters">')
        for chapter in episode.chapters:
            parts.append(
                f'<li><button type="button" data-start="{chapter.start:.3f}">'
                f"<time>{clock(chapter.start)}</time><span>{e(chapter.title)}</span></button></li>"
            )
        parts.append("</ol>")
    if captions:
        cues = parse_vtt(captions.read_text(encoding="utf-8"))
        parts.append("<details open><summary>文字稿 Transcript</summary>")
        parts.append('<div class="transcript">')
        parts.extend(
            f'<span data-start="{cue.start:.3f}" data-end="{cue.end:.3f}">{e(cue.text)}</span>'
            for cue in cues
        )
        parts.append("</div></details>")
    parts.append("</article>")
    return "\n".join(parts)


def render_page(show: Show, episodes: list[PublishedEpisode], cover_name: str) -> str:
    """The whole page, episodes newest first (as given)."""
    e = html.escape
    body = "\n".join(render_episode(episode, show.language) for episode in episodes)
    count = f"{len(episodes)} 期节目" if show.language == "zh-cn" else f"{len(episodes)} 集節目"
    values = {
        "lang": e(show.language),
        "title": e(show.name),
        "description": e(show.description),
        "cover": e(cover_name),
        "episodes": body,
        "count": count,
    }
    # One pass, so a title that happens to contain "{{count}}" stays text.
    return re.sub(r"\{\{(\w+)\}\}", lambda m: values[m.group(1)], _template())
