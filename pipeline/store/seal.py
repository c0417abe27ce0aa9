"""The store's seal: what lets a run trust the file without reading all of it again.

The deep check (`PRAGMA quick_check`, pipeline/store/inspect.py) reads every page of the store, so its
cost follows the archive (about 0.3 s of a quiet sync's 0.6 s at 50,000 articles). It need not run on
every run: a run that started from a sound store and ended cleanly leaves a sound store (SQLite writes
whole transactions), so after such a run Pānui records the file as that run left it (`store-checked.json`:
its device, inode, size, modification and change times, the machine's boot, and when a deep check last
found the store sound). The next run trusts the store without the deep check only when all of these
still hold:

- the file is exactly as the sealing run left it: nothing else wrote, replaced, copied, restored or cut
  it since (any write changes its change time, which no program can set back), and no `-wal` file is
  beside it (a run still writing, or one that was killed);
- the machine has not restarted since (a power cut can leave a file whose data and times disagree);
- the last deep check is less than DEEP_CHECK_EVERY old, so that damage that leaves the file's times
  alone (a disk's own decay) is found within a day.

A run in which SQLite reported damage (even damage turned into a problem of that run, such as a failed
publication) leaves no seal.

Any other run checks the whole file, as before. A seal that cannot be written or read costs only that."""

from __future__ import annotations

import json
from contextlib import suppress
from datetime import UTC, datetime
from pathlib import Path

from pipeline.files import write_atomic

SEAL_FILE = "store-checked.json"
DEEP_CHECK_EVERY = 86_400.0  # seconds: damage the file's times do not show is found within this
BOOT_ID = Path("/proc/sys/kernel/random/boot_id")  # Linux; elsewhere a restart is left to the daily check
_DAMAGE_MET: list[str] = []  # what SQLite reported as damage in this process, however it was handled


def note_damage(error: Exception) -> None:
    """SQLite found damage: no run that met it seals the store."""
    _DAMAGE_MET.append(str(error))


def damage_met() -> int:
    return len(_DAMAGE_MET)


def identity(path: Path) -> dict[str, int] | None:
    """What any change to the file (a write, a replacement, a copy put in its place) changes; None when
    the file is missing."""
    try:
        status = path.stat()
    except OSError:
        return None
    return {
        "device": status.st_dev,
        "inode": status.st_ino,
        "size": status.st_size,
        "modified_ns": status.st_mtime_ns,
        "changed_ns": status.st_ctime_ns,
    }


def sealed_since(path: Path, now: datetime) -> datetime | None:
    """When the deep check that still vouches for the store ran: the seal's, when the file is as the
    sealing run left it, on this boot, and that check is under DEEP_CHECK_EVERY old; else None."""
    try:
        seal = json.loads((path.parent / SEAL_FILE).read_bytes())
        checked = datetime.fromisoformat(seal["checked_at"])
        unchanged = seal["file"] == identity(path) and seal["boot"] == _boot()
        age = (now - checked).total_seconds()  # (a clock set back makes it negative: not trusted either)
    except (OSError, ValueError, TypeError, KeyError):  # (TypeError: a time with no zone, too)
        return None
    if not unchanged or Path(f"{path}-wal").exists():
        return None
    return checked if 0 <= age < DEEP_CHECK_EVERY else None


def record_seal(path: Path, checked_at: datetime) -> None:
    """After a run that started from a store found sound at `checked_at` and closed it cleanly: record
    the file as it is now. Not when a `-wal` is left (another connection still has it open)."""
    found = identity(path)
    if found is None or Path(f"{path}-wal").exists():
        return
    record = {"file": found, "boot": _boot(), "checked_at": checked_at.astimezone(UTC).isoformat()}
    with suppress(OSError):  # (unwritten, it costs only that the next run checks the whole file)
        write_atomic(path.parent / SEAL_FILE, (json.dumps(record, indent=1) + "\n").encode())


def _boot() -> str:
    try:
        return BOOT_ID.read_text("ascii").strip()
    except OSError:
        return ""
