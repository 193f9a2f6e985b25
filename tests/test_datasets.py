"""Finding datasets: data dirs, the bundled copy, the parsed cache, verified downloads."""

from __future__ import annotations

import hashlib
import http.server
import io
import threading
import zipfile
from collections.abc import Iterator
from pathlib import Path

import pytest
from conftest import write_dat_dataset

from movierec.datasets import REGISTRY, fetch, load_dataset, parse
from movierec.errors import DataError


@pytest.fixture()
def cache(tmp_path: Path, monkeypatch: pytest.MonkeyPatch) -> Path:
    root = tmp_path / "cache"
    monkeypatch.setenv("MOVIEREC_CACHE_DIR", str(root))
    monkeypatch.delenv("MOVIEREC_DATA_DIR", raising=False)
    return root


def test_registry_knows_every_movielens_variant() -> None:
    assert set(REGISTRY) == {
        "ml-100k",
        "ml-1m",
        "ml-10m",
        "ml-20m",
        "ml-25m",
        "ml-32m",
        "ml-latest-small",
    }
    for spec in REGISTRY.values():
        assert spec.url.startswith("https://files.grouplens.org/datasets/movielens/")
        assert spec.known_hash and spec.known_hash.startswith("sha256:")


def test_bundled_dataset_loads_without_any_data_dir(cache: Path) -> None:
    ds = load_dataset("ml-latest-small")
    assert len(ds.ratings) == 100_836
    assert ds.has_timestamps
    assert (fetch.BUNDLED_DIR / "ml-latest-small" / "README.txt").is_file()


def test_data_dir_is_used_before_anything_else(tmp_path: Path, cache: Path) -> None:
    write_dat_dataset(tmp_path, ["1::1::5", "2::4::3"])
    ds = load_dataset("ml-1m", tmp_path)
    assert ds.source == tmp_path / "ml-1m"
    assert len(ds.ratings) == 2 and not ds.has_timestamps


def test_missing_data_dir_is_a_clear_error(tmp_path: Path, cache: Path) -> None:
    with pytest.raises(DataError, match="does not exist"):
        load_dataset("ml-1m", tmp_path / "nope")


def test_named_dataset_never_falls_back(tmp_path: Path, cache: Path, monkeypatch) -> None:
    def offline(spec, progress=True):
        raise DataError("could not download")

    monkeypatch.setattr(fetch, "download", offline)
    with pytest.raises(DataError, match="could not download"):
        load_dataset("ml-100k", tmp_path)


def test_default_falls_back_to_bundled_and_says_so(tmp_path, cache, monkeypatch, capsys) -> None:
    def offline(spec, progress=True):
        raise DataError("could not download")

    monkeypatch.setattr(fetch, "download", offline)
    ds = load_dataset(None, tmp_path)
    assert ds.name == "ml-latest-small"
    err = capsys.readouterr().err
    assert "ml-1m" in err and "ml-latest-small" in err and len(err.strip().splitlines()) == 1


def test_parsed_cache_is_reused(tmp_path: Path, cache: Path, monkeypatch) -> None:
    write_dat_dataset(tmp_path, ["1::1::5", "2::4::3"])
    first = load_dataset("ml-1m", tmp_path)

    def must_not_parse(*args, **kwargs):
        raise AssertionError("parsed again")

    monkeypatch.setattr(parse, "read_ratings", must_not_parse)
    second = load_dataset("ml-1m", tmp_path)
    assert second.fingerprint == first.fingerprint
    assert second.ratings.equals(first.ratings)


def test_changed_file_invalidates_the_cache(tmp_path: Path, cache: Path) -> None:
    folder = write_dat_dataset(tmp_path, ["1::1::5"])
    first = load_dataset("ml-1m", tmp_path)
    (folder / "ratings.dat").write_text("1::1::5\n2::2::4\n")
    assert load_dataset("ml-1m", tmp_path).fingerprint != first.fingerprint


def test_corrupt_cache_is_rebuilt(tmp_path: Path, cache: Path, capsys) -> None:
    write_dat_dataset(tmp_path, ["1::1::5", "2::4::3"])
    load_dataset("ml-1m", tmp_path)
    (cached,) = (cache / "parsed").iterdir()
    (cached / "rating.npy").write_bytes(b"not an array")
    assert len(load_dataset("ml-1m", tmp_path).ratings) == 2
    assert "rebuilding the broken parsed-ratings cache" in capsys.readouterr().err


def _zip_of(folder_name: str) -> bytes:
    buffer = io.BytesIO()
    with zipfile.ZipFile(buffer, "w") as archive:
        archive.writestr(f"{folder_name}/ratings.dat", "1::1::5\n1::2::3\n2::1::4\n")
        archive.writestr(
            f"{folder_name}/movies.dat", "1::Toy Story (1995)::Comedy\n2::Heat (1995)::Action\n"
        )
    return buffer.getvalue()


@pytest.fixture()
def archive_server() -> Iterator[tuple[str, bytes]]:
    """A loopback HTTP server that serves one MovieLens-shaped zip."""
    payload = _zip_of("ml-1m")

    class Handler(http.server.BaseHTTPRequestHandler):
        def do_GET(self) -> None:  # noqa: N802
            self.send_response(200)
            self.send_header("Content-Length", str(len(payload)))
            self.end_headers()
            self.wfile.write(payload)

        def log_message(self, *args) -> None:
            pass

    server = http.server.ThreadingHTTPServer(("127.0.0.1", 0), Handler)
    thread = threading.Thread(target=server.serve_forever, daemon=True)
    thread.start()
    yield f"http://127.0.0.1:{server.server_address[1]}", payload
    server.shutdown()


def _spec_at(base: str, known_hash: str):
    spec = REGISTRY["ml-1m"]

    class Served(type(spec)):
        @property
        def url(self) -> str:
            return f"{base}/ml-1m.zip"

    return Served(
        **{f: getattr(spec, f) for f in spec.__dataclass_fields__} | {"known_hash": known_hash}
    )


def test_download_verifies_and_unpacks(archive_server, cache: Path) -> None:
    base, payload = archive_server
    spec = _spec_at(base, "sha256:" + hashlib.sha256(payload).hexdigest())
    folder = fetch.download(spec, progress=False)
    assert (folder / "ratings.dat").is_file()
    assert fetch.find_local(spec, None) == folder


def test_checksum_mismatch_leaves_nothing_behind(archive_server, cache: Path) -> None:
    base, _ = archive_server
    spec = _spec_at(base, "sha256:" + "0" * 64)
    with pytest.raises(DataError, match="checksum mismatch"):
        fetch.download(spec, progress=False)
    leftovers = [p for p in cache.rglob("*") if p.is_file()]
    assert leftovers == [cache / "downloads" / "ml-1m.failed.json"]  # only the failure note
    assert fetch.find_local(spec, None) is None


def test_failed_download_is_a_clear_error(cache: Path) -> None:
    spec = _spec_at("http://127.0.0.1:9", "sha256:" + "0" * 64)
    with pytest.raises(DataError, match="could not download"):
        fetch.download(spec, progress=False)
