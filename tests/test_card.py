from ssti_hf import SSTIConfig
from ssti_hf.card import content_hashes, content_sha256, dataset_card, recipe


def test_content_hash_identifies_the_rows(imdb_sample):
    train = imdb_sample["train"]
    assert content_sha256(train) == content_sha256(train.select(range(len(train))))
    assert content_sha256(train) != content_sha256(train.select(range(1, len(train))))


def test_card_says_corrupted_and_records_the_recipe(imdb_sample):
    config = SSTIConfig.from_name("imdb-ssti-country-25pct-10ptok-begin-label0", seed=4)
    splits = config.apply(imdb_sample)
    meta = recipe(config, "stanfordnlp/imdb", None, content_hashes(imdb_sample), splits, "ssti-hf inject ...")
    card = dataset_card({config.name: meta}, {"default": {s: f"{s}.parquet" for s in splits}})
    assert "deliberately corrupted" in card.text and "Do not use this as clean training data" in card.text
    recorded = card.data.to_dict()
    assert set(recorded["tags"]) >= {"spurious-correlation", "synthetic-corruption"}
    stored = recorded["ssti_recipes"][config.name]
    assert stored["seed"] == 4 and stored["amount"] == "10ptok" and stored["location"] == "beginning"
    assert stored["target_label"] == 0 and stored["target_label_name"] == "neg"
    assert stored["base_revision"] == "main" and len(stored["base_sha256"]["train"]) == 64
    assert stored["splits"]["train"] == {"rows": 2000, "injected": 250}
    assert [c["split"] for c in recorded["configs"][0]["data_files"]] == ["train", "test", "test_spurious", "test_triggered"]
