"""The course notebook's figures on real ML-1M (runs when MOVIEREC_DATA_DIR holds ml-1m)."""

from __future__ import annotations

import pytest

from movierec import Recommender, popular, stats

# The 30 movies with the most ratings ≥ 3 in ML-1M, as (movie_id, title, count).
TOP_30 = [
    (2858, "American Beauty (1999)", 3211),
    (260, "Star Wars: Episode IV - A New Hope (1977)", 2910),
    (1196, "Star Wars: Episode V - The Empire Strikes Back (1980)", 2885),
    (1210, "Star Wars: Episode VI - Return of the Jedi (1983)", 2716),
    (2028, "Saving Private Ryan (1998)", 2561),
    (589, "Terminator 2: Judgment Day (1991)", 2509),
    (593, "Silence of the Lambs, The (1991)", 2498),
    (1198, "Raiders of the Lost Ark (1981)", 2473),
    (1270, "Back to the Future (1985)", 2460),
    (2571, "Matrix, The (1999)", 2434),
    (480, "Jurassic Park (1993)", 2413),
    (2762, "Sixth Sense, The (1999)", 2385),
    (608, "Fargo (1996)", 2371),
    (110, "Braveheart (1995)", 2314),
    (1580, "Men in Black (1997)", 2297),
    (527, "Schindler's List (1993)", 2257),
    (1197, "Princess Bride, The (1987)", 2252),
    (2396, "Shakespeare in Love (1998)", 2213),
    (1617, "L.A. Confidential (1997)", 2210),
    (318, "Shawshank Redemption, The (1994)", 2194),
    (858, "Godfather, The (1972)", 2167),
    (1265, "Groundhog Day (1993)", 2121),
    (1097, "E.T. the Extra-Terrestrial (1982)", 2102),
    (2997, "Being John Malkovich (1999)", 2066),
    (2716, "Ghostbusters (1984)", 2051),
    (296, "Pulp Fiction (1994)", 2030),
    (356, "Forrest Gump (1994)", 2022),
    (1240, "Terminator, The (1984)", 2019),
    (1, "Toy Story (1995)", 2000),
    (457, "Fugitive, The (1993)", 1941),
]

FAVOURITES = [
    "Toy Story (1995)",
    "Star Wars: Episode IV - A New Hope (1977)",
    "Matrix, The (1999)",
    "Fargo (1996)",
    "Pulp Fiction (1994)",
]


def test_loads_every_rating_without_timestamps(ml1m) -> None:
    assert len(ml1m.ratings) == 1_000_209
    assert not ml1m.has_timestamps
    assert ml1m.ratings["user_id"].nunique() == 6_040
    assert ml1m.ratings["movie_id"].nunique() == 3_706


def test_the_notebooks_filter_figures(ml1m) -> None:
    result = stats(ml1m, min_rating=3)
    assert (result.ratings_total, result.ratings_kept) == (1_000_209, 836_478)
    assert round(result.kept_ratio * 100, 2) == 83.63
    assert (result.users, result.movies) == (6_039, 3_628)


def test_the_30_most_popular_movies_in_order(ml1m) -> None:
    frame = popular(ml1m, 30)
    assert list(zip(frame["movie_id"], frame["title"], frame["count"])) == TOP_30


def test_accented_titles_decode(ml1m) -> None:
    titles = set(ml1m.movies["title"])
    assert "Man Bites Dog (C'est arrivé près de chez vous) (1992)" in titles


def test_four_field_ratings_file_reads_with_timestamps(ml1m_dir) -> None:
    from movierec.datasets.parse import read_ratings

    columns = read_ratings(ml1m_dir / "ml-1m" / "ratings_first_43746_lines.dat", "dat")
    assert len(columns["timestamp"]) == 43_746
    assert columns["timestamp"][0] == 978300760


def test_toy_story_2_is_similar_to_toy_story(ml1m_recommender: Recommender) -> None:
    similar = [r.movie.title for r in ml1m_recommender.similar("Toy Story (1995)", n=10)]
    assert "Toy Story 2 (1999)" in similar
    assert "Toy Story (1995)" not in similar


def test_favourites_are_never_recommended(ml1m_recommender: Recommender) -> None:
    recs = ml1m_recommender.recommend(FAVOURITES, n=50)
    assert {r.movie.title for r in recs}.isdisjoint(FAVOURITES)


def test_fold_in_agrees_with_retraining(ml1m_recommender: Recommender) -> None:
    folded = {r.movie.movie_id for r in ml1m_recommender.recommend(FAVOURITES, n=10)}
    retrained, user_id = ml1m_recommender.with_new_user(FAVOURITES)
    trained = {r.movie.movie_id for r in retrained.recommend_for_user(user_id, n=10)}
    assert len(folded & trained) >= 6, (folded, trained)
    assert {ml1m_recommender.movie(t).movie_id for t in FAVOURITES}.isdisjoint(trained)


@pytest.mark.parametrize(
    ("typed", "title"),
    [
        ("the matrix", "Matrix, The (1999)"),
        ("Shawshank Redemption", "Shawshank Redemption, The (1994)"),
        ("toy stroy", "Toy Story (1995)"),
        ("Man Bites Dog", "Man Bites Dog (C'est arrivé près de chez vous) (1992)"),
    ],
)
def test_titles_people_type(ml1m_recommender: Recommender, typed: str, title: str) -> None:
    assert ml1m_recommender.movie(typed).title == title
