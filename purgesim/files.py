"""Writing files safely, and where this code comes from.

Every file purgesim writes (results, reports, exports, calibration output) goes through
:func:`atomic_write`: it is written to a temporary name in the same folder and then renamed,
so an interrupted write never leaves a half-written file under the real name, and a reader
never sees one. The temporary name carries this host and process (``.NAME.HOST-PID.XXXX``): a
writer killed outright (SIGKILL, power cut) leaves its temporary file behind, and the next
write of the same file removes those whose process is gone.
"""

from __future__ import annotations

import functools
import hashlib
import os
import socket
import subprocess
import tempfile
import threading
import tomllib
from collections.abc import Callable
from importlib.resources.abc import Traversable
from pathlib import Path

_fallback_lock = threading.Lock()
_fallback_umask: int | None = None


def umask() -> int:
    """The process's umask, read without changing it where the system allows."""
    try:
        # Linux 4.7+ reports it; setting the umask to read it would race with other threads
        # creating files
        with open("/proc/self/status", encoding="ascii") as status:
            for line in status:
                if line.startswith("Umask:"):
                    return int(line.split()[1], 8)
    except (OSError, ValueError, IndexError):
        pass
    return _umask_by_setting()


def _umask_by_setting() -> int:
    # Elsewhere the only way is to set it and set it back: done once, under a lock, and only
    # when a file is first written (not at import)
    global _fallback_umask
    with _fallback_lock:
        if _fallback_umask is None:
            mask = os.umask(0o022)
            os.umask(mask)
            _fallback_umask = mask
        return _fallback_umask


@functools.cache
def _host_tag() -> str:
    # a short stable tag: host names may hold dots and dashes
    return hashlib.sha1(socket.gethostname().encode()).hexdigest()[:8]


def _alive(pid: int) -> bool:
    try:
        os.kill(pid, 0)
    except ProcessLookupError:
        return False
    except OSError:  # PermissionError: alive, someone else's
        return True
    return True


def temporary_prefix(path: str | Path, pid: int | None = None) -> str:
    """How the temporary files of process ``pid`` (default: this one) on this host writing
    ``path`` are named: ``.NAME.HOST-PID.`` followed by random characters."""
    return f".{Path(path).name}.{_host_tag()}-{os.getpid() if pid is None else pid}."


def remove_stale_temporaries(path: str | Path) -> list[Path]:
    """Remove the temporary files that writers of ``path`` on this host left behind when
    they were killed (their process is gone); return them."""
    path = Path(path)
    prefix = f".{path.name}.{_host_tag()}-"
    removed = []
    try:
        candidates = [p for p in path.parent.iterdir() if p.name.startswith(prefix)]
    except OSError:
        return []
    for candidate in candidates:
        pid = candidate.name[len(prefix):].split(".", 1)[0]
        if pid.isdigit() and not _alive(int(pid)):
            try:
                candidate.unlink()
                removed.append(candidate)
            except OSError:
                pass
    return removed


def atomic_write(path: str | Path, write: Callable[[str], None]) -> Path:
    """Call ``write(tmp)`` to write a temporary file beside ``path``, then rename it to
    ``path``; on any error the temporary file is removed and ``path`` is left as it was.
    The file gets the mode a newly created file would get (0666 less the umask). Temporary
    files of killed writers of the same ``path`` are removed first."""
    path = Path(path)
    remove_stale_temporaries(path)
    fd, tmp = tempfile.mkstemp(prefix=temporary_prefix(path), dir=path.parent)
    os.close(fd)
    try:
        write(tmp)
        # mkstemp makes the file private (0600)
        os.chmod(tmp, 0o666 & ~umask())
        os.replace(tmp, path)
    except BaseException:
        Path(tmp).unlink(missing_ok=True)
        raise
    return path


def atomic_write_text(path: str | Path, text: str) -> Path:
    """Write ``text`` (UTF-8) to ``path`` atomically."""
    return atomic_write(path, lambda tmp: Path(tmp).write_text(text, encoding="utf-8"))


def atomic_write_bytes(path: str | Path, data: bytes) -> Path:
    """Write ``data`` to ``path`` atomically."""
    return atomic_write(path, lambda tmp: Path(tmp).write_bytes(data))


@functools.cache
def git_commit() -> str | None:
    """The git commit of the checkout this package runs from, or None outside one (an
    installed wheel) or without git. Asked once per process."""
    try:
        return subprocess.run(
            ["git", "rev-parse", "HEAD"], capture_output=True, text=True, timeout=5,
            cwd=Path(__file__).parent,
        ).stdout.strip() or None
    except (OSError, subprocess.SubprocessError):
        return None


def shipped_descriptions(folder: Traversable) -> dict[str, str]:
    """The TOML files shipped in ``folder`` (scenarios, designs): each name and the first line
    of its ``description``."""
    found = {}
    for entry in sorted(folder.iterdir(), key=lambda e: e.name):
        if entry.name.endswith(".toml"):
            data = tomllib.loads(entry.read_text(encoding="utf-8"))
            found[entry.name[:-5]] = str(data.get("description", "")).strip().split("\n")[0]
    return found


def shipped_or_file(ref: str, folder: Traversable) -> tuple[str, str] | None:
    """(label, text) of a name shipped in ``folder``, or else of a file at the path ``ref``;
    None when it is neither."""
    entry = folder.joinpath(f"{ref}.toml")
    if "/" not in ref and not ref.endswith(".toml") and entry.is_file():
        return f"{ref} (shipped)", entry.read_text(encoding="utf-8")
    path = Path(ref)
    if not path.is_file():
        return None
    return str(path), path.read_text(encoding="utf-8")
