import re
import subprocess
from pathlib import Path

from ssti_hf import _commit


def test_a_checkout_names_its_commit_and_marks_uncommitted_changes():
    _commit.commit.cache_clear()
    root = Path(_commit.__file__).parent
    head = subprocess.run(["git", "rev-parse", "HEAD"], cwd=root, capture_output=True, text=True, check=True).stdout.strip()
    dirty = subprocess.run(["git", "diff", "--quiet", "HEAD"], cwd=root).returncode != 0
    assert _commit.commit() == head + ("-dirty" if dirty else "")
    assert _commit.code()["version"] and re.fullmatch(r"\d+\.\d+.*", _commit.code()["version"])


def test_an_archive_names_the_commit_git_wrote_into_it(monkeypatch):
    monkeypatch.setattr(_commit, "ARCHIVED", "0123456789abcdef0123456789abcdef01234567")
    _commit.commit.cache_clear()
    try:
        assert _commit.commit() == "0123456789abcdef0123456789abcdef01234567"
    finally:
        _commit.commit.cache_clear()


def test_outside_a_checkout_the_commit_is_unknown(monkeypatch, tmp_path):
    copy = tmp_path / "_commit.py"
    copy.write_text(Path(_commit.__file__).read_text())
    monkeypatch.setattr(_commit, "__file__", str(copy))
    _commit.commit.cache_clear()
    try:
        assert _commit.commit() is None
    finally:
        _commit.commit.cache_clear()
