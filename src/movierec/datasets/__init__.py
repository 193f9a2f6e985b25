"""Dataset files → ratings table: the MovieLens registry, downloads, parsers and caches."""

from .dataset import Dataset, DataSource, find_source, load_dataset, resolve_name
from .fetch import cache_root
from .registry import REGISTRY, DatasetSpec, get_spec

__all__ = [
    "DataSource",
    "Dataset",
    "DatasetSpec",
    "REGISTRY",
    "cache_root",
    "find_source",
    "get_spec",
    "load_dataset",
    "resolve_name",
]
