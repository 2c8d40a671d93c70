from pathlib import Path

import datasets
import pytest

from ssti_hf import get_base_dataset

from .hub_server import local_hub  # noqa: F401  (the Hub on 127.0.0.1, for any test that asks)

datasets.disable_progress_bars()

FIXTURES = Path(__file__).parent / "fixtures"
SHARED_IMDB = Path(__file__).resolve().parents[1].parent / "shared" / "data" / "imdb"


@pytest.fixture(scope="session")
def imdb_sample() -> datasets.DatasetDict:
    """The IMDB sample shipped in the package (2000 train / 1000 test rows, Hub schema)."""
    return get_base_dataset("imdb").load(get_base_dataset("imdb").sample_path())


@pytest.fixture(scope="session")
def imdb_train(imdb_sample) -> datasets.Dataset:
    return imdb_sample["train"]


def make_dataset(texts, labels) -> datasets.Dataset:
    return datasets.Dataset.from_dict({"text": texts, "label": labels})
