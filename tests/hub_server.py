"""A local, in-memory stand-in for the Hugging Face Hub HTTP API, for offline tests.

The real ``huggingface_hub`` client (and ``datasets``/``transformers``/``peft`` on top of it) talks to it exactly as
it talks to https://huggingface.co, with ``HF_ENDPOINT`` pointing at ``http://127.0.0.1:<port>`` and Xet disabled
(``HF_HUB_DISABLE_XET=1``: plain git-LFS uploads/downloads). Standard library only (``http.server`` + ``json``).

Usage::

    def test_something(local_hub):                      # pytest fixture defined below
        HfApi().create_repo("user/x", repo_type="dataset")
        ...
        assert "README.md" in local_hub.files("user/x", "dataset")

    with LocalHub(tmp_dir) as hub:                       # or as a context manager, outside pytest
        ...

What is implemented (what the client actually sends, read from huggingface_hub 2.x ``hf_api.py``,
``_commit_api.py``, ``lfs.py``, ``file_download.py``, ``hf_file_system.py``, ``utils/_http.py`` and datasets'
``push_to_hub``/``load_dataset``):

* ``POST /api/repos/create``, ``DELETE /api/repos/delete``, ``GET /api/whoami-v2``, ``POST /api/validate-yaml``
* ``GET /api/{models,datasets,spaces}/{repo_id}[/revision/{rev}]`` (``siblings``, ``sha``; ``blobs=true`` adds
  sizes/blob ids/LFS info)
* ``GET .../tree/{rev}[/{path}]`` (``recursive``, ``expand``, Link-header pagination), ``POST .../paths-info/{rev}``
  (form encoded), ``GET .../commits/{rev}``, ``GET .../refs``, ``POST|DELETE .../branch/{branch}``
* ``POST .../preupload/{rev}``: regular vs LFS decided like the Hub (``.gitattributes`` ``filter=lfs`` patterns of
  the target revision, size > 10 MB, or binary sample), ``shouldIgnore`` from ``.gitignore``, remote ``oid``
* ``POST /[{type}s/]{repo_id}.git/info/lfs/objects/batch`` (``basic`` transfer, or ``multipart`` when
  ``multipart_chunk_size`` is set), the signed ``PUT`` upload URL it hands back, and ``.../objects/verify``
* ``POST .../commit/{rev}`` (NDJSON: ``header`` / ``file`` / ``lfsFile`` / ``deletedFile`` / ``deletedFolder``;
  ``parentCommit`` checked -> 412; ``create_pr=1`` -> ``refs/pr/N``)
* ``HEAD|GET /[{type}s/]{repo_id}/resolve/{rev}/{path}`` with ``X-Repo-Commit``, ``ETag``, ``X-Linked-Etag`` /
  ``X-Linked-Size`` (LFS), ``Content-Length``, ``Accept-Ranges`` and single ``Range`` requests (206/416).
  By default LFS files are served directly (200); with ``lfs_cdn_host="localhost"`` they get a 302 to a "CDN" origin
  (other host name, same port), like the real Hub's redirect to its CDN: the client then takes the metadata from the
  302 itself and must download from the CDN URL *without* its Authorization header (the CDN rejects it, like S3).

Anything else is answered 404 with ``X-Error-Message: LocalHub: unhandled ...``, logged (logger
``tests.hub_server``) and recorded in ``LocalHub.unhandled`` so missing endpoints are easy to spot.
``LocalHub.requests`` records ``(method, path, status, authenticated)`` of every request (never headers or tokens).
"""

from __future__ import annotations

import base64
import fnmatch
import hashlib
import itertools
import json
import logging
import os
import re
import secrets
import sys
import threading
import time
from dataclasses import dataclass, field
from datetime import datetime, timezone
from http.server import BaseHTTPRequestHandler, ThreadingHTTPServer
from pathlib import Path
from typing import Any, Iterator
from urllib.parse import parse_qs, quote, unquote, urlsplit

import pytest


logger = logging.getLogger("tests.hub_server")

REPO_TYPES = {"models": "model", "datasets": "dataset", "spaces": "space"}
URL_PREFIX = {"model": "", "dataset": "datasets/", "space": "spaces/"}
LFS_SIZE_THRESHOLD = 10 * 1024 * 1024  # the Hub refuses regular (non-LFS) files above 10 MB
DEFAULT_NAMESPACE = "user"
_API_VERBS = {"revision", "tree", "paths-info", "preupload", "commit", "commits", "refs", "branch", "tag"}

# Default `.gitattributes` the Hub writes in the initial commit of a new repo (abridged, LFS rules only).
_DEFAULT_GITATTRIBUTES_PATTERNS = [
    "*.7z", "*.arrow", "*.bin", "*.bz2", "*.ckpt", "*.ftz", "*.gz", "*.h5", "*.joblib", "*.lfs.*", "*.lz4",
    "*.mds", "*.mlmodel", "*.model", "*.msgpack", "*.npy", "*.npz", "*.onnx", "*.ot", "*.parquet", "*.pb",
    "*.pickle", "*.pkl", "*.pt", "*.pth", "*.rar", "*.safetensors", "saved_model/**/*", "*.tar.*", "*.tar",
    "*.tflite", "*.tgz", "*.wasm", "*.xz", "*.zip", "*.zst", "*tfevents*",
]
DEFAULT_GITATTRIBUTES = "".join(
    f"{pattern} filter=lfs diff=lfs merge=lfs -text\n" for pattern in _DEFAULT_GITATTRIBUTES_PATTERNS
).encode()


def _now() -> str:
    return datetime.now(timezone.utc).strftime("%Y-%m-%dT%H:%M:%S.%f")[:-3] + "Z"


def git_blob_oid(data: bytes) -> str:
    """git's object id of a blob (what the Hub returns as `oid`/`blobId`/ETag of regular files)."""
    return hashlib.sha1(b"blob %d\0" % len(data) + data).hexdigest()


def lfs_pointer(sha256: str, size: int) -> bytes:
    return f"version https://git-lfs.github.com/spec/v1\noid sha256:{sha256}\nsize {size}\n".encode()


# ----------------------------------------------------------------------------------------------------------------
# Storage model
# ----------------------------------------------------------------------------------------------------------------


@dataclass(frozen=True)
class FileEntry:
    path: str
    size: int
    oid: str  # git blob oid (of the content, or of the LFS pointer for LFS files)
    data: bytes | None  # content of regular files
    lfs_sha256: str | None  # sha256 of LFS files (content lives in the repo's LFS store)
    last_commit: str

    @property
    def is_lfs(self) -> bool:
        return self.lfs_sha256 is not None


@dataclass
class Commit:
    oid: str
    parents: list[str]
    title: str
    message: str
    date: str
    files: dict[str, FileEntry]


@dataclass
class Repo:
    repo_type: str
    repo_id: str
    private: bool
    created_at: str
    commits: dict[str, Commit] = field(default_factory=dict)
    refs: dict[str, str] = field(default_factory=dict)  # "main", "refs/pr/1", tag names -> commit oid
    lfs: dict[str, bytes] = field(default_factory=dict)  # sha256 -> content
    pr_count: int = 0

    def resolve(self, revision: str) -> Commit | None:
        if revision in self.refs:
            return self.commits[self.refs[revision]]
        if revision in self.commits:
            return self.commits[revision]
        if re.fullmatch(r"[0-9a-f]{7,40}", revision):
            matches = [oid for oid in self.commits if oid.startswith(revision)]
            if len(matches) == 1:
                return self.commits[matches[0]]
        return None

    def content(self, entry: FileEntry) -> bytes:
        return self.lfs[entry.lfs_sha256] if entry.lfs_sha256 is not None else entry.data  # type: ignore[return-value]


class HubError(Exception):
    """Raised inside handlers; rendered like the Hub renders its errors (status, X-Error-Code/Message, JSON)."""

    def __init__(
        self, status: int, message: str, code: str | None = None, headers: dict[str, str] | None = None, extra=None
    ):
        super().__init__(message)
        self.status, self.message, self.code, self.headers = status, message, code, headers or {}
        self.extra = extra or {}  # more JSON fields, e.g. the "url" the Hub sends with a 409 on create


class _Dropped(Exception):
    """Raised by an injected fault: the connection is closed without an answer."""


@dataclass
class Fault:
    """A failure the server plays on matching requests (see :meth:`LocalHub.fail`)."""

    method: str
    path: re.Pattern
    status: int | None  # None: drop the connection without answering (the server gone mid-request)
    times: int | None  # how many requests it hits (None: all)
    message: str
    hits: int = 0


def _gitattributes_lfs_patterns(files: dict[str, FileEntry], repo: Repo) -> list[str]:
    entry = files.get(".gitattributes")
    if entry is None:
        return []
    patterns = []
    for line in repo.content(entry).decode("utf-8", errors="replace").splitlines():
        parts = line.split()
        if len(parts) >= 2 and not parts[0].startswith("#") and "filter=lfs" in parts[1:]:
            patterns.append(parts[0])
    return patterns


def _match_git_pattern(pattern: str, path: str) -> bool:
    """Approximate gitattributes/gitignore matching (enough for the Hub's default rules)."""
    pattern = pattern.strip()
    if pattern.endswith("/"):
        return path.startswith(pattern.lstrip("/")) or f"/{pattern}" in f"/{path}"
    if "/" not in pattern.rstrip("/"):
        return fnmatch.fnmatchcase(path.rsplit("/", 1)[-1], pattern)
    return fnmatch.fnmatchcase(path, pattern.lstrip("/").replace("**/", "*"))


# ----------------------------------------------------------------------------------------------------------------
# HTTP handler
# ----------------------------------------------------------------------------------------------------------------


class _Handler(BaseHTTPRequestHandler):
    protocol_version = "HTTP/1.1"  # keep-alive; every response carries a Content-Length
    server_version = "LocalHub/1.0"
    hub: "LocalHub"  # set on the subclass created per server

    # -- plumbing ------------------------------------------------------------------------------------------------
    def log_message(self, format: str, *args: Any) -> None:  # noqa: A002 - silence stderr, request line only
        logger.debug("%s - %s", self.address_string(), format % args)

    def setup(self) -> None:
        super().setup()
        self.hub._track_connection(self.connection, add=True)

    def finish(self) -> None:
        try:
            super().finish()
        finally:
            self.hub._track_connection(self.connection, add=False)

    def do_GET(self) -> None:
        self._dispatch("GET")

    def do_HEAD(self) -> None:
        self._dispatch("HEAD")

    def do_POST(self) -> None:
        self._dispatch("POST")

    def do_PUT(self) -> None:
        self._dispatch("PUT")

    def do_DELETE(self) -> None:
        self._dispatch("DELETE")

    def _read_body(self) -> bytes:
        if getattr(self, "_body", None) is not None:
            return self._body
        if "chunked" in self.headers.get("Transfer-Encoding", "").lower():
            chunks = []
            while True:
                size_line = self.rfile.readline().split(b";", 1)[0].strip()
                size = int(size_line or b"0", 16)
                if size == 0:
                    while self.rfile.readline() not in (b"\r\n", b"\n", b""):
                        pass  # trailers
                    break
                chunks.append(self.rfile.read(size))
                self.rfile.readline()  # CRLF after each chunk
            body = b"".join(chunks)
        else:
            body = self.rfile.read(int(self.headers.get("Content-Length") or 0))
        self._body = body
        return body

    def _json_body(self) -> Any:
        body = self._read_body()
        try:
            return json.loads(body or b"null")
        except json.JSONDecodeError as e:
            raise HubError(400, f"Invalid JSON body: {e}") from e

    @property
    def authenticated(self) -> bool:
        return self.headers.get("Authorization") == f"Bearer {self.hub._token}"

    def _require_auth(self) -> None:
        if self.headers.get("Authorization") is None:
            raise HubError(401, "You must be authenticated to do that", headers={})
        if not self.authenticated:
            raise HubError(401, "Invalid credentials in Authorization header")

    def _send(
        self,
        status: int,
        body: bytes = b"",
        content_type: str = "application/json",
        headers: dict[str, str] | None = None,
        content_length: int | None = None,
    ) -> None:
        self.send_response(status)
        self.send_header("Content-Type", content_type)
        for key, value in (headers or {}).items():
            self.send_header(key, value)
        self.send_header("Content-Length", str(len(body) if content_length is None else content_length))
        self.end_headers()
        if self.command != "HEAD" and body:
            self.wfile.write(body)
        self._status = status

    def _send_json(self, obj: Any, status: int = 200, headers: dict[str, str] | None = None) -> None:
        self._send(status, json.dumps(obj).encode(), headers=headers)

    def _dispatch(self, method: str) -> None:
        self._body = None
        self._status = 0
        split = urlsplit(self.path)
        self.query = parse_qs(split.query, keep_blank_values=True)
        raw_segments = [s for s in split.path.split("/") if s != ""]
        try:
            # Drain the request body before answering: keeps the keep-alive connection in sync.
            if method in ("POST", "PUT", "DELETE"):
                self._read_body()
            self.hub._maybe_delay()
            self.hub._inject_fault(self, method, split.path)
            self._route(method, raw_segments)
        except HubError as e:
            headers = dict(e.headers)
            headers["X-Error-Message"] = e.message
            if e.code:
                headers["X-Error-Code"] = e.code
            self._send_json({"error": e.message, **e.extra}, status=e.status, headers=headers)
        except (BrokenPipeError, ConnectionResetError):
            self._status = 499
            self.close_connection = True
        except _Dropped:  # fault injection: the server went away mid-request
            self._status = 0
            self.close_connection = True
            try:
                self.connection.shutdown(2)
            except OSError:
                pass
        except Exception as e:  # pragma: no cover - server bug: surface it to the client as a 500
            logger.exception("LocalHub internal error on %s %s", method, split.path)
            self.hub.errors.append(f"{method} {split.path}: {type(e).__name__}: {e}")
            try:
                self._send_json({"error": f"LocalHub internal error: {e}"}, status=500)
            except OSError:
                self.close_connection = True
        finally:
            self.hub._record(method, self.path, self._status, self.authenticated)

    # -- routing -------------------------------------------------------------------------------------------------
    def _route(self, method: str, raw: list[str]) -> None:
        seg = [unquote(s) for s in raw]
        hub = self.hub
        if seg[:1] == ["api"]:
            if seg[1:3] == ["repos", "create"] and method == "POST":
                return self._create_repo()
            if seg[1:3] == ["repos", "delete"] and method == "DELETE":
                return self._delete_repo()
            if seg[1:] == ["whoami-v2"] and method == "GET":
                self._require_auth()
                return self._send_json(
                    {"type": "user", "name": DEFAULT_NAMESPACE, "orgs": [], "auth": {"accessToken": {"role": "write"}}}
                )
            if seg[1:] == ["validate-yaml"] and method == "POST":
                return self._validate_yaml()
            if len(seg) >= 3 and seg[1] in REPO_TYPES:
                repo_type = REPO_TYPES[seg[1]]
                if len(raw) >= 4 and seg[3] not in _API_VERBS:
                    repo_id, rest, raw_rest = f"{seg[2]}/{seg[3]}", seg[4:], raw[4:]
                else:
                    repo_id, rest, raw_rest = seg[2], seg[3:], raw[3:]
                return self._route_repo_api(method, repo_type, repo_id, rest, raw_rest)
        elif seg[:1] == ["lfs-upload"]:
            return self._lfs_upload(method, seg[1:])
        elif seg[:1] == ["lfs-cdn"] and method in ("GET", "HEAD") and len(seg) == 4:
            return self._lfs_cdn(seg[1], seg[2], seg[3])
        else:
            repo_type = "model"
            if seg and seg[0] in REPO_TYPES and seg[0] != "models":
                repo_type, seg, raw = REPO_TYPES[seg[0]], seg[1:], raw[1:]
            # git LFS endpoints: /{repo_id}.git/info/lfs/objects/{batch,verify}
            for i, s in enumerate(seg[:2]):
                if s.endswith(".git") and seg[i + 1 : i + 4] == ["info", "lfs", "objects"] and len(seg) == i + 5:
                    repo_id = "/".join(seg[: i + 1])[: -len(".git")]
                    if method == "POST" and seg[i + 4] == "batch":
                        return self._lfs_batch(repo_type, repo_id)
                    if method == "POST" and seg[i + 4] == "verify":
                        return self._lfs_verify(repo_type, repo_id)
            # downloads: /{repo_id}/resolve/{revision}/{path}
            for i in (1, 2):
                if len(seg) > i + 2 and seg[i] == "resolve" and method in ("GET", "HEAD"):
                    repo_id = "/".join(seg[:i])
                    path = "/".join(seg[i + 2 :])
                    return self._resolve(repo_type, repo_id, seg[i + 1], path)
        hub._unhandled(method, self.path)
        raise HubError(404, f"LocalHub: unhandled route {method} {urlsplit(self.path).path}")

    def _route_repo_api(self, method: str, repo_type: str, repo_id: str, rest: list[str], raw_rest: list[str]) -> None:
        if not rest and method == "GET":
            return self._repo_info(repo_type, repo_id, "main")
        verb = rest[0] if rest else ""
        if verb == "revision" and len(rest) == 2 and method == "GET":
            return self._repo_info(repo_type, repo_id, rest[1])
        if verb == "tree" and len(rest) >= 2 and method == "GET":
            return self._tree(repo_type, repo_id, rest[1], "/".join(rest[2:]).strip("/"))
        if verb == "paths-info" and len(rest) == 2 and method == "POST":
            return self._paths_info(repo_type, repo_id, rest[1])
        if verb == "preupload" and len(rest) == 2 and method == "POST":
            return self._preupload(repo_type, repo_id, rest[1])
        if verb == "commit" and len(rest) == 2 and method == "POST":
            return self._commit(repo_type, repo_id, rest[1])
        if verb == "commits" and len(rest) == 2 and method == "GET":
            return self._list_commits(repo_type, repo_id, rest[1])
        if verb == "refs" and len(rest) == 1 and method == "GET":
            return self._refs(repo_type, repo_id)
        if verb == "branch" and len(rest) == 2 and method in ("POST", "DELETE"):
            return self._branch(method, repo_type, repo_id, rest[1])
        self.hub._unhandled(method, self.path)
        raise HubError(404, f"LocalHub: unhandled route {method} {urlsplit(self.path).path}")

    # -- helpers -------------------------------------------------------------------------------------------------
    def _get_repo(self, repo_type: str, repo_id: str) -> Repo:
        repo = self.hub._repos.get((repo_type, repo_id))
        if repo is None or (repo.private and not self.authenticated):
            raise HubError(404, "Repository not found", code="RepoNotFound")
        return repo

    def _get_commit(self, repo: Repo, revision: str) -> Commit:
        commit = repo.resolve(revision)
        if commit is None:
            raise HubError(404, f"Invalid rev id: {revision}", code="RevisionNotFound")
        return commit

    def _repo_url(self, repo: Repo) -> str:
        return f"{self.hub.endpoint}/{URL_PREFIX[repo.repo_type]}{repo.repo_id}"

    def _bool_param(self, name: str) -> bool:
        values = self.query.get(name) or self.query.get(f"{name}[]") or []
        return any(v.lower() in ("1", "true", "yes") for v in values)

    # -- repos ---------------------------------------------------------------------------------------------------
    def _create_repo(self) -> None:
        self._require_auth()
        payload = self._json_body() or {}
        repo_type = payload.get("type") or "model"
        if repo_type not in URL_PREFIX:
            raise HubError(400, f"Invalid repo type {repo_type!r}")
        name = payload.get("name")
        if not name or "/" in name:
            raise HubError(400, f"Invalid repo name {name!r}")
        repo_id = f"{payload.get('organization') or DEFAULT_NAMESPACE}/{name}"
        private = bool(payload.get("private")) or payload.get("visibility") == "private"
        with self.hub._lock:
            if (repo_type, repo_id) in self.hub._repos:
                existing = self.hub._repos[(repo_type, repo_id)]
                raise HubError(409, f"You already created this {repo_type} repo", extra={"url": self._repo_url(existing)})
            repo = Repo(repo_type=repo_type, repo_id=repo_id, private=private, created_at=_now())
            self.hub._repos[(repo_type, repo_id)] = repo
            gitattributes = FileEntry(
                ".gitattributes", len(DEFAULT_GITATTRIBUTES), git_blob_oid(DEFAULT_GITATTRIBUTES),
                DEFAULT_GITATTRIBUTES, None, "",
            )
            self.hub._new_commit(repo, None, "initial commit", "", {".gitattributes": gitattributes}, branch="main")
        url = self._repo_url(repo)
        self._send_json({"url": url, "name": repo_id, "id": repo_id})

    def _delete_repo(self) -> None:
        self._require_auth()
        payload = self._json_body() or {}
        repo_id = f"{payload.get('organization') or DEFAULT_NAMESPACE}/{payload.get('name')}"
        with self.hub._lock:
            if self.hub._repos.pop((payload.get("type") or "model", repo_id), None) is None:
                raise HubError(404, "Repository not found", code="RepoNotFound")
        self._send_json({})

    def _validate_yaml(self) -> None:
        payload = self._json_body() or {}
        content = payload.get("content") or ""
        errors = []
        lines = content.replace("\r\n", "\n").split("\n")
        if lines and lines[0].strip() == "---" and "---" not in [line.strip() for line in lines[1:]]:
            errors.append({"message": "YAML metadata block is not closed with '---'"})
        if errors:
            return self._send_json({"errors": errors, "warnings": []}, status=400)
        self._send_json({"errors": [], "warnings": []})

    def _repo_info(self, repo_type: str, repo_id: str, revision: str) -> None:
        repo = self._get_repo(repo_type, repo_id)
        with self.hub._lock:
            commit = self._get_commit(repo, revision)
            blobs = self._bool_param("blobs")
            siblings = []
            for path in sorted(commit.files):
                entry = commit.files[path]
                sibling: dict[str, Any] = {"rfilename": path}
                if blobs:
                    sibling.update(size=entry.size, blobId=entry.oid)
                    if entry.is_lfs:
                        sibling["lfs"] = {
                            "sha256": entry.lfs_sha256,
                            "size": entry.size,
                            "pointerSize": len(lfs_pointer(entry.lfs_sha256, entry.size)),
                        }
                siblings.append(sibling)
        info: dict[str, Any] = {
            "_id": hashlib.sha1(f"{repo_type}/{repo_id}".encode()).hexdigest()[:24],
            "id": repo_id,
            "author": repo_id.split("/")[0] if "/" in repo_id else None,
            "sha": commit.oid,
            "createdAt": repo.created_at,
            "lastModified": commit.date,
            "private": repo.private,
            "gated": False,
            "disabled": False,
            "downloads": 0,
            "likes": 0,
            "tags": [],
            "siblings": siblings,
            "usedStorage": sum(e.size for e in commit.files.values()),
        }
        if repo_type == "model":
            info["modelId"] = repo_id
        self._send_json(info)

    # -- listing -------------------------------------------------------------------------------------------------
    def _entry_json(self, repo: Repo, entry: FileEntry, expand: bool) -> dict[str, Any]:
        out: dict[str, Any] = {"type": "file", "oid": entry.oid, "size": entry.size, "path": entry.path}
        if entry.is_lfs:
            out["lfs"] = {
                "oid": entry.lfs_sha256,
                "size": entry.size,
                "pointerSize": len(lfs_pointer(entry.lfs_sha256, entry.size)),
            }
        if expand:
            out["lastCommit"] = self._last_commit_json(repo, entry.last_commit)
        return out

    def _dir_json(self, repo: Repo, files: dict[str, FileEntry], path: str, expand: bool) -> dict[str, Any]:
        children = sorted((p, e) for p, e in files.items() if p.startswith(path + "/"))
        tree_oid = hashlib.sha1("".join(f"{p}:{e.oid}\n" for p, e in children).encode()).hexdigest()
        out: dict[str, Any] = {"type": "directory", "oid": tree_oid, "size": 0, "path": path}
        if expand:
            # the most recent commit touching the folder
            order = {oid: i for i, oid in enumerate(repo.commits)}
            last = max((e.last_commit for _, e in children), key=lambda oid: order.get(oid, -1))
            out["lastCommit"] = self._last_commit_json(repo, last)
        return out

    @staticmethod
    def _last_commit_json(repo: Repo, oid: str) -> dict[str, Any]:
        commit = repo.commits[oid]
        return {"id": commit.oid, "title": commit.title, "date": commit.date}

    @staticmethod
    def _dirs(files: dict[str, FileEntry]) -> set[str]:
        dirs = set()
        for path in files:
            parts = path.split("/")[:-1]
            for i in range(1, len(parts) + 1):
                dirs.add("/".join(parts[:i]))
        return dirs

    def _tree(self, repo_type: str, repo_id: str, revision: str, path: str) -> None:
        repo = self._get_repo(repo_type, repo_id)
        recursive = self._bool_param("recursive")
        expand = self._bool_param("expand")
        with self.hub._lock:
            commit = self._get_commit(repo, revision)
            files = commit.files
            dirs = self._dirs(files)
            if path and path in files:
                entries = [self._entry_json(repo, files[path], expand)]
            elif path and path not in dirs:
                raise HubError(
                    404, f"{path} does not exist on {revision}", code="EntryNotFound",
                    headers={"X-Repo-Commit": commit.oid},
                )
            else:
                prefix = path + "/" if path else ""

                def wanted(p: str) -> bool:
                    return p.startswith(prefix) and (recursive or "/" not in p[len(prefix) :])

                entries = [self._dir_json(repo, files, d, expand) for d in sorted(dirs) if wanted(d)]
                entries += [self._entry_json(repo, files[p], expand) for p in sorted(files) if wanted(p)]
        # Cursor pagination with a GitHub-style Link header, like the Hub (1000 entries per page, 50 with expand).
        page_size = self.hub.tree_page_size if not expand else min(self.hub.tree_page_size, 50)
        start = int((self.query.get("cursor") or ["0"])[0])
        page = entries[start : start + page_size]
        headers = {}
        if start + page_size < len(entries):
            split = urlsplit(self.path)
            params = [(k, v) for k, vs in self.query.items() if k != "cursor" for v in vs]
            params.append(("cursor", str(start + page_size)))
            query = "&".join(f"{quote(k)}={quote(v)}" for k, v in params)
            headers["Link"] = f'<{self.hub.endpoint}{split.path}?{query}>; rel="next"'
        self._send_json(page, headers=headers)

    def _paths_info(self, repo_type: str, repo_id: str, revision: str) -> None:
        repo = self._get_repo(repo_type, repo_id)
        body = self._read_body().decode()
        if self.headers.get("Content-Type", "").startswith("application/json"):
            payload = json.loads(body or "{}")
            paths, expand = payload.get("paths", []), bool(payload.get("expand"))
        else:
            form = parse_qs(body, keep_blank_values=True)
            paths = form.get("paths", [])
            expand = any(v.lower() in ("1", "true") for v in form.get("expand", []))
        with self.hub._lock:
            commit = self._get_commit(repo, revision)
            dirs = self._dirs(commit.files)
            out = []
            for p in paths:
                p = p.strip("/")
                if p in commit.files:
                    out.append(self._entry_json(repo, commit.files[p], expand))
                elif p in dirs:
                    out.append(self._dir_json(repo, commit.files, p, expand))
        self._send_json(out)

    def _list_commits(self, repo_type: str, repo_id: str, revision: str) -> None:
        repo = self._get_repo(repo_type, repo_id)
        with self.hub._lock:
            commit: Commit | None = self._get_commit(repo, revision)
            out = []
            while commit is not None:
                out.append(
                    {
                        "id": commit.oid,
                        "title": commit.title,
                        "message": commit.message,
                        "authors": [{"user": DEFAULT_NAMESPACE, "avatar": None}],
                        "date": commit.date,
                    }
                )
                commit = repo.commits[commit.parents[0]] if commit.parents else None
        self._send_json(out)

    def _refs(self, repo_type: str, repo_id: str) -> None:
        repo = self._get_repo(repo_type, repo_id)
        with self.hub._lock:
            refs = dict(repo.refs)
        branches = [
            {"name": name, "ref": f"refs/heads/{name}", "targetCommit": oid}
            for name, oid in refs.items()
            if not name.startswith("refs/")
        ]
        prs = [
            {"name": name, "ref": name, "targetCommit": oid}
            for name, oid in refs.items()
            if name.startswith("refs/pr/")
        ]
        self._send_json({"branches": branches, "converts": [], "tags": [], "pullRequests": prs})

    def _branch(self, method: str, repo_type: str, repo_id: str, branch: str) -> None:
        self._require_auth()
        repo = self._get_repo(repo_type, repo_id)
        with self.hub._lock:
            if method == "DELETE":
                if branch not in repo.refs or branch == "main":
                    raise HubError(404, f"Invalid rev id: {branch}", code="RevisionNotFound")
                del repo.refs[branch]
                return self._send_json({})
            if branch in repo.refs:
                raise HubError(409, f"Reference already exists: refs/heads/{branch}")
            payload = self._json_body() or {}
            start = self._get_commit(repo, payload.get("startingPoint") or "main")
            repo.refs[branch] = start.oid
        self._send_json({})

    # -- uploads -------------------------------------------------------------------------------------------------
    def _preupload(self, repo_type: str, repo_id: str, revision: str) -> None:
        self._require_auth()
        repo = self._get_repo(repo_type, repo_id)
        payload = self._json_body() or {}
        with self.hub._lock:
            commit = self._get_commit(repo, "main" if self._bool_param("create_pr") else revision)
            lfs_patterns = _gitattributes_lfs_patterns(commit.files, repo)
            gitignore = payload.get("gitIgnore")
            if gitignore is None and ".gitignore" in commit.files:
                gitignore = repo.content(commit.files[".gitignore"]).decode("utf-8", errors="replace")
            ignore_patterns = [
                line.strip() for line in (gitignore or "").splitlines() if line.strip() and not line.startswith("#")
            ]
            out = []
            for f in payload.get("files", []):
                path, size = f["path"], int(f["size"])
                sample = base64.b64decode(f.get("sample") or "")
                is_lfs = (
                    size > LFS_SIZE_THRESHOLD
                    or b"\x00" in sample  # binary content
                    or any(_match_git_pattern(p, path) for p in lfs_patterns)
                )
                existing = commit.files.get(path)
                oid = None
                if existing is not None:
                    oid = existing.lfs_sha256 if existing.is_lfs else existing.oid
                out.append(
                    {
                        "path": path,
                        "uploadMode": "lfs" if is_lfs else "regular",
                        "shouldIgnore": any(_match_git_pattern(p, path) for p in ignore_patterns),
                        "oid": oid,
                    }
                )
        self._send_json({"files": out, "commitOid": commit.oid})

    def _lfs_batch(self, repo_type: str, repo_id: str) -> None:
        self._require_auth()
        repo = self._get_repo(repo_type, repo_id)
        payload = self._json_body() or {}
        if payload.get("operation") != "upload":
            raise HubError(400, "LocalHub only implements the LFS 'upload' operation")
        transfers = payload.get("transfers") or ["basic"]
        chunk_size = self.hub.multipart_chunk_size
        use_multipart = chunk_size is not None and "multipart" in transfers
        objects = []
        verify_href = f"{self.hub.endpoint}/{URL_PREFIX[repo_type]}{repo_id}.git/info/lfs/objects/verify"
        with self.hub._lock:
            for obj in payload.get("objects", []):
                oid, size = obj["oid"], int(obj["size"])
                if not re.fullmatch(r"[0-9a-f]{64}", oid):
                    objects.append({"oid": oid, "size": size, "error": {"code": 422, "message": "Invalid oid"}})
                    continue
                if oid in repo.lfs:
                    objects.append({"oid": oid, "size": size, "authenticated": True})  # already there: no actions
                    continue
                upload_id = secrets.token_urlsafe(16)  # acts as the signature of a pre-signed S3 URL
                self.hub._pending_uploads[upload_id] = (repo_type, repo_id, oid, size)
                href = f"{self.hub.endpoint}/lfs-upload/{upload_id}"
                upload: dict[str, Any] = {"href": href, "expires_in": 86400}
                if use_multipart and size > chunk_size:
                    n_parts = -(-size // chunk_size)
                    upload["header"] = {"chunk_size": str(chunk_size)}
                    for part in range(1, n_parts + 1):
                        upload["header"][f"{part:05d}"] = f"{href}/part/{part}"
                objects.append(
                    {
                        "oid": oid,
                        "size": size,
                        "authenticated": True,
                        "actions": {"upload": upload, "verify": {"href": verify_href, "header": {}}},
                    }
                )
        transfer = "multipart" if use_multipart else "basic"
        self._send(
            200,
            json.dumps({"transfer": transfer, "objects": objects, "hash_algo": "sha256"}).encode(),
            content_type="application/vnd.git-lfs+json",
        )

    def _lfs_upload(self, method: str, rest: list[str]) -> None:
        if not rest or rest[0] not in self.hub._pending_uploads:
            raise HubError(403, "Request has expired or signature does not match")  # like a bad S3 pre-signed URL
        upload_id = rest[0]
        repo_type, repo_id, oid, size = self.hub._pending_uploads[upload_id]
        body = self._read_body()
        if method == "PUT" and len(rest) == 3 and rest[1] == "part":  # multipart: one part
            etag = f'"{hashlib.md5(body).hexdigest()}"'
            with self.hub._lock:
                self.hub._upload_parts.setdefault(upload_id, {})[int(rest[2])] = (etag, body)
            return self._send(200, headers={"ETag": etag})
        if method == "PUT" and len(rest) == 1:  # basic transfer: the whole object
            return self._store_lfs_object(upload_id, repo_type, repo_id, oid, size, body)
        if method == "POST" and len(rest) == 1:  # multipart completion
            payload = json.loads(body or b"{}")
            with self.hub._lock:
                parts = self.hub._upload_parts.pop(upload_id, {})
            data = []
            for expected_number, part in enumerate(payload.get("parts", []), start=1):
                number = part.get("partNumber")
                if number != expected_number or number not in parts or parts[number][0] != part.get("etag"):
                    raise HubError(400, f"Invalid part {number} in multipart completion")
                data.append(parts[number][1])
            return self._store_lfs_object(upload_id, repo_type, repo_id, oid, size, b"".join(data))
        raise HubError(405, f"Method {method} not allowed on upload URL")

    def _store_lfs_object(self, upload_id: str, repo_type: str, repo_id: str, oid: str, size: int, data: bytes):
        if len(data) != size or hashlib.sha256(data).hexdigest() != oid:
            raise HubError(400, f"Uploaded content does not match oid {oid} / size {size} (got {len(data)} bytes)")
        with self.hub._lock:
            repo = self.hub._repos.get((repo_type, repo_id))
            if repo is None:
                raise HubError(404, "Repository not found", code="RepoNotFound")
            repo.lfs[oid] = data
            self.hub._pending_uploads.pop(upload_id, None)
        self._send(200, headers={"ETag": f'"{hashlib.md5(data).hexdigest()}"'})

    def _lfs_verify(self, repo_type: str, repo_id: str) -> None:
        self._require_auth()
        repo = self._get_repo(repo_type, repo_id)
        payload = self._json_body() or {}
        with self.hub._lock:
            data = repo.lfs.get(payload.get("oid", ""))
        if data is None or len(data) != int(payload.get("size", -1)):
            raise HubError(404, f"LFS object {payload.get('oid')} not found")
        self._send_json({"success": True})

    def _commit(self, repo_type: str, repo_id: str, revision: str) -> None:
        self._require_auth()
        repo = self._get_repo(repo_type, repo_id)
        try:
            lines = [json.loads(line) for line in self._read_body().decode().splitlines() if line.strip()]
        except json.JSONDecodeError as e:
            raise HubError(400, f"Invalid NDJSON commit payload: {e}") from e
        if not lines or lines[0].get("key") != "header":
            raise HubError(400, "The first line of the commit payload must be the header")
        header = lines[0]["value"]
        create_pr = self._bool_param("create_pr")
        with self.hub._lock:
            if revision not in repo.refs:  # the Hub only commits on branches (or PR refs)
                raise HubError(404, f"Invalid rev id: {revision}", code="RevisionNotFound")
            head = repo.commits[repo.refs[revision]]
            parent = header.get("parentCommit")
            if parent is not None and not head.oid.startswith(parent):
                raise HubError(412, "A commit has happened since. Please refresh and try again.")
            files = dict(head.files)
            touched: dict[str, FileEntry | None] = {}
            for line in lines[1:]:
                key, value = line.get("key"), line.get("value") or {}
                path = value.get("path", "").strip("/")
                if key == "file":
                    if value.get("encoding", "base64") != "base64":
                        raise HubError(400, f"Unsupported encoding {value.get('encoding')!r}")
                    data = base64.b64decode(value["content"])
                    touched[path] = FileEntry(path, len(data), git_blob_oid(data), data, None, "")
                elif key == "lfsFile":
                    oid = value.get("oid")
                    if value.get("algo", "sha256") != "sha256" or oid not in repo.lfs:
                        raise HubError(
                            422,
                            f"Your push was rejected because an LFS pointer pointed to a file that does not exist "
                            f"({path}: {oid})",
                        )
                    size = len(repo.lfs[oid])
                    if value.get("size") is not None and int(value["size"]) != size:
                        raise HubError(422, f"LFS object size mismatch for {path}")
                    touched[path] = FileEntry(path, size, git_blob_oid(lfs_pointer(oid, size)), None, oid, "")
                elif key == "deletedFile":
                    if path not in files and touched.get(path) is None:
                        raise HubError(404, f"A file with this name doesn't exist: {path}", code="EntryNotFound")
                    touched[path] = None
                elif key == "deletedFolder":
                    victims = [p for p in list(files) + list(touched) if p.startswith(path + "/")]
                    if not victims:
                        raise HubError(404, f"A folder with this name doesn't exist: {path}", code="EntryNotFound")
                    for p in victims:
                        touched[p] = None
                else:
                    raise HubError(400, f"Unknown commit operation {key!r}")
            for path, entry in touched.items():
                if entry is None:
                    files.pop(path, None)
                else:
                    files[path] = entry
            if create_pr:
                repo.pr_count += 1
                branch = f"refs/pr/{repo.pr_count}"
            else:
                branch = revision
            commit = self.hub._new_commit(
                repo, head.oid, header.get("summary") or "", header.get("description") or "", files, branch=branch,
                touched=set(touched),
            )
        url = f"{self._repo_url(repo)}/commit/{commit.oid}"
        out: dict[str, Any] = {"success": True, "commitOid": commit.oid, "commitUrl": url, "hookOutput": ""}
        if create_pr:
            out["pullRequestUrl"] = f"{self._repo_url(repo)}/discussions/{repo.pr_count}"
        self._send_json(out)

    # -- downloads -----------------------------------------------------------------------------------------------
    def _resolve(self, repo_type: str, repo_id: str, revision: str, path: str) -> None:
        repo = self._get_repo(repo_type, repo_id)
        with self.hub._lock:
            commit = self._get_commit(repo, revision)
            entry = commit.files.get(path)
            if entry is None:
                raise HubError(404, "Entry not found", code="EntryNotFound", headers={"X-Repo-Commit": commit.oid})
            data = repo.content(entry)
        headers = {"X-Repo-Commit": commit.oid, "ETag": f'"{entry.oid}"', "Accept-Ranges": "bytes"}
        if entry.is_lfs:
            headers["X-Linked-Etag"] = f'"{entry.lfs_sha256}"'
            headers["X-Linked-Size"] = str(entry.size)
            if self.hub.lfs_cdn_host:
                # Like the real Hub: 302 to the CDN (another origin); metadata is carried by the redirect itself.
                headers["Location"] = (
                    f"http://{self.hub.lfs_cdn_host}:{self.hub.port}/lfs-cdn/{repo_type}/"
                    f"{quote(repo_id, safe='')}/{entry.lfs_sha256}"
                )
                return self._send(302, headers=headers)
        self._send_bytes(data, headers)

    def _lfs_cdn(self, repo_type: str, repo_id: str, sha256: str) -> None:
        if self.headers.get("Authorization") is not None:
            # S3 refuses a second auth mechanism on a pre-signed URL: the client must drop its Hub token.
            raise HubError(400, "Only one auth mechanism allowed; Authorization header must not be sent to the CDN")
        with self.hub._lock:
            repo = self.hub._repos.get((repo_type, repo_id))
            data = repo.lfs.get(sha256) if repo is not None else None
        if data is None:
            raise HubError(404, "NoSuchKey")
        self._send_bytes(data, {"ETag": f'"{hashlib.md5(data).hexdigest()}"', "Accept-Ranges": "bytes"})

    def _send_bytes(self, data: bytes, headers: dict[str, str]) -> None:
        total = len(data)
        range_header = self.headers.get("Range")
        if range_header:
            m = re.fullmatch(r"\s*bytes\s*=\s*(\d*)\s*-\s*(\d*)\s*", range_header)
            if m is None or (not m.group(1) and not m.group(2)):
                raise HubError(416, f"Invalid range {range_header!r}", headers={"Content-Range": f"bytes */{total}"})
            if m.group(1):
                start = int(m.group(1))
                end = min(int(m.group(2)), total - 1) if m.group(2) else total - 1
            else:  # suffix range: last N bytes
                start, end = max(total - int(m.group(2)), 0), total - 1
            if start >= total or start > end:
                raise HubError(416, "Requested range not satisfiable", headers={"Content-Range": f"bytes */{total}"})
            headers = {**headers, "Content-Range": f"bytes {start}-{end}/{total}"}
            return self._send(206, data[start : end + 1], content_type="application/octet-stream", headers=headers)
        self._send(200, data, content_type="application/octet-stream", headers=headers)


# ----------------------------------------------------------------------------------------------------------------
# Public API
# ----------------------------------------------------------------------------------------------------------------


class _Patcher:
    """Minimal monkeypatch (setattr/setenv/delenv + undo) so that LocalHub also works outside pytest."""

    _MISSING = object()

    def __init__(self) -> None:
        self._undo: list[tuple[str, Any, str, Any]] = []

    def setattr(self, target: Any, name: str, value: Any) -> None:
        self._undo.append(("attr", target, name, getattr(target, name, self._MISSING)))
        setattr(target, name, value)

    def setenv(self, name: str, value: str) -> None:
        self._undo.append(("env", None, name, os.environ.get(name, self._MISSING)))
        os.environ[name] = value

    def delenv(self, name: str) -> None:
        self._undo.append(("env", None, name, os.environ.get(name, self._MISSING)))
        os.environ.pop(name, None)

    def undo(self) -> None:
        while self._undo:
            kind, target, name, old = self._undo.pop()
            if kind == "env":
                if old is self._MISSING:
                    os.environ.pop(name, None)
                else:
                    os.environ[name] = old
            elif old is self._MISSING:
                delattr(target, name)
            else:
                setattr(target, name, old)


class LocalHub:
    """In-memory Hugging Face Hub served on ``127.0.0.1:<random port>`` from a background thread.

    Entering the context starts the server and points huggingface_hub / datasets / transformers at it (see
    :meth:`_patch_client_libraries` for the exact environment variables and module constants patched, and why);
    leaving it stops the server and restores everything.

    Args:
        home: directory used as ``HF_HOME`` (hub cache, datasets cache, token path, ...). Nothing is written to
            ``~/.cache``.
        lfs_cdn_host: if set (e.g. ``"localhost"``), LFS downloads are redirected (302) to this host name on the
            same port, i.e. to another origin, like the real Hub redirects to its CDN.
        multipart_chunk_size: if set, LFS objects larger than this are uploaded with the Hub's multipart transfer.
        tree_page_size: page size of the ``tree`` endpoint (the Hub uses 1000); lower it to exercise pagination.
        latency: seconds of artificial delay per request (0 by default).
    """

    def __init__(
        self,
        home: str | os.PathLike,
        *,
        lfs_cdn_host: str | None = None,
        multipart_chunk_size: int | None = None,
        tree_page_size: int = 1000,
        latency: float = 0.0,
    ) -> None:
        self.home = Path(home)
        self.lfs_cdn_host = lfs_cdn_host
        self.multipart_chunk_size = multipart_chunk_size
        self.tree_page_size = tree_page_size
        self.latency = latency
        self._token = "hf_" + secrets.token_hex(16)  # dummy, random per instance; never printed nor written
        self._lock = threading.RLock()
        self._repos: dict[tuple[str, str], Repo] = {}
        self._pending_uploads: dict[str, tuple[str, str, str, int]] = {}
        self._upload_parts: dict[str, dict[int, tuple[str, bytes]]] = {}
        self._connections: set[Any] = set()
        self._commit_counter = itertools.count()
        self.requests: list[tuple[str, str, int, bool]] = []
        self.faults: list[Fault] = []
        self.unhandled: list[str] = []
        self.errors: list[str] = []
        self._server: ThreadingHTTPServer | None = None
        self._thread: threading.Thread | None = None
        self._patcher = _Patcher()
        self.port = 0
        self.endpoint = ""

    def __repr__(self) -> str:  # never show the token
        return f"LocalHub(endpoint={self.endpoint!r}, repos={len(self._repos)})"

    # -- lifecycle -----------------------------------------------------------------------------------------------
    def start(self) -> "LocalHub":
        handler = type("LocalHubHandler", (_Handler,), {"hub": self})
        self._server = ThreadingHTTPServer(("127.0.0.1", 0), handler)
        self._server.daemon_threads = True
        self.port = self._server.server_address[1]
        self.endpoint = f"http://127.0.0.1:{self.port}"
        self._thread = threading.Thread(
            target=self._server.serve_forever, kwargs={"poll_interval": 0.05}, name="LocalHub", daemon=True
        )
        self._thread.start()
        return self

    def stop(self) -> None:
        if self._server is None:
            return
        self._server.shutdown()
        with self._lock:
            connections = list(self._connections)
        for conn in connections:  # idle keep-alive connections would otherwise keep their handler thread alive
            try:
                conn.shutdown(2)
            except OSError:
                pass
        self._server.server_close()
        if self._thread is not None:
            self._thread.join(timeout=5)
        self._server = None

    def __enter__(self) -> "LocalHub":
        self.start()
        try:
            self._patch_client_libraries()
        except BaseException:
            self.stop()
            raise
        return self

    def __exit__(self, *exc: Any) -> None:
        try:
            self._reset_client_state()
            self._patcher.undo()
            self._reset_client_state()
        finally:
            self.stop()

    def _patch_client_libraries(self) -> None:
        """Point the HF libraries at this server, for the current process.

        Environment variables are set for code that reads them at call time (and for subprocesses), but
        huggingface_hub, datasets and transformers read most of them *once, at import time*, into module constants.
        Since these modules are normally already imported when a test starts (tests/conftest.py imports datasets),
        the constants are patched as well:

        * ``huggingface_hub.constants.ENDPOINT``: default endpoint of ``HfApi()``, ``hf_hub_download`` ...
        * ``huggingface_hub.constants.HUGGINGFACE_CO_URL_TEMPLATE``: ``hf_hub_url()`` formats it when no ``endpoint``
          is passed (``peft`` calls ``hf_hub_download`` like that), so it would still say huggingface.co.
        * ``huggingface_hub.constants.HF_URL_HOSTS``: hosts recognised as "the Hub" when parsing URLs.
        * ``huggingface_hub.utils._http._HUB_ORIGINS``: origins whose redirects are followed with the token.
        * ``huggingface_hub.hf_api.api.endpoint``: the module-level ``HfApi()`` instance behind the function
          aliases ``huggingface_hub.file_exists``/``create_repo``/``upload_file``... (peft uses ``file_exists``).
        * ``huggingface_hub.constants.HF_HUB_DISABLE_XET``: ``hf_xet`` is installed, so without it uploads and
          downloads would go through the Xet protocol (which this server does not speak) instead of git-LFS.
        * ``huggingface_hub.constants.HF_HUB_OFFLINE`` (and ``datasets.config.HF_HUB_OFFLINE``/
          ``HF_DATASETS_OFFLINE``): forced to False so a developer's ``HF_HUB_OFFLINE=1`` does not block requests.
        * ``huggingface_hub.constants.HF_HUB_DISABLE_TELEMETRY``, ``HF_HUB_DISABLE_IMPLICIT_TOKEN`` (False: the
          token from ``HF_TOKEN`` is sent), cache/token paths (``HF_HOME``, ``HF_HUB_CACHE``, ``HF_ASSETS_CACHE``,
          ``HF_XET_CACHE``, ``HF_TOKEN_PATH``, ...) so nothing touches ``~/.cache``.
        * ``datasets.config.HF_ENDPOINT``/``HUB_DATASETS_URL``: datasets passes ``endpoint=config.HF_ENDPOINT``
          explicitly to ``HfApi``/``HfFileSystem``; its cache paths (``HF_DATASETS_CACHE``, ``HF_MODULES_CACHE``,
          ``DOWNLOADED_DATASETS_PATH``, ``EXTRACTED_DATASETS_PATH``); ``HF_UPDATE_DOWNLOAD_COUNTS=False`` (else
          ``load_dataset`` HEADs ``https://s3.amazonaws.com/...``) and ``USE_PARQUET_EXPORT=False`` (else it asks the
          dataset viewer at ``http://datasets-server.127.0.0.1:<port>``, which does not exist).
        * ``transformers.utils.hub._hf_api``: transformers caches one ``HfApi()`` (whose endpoint is frozen at
          creation) for ``push_to_hub``; it is reset so it gets re-created against this server (and reset again on
          exit so no instance pointing at a dead server survives).
        """
        p = self._patcher
        home = self.home
        paths = {
            "HF_HOME": home,
            "HF_HUB_CACHE": home / "hub",
            "HF_ASSETS_CACHE": home / "assets",
            "HF_XET_CACHE": home / "xet",
            "HF_DATASETS_CACHE": home / "datasets",
            "HF_MODULES_CACHE": home / "modules",
            "HF_TOKEN_PATH": home / "token",
        }
        for name, path in paths.items():
            p.setenv(name, str(path))
        p.setenv("HF_ENDPOINT", self.endpoint)
        p.setenv("HF_TOKEN", self._token)
        p.setenv("HF_HUB_DISABLE_XET", "1")
        p.setenv("HF_HUB_DISABLE_TELEMETRY", "1")
        p.setenv("HF_HUB_DISABLE_UPDATE_CHECK", "1")
        p.setenv("HF_UPDATE_DOWNLOAD_COUNTS", "0")
        for name in (
            "HF_HUB_OFFLINE", "TRANSFORMERS_OFFLINE", "HF_DATASETS_OFFLINE", "HUGGING_FACE_HUB_TOKEN",
            "HF_OIDC_RESOURCE", "HUGGINGFACE_CO_STAGING", "HF_HUB_DISABLE_IMPLICIT_TOKEN",
            "HUGGINGFACE_HUB_CACHE", "HUGGINGFACE_ASSETS_CACHE", "HF_DATASETS_DOWNLOADED_DATASETS_PATH",
            "HF_DATASETS_EXTRACTED_DATASETS_PATH",
        ):
            p.delenv(name)

        from huggingface_hub import constants
        from huggingface_hub import hf_api as hf_api_module
        from huggingface_hub.utils import _http

        p.setattr(constants, "ENDPOINT", self.endpoint)
        p.setattr(constants, "HUGGINGFACE_CO_URL_TEMPLATE", self.endpoint + "/{repo_id}/resolve/{revision}/{filename}")
        p.setattr(constants, "HF_URL_HOSTS", frozenset(constants.HF_URL_HOSTS | {"127.0.0.1"}))
        p.setattr(_http, "_HUB_ORIGINS", frozenset(_http._HUB_ORIGINS | {_http._url_origin(self.endpoint)}))
        p.setattr(hf_api_module.api, "endpoint", self.endpoint)
        p.setattr(constants, "HF_HUB_DISABLE_XET", True)
        p.setattr(constants, "HF_HUB_OFFLINE", False)
        p.setattr(constants, "HF_HUB_DISABLE_TELEMETRY", True)
        p.setattr(constants, "HF_HUB_DISABLE_IMPLICIT_TOKEN", False)
        p.setattr(constants, "HF_HUB_DISABLE_UPDATE_CHECK", True)
        p.setattr(constants, "HF_HOME", str(home))
        for name in ("HF_HUB_CACHE", "HUGGINGFACE_HUB_CACHE", "default_cache_path"):
            p.setattr(constants, name, str(paths["HF_HUB_CACHE"]))
        for name in ("HF_ASSETS_CACHE", "HUGGINGFACE_ASSETS_CACHE", "default_assets_cache_path"):
            p.setattr(constants, name, str(paths["HF_ASSETS_CACHE"]))
        p.setattr(constants, "HF_XET_CACHE", str(paths["HF_XET_CACHE"]))
        p.setattr(constants, "HF_TOKEN_PATH", str(paths["HF_TOKEN_PATH"]))
        p.setattr(constants, "HF_STORED_TOKENS_PATH", str(home / "stored_tokens"))
        for name in ("CHECK_FOR_UPDATE_DONE_PATH", "CHECK_FOR_SKILL_UPDATE_DONE_PATH", "AGENT_HARNESSES_PATH"):
            if hasattr(constants, name):
                p.setattr(constants, name, str(home / Path(getattr(constants, name)).name))

        try:
            import datasets.config as ds_config
        except ImportError:  # pragma: no cover - datasets is a dependency of the project
            ds_config = None
        if ds_config is not None:
            p.setattr(ds_config, "HF_ENDPOINT", self.endpoint)
            p.setattr(ds_config, "HUB_DATASETS_URL", self.endpoint + "/datasets/{repo_id}/resolve/{revision}/{path}")
            p.setattr(ds_config, "HF_HUB_OFFLINE", False)
            p.setattr(ds_config, "HF_DATASETS_OFFLINE", False)
            p.setattr(ds_config, "HF_UPDATE_DOWNLOAD_COUNTS", False)
            p.setattr(ds_config, "USE_PARQUET_EXPORT", False)
            p.setattr(ds_config, "HF_CACHE_HOME", str(home))
            p.setattr(ds_config, "HF_DATASETS_CACHE", paths["HF_DATASETS_CACHE"])
            p.setattr(ds_config, "HF_MODULES_CACHE", paths["HF_MODULES_CACHE"])
            p.setattr(ds_config, "DOWNLOADED_DATASETS_PATH", paths["HF_DATASETS_CACHE"] / "downloads")
            p.setattr(ds_config, "EXTRACTED_DATASETS_PATH", paths["HF_DATASETS_CACHE"] / "downloads" / "extracted")

    @staticmethod
    def _reset_client_state() -> None:
        """Drop client-side state bound to this server: pooled connections, cached HfApi / HfFileSystem."""
        from huggingface_hub import HfFileSystem
        from huggingface_hub.utils import close_session

        close_session()  # pooled keep-alive connections to this server
        HfFileSystem.clear_instance_cache()
        hub_module = sys.modules.get("transformers.utils.hub")
        if hub_module is not None and hasattr(hub_module, "_hf_api"):
            hub_module._hf_api = None  # lazily re-created from constants.ENDPOINT

    # -- server-side bookkeeping ---------------------------------------------------------------------------------
    def _track_connection(self, conn: Any, add: bool) -> None:
        with self._lock:
            (self._connections.add if add else self._connections.discard)(conn)

    def _record(self, method: str, path: str, status: int, authenticated: bool) -> None:
        with self._lock:
            self.requests.append((method, path, status, authenticated))

    def _unhandled(self, method: str, path: str) -> None:
        logger.warning("LocalHub: unhandled request %s %s", method, path)
        with self._lock:
            self.unhandled.append(f"{method} {path}")

    # -- fault injection -------------------------------------------------------------------------------------
    def fail(self, method: str = "*", path: str = ".*", status: int | None = 500, times: int | None = None,
             message: str = "LocalHub: injected failure") -> Fault:
        """Make requests whose method is ``method`` ("*": any) and whose URL path matches the regex ``path``
        fail: answered with ``status`` (and ``message``), or with ``status=None`` the connection is closed
        without an answer, as when the server goes away mid-upload. ``times``: only the next n such
        requests. Returns the fault (its ``hits`` count what it did)."""
        fault = Fault(method.upper(), re.compile(path), status, times, message)
        with self._lock:
            self.faults.append(fault)
        return fault

    def heal(self) -> None:
        """Remove every injected fault."""
        with self._lock:
            self.faults.clear()

    def _inject_fault(self, handler: "_Handler", method: str, path: str) -> None:
        with self._lock:
            for fault in self.faults:
                if fault.method in ("*", method) and fault.path.search(path) and (fault.times is None or fault.hits < fault.times):
                    fault.hits += 1
                    break
            else:
                return
        if fault.status is None:
            raise _Dropped()
        raise HubError(fault.status, fault.message)

    def _maybe_delay(self) -> None:
        if self.latency:
            time.sleep(self.latency)

    def _new_commit(
        self,
        repo: Repo,
        parent: str | None,
        title: str,
        message: str,
        files: dict[str, FileEntry],
        branch: str,
        touched: set[str] | None = None,
    ) -> Commit:
        seed = f"{repo.repo_type}/{repo.repo_id}\n{parent}\n{title}\n{next(self._commit_counter)}\n{time.time_ns()}"
        seed += "".join(f"\n{p}:{e.oid}" for p, e in sorted(files.items()))
        oid = hashlib.sha1(seed.encode()).hexdigest()
        touched = set(files) if touched is None else touched
        stamped = {
            p: FileEntry(e.path, e.size, e.oid, e.data, e.lfs_sha256, oid) if p in touched or not e.last_commit else e
            for p, e in files.items()
        }
        commit = Commit(oid=oid, parents=[parent] if parent else [], title=title, message=message, date=_now(),
                        files=stamped)
        repo.commits[oid] = commit
        repo.refs[branch] = oid
        return commit

    # -- inspection helpers for tests ----------------------------------------------------------------------------
    def files(self, repo_id: str, repo_type: str = "model", revision: str = "main") -> dict[str, bytes]:
        """Content of every file of a repo at `revision` (default: head of main), path -> bytes."""
        with self._lock:
            repo = self._repos[(repo_type, repo_id)]
            commit = repo.resolve(revision)
            if commit is None:
                raise KeyError(revision)
            return {path: repo.content(entry) for path, entry in sorted(commit.files.items())}

    def lfs_files(self, repo_id: str, repo_type: str = "model", revision: str = "main") -> dict[str, str]:
        """Paths stored as LFS pointers at `revision`, path -> sha256."""
        with self._lock:
            commit = self._repos[(repo_type, repo_id)].resolve(revision)
            if commit is None:
                raise KeyError(revision)
            return {p: e.lfs_sha256 for p, e in sorted(commit.files.items()) if e.lfs_sha256 is not None}

    def commits(self, repo_id: str, repo_type: str = "model", revision: str = "main") -> list[Commit]:
        """Commits reachable from `revision`, newest first."""
        with self._lock:
            repo = self._repos[(repo_type, repo_id)]
            commit, out = repo.resolve(revision), []
            while commit is not None:
                out.append(commit)
                commit = repo.commits[commit.parents[0]] if commit.parents else None
            return out

    def repos(self) -> list[tuple[str, str]]:
        with self._lock:
            return sorted(self._repos)

    def auth_header(self) -> dict[str, str]:
        """Authorization header for raw HTTP calls made by tests (keeps the token out of test code)."""
        return {"Authorization": f"Bearer {self._token}"}


@pytest.fixture
def local_hub(request: pytest.FixtureRequest, tmp_path_factory: pytest.TempPathFactory) -> Iterator[LocalHub]:
    """A fresh :class:`LocalHub` per test, with huggingface_hub/datasets/transformers pointed at it.

    Caches (``HF_HOME``, hub/datasets caches) live in a per-test temporary directory. On teardown the server is
    stopped and all environment variables and module constants are restored. Unhandled routes and server errors
    fail the test, so a client change that needs a new endpoint is noticed.

    Options of :class:`LocalHub` can be passed with indirect parametrization::

        @pytest.mark.parametrize("local_hub", [{"lfs_cdn_host": "localhost"}], indirect=True)
    """
    options = getattr(request, "param", None) or {}
    with LocalHub(tmp_path_factory.mktemp("hf_home"), **options) as hub:
        yield hub
    problems = hub.unhandled + hub.errors
    if problems:
        pytest.fail("LocalHub saw unhandled requests / internal errors:\n" + "\n".join(problems))
