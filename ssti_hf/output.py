"""Where ssti-hf writes: never into a source, never over a file it did not write, never half a result.

- An output folder may not hold (or lie inside) a source it is built from.
- An existing output folder is replaced or extended only when it is ours: empty, or its README.md
  is a card we wrote (its YAML carries :data:`MARKER`); anything else is refused, untouched.
- Writers of one folder take turns on a lock (kept in the system's temporary folder, so nothing is
  left beside the output), and each writes into a temporary folder beside the output that is
  renamed in at the end. A process killed half-way leaves that temporary folder behind: the next
  run on the same output removes it (and puts back a previous output a kill left set aside).
"""

from __future__ import annotations

import contextlib
import hashlib
import os
import re
import shutil
import tempfile
from pathlib import Path

MARKER = "ssti_recipes"  # the YAML key of every dataset card ssti-hf writes (card.dataset_card)
_TMP = ".ssti-tmp-"  # .{out.name}.ssti-tmp-<random suffix>: a folder being written
_OLD = ".ssti-old-"  # .{out.name}.ssti-old-<random suffix>: a previous output set aside while the new one is renamed in


def check_out(out, sources=(), flag: str = "--out") -> Path:
    """Refuse an output path that cannot be a folder of ours, or that overlaps a local source."""
    out = Path(out).expanduser()
    if out.exists() and not out.is_dir():
        raise ValueError(f"{flag} {str(out)!r} exists and is not a folder")
    parent = out.absolute().parent
    while not parent.exists():
        parent = parent.parent
    if not parent.is_dir():
        raise ValueError(f"{flag} {str(out)!r} lies under {str(parent)!r}, which is a file, not a folder")
    if not os.access(parent if not out.exists() else out, os.W_OK):
        raise ValueError(f"{flag} {str(out)!r}: no permission to write in {str(parent if not out.exists() else out)!r}")
    target = out.resolve()
    for source in sources:
        if source is None or not Path(source).expanduser().exists():
            continue
        source = Path(source).expanduser().resolve()
        # a folder source: not it, nothing inside it (load_dataset(folder) would read it), nothing around it;
        # a file source: not its folder, nothing around it
        inside = source.is_dir() and source in target.parents
        if target == source or target in source.parents or inside:
            raise ValueError(
                f"{flag} {str(out)!r} overlaps the source {str(source)!r}: ssti-hf never writes where its input lives; "
                "choose another folder"
            )
    return out


def is_ours(folder) -> bool:
    """Whether ``folder``'s README.md is a card ssti-hf wrote."""
    readme = Path(folder) / "README.md"
    if not readme.is_file():
        return False
    from huggingface_hub import DatasetCard

    try:
        return MARKER in DatasetCard.load(readme).data.to_dict()
    except Exception:  # an unreadable card is not ours
        return False


def check_replaceable(out, flag: str = "--out", ours=None) -> None:
    """An existing, non-empty output folder must be ours (see the module doc); where the whole
    folder is replaced, ``ours`` names all it may hold (a file the user added there is kept, refused)."""
    out = Path(out)
    if not out.is_dir():
        return
    entries = sorted(p.name for p in out.iterdir())
    foreign = [name for name in entries if ours is not None and name not in ours]
    if entries and (not is_ours(out) or foreign):
        entries = foreign or entries
        shown = ", ".join(entries[:5]) + (", …" if len(entries) > 5 else "")
        raise ValueError(
            f"{flag} {str(out)!r} holds files ssti-hf did not write ({shown}); it never replaces them: choose an empty or new folder"
        )


@contextlib.contextmanager
def writing(out):
    """Hold ``out``'s lock, clean what killed runs left beside it, and yield a new temporary folder
    beside it (with the permissions a plain mkdir gives) that is removed unless renamed in. Parent
    folders it had to create are removed again when nothing was renamed in."""
    out = Path(out).expanduser()
    created = out.absolute().parent  # the topmost folder this call creates, removed again if nothing lands
    while not created.parent.exists():
        created = created.parent
    created = None if created.exists() else created
    out.absolute().parent.mkdir(parents=True, exist_ok=True)
    try:
        with _locked(out) as tmp:
            yield tmp
    finally:
        if created is not None and not out.exists():
            with contextlib.suppress(OSError):
                for folder in [out.absolute().parent, *out.absolute().parent.parents]:
                    folder.rmdir()  # only empty ones; stops at the first that is not ours to remove
                    if folder == created:
                        break


@contextlib.contextmanager
def _locked(out: Path):
    from filelock import FileLock

    key = hashlib.sha256(str(out.resolve()).encode()).hexdigest()[:24]
    locks = Path(tempfile.gettempdir()) / f"ssti-hf-locks-{os.getuid() if hasattr(os, 'getuid') else 'user'}"
    locks.mkdir(mode=0o700, exist_ok=True)
    with FileLock(str(locks / f"{key}.lock")):
        clean_leftovers(out)
        tmp = Path(tempfile.mkdtemp(prefix=f".{out.name}{_TMP}", dir=out.absolute().parent))
        umask = os.umask(0)
        os.umask(umask)
        tmp.chmod(0o777 & ~umask)
        try:
            yield tmp
        finally:
            shutil.rmtree(tmp, ignore_errors=True)


def swap_in(tmp: Path, out: Path) -> None:
    """Replace ``out`` by the finished folder ``tmp`` (inside :func:`writing`)."""
    out = Path(out).expanduser()
    if not out.exists():
        tmp.rename(out)
        return
    old = Path(tempfile.mkdtemp(prefix=f".{out.name}{_OLD}", dir=out.absolute().parent))
    out.rename(old / "previous")
    tmp.rename(out)
    shutil.rmtree(old, ignore_errors=True)


def clean_leftovers(out) -> None:
    """Remove temporary folders that killed runs left beside ``out`` (call it holding the lock); a
    previous output set aside by a run killed before it renamed the new one in is put back."""
    out = Path(out).expanduser()
    parent = out.absolute().parent
    if not parent.is_dir():
        return
    for path in sorted(parent.iterdir()):
        if not _leftover(path.name, out.name) or not path.is_dir():
            continue
        previous = path / "previous"
        if previous.is_dir() and not out.exists():
            previous.rename(out)
        shutil.rmtree(path, ignore_errors=True)


def _leftover(name: str, out_name: str) -> bool:
    # also the names earlier versions gave them (.OUT-xxxxxxxx, .OUT-old-xxxxxxxx: mkdtemp's 8 characters)
    return name.startswith((f".{out_name}{_TMP}", f".{out_name}{_OLD}")) or bool(
        re.fullmatch(rf"\.{re.escape(out_name)}-(old-)?[a-z0-9_]{{8}}", name))
