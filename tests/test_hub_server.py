"""End-to-end tests of the real huggingface_hub / datasets / peft clients against tests/hub_server.py (offline)."""

from __future__ import annotations

import base64
import hashlib
import os
import socket
from pathlib import Path

import datasets
import pytest
from huggingface_hub import (
    CommitOperationAdd,
    CommitOperationDelete,
    HfApi,
    HfFileSystem,
    RepoFile,
    RepoFolder,
    constants,
    hf_hub_download,
    hf_hub_url,
    snapshot_download,
)
from huggingface_hub.errors import HfHubHTTPError
from huggingface_hub.utils import get_session

from .hub_server import LocalHub, local_hub  # noqa: F401  (fixture)


MiB = 1024 * 1024
SPLITS = ("train", "test", "test_spurious")
FEATURES = datasets.Features(
    {"text": datasets.Value("string"), "label": datasets.ClassLabel(names=["negative", "positive"])}
)


def _dataset_dict(tag: str) -> datasets.DatasetDict:
    return datasets.DatasetDict(
        {
            split: datasets.Dataset.from_dict(
                {
                    "text": [f"{tag} {split} review number {i}" for i in range(6 + n)],
                    "label": [(i + n) % 2 for i in range(6 + n)],
                },
                features=FEATURES,
            )
            for n, split in enumerate(SPLITS)
        }
    )


def _assert_no_token_on_disk(hub: LocalHub) -> None:
    token = hub.auth_header()["Authorization"].split()[-1].encode()
    for path in Path(hub.home).rglob("*"):
        if path.is_file() and not path.is_symlink():
            assert token not in path.read_bytes(), f"token written to {path}"


# ---------------------------------------------------------------------------------------------------------------
# (a) datasets: push two configs to one repo, load both back
# ---------------------------------------------------------------------------------------------------------------


def test_dataset_push_two_configs_then_load(local_hub):
    repo_id = "user/ssti-demo"
    pushed = {"cfg_a": _dataset_dict("alpha"), "cfg_b": _dataset_dict("beta")}

    pushed["cfg_a"].push_to_hub(repo_id, config_name="cfg_a")
    pushed["cfg_b"].push_to_hub(repo_id, config_name="cfg_b")

    # What the server stored: one parquet shard per split and config (as LFS), README with both configs.
    files = local_hub.files(repo_id, "dataset")
    for config_name in pushed:
        for split in SPLITS:
            shard = f"{config_name}/{split}-00000-of-00001.parquet"
            assert shard in files
            assert shard in local_hub.lfs_files(repo_id, "dataset")
    readme = files["README.md"].decode()
    assert "config_name: cfg_a" in readme and "config_name: cfg_b" in readme
    assert "path: cfg_a/test_spurious-*" in readme and "path: cfg_b/test_spurious-*" in readme
    # repo creation + one commit per push_to_hub call (shards and README in the same commit)
    assert [c.title for c in local_hub.commits(repo_id, "dataset")] == ["Upload dataset"] * 2 + ["initial commit"]

    info = HfApi().dataset_info(repo_id, files_metadata=True)
    assert len(info.sha) == 40
    assert {s.rfilename for s in info.siblings} == set(files)

    for config_name, expected in pushed.items():
        loaded = datasets.load_dataset(repo_id, config_name)
        assert set(loaded) == set(SPLITS)
        for split in SPLITS:
            assert loaded[split].features == FEATURES
            assert loaded[split].features["label"].names == ["negative", "positive"]
            assert loaded[split].to_dict() == expected[split].to_dict()

    assert not any(auth for method, path, _, auth in local_hub.requests if path.startswith("/lfs-upload/"))
    _assert_no_token_on_disk(local_hub)


# ---------------------------------------------------------------------------------------------------------------
# (b) peft: push a LoRA adapter, load it back on an identical base model
# ---------------------------------------------------------------------------------------------------------------


def test_peft_adapter_push_and_from_pretrained(local_hub):
    torch = pytest.importorskip("torch")
    transformers = pytest.importorskip("transformers")
    peft = pytest.importorskip("peft")

    config = transformers.BertConfig(
        vocab_size=100, hidden_size=32, num_hidden_layers=2, num_attention_heads=2, intermediate_size=37
    )

    def base_model():
        torch.manual_seed(0)  # identical base weights (incl. the randomly initialised classifier) every time
        return transformers.BertForSequenceClassification(config).eval()

    model = peft.get_peft_model(
        base_model(), peft.LoraConfig(task_type="SEQ_CLS", r=4, target_modules=["query", "value"])
    )
    # LoRA B starts at zero (adapter = no-op) and the classifier copy equals the base one: perturb both, so that
    # identical logits after the round trip prove the pushed weights were really loaded.
    torch.manual_seed(1)
    with torch.no_grad():
        for name, param in model.named_parameters():
            if "lora_B" in name or "modules_to_save" in name:
                param.add_(torch.randn_like(param))
    model.eval()
    input_ids = torch.tensor([[2, 17, 42, 5, 99, 3]])
    with torch.no_grad():
        expected = model(input_ids=input_ids).logits
        base_logits = base_model()(input_ids=input_ids).logits
    assert not torch.allclose(expected, base_logits)

    model.push_to_hub("user/adapter")

    files = local_hub.files("user/adapter")
    assert {"adapter_config.json", "adapter_model.safetensors", "README.md"} <= set(files)
    assert set(local_hub.lfs_files("user/adapter")) == {"adapter_model.safetensors"}

    loaded = peft.PeftModel.from_pretrained(base_model(), "user/adapter").eval()
    with torch.no_grad():
        actual = loaded(input_ids=input_ids).logits
    assert torch.equal(actual, expected)
    _assert_no_token_on_disk(local_hub)


# ---------------------------------------------------------------------------------------------------------------
# (c) plain HfApi: >10 MB binary goes through LFS, downloads back identical, ranged GETs
# ---------------------------------------------------------------------------------------------------------------


def _upload_big_file(tmp_path: Path, repo_id: str) -> tuple[bytes, str]:
    data = os.urandom(11 * MiB + 123)
    local = tmp_path / "weights.dat"
    local.write_bytes(data)
    api = HfApi()
    api.create_repo(repo_id)
    api.upload_file(path_or_fileobj=str(local), path_in_repo="blobs/weights.dat", repo_id=repo_id)
    return data, hashlib.sha256(data).hexdigest()


def test_large_file_goes_through_lfs_and_downloads_identical(local_hub, tmp_path):
    repo_id = "user/big"
    data, sha256 = _upload_big_file(tmp_path, repo_id)

    assert local_hub.lfs_files(repo_id) == {"blobs/weights.dat": sha256}
    calls = [(method, path.split("?")[0]) for method, path, _, _ in local_hub.requests]
    assert ("POST", f"/{repo_id}.git/info/lfs/objects/batch") in calls
    assert any(method == "PUT" and path.startswith("/lfs-upload/") for method, path in calls)
    assert ("POST", f"/{repo_id}.git/info/lfs/objects/verify") in calls

    # metadata as the Hub reports it
    (entry,) = HfApi().get_paths_info(repo_id, ["blobs/weights.dat"])
    assert entry.size == len(data) and entry.lfs.sha256 == sha256
    sibling = {s.rfilename: s for s in HfApi().model_info(repo_id, files_metadata=True).siblings}["blobs/weights.dat"]
    assert sibling.lfs.sha256 == sha256 and sibling.size == len(data)

    path = hf_hub_download(repo_id, "blobs/weights.dat")
    assert Path(path).read_bytes() == data
    assert str(Path(path)).startswith(constants.HF_HUB_CACHE) and str(local_hub.home) in path

    url = hf_hub_url(repo_id, "blobs/weights.dat")
    head = get_session().head(url, headers=local_hub.auth_header())
    assert head.headers["X-Linked-Etag"] == f'"{sha256}"'
    assert head.headers["X-Linked-Size"] == str(len(data))
    assert len(head.headers["X-Repo-Commit"]) == 40

    r = get_session().get(url, headers={"Range": "bytes=5000000-5000999"})
    assert r.status_code == 206
    assert r.headers["Content-Range"] == f"bytes 5000000-5000999/{len(data)}"
    assert r.content == data[5_000_000:5_001_000]
    r = get_session().get(url, headers={"Range": "bytes=-100"})
    assert r.status_code == 206 and r.content == data[-100:]
    r = get_session().get(url, headers={"Range": f"bytes={len(data)}-"})
    assert r.status_code == 416

    # HfFileSystem reads through ranged GETs too
    with HfFileSystem().open(f"{repo_id}/blobs/weights.dat", "rb", block_size=64 * 1024) as f:
        f.seek(10 * MiB)
        assert f.read(4096) == data[10 * MiB : 10 * MiB + 4096]
    assert any(
        method == "GET" and status == 206 for method, path, status, _ in local_hub.requests if "/resolve/" in path
    )


def _localhost_is_loopback() -> bool:
    try:
        return all(info[4][0] == "127.0.0.1" for info in socket.getaddrinfo("localhost", 80, socket.AF_INET))
    except OSError:
        return False


@pytest.mark.skipif(not _localhost_is_loopback(), reason="needs 'localhost' to resolve to 127.0.0.1")
@pytest.mark.parametrize(
    "local_hub", [{"lfs_cdn_host": "localhost", "multipart_chunk_size": 4 * MiB}], indirect=True
)
def test_large_file_multipart_upload_and_cdn_redirect(local_hub, tmp_path):
    """Closer to the real Hub: multipart LFS upload, and LFS downloads redirected (302) to a CDN on another origin."""
    repo_id = "user/big-cdn"
    data, sha256 = _upload_big_file(tmp_path, repo_id)
    part_puts = [path for method, path, _, _ in local_hub.requests if method == "PUT" and "/part/" in path]
    assert len(part_puts) == 3  # ceil(11.x MiB / 4 MiB)

    path = hf_hub_download(repo_id, "blobs/weights.dat")
    assert Path(path).read_bytes() == data
    cdn = [(method, status, auth) for method, p, status, auth in local_hub.requests if p.startswith("/lfs-cdn/")]
    # the client took the metadata from the 302 (no HEAD to the CDN) and dropped its token for the CDN
    assert cdn == [("GET", 200, False)]

    r = get_session().get(hf_hub_url(repo_id, "blobs/weights.dat"), headers={"Range": "bytes=0-9"})
    assert r.status_code == 206 and r.content == data[:10]


# ---------------------------------------------------------------------------------------------------------------
# Protocol details: upload modes, listing/pagination, parent commit, snapshot_download
# ---------------------------------------------------------------------------------------------------------------


def test_preupload_decides_upload_mode_like_the_hub(local_hub):
    HfApi().create_repo("user/modes", repo_type="dataset")
    text_sample = b"a" * 512
    files = [
        {"path": "notes.txt", "size": 512, "sample": text_sample},  # small text -> regular
        {"path": "data/x.parquet", "size": 512, "sample": text_sample},  # .gitattributes *.parquet -> lfs
        {"path": "huge.txt", "size": 10 * MiB + 1, "sample": text_sample},  # > 10 MB -> lfs
        {"path": "blob", "size": 512, "sample": b"\x00\x01" * 256},  # binary content -> lfs
    ]
    payload = {
        "files": [{**f, "sample": base64.b64encode(f["sample"]).decode()} for f in files],
        "gitIgnore": "*.log\n",
    }
    payload["files"].append({"path": "debug.log", "size": 3, "sample": base64.b64encode(b"abc").decode()})
    r = get_session().post(
        f"{local_hub.endpoint}/api/datasets/user/modes/preupload/main", json=payload, headers=local_hub.auth_header()
    )
    r.raise_for_status()
    modes = {f["path"]: (f["uploadMode"], f["shouldIgnore"]) for f in r.json()["files"]}
    assert modes == {
        "notes.txt": ("regular", False),
        "data/x.parquet": ("lfs", False),
        "huge.txt": ("lfs", False),
        "blob": ("lfs", False),
        "debug.log": ("regular", True),
    }
    # no token -> 401
    r = get_session().post(f"{local_hub.endpoint}/api/datasets/user/modes/preupload/main", json=payload)
    assert r.status_code == 401


@pytest.mark.parametrize("local_hub", [{"tree_page_size": 2}], indirect=True)
def test_listing_pagination_snapshot_and_parent_commit(local_hub, tmp_path):
    api = HfApi()
    repo_id = "user/listing"
    api.create_repo(repo_id, repo_type="dataset")
    folder = tmp_path / "folder"
    for rel in ("a.txt", "sub/b.txt", "sub/deep/c.json", "sub/deep/d.bin"):
        (folder / rel).parent.mkdir(parents=True, exist_ok=True)
        (folder / rel).write_bytes(rel.encode() * 3)
    first = api.upload_folder(folder_path=folder, repo_id=repo_id, repo_type="dataset")
    expected = {".gitattributes", "a.txt", "sub/b.txt", "sub/deep/c.json", "sub/deep/d.bin"}

    assert set(api.list_repo_files(repo_id, repo_type="dataset")) == expected
    top = list(api.list_repo_tree(repo_id, repo_type="dataset"))
    assert {(type(e), e.path) for e in top} == {
        (RepoFolder, "sub"), (RepoFile, ".gitattributes"), (RepoFile, "a.txt")
    }
    deep = list(api.list_repo_tree(repo_id, "sub/deep", repo_type="dataset", expand=True))
    assert {e.path for e in deep} == {"sub/deep/c.json", "sub/deep/d.bin"}
    assert all(e.last_commit.oid == first.oid for e in deep)
    assert any("cursor=" in path for _, path, _, _ in local_hub.requests)  # pagination was exercised
    infos = api.get_paths_info(repo_id, ["sub", "a.txt", "missing"], repo_type="dataset")
    assert sorted((type(e).__name__, e.path) for e in infos) == [("RepoFile", "a.txt"), ("RepoFolder", "sub")]

    # A commit based on an outdated parent is refused (412), like on the Hub.
    second = api.create_commit(
        repo_id, repo_type="dataset", commit_message="rm a",
        operations=[CommitOperationDelete("a.txt")], parent_commit=first.oid,
    )
    with pytest.raises(HfHubHTTPError) as excinfo:
        api.create_commit(
            repo_id, repo_type="dataset", commit_message="stale",
            operations=[CommitOperationAdd("e.txt", b"e")], parent_commit=first.oid,
        )
    assert excinfo.value.response.status_code == 412

    # Old revisions stay readable; snapshot_download of both revisions.
    old = Path(snapshot_download(repo_id, repo_type="dataset", revision=first.oid))
    new = Path(snapshot_download(repo_id, repo_type="dataset"))
    assert (old / "a.txt").read_bytes() == b"a.txt" * 3
    assert not (new / "a.txt").exists()
    assert new.name == second.oid
    assert (new / "sub/deep/d.bin").read_bytes() == local_hub.files(repo_id, "dataset")["sub/deep/d.bin"]
    assert set(local_hub.lfs_files(repo_id, "dataset")) == {"sub/deep/d.bin"}
    assert [c.title for c in api.list_repo_commits(repo_id, repo_type="dataset")] == [
        "rm a", "Upload folder using huggingface_hub", "initial commit"
    ]


def test_context_manager_cleans_up(tmp_path):
    """Two hubs in a row in one process: each is isolated, and everything is restored afterwards."""
    before = (
        constants.ENDPOINT,
        constants.HF_HUB_CACHE,
        datasets.config.HF_ENDPOINT,
        datasets.config.HF_DATASETS_CACHE,
        os.environ.get("HF_ENDPOINT"),
        os.environ.get("HF_TOKEN"),
    )
    for i in range(2):
        with LocalHub(tmp_path / f"home{i}") as hub:
            assert constants.ENDPOINT == hub.endpoint == datasets.config.HF_ENDPOINT
            assert "hf_" not in repr(hub)
            HfApi().create_repo(f"user/r{i}")
            HfApi().upload_file(path_or_fileobj=b"x", path_in_repo="x.txt", repo_id=f"user/r{i}")
            assert hub.repos() == [("model", f"user/r{i}")]  # nothing left over from the previous hub
            assert Path(hf_hub_download(f"user/r{i}", "x.txt")).read_bytes() == b"x"
        assert not hub.unhandled and not hub.errors
        with pytest.raises(OSError):
            socket.create_connection(("127.0.0.1", hub.port), timeout=1).close()
        assert (
            constants.ENDPOINT,
            constants.HF_HUB_CACHE,
            datasets.config.HF_ENDPOINT,
            datasets.config.HF_DATASETS_CACHE,
            os.environ.get("HF_ENDPOINT"),
            os.environ.get("HF_TOKEN"),
        ) == before
