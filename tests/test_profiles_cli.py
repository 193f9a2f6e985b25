"""`movierec profile …`, `movierec recommend --profile …` and `movierec train --with-profiles`:
thin commands over movierec.profiles, each with --json, every mistake one line and exit 2."""

from __future__ import annotations

import json
from pathlib import Path

import pytest

from movierec.cli import main
from movierec.profiles import ProfileStore
from movierec.recommender import Recommender

TOY_STORY, TOY_STORY_2, SHREK = 1, 3114, 4306


@pytest.fixture(scope="module")
def model(small_recommender, tmp_path_factory) -> Path:
    return small_recommender.save(tmp_path_factory.mktemp("model") / "small")


def run(capsys, *argv: str) -> tuple[int, str, str]:
    code = main(list(argv))
    out, err = capsys.readouterr()
    return code, out, err


def ok_json(capsys, *argv: str):
    code, out, err = run(capsys, *argv, "--json")
    assert code == 0, err
    return json.loads(out)


def refused(capsys, *argv: str) -> str:
    """The one line a refused command prints (exit 2, nothing on stdout, no traceback)."""
    code, out, err = run(capsys, *argv)
    assert code == 2 and out == "", (code, out, err)
    assert err.startswith("movierec: error: ") and err.count("\n") == 1, err
    return err


@pytest.fixture
def db(tmp_path: Path) -> str:
    return str(tmp_path / "profiles.db")


def made(capsys, db: str, *extra: str) -> str:
    return ok_json(capsys, "profile", "create", "--db", db, *extra)["profile"]


def test_create_prints_the_id_and_the_secret_once(capsys, db) -> None:
    created = ok_json(capsys, "profile", "create", "--name", "Ana", "--db", db)
    assert set(created) == {"profile", "secret"} and len(created["secret"]) >= 43
    with ProfileStore.open(db) as store:
        assert store.check_secret(created["profile"], created["secret"])
    listed = ok_json(capsys, "profile", "list", "--db", db)
    assert [p["profile"] for p in listed] == [created["profile"]]
    code, out, _ = run(capsys, "profile", "export", "--profile", created["profile"], "--db", db)
    assert code == 0
    assert created["secret"] not in json.dumps(listed) + out


def test_rate_hide_watch_and_show(capsys, db, model) -> None:
    ana = made(capsys, db)
    common = ("--profile", ana, "--db", db, "--model", str(model))
    rated = ok_json(capsys, "profile", "rate", *common, "Toy Story", "4.5")
    assert rated == {"profile": ana, "movie_id": 1, "title": "Toy Story (1995)", "stars": 4.5}
    ok_json(capsys, "profile", "rate", *common, "toy story 2", "1")
    ok_json(capsys, "profile", "hide", *common, "Shrek")
    ok_json(capsys, "profile", "watch", *common, "Heat")
    shown = ok_json(capsys, "profile", "show", "--profile", ana, "--db", db)
    assert [(r["movie_id"], r["stars"]) for r in shown["ratings"]] == [(1, 4.5), (3114, 1.0)]
    assert [k["movie_id"] for k in shown["not_interested"]] == [SHREK]
    assert [k["movie_id"] for k in shown["watchlist"]] == [6]
    undone = ok_json(capsys, "profile", "hide", *common, "--undo", "Shrek")
    assert undone["changed"] is True
    assert not ok_json(capsys, "profile", "hide", *common, "--undo", "Shrek")["changed"]
    ok_json(capsys, "profile", "unrate", *common, "Toy Story 2")
    code, out, _ = run(capsys, "profile", "show", "--profile", ana, "--db", db, "-m", str(model))
    assert code == 0 and "Toy Story (1995)" in out and "Heat (1995)" in out


def test_recommend_for_a_profile_leaves_out_dislikes_and_hidden_movies(capsys, db, model):
    ana = made(capsys, db)
    with ProfileStore.open(db) as store:
        store.rate(ana, TOY_STORY, 5.0)
        store.rate(ana, TOY_STORY_2, 1.0)
        store.hide(ana, SHREK)
    picks = ok_json(
        capsys, "recommend", "--db", db, "--profile", ana, "-m", str(model), "-n", "200"
    )
    ids = {p["movie_id"] for p in picks}
    assert len(picks) == 200 and ids.isdisjoint({TOY_STORY, TOY_STORY_2, SHREK})
    code, out, _ = run(capsys, "recommend", "--db", db, "-p", ana, "-m", str(model), "--explain")
    assert code == 0 and "because you liked" in out and "Toy Story (1995)" in out


def test_movie_night_for_two_says_whose_taste_each_pick_serves(capsys, db, model) -> None:
    ana, bo = made(capsys, db, "--name", "Ana"), made(capsys, db, "--name", "Bo")
    with ProfileStore.open(db) as store:
        for movie_id in (1, 2355, SHREK):
            store.rate(ana, movie_id, 5.0)
        for movie_id in (858, 1221, 296):
            store.rate(bo, movie_id, 5.0)
    night = ok_json(
        capsys, "recommend", "--db", db, "-p", ana, "-p", bo, "-m", str(model), "-n", "10"
    )
    assert night["profiles"] == [ana, bo] and night["aggregation"].startswith("average")
    assert len(night["picks"]) == 10 and 0 < night["vetoed"] < night["candidates"]
    for pick in night["picks"]:
        assert set(pick["members"]) == {ana, bo} and set(pick["serves_most"]) <= {ana, bo}
        assert pick["movie_id"] not in {1, 2355, SHREK, 858, 1221, 296}
    assert {who for p in night["picks"] for who in p["serves_most"]} == {ana, bo}
    code, out, _ = run(capsys, "recommend", "--db", db, "-p", ana, "-p", bo, "-m", str(model))
    assert code == 0 and "serves most" in out and "Movie night for Ana, Bo" in out


def test_export_import_and_delete(capsys, db, tmp_path: Path) -> None:
    ana = made(capsys, db)
    with ProfileStore.open(db) as store:
        store.rate(ana, TOY_STORY, 4.0)
        store.watch(ana, 6)
    code, exported, _ = run(capsys, "profile", "export", "--profile", ana, "--db", db)
    assert code == 0
    path = tmp_path / "ana.json"
    path.write_text(exported)
    again = ok_json(capsys, "profile", "import", str(path), "--db", db)
    copy = ok_json(capsys, "profile", "show", "--profile", again["profile"], "--db", db)
    assert copy["ratings"] == json.loads(exported)["ratings"]
    deleted = ok_json(capsys, "profile", "delete", "--profile", ana, "--db", db)
    assert deleted["deleted"] == {"ratings": 1, "not_interested": 0, "watchlist": 1, "profiles": 1}
    assert [p["profile"] for p in ok_json(capsys, "profile", "list", "--db", db)] == [
        again["profile"]
    ]


def test_consent_is_given_and_withdrawn(capsys, db) -> None:
    ana = made(capsys, db)
    assert ok_json(capsys, "profile", "consent", "--profile", ana, "--db", db)[
        "consent_to_training"
    ]
    ok_json(capsys, "profile", "consent", "--profile", ana, "--withdraw", "--db", db)
    assert ok_json(capsys, "profile", "list", "--db", db)[0]["consent_to_training"] is False


def test_mistakes_are_one_line_and_exit_2(capsys, db, model, tmp_path: Path) -> None:
    ana = made(capsys, db)
    m = ("-m", str(model))
    assert "no profile 'nobodyhere00'" in refused(
        capsys, "profile", "show", "--profile", "nobodyhere00", "--db", db
    )
    assert "is not a rating: give 0.5 to 5" in refused(
        capsys, "profile", "rate", "-p", ana, "--db", db, *m, "Toy Story", "7"
    )
    assert "no profile database at" in refused(
        capsys, "profile", "list", "--db", str(tmp_path / "typo.db")
    )
    assert not (tmp_path / "typo.db").exists()
    assert "not both" in refused(capsys, "recommend", "-l", "Heat", "-p", ana, "--db", db, *m)
    assert "--db is for --profile" in refused(capsys, "recommend", "-l", "Heat", "--db", db, *m)
    assert "2 to 6 people, not 7" in refused(
        capsys, "recommend", "--db", db, *m, *[f"-p{i}" for i in "abcdefg"]
    )
    assert "rate a movie you liked" in refused(capsys, "recommend", "--db", db, "-p", ana, *m)
    assert "named twice" in refused(capsys, "recommend", "--db", db, "-p", ana, "-p", ana, *m)
    (tmp_path / "bad.json").write_text("{not json")
    assert "is not JSON" in refused(capsys, "profile", "import", str(tmp_path / "bad.json"))
    assert "not in 'mysql'" in refused(capsys, "profile", "list", "--db", "mysql://u@h/d")
    assert "name movies you like" in refused(capsys, "recommend", *m)


def test_a_newer_database_is_refused_by_every_command(capsys, db) -> None:
    ana = made(capsys, db)
    with ProfileStore.open(db) as store, store.database.writing() as connection:
        connection.exec_driver_sql("UPDATE movierec_schema_version SET version_num = '0099'")
    assert "newer movierec" in refused(capsys, "profile", "show", "--profile", ana, "--db", db)


# ---- training with profiles ----------------------------------------------------------------
def test_train_with_profiles_adds_consenting_ratings_and_records_it(
    capsys, db, tmp_path, small_recommender
):
    yes, no = made(capsys, db, "--consent"), made(capsys, db)
    with ProfileStore.open(db) as store:
        for profile_id in (yes, no):
            for movie_id in (1, 2, 3):
                store.rate(profile_id, movie_id, 5.0)
        store.rate(yes, 10**9, 5.0)  # not a movie of the dataset: left out
    out = tmp_path / "with-profiles"
    args = ["-d", "ml-latest-small", "--preset", "als-tuned", "--iterations", "2"]
    trained = ok_json(capsys, "train", *args, "--out", str(out), "--with-profiles", db)
    added = trained["profiles"]
    assert (added["profiles"], added["ratings"], added["left_out"]) == (1, 3, 1)
    assert added["first_user_id"] == 611  # ml-latest-small's users are 1–610
    meta = json.loads((out / "meta.json").read_text())
    assert "+profiles(1 profiles, 3 ratings, user ids 611-611" in meta["dataset"]["fingerprint"]
    loaded = Recommender.load(out)
    assert loaded.users.find(611) is not None and loaded.users.find(612) is None
    assert meta["n_users"] == len(small_recommender.users) + 1
    code, text, _ = run(capsys, "train", *args, "--out", str(tmp_path / "b"), "--with-profiles", db)
    assert code == 0 and "Added 3 ratings of 1 consenting profiles" in text


def test_train_with_profiles_nobody_consents_is_refused(capsys, db, tmp_path) -> None:
    made(capsys, db)
    args = ["-d", "ml-latest-small", "--preset", "als-tuned", "--iterations", "2"]
    assert "no profile in" in refused(
        capsys, "train", *args, "--out", str(tmp_path / "m"), "--with-profiles", db
    )
    assert not (tmp_path / "m").exists()
    assert "no profile database" in refused(
        capsys, "train", *args, "-o", str(tmp_path / "m"), "--with-profiles", str(tmp_path / "x")
    )
