"""Dataset files → ratings table: the MovieLens registry, downloads, parsers and caches."""

from .dataset import Dataset, load_dataset, resolve_name
from .fetch import cache_root
from .registry import REGISTRY, DatasetSpec, get_spec

__all__ = [
    "Dataset",
    "DatasetSpec",
    "REGISTRY",
    "cache_root",
    "get_spec",
    "load_dataset",
    "resolve_name",
]
