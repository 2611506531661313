"""Splitting long text into WeCom-sized pieces: at line boundaries, never inside a UTF-8 character."""

from __future__ import annotations


def utf8_len(text: str) -> int:
    return len(text.encode("utf-8"))


def split_text(text: str, max_bytes: int) -> list[str]:
    """Pieces of at most max_bytes of UTF-8 each, cut after whole lines where possible.

    A line longer than max_bytes is cut between characters. Joining the pieces with newlines gives
    the text back (the newline at a cut is dropped, since each piece is its own message).
    """
    if max_bytes < 4:
        raise ValueError("max_bytes must fit any UTF-8 character")
    if utf8_len(text) <= max_bytes:
        return [text]
    pieces: list[str] = []
    current: list[str] = []
    size = 0  # bytes in current, counting a newline between its lines
    for line in text.split("\n"):
        for chunk in _cut_line(line, max_bytes):
            chunk_size = utf8_len(chunk)
            extra = chunk_size + (1 if current else 0)
            if current and size + extra > max_bytes:
                pieces.append("\n".join(current))
                current, size = [], 0
                extra = chunk_size
            current.append(chunk)
            size += extra
    if current:
        pieces.append("\n".join(current))
    return [piece for piece in pieces if piece.strip()] or [text[:1]]


def _cut_line(line: str, max_bytes: int) -> list[str]:
    """One line as chunks of at most max_bytes, cut between characters."""
    if utf8_len(line) <= max_bytes:
        return [line]
    chunks: list[str] = []
    start, size = 0, 0
    for i, ch in enumerate(line):
        width = utf8_len(ch)
        if size + width > max_bytes:
            chunks.append(line[start:i])
            start, size = i, 0
        size += width
    chunks.append(line[start:])
    return chunks


def truncate(text: str, max_bytes: int, marker: str) -> str:
    """The first piece of text (plus marker) when only one message may be sent."""
    pieces = split_text(text, max_bytes - utf8_len(marker) - 1)
    return pieces[0] if len(pieces) == 1 else pieces[0] + "\n" + marker
