"""Files that hold personal data or secrets: created readable by their owner only.

Databases, keys, node settings and the CA's files are created mode 0600 in folders of mode 0700,
whatever the process's umask (a default umask of 022 made them world-readable).
"""

from __future__ import annotations

from pathlib import Path

PRIVATE_FOLDER = 0o700
PRIVATE_FILE = 0o600


def private_folder(path: Path) -> Path:
    """Create ``path`` and any missing parents, each 0700.

    A folder that already exists keeps its mode: it may be shared (``/tmp``, a home folder), and
    the files created in it are private themselves.
    """
    missing = [folder for folder in (path, *path.parents) if not folder.exists()]
    for folder in reversed(missing):
        folder.mkdir(mode=PRIVATE_FOLDER, exist_ok=True)
        folder.chmod(PRIVATE_FOLDER)  # mkdir's mode is filtered by the umask
    return path


def private_file(path: Path) -> Path:
    """Create ``path`` empty if missing, in a private folder; the file is made 0600."""
    private_folder(path.parent)
    path.touch(mode=PRIVATE_FILE, exist_ok=True)
    path.chmod(PRIVATE_FILE)
    return path


def write_private(path: Path, data: bytes) -> None:
    """Write ``data`` to a file that nobody but the owner may read, before any byte lands."""
    private_file(path).write_bytes(data)
