"""What native decoders (libjpeg, libtiff) print to stderr: their only word on corrupt data.

Both decode damaged data without failing: libjpeg fills a cut-off scan with grey, libtiff
a short LZW strip with zeros, and each only prints a warning. Pillow keeps them quiet or
lets them through to the process's stderr; this reads them back.
"""

from __future__ import annotations

import os
import re
import tempfile
from contextlib import contextmanager

# Messages of libjpeg and libtiff that mean the pixels are not what the file should hold.
# ("Invalid" is left out: libtiff says it of harmless things, such as tags out of order.)
CORRUPT = re.compile(r"Corrupt|Premature|premature|Not enough data|not yet in table|Decode:|"
                     r"Read error|[Bb]ad code|unexpected end")


@contextmanager
def captured_stderr():
    """Collect what native code writes to file descriptor 2 meanwhile (a list of lines)."""
    lines: list[str] = []
    saved = os.dup(2)
    with tempfile.TemporaryFile() as err:
        os.dup2(err.fileno(), 2)
        try:
            yield lines
        finally:
            os.dup2(saved, 2)
            os.close(saved)
            err.seek(0)
            lines.extend(line.strip() for line in err.read(8192).decode("utf-8", "replace").splitlines())


def corruption(lines: list[str]) -> str:
    """The native decoder messages among `lines` that report corrupt data, joined; "" if none."""
    return "; ".join(dict.fromkeys(line for line in lines if CORRUPT.search(line)))
