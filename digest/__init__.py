"""digest: turn Chinese articles into chaptered MP3 podcast episodes."""

__version__ = "0.1.0"
