"""`movierec report`: every chart as a real PNG, an offline HTML page that shows them all, the
evaluation section from `movierec evaluate --json` results, and one-line errors for bad input."""

from __future__ import annotations

import json
import os
import re
import struct
from pathlib import Path

import pytest

from movierec import analysis
from movierec.cli import main
from movierec.report import DATA_CHARTS, EVALUATION_CHART, INDEX, charts, html, parse_evaluation

PNG_SIGNATURE = b"\x89PNG\r\n\x1a\n"
EVALUATION = {
    "protocol": {
        "name": "ratio",
        "dataset": "ml-latest-small",
        "min_rating": 3.0,
        "k": [10],
        "seeds": [42, 43],
        "headline": ["recall", "ndcg", "hit"],
        "models": {"default": {"model": "als", "params": {"factors": 64}}},
    },
    "results": [
        {"model": model, "metric": metric, "k": 10, "mean": mean, "std": 0.01}
        for model, scale in (("default", 1.0), ("als:weighting=binary", 0.9))
        for metric, mean in (
            ("ndcg", 0.2 * scale),
            ("recall", 0.16 * scale),
            ("hit", 0.6 * scale),
            ("precision", 0.14 * scale),
        )
    ]
    + [{"model": "default", "metric": "fit_seconds", "k": None, "mean": 1.2, "std": 0.1}],
}


def png_size(path: Path) -> tuple[int, int]:
    """Width and height from a PNG's IHDR chunk (after checking the signature)."""
    header = path.read_bytes()[:24]
    assert header[:8] == PNG_SIGNATURE, f"{path.name} is not a PNG"
    assert header[12:16] == b"IHDR"
    return struct.unpack(">II", header[16:24])


def run(args: list[str], capsys: pytest.CaptureFixture[str]) -> tuple[int, str, str]:
    code = main(args)
    captured = capsys.readouterr()
    return code, captured.out, captured.err


@pytest.fixture(scope="module")
def report_dir(tmp_path_factory: pytest.TempPathFactory) -> Path:
    """One report of the bundled data, with evaluation results (trains in about a second)."""
    root = tmp_path_factory.mktemp("report")
    eval_file = root / "eval.json"
    eval_file.write_text(json.dumps(EVALUATION))
    empty_data_dir = root / "no-data"
    empty_data_dir.mkdir()
    out = root / "out"
    code = main(
        [
            "report",
            "--out",
            str(out),
            "--dataset",
            "ml-latest-small",
            "--data-dir",
            str(empty_data_dir),
            "--eval",
            str(eval_file),
        ]
    )
    assert code == 0
    return out


@pytest.mark.parametrize("name", [*DATA_CHARTS, EVALUATION_CHART])
def test_every_chart_is_a_real_png_of_sensible_size(report_dir: Path, name: str) -> None:
    path = report_dir / name
    width, height = png_size(path)
    assert 600 <= width <= 3000 and 400 <= height <= 3000
    assert path.stat().st_size > 10_000  # drawn, not blank


def test_the_page_shows_every_chart_with_alt_text(report_dir: Path) -> None:
    page = (report_dir / INDEX).read_text(encoding="utf-8")
    images = dict(re.findall(r'<img src="([^"]+)" alt="([^"]*)"', page))
    assert set(images) == {*DATA_CHARTS, EVALUATION_CHART}
    assert all(len(alt) > 20 for alt in images.values())
    assert all((report_dir / name).is_file() for name in images)


def test_the_page_needs_no_network(report_dir: Path) -> None:
    page = (report_dir / INDEX).read_text(encoding="utf-8")
    assert not re.search(r'(src|href)="(https?:)?//', page)
    assert "<link" not in page and "<script" not in page


def test_the_page_has_the_dataset_table_and_the_evaluation_section(report_dir: Path) -> None:
    page = (report_dir / INDEX).read_text(encoding="utf-8")
    assert "100,836" in page and "81,763" in page  # ratings before and after the filter
    assert 'id="evaluation"' in page
    assert "NDCG@10" in page and "0.2000 ± 0.0100" in page and "als:weighting=binary" in page


def test_no_evaluation_section_without_results() -> None:
    page = html.render("t", "s", [["ratings", "1", "1"]], [["model", "als"]], [])
    assert 'id="evaluation"' not in page and "Offline evaluation" not in page


def test_an_unwritable_out_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    blocker = tmp_path / "a-file"
    blocker.write_text("not a folder")
    for out in (blocker, blocker / "report"):
        code, stdout, stderr = run(["report", "--out", str(out), "-d", "ml-latest-small"], capsys)
        assert code == 2, stderr
        assert stderr.startswith("movierec: error:") and stderr.count("\n") == 1
        assert "--out" in stderr and stdout == ""


@pytest.mark.skipif(os.geteuid() == 0, reason="root writes into read-only folders")
def test_a_read_only_out_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    locked = tmp_path / "locked"
    locked.mkdir(mode=0o500)
    code, _, stderr = run(["report", "--out", str(locked), "-d", "ml-latest-small"], capsys)
    assert code == 2 and stderr.count("\n") == 1 and "--out" in stderr


@pytest.mark.parametrize(
    "content",
    [
        "{not json",
        "[]",
        '{"results": []}',
        '{"results": [{"model": "m", "metric": "ndcg"}]}',
        '{"results": [{"model": "m", "metric": "ndcg", "k": 10, "mean": "high"}]}',
    ],
    ids=["not-json", "not-an-object", "no-results", "no-mean", "mean-not-a-number"],
)
def test_malformed_eval_results_are_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str], content: str
) -> None:
    eval_file = tmp_path / "eval.json"
    eval_file.write_text(content)
    out = tmp_path / "out"
    code, stdout, stderr = run(
        ["report", "--out", str(out), "-d", "ml-latest-small", "--eval", str(eval_file)], capsys
    )
    assert code == 2, stderr
    assert stderr.startswith("movierec: error: --eval") and stderr.count("\n") == 1
    assert stdout == "" and not out.exists()  # refused before anything was written


def test_a_missing_eval_file_is_one_line_and_exit_2(
    tmp_path: Path, capsys: pytest.CaptureFixture[str]
) -> None:
    code, _, stderr = run(
        [
            "report",
            "--out",
            str(tmp_path / "out"),
            "-d",
            "ml-latest-small",
            "--eval",
            str(tmp_path / "missing.json"),
        ],
        capsys,
    )
    assert code == 2 and "cannot read --eval" in stderr and stderr.count("\n") == 1


def test_evaluation_charts_lead_with_ndcg_and_recall_at_10() -> None:
    results = parse_evaluation(EVALUATION)
    assert results.chart_keys()[:2] == [("ndcg", 10), ("recall", 10)]
    assert ("fit_seconds", None) not in results.chart_keys()
    header, rows = results.rows_by_metric()
    assert header == ["metric", "default", "als:weighting=binary"]
    assert ["Fit time (s)", "1.2000 ± 0.1000", "—"] in rows


def test_factor_map_labels_do_not_overlap(small_recommender) -> None:
    from movierec.report.build import factor_model

    figure = charts.factor_map(factor_model(small_recommender))
    axes = figure.axes[0]
    renderer = figure.canvas.get_renderer()
    boxes = [text.get_window_extent(renderer) for text in axes.texts]
    assert 8 <= len(boxes) <= 12
    inside = axes.get_window_extent(renderer)
    for i, box in enumerate(boxes):
        assert inside.x0 <= box.x0 and box.x1 <= inside.x1
        assert inside.y0 <= box.y0 and box.y1 <= inside.y1
        assert not any(box.overlaps(other) for other in boxes[i + 1 :])


def test_display_titles_read_as_people_write_them() -> None:
    assert charts.display_title("Matrix, The (1999)") == "The Matrix (1999)"
    assert charts.display_title("Seven (a.k.a. Se7en) (1995)") == "Seven (1995)"
    assert charts.display_title("Matrix, The (1999)", year=False) == "The Matrix"
    long = charts.display_title("Star Wars: Episode V - The Empire Strikes Back (1980)", 30)
    assert len(long) <= 30 and long.endswith("… (1980)")


def test_rating_distribution_and_long_tail_agree_with_stats(small) -> None:
    summary = analysis.stats(small)
    table = analysis.rating_distribution(small)
    assert table["all"].sum() == summary.ratings_total
    assert table["kept"].sum() == summary.ratings_kept
    curve = analysis.long_tail(small)
    assert len(curve) == summary.movies
    assert curve["rating_share"].is_monotonic_increasing
    assert curve["rating_share"].iloc[-1] == pytest.approx(1.0)
    assert 0.2 < analysis.top_share(curve, 0.2) < 1.0
    assert analysis.user_counts(small).sum() == summary.ratings_kept


def test_ml1m_seed_figures(ml1m) -> None:
    table = analysis.rating_distribution(ml1m)
    assert table["kept"].sum() == 836_478
    assert analysis.user_counts(ml1m).size == 6_039
    assert analysis.main_genres(ml1m).size == 3_628


def test_a_second_report_reuses_the_taste_map_model_and_names_the_model_s_family(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    """A model without item vectors (the DLAE default) borrows an ALS model for the taste map:
    fitted by the first report and cached, taken from the model cache by the next one."""
    import numpy as np
    from conftest import write_dat_dataset

    from movierec import Recommender, Settings, load_dataset
    from movierec.report import build_report

    monkeypatch.setenv("MOVIEREC_CACHE_DIR", str(tmp_path / "cache"))
    rng = np.random.default_rng(0)
    ratings = [
        f"{user}::{movie}::{rng.integers(3, 6)}"
        for user in range(1, 121)
        for movie in sorted(rng.choice(np.arange(1, 41), 12, replace=False))
    ]
    movies = [
        f"{m}::Movie {m} (1990)::{('Drama', 'Comedy', 'Action')[m % 3]}" for m in range(1, 41)
    ]
    dataset = load_dataset("ml-1m", write_dat_dataset(tmp_path / "data", ratings, movies).parent)
    served = Recommender.train(dataset, Settings.preset("default"))
    assert not served.has_item_vectors
    fitted: list[str] = []
    train = Recommender.train.__func__  # type: ignore[attr-defined]

    def counted(cls, dataset, settings=None, *args, **kwargs):  # type: ignore[no-untyped-def]
        fitted.append(settings.model)
        return train(cls, dataset, settings, *args, **kwargs)

    monkeypatch.setattr(Recommender, "train", classmethod(counted))
    build_report(dataset, served, tmp_path / "first")
    assert fitted == ["als"]
    build_report(dataset, served, tmp_path / "second")
    assert fitted == ["als"]  # nothing fitted the second time
    pages = [
        re.sub(r"generated [-\d]+ [:\d]+", "", (tmp_path / run / INDEX).read_text("utf-8"))
        for run in ("first", "second")
    ]
    assert pages[0] == pages[1]  # the same map: the same model
    assert '<th scope="row">algorithm</th><td>DLAE (movierec&#x27;s ease model)</td>' in pages[0]
