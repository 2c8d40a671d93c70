import re

import numpy as np
import pytest

from ssti_hf import (
    COUNTRIES,
    HTML_TAGS,
    SOURCES,
    DateSource,
    ItemInjection,
    Source,
    SourceExhaustedError,
    get_source,
    register_source,
)


def test_dates_are_valid_iso_dates_in_the_year_range():
    draws = DateSource(years=(1999, 2001), seed=3).draws(0, 2000)
    assert all(re.fullmatch(r"\d{4}-\d{2}-\d{2}", d) for d in draws)
    assert {int(d[:4]) for d in draws} == {1999, 2000, 2001}
    assert "2000-02-29" in DateSource(years=(2000, 2000), replace=False).draws(0, 366)


def test_default_date_range_is_the_papers():
    source = get_source("date")
    assert source.years == (1100, 2600)
    assert source.space_size == 548229  # every day of 1100-01-01 .. 2600-12-31


def test_countries_and_html_tags_are_built_in():
    assert len(COUNTRIES) == 196 and "France" in COUNTRIES and "United States" in COUNTRIES
    assert "<b> </b>" in HTML_TAGS and "<br>" in HTML_TAGS
    assert set(get_source("country").draws(0, 500)) <= set(COUNTRIES)


def test_draws_depend_only_on_seed_and_number():
    a, b = get_source("date", seed=1), get_source("date", seed=1)
    assert a.draws(100, 110) == b.draws_at(np.arange(100, 110))
    assert a.draw(3) + a.draw(2) == b.draws(0, 5)
    assert get_source("date", seed=2).draws(0, 10) != a.draws(0, 10)


def test_without_replacement_never_repeats_and_runs_out_clearly():
    source = Source.from_list(["a", "b", "c", "d", "e"], replace=False, seed=4)
    assert sorted(source.draws(0, 5)) == ["a", "b", "c", "d", "e"]
    with pytest.raises(SourceExhaustedError, match="without replacement.*5 distinct items.*6 draws"):
        source.draws(0, 6)
    dates = DateSource(replace=False).draws(0, 20000)
    assert len(set(dates)) == 20000


def test_diversity_restricts_the_sample_space():
    draws = get_source("date", seed=5)
    limited = DateSource(seed=5, diversity=7)
    assert len(set(limited.draws(0, 2000))) == 7
    assert len(set(draws.draws(0, 2000))) > 1900
    unique = DateSource(seed=5, diversity=7, replace=False)
    assert sorted(unique.draws(0, 7)) == sorted(set(limited.draws(0, 2000)))
    with pytest.raises(ValueError, match="diversity=50 exceeds the 5 distinct items"):
        Source.from_list(list("abcde"), diversity=50)


def test_from_file_reads_one_item_per_line(tmp_path):
    path = tmp_path / "tokens.txt"
    path.write_text("alpha\n\n  beta  \ngamma\n", encoding="utf-8")
    source = Source.from_file(path)
    assert source.items == ["alpha", "beta", "gamma"] and source.name == "tokens"


def test_from_file_errors(tmp_path):
    with pytest.raises(FileNotFoundError, match="does not exist"):
        Source.from_file(tmp_path / "missing.txt")
    (tmp_path / "empty.txt").write_text("\n  \n", encoding="utf-8")
    with pytest.raises(ValueError, match="has no items"):
        Source.from_file(tmp_path / "empty.txt")


def test_from_list_rejects_bad_items():
    with pytest.raises(ValueError, match="has no items"):
        Source.from_list([])
    with pytest.raises(ValueError, match="not a non-blank string"):
        Source.from_list(["ok", "  "])
    with pytest.raises(ValueError, match="not a non-blank string"):
        Source.from_list(["ok", 3])


def test_from_function_is_seeded_per_draw():
    source = Source.from_function(lambda rng: f"id{rng.randint(0, 10**9)}", seed=8)
    again = Source.from_function(lambda rng: f"id{rng.randint(0, 10**9)}", seed=8)
    assert source.draws(0, 20) == again.draws(0, 20)
    assert len(set(source.draws(0, 20))) == 20


def test_function_source_without_replacement_needs_diversity():
    with pytest.raises(ValueError, match="needs diversity=k"):
        Source.from_function(lambda rng: "x", replace=False)
    pool = Source.from_function(lambda rng: f"t{rng.randint(0, 3)}", diversity=4, replace=False)
    assert sorted(pool.draws(0, 4)) == ["t0", "t1", "t2", "t3"]
    with pytest.raises(ValueError, match="only 1 distinct items"):
        Source.from_function(lambda rng: "same", diversity=2).draws(0, 1)


def test_registry_resolves_names_and_accepts_new_sources():
    assert {"date", "country", "html"} <= set(SOURCES)
    with pytest.raises(ValueError, match="unknown source 'planet'.*registered sources: .*country"):
        get_source("planet")
    register_source("planet", lambda seed=0: Source.from_list(["Mars", "Venus"], seed=seed, name="planet"))
    try:
        assert set(get_source("planet", seed=1).draws(0, 50)) == {"Mars", "Venus"}
        assert SOURCES["planet"].modifier is ItemInjection
        with pytest.raises(ValueError, match="already registered"):
            register_source("planet", lambda seed=0: None)
    finally:
        del SOURCES["planet"]
    with pytest.raises(ValueError, match="no '-'"):
        register_source("my-source", lambda seed=0: None)


def test_sources_left_at_the_default_seed_draw_independently():
    years = [int(d[:4]) for d in get_source("date").draws(0, 3000)]
    countries = [COUNTRIES.index(c) for c in get_source("country").draws(0, 3000)]
    assert abs(np.corrcoef(years, countries)[0, 1]) < 0.1


def test_without_replacement_duplicates_are_one_item():
    source = Source.from_list(["a", "a", "b"], replace=False)
    assert sorted(source.draws(0, 2)) == ["a", "b"] and source.capacity == 2
    assert Source.from_list(["a", "a", "b"]).space_size == 3  # with replacement, duplicates weight the draw


def test_bad_source_arguments():
    with pytest.raises(ValueError, match=r"years must be a \(first, last\) pair of ints"):
        DateSource(years=2000)
    with pytest.raises(ValueError, match="4-digit years"):
        DateSource(years=(999, 2000))
    with pytest.raises(TypeError, match="not one string"):
        Source.from_list("abc")


def test_from_file_on_a_folder(tmp_path):
    with pytest.raises(ValueError, match="is not a file"):
        Source.from_file(tmp_path)
