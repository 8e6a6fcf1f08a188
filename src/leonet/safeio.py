"""Reading a user's input file safely: regular files only, a size cap, UTF-8, one located error otherwise.

A scenario may name any path (``tle = "/dev/zero"``, a FIFO, a directory, a 50 GB file).  The file is opened
without blocking (a FIFO with no writer would hang ``open``), checked to be a regular file on the opened
descriptor (no race between the check and the read), and read up to ``cap_bytes`` + 1 bytes at most.
"""

from __future__ import annotations

import os
import stat
from pathlib import Path

from leonet.errors import InputError

#: Largest input file read (bytes).  CelesTrak's whole active catalogue is ~3 MB as TLE, ~10 MB as OMM JSON.
MAX_INPUT_BYTES = 64 * 1024 * 1024


def read_text_capped(path: Path | str, expected: str, cap_bytes: int = MAX_INPUT_BYTES) -> str:
    """The text of ``path`` (UTF-8); an :class:`InputError` naming the path when it is missing, not a regular
    file, larger than ``cap_bytes``, unreadable or not UTF-8.  ``expected`` says what the file should be."""
    where = str(path)
    try:
        fd = os.open(path, os.O_RDONLY | os.O_NONBLOCK | getattr(os, "O_CLOEXEC", 0))
    except FileNotFoundError:
        raise InputError(where, f"no such file; expected {expected}") from None
    except (OSError, ValueError) as exc:  # ValueError: a NUL byte in the name
        raise InputError(where, f"cannot open it ({exc.__class__.__name__}); expected {expected}") from None
    try:
        st = os.fstat(fd)
        if not stat.S_ISREG(st.st_mode):
            kind = "a directory" if stat.S_ISDIR(st.st_mode) else "not a regular file (a device, FIFO or socket)"
            raise InputError(where, f"it is {kind}; expected {expected}")
        if st.st_size > cap_bytes:
            raise InputError(where, f"it has {st.st_size:,} bytes; expected {expected} of at most {cap_bytes:,} bytes")
        chunks: list[bytes] = []
        got = 0
        while got <= cap_bytes:
            block = os.read(fd, min(1 << 20, cap_bytes + 1 - got))
            if not block:
                break
            chunks.append(block)
            got += len(block)
    except OSError as exc:
        raise InputError(where, f"cannot read it ({exc.__class__.__name__}); expected {expected}") from None
    finally:
        os.close(fd)
    if got > cap_bytes:  # it grew while being read
        raise InputError(where, f"it has more than {cap_bytes:,} bytes; expected {expected} of at most that")
    data = b"".join(chunks)
    try:
        return data.decode("utf-8")
    except UnicodeDecodeError as exc:
        line = data[: exc.start].count(b"\n") + 1
        raise InputError(f"{where}:{line}", f"byte {data[exc.start]:#04x} is not UTF-8; expected {expected}") from None
