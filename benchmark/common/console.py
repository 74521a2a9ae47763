"""A command's console shows the command's own lines; what the libraries say goes to its log file.

TensorFlow, absl, tf2onnx and LiteRT write deprecation notices and start-up information while a
command runs (``extract_sub_graph ... is deprecated``, ``... will use the deprecated conversion
path``, ``Created TensorFlow Lite XNNPACK delegate``). :func:`libraries_to_log` sends all of it to
``logs/<command>.log`` (``$INFANT_POSE_LOGS`` names another folder) while the command runs:

- native output: the process's standard error (file descriptor 2, inherited by the processes it
  starts) is the log file;
- Python logging: the root logger's only handler writes to the log (so TensorFlow adds no handler
  of its own, and ``logging.basicConfig`` of a library does nothing);
- warnings raised by code outside this package go to the log; this package's own warnings are
  shown as before.

The command's own output (``print``, its error messages, progress bars) still reaches the console
through ``sys.stderr``, which is pointed at the console again. When the log is not empty, the
command says where it is.
"""

from __future__ import annotations

import logging
import os
import sys
import warnings
from collections.abc import Iterator
from contextlib import contextmanager, suppress
from pathlib import Path

ENV = "INFANT_POSE_LOGS"
PACKAGE = str(Path(__file__).resolve().parents[1])  # this package's folder


def log_file(command: str) -> Path:
    """Where the libraries' messages of ``command`` go: ``$INFANT_POSE_LOGS/<command>.log``, by default under ``logs/``."""
    return Path(os.environ.get(ENV) or "logs") / f"{command}.log"


def _ours(frame) -> bool:
    """Whether the code that issued a warning belongs to this package: the first frame outside the
    ``warnings`` module, counted from the warning's display (``frame``)."""
    while frame is not None and frame.f_code.co_filename == warnings.__file__:
        frame = frame.f_back
    return frame is not None and frame.f_code.co_filename.startswith(PACKAGE + os.sep)


def _writes_to_fd2(stream) -> bool:
    try:
        return stream.fileno() == 2
    except (AttributeError, OSError, ValueError):  # a test's capture object: leave it in place
        return False


@contextmanager
def libraries_to_log(path: Path) -> Iterator[Path]:
    """Send what the libraries write to ``path`` while the block runs (module docstring); yields
    the path. Everything is put back as it was when the block ends."""
    path = Path(path)
    created = not path.parent.exists()
    try:
        path.parent.mkdir(parents=True, exist_ok=True)
        log = open(path, "w", encoding="utf-8", errors="replace")
    except OSError as err:  # a read-only folder: the command runs all the same
        warnings.warn(f"{path}: cannot write the libraries' log ({err.strerror}); their messages stay on the console")
        yield path
        return
    for stream in (sys.stdout, sys.stderr):
        stream.flush()
    console_fd = os.dup(2)
    os.dup2(log.fileno(), 2)
    stderr = sys.stderr
    console = None
    if _writes_to_fd2(stderr):
        console = os.fdopen(os.dup(console_fd), "w", buffering=1, encoding=stderr.encoding, errors="backslashreplace")
        sys.stderr = console
    root = logging.getLogger()
    handlers = root.handlers[:]
    handler = logging.StreamHandler(log)
    handler.setFormatter(logging.Formatter(logging.BASIC_FORMAT))
    root.handlers = [handler]
    show = warnings.showwarning

    def showwarning(message, category, filename, lineno, file=None, line=None):
        if _ours(sys._getframe(1)):
            show(message, category, filename, lineno, file, line)
        else:
            log.write(warnings.formatwarning(message, category, filename, lineno, line))
            log.flush()

    warnings.showwarning = showwarning
    try:
        yield path
    finally:
        warnings.showwarning = show
        root.handlers = handlers
        log.flush()
        if console is not None:
            console.flush()
            sys.stderr = stderr
            console.close()
        os.dup2(console_fd, 2)
        os.close(console_fd)
        log.close()
        if path.stat().st_size:
            print(f"(messages of TensorFlow and the other libraries: {path})", file=sys.stderr)
        else:  # nothing to keep
            path.unlink()
            if created:
                with suppress(OSError):  # another command's log may be there by now
                    path.parent.rmdir()
