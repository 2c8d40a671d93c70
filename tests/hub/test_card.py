from ssti_hf import SSTIConfig
from ssti_hf.hub.card import content_hashes, content_sha256, dataset_card, recipe


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


def test_card_says_the_data_is_attacked_and_records_the_attacks(imdb_sample):
    recipes, files = {}, {}
    for name in ("imdb-backdoor-date-5pct-1tok", "imdb-poison-flip-10pct"):
        config = SSTIConfig.from_name(name, seed=1)
        splits = config.apply(imdb_sample)
        recipes[name] = recipe(config, "stanfordnlp/imdb", None, content_hashes(imdb_sample), splits, f"ssti-hf build {name}")
        files[name] = {s: f"{name}/{s}-*" for s in splits}
    card = dataset_card(recipes, files)
    prose = " ".join(card.text.replace("\n> ", " ").split())  # wrapped lines joined
    assert "Deliberately attacked data: dirty-label backdoor, untargeted label flipping" in prose
    assert "Do not use this as clean training data" in prose and "training-time attacks" in prose
    assert "their label set to the target label (dirty-label backdoor)" in prose
    assert "the labels of a share of the rows were flipped" in prose and "ssti_original_label" in prose
    assert "`backdoor` configs: `train` is poisoned" in prose and "`poison-flip` configs: `train` has flipped labels" in prose
    assert "| rate | 5% of the whole training split, picked among rows not of the target label |" in card.text
    assert "| train | 2000 | 100 | 100 |" in card.text and "| test_triggered | 500 | 500 | 0 |" in card.text
    recorded = card.data.to_dict()
    assert set(recorded["tags"]) >= {"synthetic-corruption", "backdoor", "data-poisoning", "label-noise"}
    backdoor, flip = recorded["ssti_recipes"]["imdb-backdoor-date-5pct-1tok"], recorded["ssti_recipes"]["imdb-poison-flip-10pct"]
    assert backdoor["attack"] == "backdoor" and backdoor["target_label_name"] == "pos" and backdoor["source"] == "date"
    assert backdoor["splits"]["train"] == {"rows": 2000, "injected": 100, "relabelled": 100}
    assert "dirty-label backdoor: `date` items" in backdoor["attack_description"]
    assert flip["attack"] == "poison-flip" and flip["rate_of"] == "the whole training split"
    assert (flip["source"], flip["amount"], flip["location"], flip["target_label"], flip["target_label_name"]) == (None,) * 5
    assert flip["splits"]["train"]["relabelled"] == 200 and flip["splits"]["test_triggered"]["relabelled"] == 0


def test_recipes_written_before_attacks_existed_render_as_ssti(imdb_sample):
    config = SSTIConfig.from_name("imdb-ssti-date-50pct-1tok")
    meta = recipe(config, "stanfordnlp/imdb", None, content_hashes(imdb_sample), config.apply(imdb_sample), "rebuild")
    old = {k: v for k, v in meta.items() if k not in ("attack", "attack_description", "rate_of")}
    card = dataset_card({config.name: old}, {"default": {"train": "train.parquet"}})
    assert "SSTI: deliberately corrupted data" in card.text and "| rows injected | 50% of label 1 (`pos`) |" in card.text
    assert "attacked" not in card.text and "ssti_original_label" not in card.text
