"""Python work spread over Spark's executors, results back in order."""

from __future__ import annotations

from collections.abc import Callable, Iterator, Sequence
from typing import Any, TypeVar

from .session import parallelism, spark_session

Item = TypeVar("Item")
Result = TypeVar("Result")


def map_in_order(
    function: Callable[[Item], Result], items: Sequence[Item], master: str | None = None
) -> Iterator[Result]:
    """``function`` applied to each item as Spark tasks on ``master``, results yielded in the
    items' order. ``function`` (with what it holds, e.g. a model) is broadcast once; the items
    are shipped with their tasks. Partitions come back one after another, the next computed
    while this one is consumed, so the driver holds about two at a time."""
    session = spark_session(master)
    context = session.sparkContext
    shared = context.broadcast(function)
    slices = max(1, min(len(items), 4 * parallelism(session)))

    def run(item: Any) -> Any:
        return shared.value(item)

    try:
        yield from (
            context.parallelize(list(items), slices)
            .map(run)
            .toLocalIterator(prefetchPartitions=True)
        )
    finally:
        shared.unpersist()
