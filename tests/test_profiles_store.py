"""The profile store (movierec.profiles): profiles, ratings, "not interested" and watch lists
kept on SQLite and PostgreSQL alike; secrets hashed and compared in constant time; export,
import and a delete that deletes; schema migrations; errors in one line."""

from __future__ import annotations

import hashlib
import json
import sqlite3
import threading
import time
from pathlib import Path

import pytest
from profiles_db import any_database  # noqa: F401 (the db fixture)
from sqlalchemy import func, select, text

from movierec.errors import MovieRecError
from movierec.profiles import ProfileStore, Rating, database, schema, store


def count_rows(opened: ProfileStore, profile_id: str | None = None) -> dict[str, int]:
    """Rows per table (of one profile, when given)."""
    counts = {}
    with opened.database.reading() as connection:
        for table in (schema.profiles, *schema.PROFILE_TABLES):
            column = table.c.id if table is schema.profiles else table.c.profile_id
            query = select(func.count()).select_from(table)
            if profile_id is not None:
                query = query.where(column == profile_id)
            counts[table.name] = connection.execute(query).scalar_one()
    return counts


@pytest.fixture
def opened(db: str):
    with ProfileStore.open(db) as profile_store:
        yield profile_store


# ---- profiles and secrets ----------------------------------------------------------------
def test_a_new_profile_has_a_short_id_and_a_long_secret_kept_only_as_its_hash(opened) -> None:
    new = opened.create("Ana", consent_to_training=True)
    assert len(new.profile_id) == 12 and len(new.secret) >= 43  # 256 random bits
    assert new.secret not in repr(new)
    with opened.database.reading() as connection:
        stored = connection.execute(select(schema.profiles)).one()._mapping
    assert stored["secret_hash"] == hashlib.sha256(new.secret.encode()).hexdigest()
    assert new.secret not in [str(v) for v in stored.values()]
    profile = opened.profile(new.profile_id)
    assert (profile.name, profile.consent_to_training) == ("Ana", True)


def test_secrets_differ_between_profiles(opened) -> None:
    first, second = opened.create(), opened.create()
    assert first.profile_id != second.profile_id and first.secret != second.secret


def test_the_secret_is_checked_in_constant_time(opened, monkeypatch) -> None:
    new = opened.create()
    compared = []
    real = store.hmac.compare_digest
    monkeypatch.setattr(
        store.hmac, "compare_digest", lambda a, b: compared.append((a, b)) or real(a, b)
    )
    assert opened.check_secret(new.profile_id, new.secret)
    assert not opened.check_secret(new.profile_id, new.secret[:-1] + "x")
    assert not opened.check_secret("unknownprof1", new.secret)
    assert not opened.check_secret("not an id!", new.secret)
    assert not opened.check_secret(new.profile_id, None)  # type: ignore[arg-type]
    assert len(compared) == 5  # every path compares, an unknown id too


def test_no_secret_reaches_any_log(opened, caplog) -> None:
    """With every logger at DEBUG (SQLAlchemy's statements and parameters included), making,
    checking and replacing secrets logs none of them: only hashes ever reach the database."""
    import logging

    caplog.set_level(logging.DEBUG)
    logging.getLogger("sqlalchemy.engine").setLevel(logging.DEBUG)
    try:
        with ProfileStore.open(opened.database.engine.url.render_as_string(False)) as logged:
            new = logged.create("Ana")
            assert logged.check_secret(new.profile_id, new.secret)
            replaced = logged.new_secret(new.profile_id)
            logged.export(new.profile_id)
    finally:
        logging.getLogger("sqlalchemy.engine").setLevel(logging.NOTSET)
    text = "\n".join(r.getMessage() for r in caplog.records)
    assert "INSERT INTO profiles" in text  # the statements were logged
    assert new.secret not in text and replaced not in text


def test_an_overlong_secret_is_simply_wrong(opened) -> None:
    new = opened.create()
    assert not opened.check_secret(new.profile_id, new.secret * 1000)


def test_idle_profiles_are_those_unchanged_for_long(opened, monkeypatch) -> None:
    clock = {"now": 1000}
    monkeypatch.setattr(store, "_now", lambda: clock["now"])
    old, fresh = opened.create(), opened.create()
    clock["now"] = 5000
    opened.rate(fresh.profile_id, 1, 4)
    clock["now"] = 6000
    assert [p.profile_id for p in opened.idle_profiles(2000)] == [old.profile_id]
    assert [p.profile_id for p in opened.idle_profiles(0)] == [old.profile_id, fresh.profile_id]
    assert opened.idle_profiles(5001) == []


def test_a_new_secret_revokes_the_old(opened) -> None:
    new = opened.create()
    replaced = opened.new_secret(new.profile_id)
    assert not opened.check_secret(new.profile_id, new.secret)
    assert opened.check_secret(new.profile_id, replaced)


def test_profiles_are_listed_oldest_first(opened) -> None:
    made = [opened.create(f"p{i}").profile_id for i in range(3)]
    assert sorted(p.profile_id for p in opened.profiles()) == sorted(made)
    created = [p.created for p in opened.profiles()]
    assert created == sorted(created)


@pytest.mark.parametrize("name", ["x" * 101, "tab\there", 5])
def test_a_bad_name_is_refused(opened, name) -> None:
    with pytest.raises(MovieRecError):
        opened.create(name)


def test_an_unknown_profile_is_named_with_the_way_out(opened) -> None:
    with pytest.raises(MovieRecError, match=r"no profile 'abcdefghijkl' in .*profile list"):
        opened.profile("abcdefghijkl")
    with pytest.raises(MovieRecError, match="not a profile id"):
        opened.rate("../etc", 1, 4.0)


# ---- ratings and lists -------------------------------------------------------------------
def test_rating_again_replaces_the_rating(opened) -> None:
    new = opened.create()
    opened.rate(new.profile_id, 1, 4.5, rated=100)
    opened.rate(new.profile_id, 1, 2.0, rated=200)
    opened.rate(new.profile_id, 7, 5)
    ratings = opened.ratings(new.profile_id)
    assert ratings[0] == Rating(1, 2.0, 200)
    assert [r.movie_id for r in ratings] == [1, 7]


@pytest.mark.parametrize("stars", [0, 0.25, 5.5, 4.7, float("nan"), "4", True, None])
def test_stars_off_the_scale_are_refused(opened, stars) -> None:
    new = opened.create()
    with pytest.raises(MovieRecError, match=r"is not a rating: give 0\.5 to 5 in steps of 0\.5"):
        opened.rate(new.profile_id, 1, stars)
    assert opened.ratings(new.profile_id) == []


def test_the_scale_is_the_datasets(db) -> None:
    with ProfileStore.open(db, scale=(1, 5, 1)) as whole_stars:
        new = whole_stars.create()
        whole_stars.rate(new.profile_id, 1, 3)
        with pytest.raises(MovieRecError, match="1 to 5 in steps of 1"):
            whole_stars.rate(new.profile_id, 1, 3.5)


def test_rating_a_movie_takes_it_off_the_watch_list(opened) -> None:
    new = opened.create()
    opened.watch(new.profile_id, 3)
    opened.watch(new.profile_id, 4)
    opened.rate(new.profile_id, 3, 4)
    assert [k.movie_id for k in opened.profile_data(new.profile_id).watchlist] == [4]


def test_hiding_and_watching_twice_keeps_one_row_and_undoing_says_if_there_was_one(opened):
    new = opened.create()
    for _ in range(2):
        opened.hide(new.profile_id, 2)
        opened.watch(new.profile_id, 5)
    data = opened.profile_data(new.profile_id)
    assert [k.movie_id for k in data.not_interested] == [2]
    assert [k.movie_id for k in data.watchlist] == [5]
    assert opened.unhide(new.profile_id, 2) and not opened.unhide(new.profile_id, 2)
    assert opened.unwatch(new.profile_id, 5) and not opened.unwatch(new.profile_id, 5)
    opened.rate(new.profile_id, 9, 3)
    assert opened.unrate(new.profile_id, 9) and not opened.unrate(new.profile_id, 9)


@pytest.mark.parametrize("movie_id", [-1, 1.5, "1", True, 2**63])
def test_a_bad_movie_id_is_refused(opened, movie_id) -> None:
    new = opened.create()
    with pytest.raises(MovieRecError, match="is not a movie id"):
        opened.hide(new.profile_id, movie_id)


def test_writing_to_a_missing_profile_writes_nothing(opened) -> None:
    with pytest.raises(MovieRecError, match="no profile"):
        opened.rate("abcdefghijkl", 1, 4)
    assert count_rows(opened)["ratings"] == 0


def test_only_consenting_profiles_ratings_are_offered_for_training(opened) -> None:
    yes, no = opened.create(consent_to_training=True), opened.create()
    opened.rate(yes.profile_id, 1, 4, rated=10)
    opened.rate(no.profile_id, 2, 4)
    assert opened.consenting_ratings() == [(yes.profile_id, 1, 4.0, 10)]
    opened.set_consent(yes.profile_id, False)
    assert opened.consenting_ratings() == []


# ---- export, import, delete --------------------------------------------------------------
def filled(opened: ProfileStore, name: str = "Ana") -> str:
    new = opened.create(name, consent_to_training=True)
    opened.rate(new.profile_id, 1, 4.5, rated=11)
    opened.rate(new.profile_id, 2, 1.0, rated=12)
    opened.hide(new.profile_id, 3)
    opened.watch(new.profile_id, 4)
    return new.profile_id


def test_an_export_imports_as_a_new_profile_holding_the_same(opened) -> None:
    exported = opened.export(filled(opened))
    json.dumps(exported)  # JSON-ready
    again = opened.import_profile(json.loads(json.dumps(exported)))
    reimported = opened.export(again.profile_id)
    assert reimported["profile"]["profile"] == again.profile_id != exported["profile"]["profile"]
    for key in ("ratings", "not_interested", "watchlist"):
        assert reimported[key] == exported[key]
    assert reimported["profile"]["name"] == "Ana"
    assert reimported["profile"]["consent_to_training"] is True
    assert opened.check_secret(again.profile_id, again.secret)
    assert "secret" not in json.dumps(exported)


@pytest.mark.parametrize(
    ("change", "message"),
    [
        (lambda e: e.update(format="other"), "not a movierec profile export"),
        (lambda e: e.update(version=2), "has version '2'"),
        (lambda e: e.update(extra=1), "fields are wrong"),
        (lambda e: e["ratings"].append(dict(e["ratings"][0])), "lists movie 1 twice"),
        (lambda e: e["ratings"][0].update(stars=9), "is not a rating"),
        (lambda e: e["ratings"][0].pop("rated"), r"ratings\[0\] must hold exactly"),
        (lambda e: e["watchlist"][0].update(movie_id="4"), "is not a movie id"),
        (lambda e: e["profile"].update(consent_to_training="yes"), "true or false"),
        (lambda e: e.update(not_interested={}), "must be a list"),
    ],
)
def test_a_damaged_export_is_refused_and_nothing_is_made(opened, change, message) -> None:
    exported = opened.export(filled(opened))
    change(exported)
    before = count_rows(opened)
    with pytest.raises(MovieRecError, match=message):
        opened.import_profile(exported)
    assert count_rows(opened) == before


def test_delete_really_deletes_every_row_of_the_profile_and_no_other(opened) -> None:
    gone, kept = filled(opened), filled(opened, "Bo")
    assert count_rows(opened, gone) == {
        "profiles": 1,
        "ratings": 2,
        "not_interested": 1,
        "watchlist": 1,
    }
    removed = opened.delete(gone)
    assert removed == {"ratings": 2, "not_interested": 1, "watchlist": 1, "profiles": 1}
    assert set(count_rows(opened, gone).values()) == {0}
    assert (
        count_rows(opened)
        == count_rows(opened, kept)
        == {
            "profiles": 1,
            "ratings": 2,
            "not_interested": 1,
            "watchlist": 1,
        }
    )
    with pytest.raises(MovieRecError, match="no profile"):
        opened.delete(gone)


def test_a_deleted_sqlite_profile_leaves_no_trace_in_the_file(tmp_path: Path) -> None:
    path = tmp_path / "profiles.db"
    with ProfileStore.open(path) as opened:
        profile_id = filled(opened, "Zelda Q. Unforgettable")
        opened.delete(profile_id)
    # closing checkpoints the WAL; secure_delete is not promised, but after VACUUM the name
    # is gone from the file
    raw = sqlite3.connect(path)
    raw.execute("VACUUM")
    raw.close()
    assert b"Unforgettable" not in path.read_bytes()


# ---- the schema and its migrations -------------------------------------------------------
def test_head_is_the_last_migration_and_builds_the_schema_exactly(opened) -> None:
    from alembic.autogenerate import compare_metadata
    from alembic.runtime.migration import MigrationContext

    assert database.known_revisions()[-1] == database.HEAD
    with opened.database.reading() as connection:
        context = MigrationContext.configure(connection)
        differences = compare_metadata(context, schema.metadata)
    assert [d for d in differences if "movierec_schema_version" not in str(d)] == []


def test_a_database_of_the_first_revision_is_migrated_keeping_its_rows(db) -> None:
    engine_database = database.Database(
        database._engine(database._url(db)[0]), "the first revision"
    )
    with engine_database.writing() as connection:
        database.migrate(connection, "0001")
        connection.execute(
            text(
                "INSERT INTO profiles (id, secret_hash, name, created, consent_to_training) "
                "VALUES ('oldprofile01', :hash, 'Old', 1000, true)"
            ),
            {"hash": "0" * 64},
        )
        connection.execute(text("INSERT INTO ratings VALUES ('oldprofile01', 5, 3.5, 1001)"))
    engine_database.close()
    with ProfileStore.open(db) as opened:
        profile = opened.profile("oldprofile01")
        assert (profile.created, profile.updated) == (1000, 1000)
        assert opened.ratings("oldprofile01") == [Rating(5, 3.5, 1001)]
        with opened.database.reading() as connection:
            assert database.revision_of(connection, opened.database) == database.HEAD


def test_a_database_of_a_newer_movierec_is_refused_in_one_line(db) -> None:
    ProfileStore.open(db).close()
    with ProfileStore.open(db) as opened, opened.database.writing() as connection:
        connection.execute(text("UPDATE movierec_schema_version SET version_num = '0099'"))
    with pytest.raises(MovieRecError) as refused:
        ProfileStore.open(db)
    message = str(refused.value)
    assert "newer movierec (schema revision '0099'" in message and "upgrade movierec" in message
    assert "\n" not in message


def test_a_sqlite_file_of_another_program_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "other.db"
    with sqlite3.connect(path) as raw:
        raw.execute("CREATE TABLE accounts (id INTEGER)")
    with pytest.raises(MovieRecError, match="is not a movierec profile database"):
        ProfileStore.open(path)


@pytest.mark.parametrize(
    ("db_arg", "message"),
    [
        ("mysql://user@host/db", "not in 'mysql'"),
        ("postgresql://user@host:port/db", "is not a database URL"),
        ("{tmp}/missing/profiles.db", "does not exist; create it"),
        ("{tmp}", "is a folder"),
        ("{tmp}/text.db", "is not a SQLite database"),
    ],
)
def test_a_bad_db_is_refused_in_one_line(tmp_path: Path, db_arg: str, message: str) -> None:
    (tmp_path / "text.db").write_text("hello, not a database\n" * 100)
    with pytest.raises(MovieRecError, match=message) as refused:
        ProfileStore.open(db_arg.format(tmp=tmp_path))
    assert "\n" not in str(refused.value)


def test_an_unreachable_server_is_named_without_its_password() -> None:
    pytest.importorskip("psycopg")
    with pytest.raises(MovieRecError, match="cannot connect to the PostgreSQL") as refused:
        ProfileStore.open("postgresql://someone:hunter2@127.0.0.1:9/nowhere")
    assert "hunter2" not in str(refused.value) and "\n" not in str(refused.value)


def test_a_database_locked_too_long_is_named(tmp_path: Path, monkeypatch) -> None:
    path = tmp_path / "profiles.db"
    with ProfileStore.open(path) as opened:
        new = opened.create()
    monkeypatch.setattr(database, "BUSY_SECONDS", 0.2)
    holder = sqlite3.connect(path, isolation_level=None)
    holder.execute("BEGIN IMMEDIATE")
    try:
        with ProfileStore.open(path) as waiting, pytest.raises(MovieRecError, match="locked"):
            waiting.rate(new.profile_id, 1, 4)
    finally:
        holder.execute("ROLLBACK")
        holder.close()


def test_the_default_database_is_in_the_cache_folder(tmp_path: Path, monkeypatch) -> None:
    monkeypatch.setenv("MOVIEREC_CACHE_DIR", str(tmp_path / "cache"))
    with ProfileStore.open() as opened:
        opened.create()
    assert (tmp_path / "cache" / "profiles.db").is_file()


def test_sqlite_runs_in_wal_mode(tmp_path: Path) -> None:
    with ProfileStore.open(tmp_path / "p.db") as opened, opened.database.reading() as c:
        assert c.exec_driver_sql("PRAGMA journal_mode").scalar() == "wal"


# ---- concurrent writers ------------------------------------------------------------------
def write_concurrently(
    db: str,
    writers: int,
    seconds: float,
    profile_id: str | None = None,
    first: int = 0,
) -> tuple[int, int, list[str]]:
    """``writers`` threads, each with its own store (its own connections), rate distinct
    movies (from writer number ``first``) for ``seconds``: (ratings acknowledged, ratings
    found after, errors)."""
    if profile_id is None:
        with ProfileStore.open(db) as setup:
            profile_id = setup.create().profile_id
    acknowledged = [0] * writers
    errors: list[str] = []
    start = threading.Barrier(writers)

    def writer(number: int) -> None:
        try:
            with ProfileStore.open(db) as own:
                start.wait()
                deadline = time.monotonic() + seconds
                while time.monotonic() < deadline:
                    movie_id = (first + number) * 1_000_000 + acknowledged[number]
                    own.rate(profile_id, movie_id, 3.5)
                    acknowledged[number] += 1
        except Exception as exc:  # counted and shown by the caller
            errors.append(f"{type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=writer, args=(n,)) for n in range(writers)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    with ProfileStore.open(db) as check:
        found = len(check.ratings(profile_id))
    return sum(acknowledged), found, errors


def test_64_concurrent_writers_lose_no_write(db) -> None:
    acknowledged, found, errors = write_concurrently(db, 64, 2.0)
    assert errors == []
    assert acknowledged > 64 and found == acknowledged


@pytest.mark.slow
def test_64_concurrent_writers_for_a_minute_lose_no_write(db) -> None:
    acknowledged, found, errors = write_concurrently(db, 64, 60.0)
    assert errors == [] and found == acknowledged


def _writing_process(db: str, profile_id: str, first: int, threads: int, seconds: float):
    return write_concurrently(db, threads, seconds, profile_id, first)


@pytest.mark.slow
def test_64_writers_in_8_processes_lose_no_write(db) -> None:
    """Writers of several processes contend through SQLite's own locking (and PostgreSQL's)."""
    import multiprocessing

    with ProfileStore.open(db) as setup:
        profile_id = setup.create().profile_id
    context = multiprocessing.get_context("spawn")
    with context.Pool(8) as pool:
        results = pool.starmap(
            _writing_process, [(db, profile_id, 8 * n, 8, 20.0) for n in range(8)]
        )
    errors = [e for _, _, found in results for e in found]
    with ProfileStore.open(db) as check:
        found = len(check.ratings(profile_id))
    assert errors == [] and found == sum(r[0] for r in results) > 64


def test_a_write_at_once_never_waits_and_writes_nothing_when_it_would(tmp_path: Path) -> None:
    """The web server's writes on its event loop: done at once when nobody is in the way, else
    WouldWait before anything is written (another program's lock, or this process's writer)."""
    with ProfileStore.open(tmp_path / "p.db") as opened:
        profile_id = opened.create().profile_id
        with opened.database.at_once():
            opened.rate(profile_id, 1, 4.0)
        other = sqlite3.connect(tmp_path / "p.db", isolation_level=None, check_same_thread=False)
        other.execute("BEGIN IMMEDIATE")  # another program writing
        started = time.monotonic()
        with pytest.raises(database.WouldWait), opened.database.at_once():
            opened.rate(profile_id, 2, 4.0)
        assert time.monotonic() - started < 1
        other.execute("COMMIT")
        holding, release = threading.Event(), threading.Event()

        def writer() -> None:  # this process's writer, holding its turn
            with opened.database.writing():
                holding.set()
                release.wait(10)

        thread = threading.Thread(target=writer)
        thread.start()
        holding.wait(10)
        with pytest.raises(database.WouldWait), opened.database.at_once():
            opened.rate(profile_id, 3, 4.0)
        release.set()
        thread.join()
        other.execute("BEGIN IMMEDIATE")  # held for 0.3 s: a write out of at_once waits for it
        threading.Timer(0.3, other.execute, ("COMMIT",)).start()
        opened.rate(profile_id, 4, 4.0)
        other.close()
        assert [r.movie_id for r in opened.ratings(profile_id)] == [1, 4]


def test_a_writer_interrupted_while_waiting_gives_its_turn_up() -> None:
    """A writer stopped (Ctrl+C) while it waits its turn must not block those after it."""
    turns = database._TurnLock()
    turns.__enter__()  # the first writer holds its turn
    real_wait = turns._turns.wait

    def interrupted(*args, **kwargs):
        raise KeyboardInterrupt

    turns._turns.wait = interrupted
    with pytest.raises(KeyboardInterrupt):
        turns.__enter__()  # the second stops waiting
    turns._turns.wait = real_wait
    done = threading.Event()

    def third() -> None:
        with turns:
            done.set()

    waiting = threading.Thread(target=third, daemon=True)
    waiting.start()
    turns.__exit__(None, None, None)  # the first writer is done: the third's turn, not the 2nd
    waiting.join(5)
    assert done.is_set()


def test_many_programs_opening_a_new_database_at_once_make_it_once(db) -> None:
    errors: list[str] = []

    def opener() -> None:
        try:
            with ProfileStore.open(db) as opened:
                opened.create()
        except Exception as exc:  # shown by the assertion
            errors.append(f"{type(exc).__name__}: {exc}")

    threads = [threading.Thread(target=opener) for _ in range(16)]
    for thread in threads:
        thread.start()
    for thread in threads:
        thread.join()
    assert errors == []
    with ProfileStore.open(db) as opened:
        assert len(opened.profiles()) == 16
        with opened.database.reading() as connection:
            versions = connection.execute(text("SELECT version_num FROM movierec_schema_version"))
            assert list(versions.scalars()) == [database.HEAD]
