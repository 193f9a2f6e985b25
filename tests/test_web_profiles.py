"""The profile API: who may read and change a profile (cookie, CSRF, rate limits), what the
recommendations never bring back (dislikes, hidden movies), delete, export, movie night, and
the page's two languages."""

from __future__ import annotations

import json
import re
import sqlite3
from collections.abc import Iterator
from pathlib import Path
from typing import Any

import pytest
from fastapi.testclient import TestClient

from movierec import Recommender
from movierec.errors import MovieRecError
from movierec.profiles import ProfileStore
from movierec.web.app import STATIC_DIR, check_listen_address, create_app
from movierec.web.guard import CSRF_HEADER, PROFILE_COOKIE, RateLimiter
from movierec.web.i18n import language_of

TOY_STORY, STAR_WARS, MATRIX, FARGO, JUMANJI = 1, 260, 2571, 608, 2


@pytest.fixture(scope="module")
def db(tmp_path_factory: pytest.TempPathFactory) -> Path:
    return tmp_path_factory.mktemp("profiles") / "profiles.db"


@pytest.fixture(scope="module")
def app(small_recommender: Recommender, db: Path) -> Any:
    return create_app(small_recommender, db, write_burst=100_000)  # one client: every test


@pytest.fixture(scope="module")
def server(app: Any) -> Iterator[TestClient]:
    with TestClient(app) as client:  # the lifespan runs once for the module
        yield client


class Browser:
    """One browser: its own cookies, and the page's habit of sending the CSRF token."""

    def __init__(self, server: TestClient) -> None:
        self.client = TestClient(server.app)  # its own cookies; the module's lifespan runs
        session = self.client.get("/api/session")
        assert session.status_code == 200
        self.csrf = session.json()["csrf"]

    def send(self, method: str, url: str, **kwargs: Any) -> Any:
        headers = {CSRF_HEADER: self.csrf, **kwargs.pop("headers", {})}
        return self.client.request(method, url, headers=headers, **kwargs)

    def get(self, url: str, **kwargs: Any) -> Any:
        return self.client.get(url, **kwargs)

    def start(self) -> str:
        answer = self.send("POST", "/api/profile")
        assert answer.status_code == 200, answer.text
        return str(answer.json()["profile"])

    def rate(self, movie_id: int, stars: float) -> Any:
        return self.send("PUT", f"/api/profile/ratings/{movie_id}", json={"stars": stars})

    def picks(self, n: int = 50) -> list[int]:
        answer = self.get("/api/profile/recommendations", params={"n": n})
        assert answer.status_code == 200, answer.text
        return [m["movie_id"] for m in answer.json()["recommendations"]]


@pytest.fixture
def browser(server: TestClient) -> Browser:
    return Browser(server)


def rated(browser: Browser, ratings: dict[int, float]) -> str:
    profile_id = browser.start()
    for movie_id, stars in ratings.items():
        assert browser.rate(movie_id, stars).status_code == 200
    return profile_id


LIKES = {TOY_STORY: 5.0, STAR_WARS: 4.5, MATRIX: 4.0}


# ---- the session and the cookie ---------------------------------------------------------------
def test_session_sets_a_csrf_cookie_and_names_no_profile_yet(server: TestClient) -> None:
    fresh = TestClient(server.app)
    answer = fresh.get("/api/session")
    body = answer.json()
    assert body["profile"] is None and len(body["csrf"]) >= 32
    assert body["scale"] == {"lowest": 0.5, "highest": 5.0, "step": 0.5}
    cookie = answer.headers["set-cookie"]
    assert "movierec_csrf=" in cookie and "samesite=strict" in cookie.lower()


def test_the_profile_key_lives_in_an_httponly_strict_cookie_never_in_the_answer(
    browser: Browser,
) -> None:
    answer = browser.send("POST", "/api/profile")
    cookie = answer.headers["set-cookie"]
    assert cookie.startswith(f"{PROFILE_COOKIE}=")
    flags = cookie.lower()
    assert "httponly" in flags and "samesite=strict" in flags and "path=/api" in flags
    assert "secure" not in flags  # plain http here; over https it is Secure
    secret = cookie.split("=", 1)[1].split(";")[0].split(".", 1)[1]
    assert len(secret) >= 22 and secret not in answer.text  # ≥ 128 bits, not in the body


def test_the_cookie_is_secure_over_https(small_recommender: Recommender, tmp_path: Path) -> None:
    with TestClient(create_app(small_recommender, tmp_path / "p.db"), base_url="https://x") as c:
        token = c.get("/api/session").json()["csrf"]
        answer = c.post("/api/profile", headers={CSRF_HEADER: token, "Origin": "https://x"})
    assert answer.status_code == 200, answer.text
    assert "secure" in answer.headers["set-cookie"].lower()


def test_reload_keeps_the_profile(browser: Browser) -> None:
    profile_id = rated(browser, {TOY_STORY: 5.0})
    assert browser.get("/api/session").json()["profile"] == profile_id
    assert browser.get("/api/profile").json()["ratings"][0]["movie_id"] == TOY_STORY


# ---- who may read and change what -------------------------------------------------------------
def test_reading_without_a_profile_is_401(browser: Browser) -> None:
    answer = browser.get("/api/profile")
    assert answer.status_code == 401 and "private link" in answer.json()["detail"]


def test_another_profiles_secret_opens_nothing(server: TestClient) -> None:
    ana, ben = Browser(server), Browser(server)
    ana_id = rated(ana, {TOY_STORY: 5.0})
    rated(ben, {FARGO: 5.0})
    ben_secret = ben.client.cookies[PROFILE_COOKIE].split(".", 1)[1]
    thief = Browser(server)
    thief.client.cookies.set(PROFILE_COOKIE, f"{ana_id}.{ben_secret}", path="/api")
    assert thief.get("/api/profile").status_code == 403
    assert thief.rate(MATRIX, 1.0).status_code == 403
    guess = Browser(server)  # an id alone, with a made-up secret
    guess.client.cookies.set(PROFILE_COOKIE, f"{ana_id}.{'A' * 43}", path="/api")
    assert guess.get("/api/profile/export").status_code == 403
    assert [r["movie_id"] for r in ana.get("/api/profile").json()["ratings"]] == [TOY_STORY]


def test_the_store_checks_secrets_in_constant_time(db: Path) -> None:
    """The check is the store's (hmac.compare_digest over SHA-256): an unknown id, a known id
    with a wrong secret and a malformed id take the same path and say only False."""
    with ProfileStore.open(db) as store:
        new = store.create()
        assert store.check_secret(new.profile_id, new.secret)
        assert not store.check_secret(new.profile_id, new.secret[:-1] + "x")
        assert not store.check_secret("nosuchprofile", new.secret)
        assert not store.check_secret("../etc", new.secret)


@pytest.mark.parametrize(
    "headers",
    [
        {},  # no token
        {CSRF_HEADER: "x" * 43},  # a token that is not the cookie's
        {"Origin": "https://evil.example"},  # the right token, from another origin
        {"Sec-Fetch-Site": "cross-site"},
    ],
)
def test_changes_without_the_csrf_token_or_from_another_site_are_403(
    browser: Browser, headers: dict[str, str]
) -> None:
    rated(browser, {TOY_STORY: 5.0})
    sent = (
        headers if CSRF_HEADER in headers or not headers else {CSRF_HEADER: browser.csrf, **headers}
    )
    for method, url, body in [
        ("PUT", f"/api/profile/ratings/{FARGO}", {"stars": 1.0}),
        ("DELETE", f"/api/profile/ratings/{TOY_STORY}", None),
        ("PUT", f"/api/profile/hidden/{FARGO}", None),
        ("POST", "/api/profile/link", None),
        ("DELETE", "/api/profile", None),
        ("POST", "/api/profile", None),
    ]:
        answer = browser.client.request(method, url, json=body, headers=sent)
        assert answer.status_code == 403, (method, url, answer.text)
    assert [r["movie_id"] for r in browser.get("/api/profile").json()["ratings"]] == [TOY_STORY]


def test_writes_over_the_rate_limit_are_429_with_retry_after(
    small_recommender: Recommender, tmp_path: Path
) -> None:
    app = create_app(small_recommender, tmp_path / "p.db", write_burst=3, writes_per_second=0.1)
    with TestClient(app) as client:
        token = client.get("/api/session").json()["csrf"]
        answers = [
            client.post("/api/profile", headers={CSRF_HEADER: token}).status_code for _ in range(4)
        ]
        refused = client.post("/api/profile", headers={CSRF_HEADER: token})
        reads = client.get("/api/session").status_code  # reads are not limited
    assert answers == [200, 200, 200, 429]
    assert refused.status_code == 429 and int(refused.headers["retry-after"]) >= 1
    assert reads == 200


def test_a_token_bucket_refills_and_keeps_clients_apart() -> None:
    now = [0.0]
    limiter = RateLimiter(burst=2, per_second=1.0, clock=lambda: now[0])
    assert [limiter.take("a"), limiter.take("a")] == [0, 0]
    assert limiter.take("a") == pytest.approx(1.0)
    assert limiter.take("b") == 0  # another client has its own bucket
    now[0] = 2.0
    assert limiter.take("a") == 0


def test_serving_on_another_machines_address_needs_allow_remote() -> None:
    check_listen_address("127.0.0.1", allow_remote=False)
    check_listen_address("::1", allow_remote=False)
    check_listen_address("0.0.0.0", allow_remote=True)
    with pytest.raises(MovieRecError, match="--allow-remote"):
        check_listen_address("0.0.0.0", allow_remote=False)


# ---- the private link ---------------------------------------------------------------------------
def test_a_private_link_opens_the_profile_in_another_browser_and_revokes_the_last(
    server: TestClient,
) -> None:
    home = Browser(server)
    profile_id = rated(home, LIKES)
    first = home.send("POST", "/api/profile/link").json()["fragment"]
    second = home.send("POST", "/api/profile/link").json()["fragment"]
    assert first.startswith(f"open={profile_id}.") and first != second
    assert home.get("/api/profile").status_code == 200  # this browser got the new key
    away = Browser(server)
    assert away.send("POST", "/api/profile/open", json={"link": second}).json() == {
        "profile": profile_id
    }
    assert len(away.get("/api/profile").json()["ratings"]) == 3
    stolen = Browser(server)  # the first link was replaced: it opens nothing now
    answer = stolen.send("POST", "/api/profile/open", json={"link": first})
    assert answer.status_code == 403 and PROFILE_COOKIE not in stolen.client.cookies


# ---- what the picks never bring back ------------------------------------------------------------
def test_picks_update_as_you_rate_without_retraining(browser: Browser) -> None:
    assert browser.start()
    empty = browser.get("/api/profile/recommendations").json()
    assert empty["recommendations"] == [] and "rate a movie you liked" in empty["note"]
    browser.rate(TOY_STORY, 5.0)
    one = browser.picks(10)
    browser.rate(MATRIX, 5.0)
    assert len(one) == 10 and browser.picks(10) != one
    assert TOY_STORY not in browser.picks() and MATRIX not in browser.picks()


def test_a_dislike_is_never_recommended_and_counts_against(
    browser: Browser, small_recommender: Recommender
) -> None:
    rated(browser, LIKES)
    before = browser.picks(50)
    disliked = before[0]
    assert browser.rate(disliked, 1.0).status_code == 200
    after = browser.picks(50)
    assert disliked not in after
    neighbours = [s.movie.movie_id for s in small_recommender.similar(disliked, 5)]
    sunk = [m for m in neighbours if m in before and m in after]
    assert all(after.index(m) >= before.index(m) for m in sunk)  # its neighbours sink
    taste = browser.get("/api/profile").json()["taste"]
    assert taste["likes"] == 3 and taste["dislikes"] == 1


def test_a_hidden_movie_is_never_recommended(browser: Browser) -> None:
    rated(browser, LIKES)
    top = browser.picks(10)[:3]
    for movie_id in top:
        assert browser.send("PUT", f"/api/profile/hidden/{movie_id}").status_code == 200
    assert not set(top) & set(browser.picks(100))
    assert browser.send("DELETE", f"/api/profile/hidden/{top[0]}").status_code == 200
    assert top[0] in browser.picks(10)


def test_the_watch_list_and_a_rating_replace_each_other(browser: Browser) -> None:
    rated(browser, LIKES)
    assert browser.send("PUT", f"/api/profile/watchlist/{FARGO}").json()["watchlist"] == 1
    assert browser.rate(FARGO, 4.0).json() == {
        "profile": browser.get("/api/session").json()["profile"],
        "ratings": 4,
        "hidden": 0,
        "watchlist": 0,  # seen: it left the watch list
    }
    assert browser.send("DELETE", f"/api/profile/ratings/{FARGO}").json()["ratings"] == 3


def test_stars_off_the_scale_and_unknown_movies_are_refused(browser: Browser) -> None:
    browser.start()
    assert browser.rate(TOY_STORY, 5.5).status_code == 422
    assert browser.rate(TOY_STORY, 3.3).status_code == 422
    assert browser.send("PUT", "/api/profile/ratings/1", json={"stars": "5"}).status_code == 422
    assert browser.rate(999_999_999, 4.0).status_code == 404


def test_what_your_ratings_say(browser: Browser) -> None:
    rated(browser, {**LIKES, JUMANJI: 1.5})
    profile = browser.get("/api/profile").json()
    taste = profile["taste"]
    assert taste["likes"] == 3 and taste["dislikes"] == 1
    assert taste["mean_stars"] == pytest.approx((5 + 4.5 + 4 + 1.5) / 4)
    genres = {g["genre"]: g for g in taste["genres"]}
    assert genres["Adventure"]["liked"] >= 2 and genres["Adventure"]["disliked"] == 1
    assert taste["drivers"] and {d["movie_id"] for d in taste["drivers"]} <= set(LIKES)
    assert sum(d["picks"] for d in taste["drivers"]) >= 20  # each pick has a reason


# ---- export and delete --------------------------------------------------------------------------
def test_export_round_trips_through_import(browser: Browser, db: Path) -> None:
    rated(browser, LIKES)
    browser.send("PUT", f"/api/profile/hidden/{FARGO}")
    answer = browser.get("/api/profile/export")
    assert "attachment" in answer.headers["content-disposition"]
    exported = answer.json()
    assert PROFILE_COOKIE not in answer.text and "secret" not in answer.text
    with ProfileStore.open(db) as store:
        copy = store.import_profile(json.loads(answer.text))
        again = store.export(copy.profile_id)
    assert again["ratings"] == exported["ratings"]
    assert again["not_interested"] == exported["not_interested"]


def test_delete_really_deletes(browser: Browser, db: Path) -> None:
    profile_id = rated(browser, LIKES)
    browser.send("PUT", f"/api/profile/hidden/{FARGO}")
    browser.send("PUT", f"/api/profile/watchlist/{JUMANJI}")
    answer = browser.send("DELETE", "/api/profile")
    assert answer.json()["deleted"] == {
        "ratings": 3,
        "not_interested": 1,
        "watchlist": 1,
        "profiles": 1,
    }
    assert PROFILE_COOKIE not in browser.client.cookies
    with sqlite3.connect(db) as connection:
        for table, column in [
            ("profiles", "id"),
            ("ratings", "profile_id"),
            ("not_interested", "profile_id"),
            ("watchlist", "profile_id"),
        ]:
            rows = connection.execute(
                f"SELECT COUNT(*) FROM {table} WHERE {column} = ?", (profile_id,)
            )
            assert rows.fetchone() == (0,), table
    assert browser.get("/api/session").json()["profile"] is None


# ---- movie night --------------------------------------------------------------------------------
def test_movie_night_for_two_by_a_code_serves_both_and_reads_nothing_of_the_other(
    server: TestClient,
) -> None:
    ana, ben = Browser(server), Browser(server)
    rated(ana, {TOY_STORY: 5.0, JUMANJI: 4.5})
    rated(ben, {MATRIX: 5.0, FARGO: 4.5, STAR_WARS: 1.0})
    code = ben.send("POST", "/api/profile/share").json()["code"]
    ben_id = ben.get("/api/session").json()["profile"]
    answer = ana.send("POST", "/api/movie-night", json={"guests": [{"code": code, "name": "Ben"}]})
    assert answer.status_code == 200, answer.text
    night = answer.json()
    assert night["members"] == ["you", "Ben"] and len(night["picks"]) == 10
    assert "without misery" in night["rule"]
    picked = {p["movie_id"] for p in night["picks"]}
    assert not picked & {TOY_STORY, JUMANJI, MATRIX, FARGO, STAR_WARS}
    assert all(set(p["serves"]) <= {"you", "Ben"} and p["serves"] for p in night["picks"])
    assert ben_id not in answer.text and "stars" not in answer.text  # nothing of Ben's


def test_movie_night_refuses_a_wrong_or_revoked_code_and_strangers(server: TestClient) -> None:
    ana, ben = Browser(server), Browser(server)
    rated(ana, LIKES)
    ben_id = rated(ben, {FARGO: 5.0})
    code = ben.send("POST", "/api/profile/share").json()["code"]
    for wrong in [f"{ben_id}.{'A' * 22}", ben_id, "x", code + "x"]:
        answer = ana.send("POST", "/api/movie-night", json={"guests": [{"code": wrong}]})
        assert answer.status_code == 403, wrong
    ben.send("POST", "/api/profile/link")  # a new link revokes the old code
    answer = ana.send("POST", "/api/movie-night", json={"guests": [{"code": code}]})
    assert answer.status_code == 403
    stranger = Browser(server)  # no profile of their own
    assert (
        stranger.send("POST", "/api/movie-night", json={"guests": [{"code": code}]}).status_code
        == 401
    )
    own = ana.send("POST", "/api/profile/share").json()["code"]
    assert ana.send("POST", "/api/movie-night", json={"guests": [{"code": own}]}).status_code == 422


# ---- languages ----------------------------------------------------------------------------------
def catalogue(language: str) -> dict[str, str]:
    return json.loads((STATIC_DIR / f"i18n-{language}.json").read_text(encoding="utf-8"))


def test_the_catalogues_have_the_same_keys_and_placeholders() -> None:
    english, korean = catalogue("en"), catalogue("ko")
    assert set(english) == set(korean)
    for key in english:
        assert set(re.findall(r"{\w+}", english[key])) == set(re.findall(r"{\w+}", korean[key])), (
            key
        )
        assert korean[key].strip(), key


def test_every_key_the_page_uses_is_in_the_catalogue() -> None:
    english = catalogue("en")
    page = (STATIC_DIR / "index.html").read_text(encoding="utf-8")
    script = (STATIC_DIR / "app.js").read_text(encoding="utf-8")
    used = set(re.findall(r'data-i18n(?:-[a-z]+)?="([\w.]+)"', page))
    used |= set(re.findall(r'\bt\("([\w.]+)"', script))
    assert used and used <= set(english), sorted(used - set(english))


@pytest.mark.parametrize(
    "header, language",
    [
        ("ko-KR,ko;q=0.9,en-US;q=0.8,en;q=0.7", "ko"),
        ("ko", "ko"),
        ("en-GB,en;q=0.9,ko;q=0.8", "en"),
        ("fr-FR, ko;q=0.5", "ko"),
        ("fr-FR", "en"),
        ("ko;q=0, en;q=0.1", "en"),
        ("", "en"),
    ],
)
def test_accept_language_picks_the_page_language(header: str, language: str) -> None:
    assert language_of(header) == language


def test_the_session_says_korean_for_a_korean_browser(browser: Browser) -> None:
    answer = browser.get("/api/session", headers={"Accept-Language": "ko-KR,ko;q=0.9"})
    assert answer.json()["language"] == "ko"


# ---- movierec serve ---------------------------------------------------------------------------
def test_serve_refuses_a_remote_address_without_allow_remote(
    capsys: pytest.CaptureFixture[str],
) -> None:
    from movierec.cli import main

    assert main(["serve", "--host", "0.0.0.0", "--dataset", "ml-latest-small"]) == 2
    err = capsys.readouterr().err
    assert err.count("\n") == 1 and "--allow-remote" in err


def test_a_database_that_cannot_be_opened_is_refused_before_the_server_starts(
    small_recommender: Recommender, tmp_path: Path
) -> None:
    """Opened when the app is made, not in its lifespan (where a failure ended the server with
    a traceback): `serve` then says it in one line, exit 2."""
    with pytest.raises(MovieRecError, match=r"missing does not exist; create it"):
        create_app(small_recommender, tmp_path / "missing" / "profiles.db")
    made = create_app(small_recommender, tmp_path / "profiles.db")
    for _ in range(2):  # a second start of the same app opens the database again
        with TestClient(made) as client:
            assert client.get("/api/session").status_code == 200


def test_serve_takes_a_profile_database(capsys: pytest.CaptureFixture[str]) -> None:
    from movierec.cli import main

    assert main(["serve", "--help"]) == 0
    out = capsys.readouterr().out
    assert "--db" in out and "--allow-remote" in out


def test_the_api_offers_the_stores_scale() -> None:
    from movierec.profiles.store import DEFAULT_SCALE
    from movierec.web.profile_schemas import HIGHEST, LOWEST, STEP

    assert (LOWEST, HIGHEST, STEP) == DEFAULT_SCALE


def test_movie_night_names_a_member_without_likes_by_the_hosts_name_not_their_id(
    server: TestClient,
) -> None:
    ana, ben = Browser(server), Browser(server)
    rated(ana, LIKES)
    ben_id = rated(ben, {FARGO: 1.0})  # a dislike only: no taste to start from
    code = ben.send("POST", "/api/profile/share").json()["code"]
    answer = ana.send("POST", "/api/movie-night", json={"guests": [{"code": code, "name": "Ben"}]})
    assert answer.status_code == 422
    detail = answer.json()["detail"]
    assert detail.startswith("Ben: ") and ben_id not in detail, detail


def test_whole_star_datasets_take_whole_stars(
    small_recommender: Recommender, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """The page offers the dataset's stars (profiles.picks.rating_scale: whole stars for ml-100k
    and ml-1m), and the store refuses others."""
    import movierec.profiles.picks

    monkeypatch.setattr(movierec.profiles.picks, "rating_scale", lambda name: (1.0, 5.0, 1.0))
    with TestClient(create_app(small_recommender, tmp_path / "p.db")) as client:
        session = client.get("/api/session").json()
        client.headers[CSRF_HEADER] = session["csrf"]
        client.post("/api/profile")
        half = client.put(f"/api/profile/ratings/{TOY_STORY}", json={"stars": 4.5})
        whole = client.put(f"/api/profile/ratings/{TOY_STORY}", json={"stars": 4.0})
    assert session["scale"] == {"lowest": 1.0, "highest": 5.0, "step": 1.0}
    assert half.status_code == 422 and "steps of 1" in half.json()["detail"]
    assert whole.status_code == 200


@pytest.mark.parametrize("text", [".\u0080", "abc.\u00e9\u00e9", "\ud800.x", "x" * 101])
def test_links_and_codes_that_are_not_base64url_are_refused_not_500(
    browser: Browser, text: str
) -> None:
    rated(browser, LIKES)
    json_type = {"Content-Type": "application/json"}  # json.dumps escapes a lone surrogate
    opened = browser.send(
        "POST", "/api/profile/open", content=json.dumps({"link": text}), headers=json_type
    )
    night = browser.send(
        "POST",
        "/api/movie-night",
        content=json.dumps({"guests": [{"code": text}]}),
        headers=json_type,
    )
    assert opened.status_code == night.status_code == 422, (opened.text, night.text)


def test_the_code_checks_themselves_take_any_text(server: TestClient) -> None:
    """Behind the schema, too: nothing a client sends makes a comparison raise."""
    from movierec.web.guard import Credential

    profiles = server.app.state.profiles
    for text in [".\u0080", "\u00e9.\u00e9", "a.b", ""]:
        assert profiles.check_share_code(text) is None
        assert Credential.parse(text) is None or not profiles.store.check_secret(
            Credential.parse(text).profile_id, Credential.parse(text).secret
        )


def test_the_write_limit_can_be_raised_for_a_load_test(
    small_recommender: Recommender, tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    from movierec.web.app import write_limit

    assert write_limit("1000/500") == (1000, 500.0)
    for wrong in ["60", "0/10", "60/0", "a/b", "60/inf"]:
        with pytest.raises(MovieRecError, match="BURST/PER_SECOND"):
            write_limit(wrong)
    monkeypatch.setenv("MOVIEREC_WRITE_LIMIT", "2/0.01")
    with TestClient(create_app(small_recommender, tmp_path / "p.db")) as client:
        token = client.get("/api/session").json()["csrf"]
        codes = [
            client.post("/api/profile", headers={CSRF_HEADER: token}).status_code for _ in range(3)
        ]
    assert codes == [200, 200, 429]
