"""Lines of `powersell-pipeline redact`'s stdin, read as bytes with a bound on each line.

The command promises one output line per input line, in order, and must survive any input:
bytes that are not UTF-8 are replaced (U+FFFD), never a traceback that loses the lines
around them; and a line is never held in memory past `max_bytes`: a longer one is skipped
to its end in small reads and reported as `LineTooLong` (its number and size, not its
content), so a stray multi-megabyte line costs neither minutes of scanning nor its size
in memory."""

from __future__ import annotations

from dataclasses import dataclass
from typing import BinaryIO, Callable, Iterator, TextIO

DEFAULT_MAX_LINE_BYTES = 1024 * 1024
_SKIP_CHUNK = 64 * 1024


@dataclass(frozen=True)
class LineTooLong:
    number: int          # 1-based
    size: int            # bytes, without the line ending
    limit: int

    def message(self) -> str:
        return (f"line {self.number} refused: {self.size} bytes, over the limit of {self.limit} "
                f"(--max-line-bytes); its content is not shown")


def read_lines(stream: BinaryIO, max_bytes: int = DEFAULT_MAX_LINE_BYTES) -> Iterator[str | LineTooLong]:
    """Each line of stream as text without its line ending (\\n or \\r\\n), invalid UTF-8
    replaced; a line over max_bytes as LineTooLong instead."""
    number = 0
    while line := stream.readline(max_bytes + 1):
        number += 1
        ended = line.endswith(b"\n")
        if not ended and len(line) > max_bytes:
            size = len(line)
            while not ended and (chunk := stream.readline(_SKIP_CHUNK)):  # drain it, holding one chunk at a time
                ended = chunk.endswith(b"\n")
                size += len(chunk) - ended
            yield LineTooLong(number, size, max_bytes)
            continue
        yield decode_line(line)


def decode_line(line: bytes) -> str:
    """A raw line as text: the line ending dropped, invalid UTF-8 sequences replaced."""
    if line.endswith(b"\n"):
        line = line[:-2] if line.endswith(b"\r\n") else line[:-1]
    return line.decode("utf-8", errors="replace")


def redact_stream(source: BinaryIO, sink: BinaryIO, errors: TextIO, redact_line: Callable[[int, str], str],
                  max_bytes: int = DEFAULT_MAX_LINE_BYTES, refused_line: Callable[[int], str] = lambda n: "") -> int:
    """redact_line(number, text) for each line of source, one UTF-8 line to sink per line in; a
    refused line (too long, or one the redactor failed on) is written as refused_line(number)
    so later lines keep their numbers, and reported on errors without its content. Returns how
    many lines were refused."""
    refused = 0
    for number, line in enumerate(read_lines(source, max_bytes), 1):
        if isinstance(line, LineTooLong):
            refused += 1
            print(f"redact: {line.message()}", file=errors, flush=True)
            text = refused_line(number)
        else:
            try:
                text = redact_line(number, line)
            except Exception as exc:  # one line never stops the rest; its text is not repeated
                refused += 1
                print(f"redact: line {number} refused: {type(exc).__name__} while redacting it", file=errors,
                      flush=True)
                text = refused_line(number)
        sink.write(text.encode("utf-8", errors="replace") + b"\n")
        sink.flush()
    return refused
