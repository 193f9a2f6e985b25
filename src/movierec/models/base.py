"""The one small interface every model implements, so models are interchangeable.

Models see only matrix indices (``user_index``, ``item_index``); the recommender converts ids.
Every ``user_items`` argument is a users × items CSR matrix of confidences.

Values a model derives from its learned arrays (normalized factors, a Gram matrix) are
``functools.cached_property`` attributes: computed on first use, forgotten by every ``fit``
and ``set_state`` (:meth:`Model.forget_derived`), the one cache models have.
"""

from __future__ import annotations

import dataclasses
import functools
import inspect
import sys
from abc import ABC, abstractmethod
from collections.abc import Callable, Mapping
from contextlib import AbstractContextManager
from types import MappingProxyType
from typing import TYPE_CHECKING, Any, ClassVar, Generic, TypeVar, cast

import numpy as np

from .. import progress
from ..errors import ModelError, MovieRecError
from .params import SEED, Constraint, validate
from .ranking import top_n

if sys.version_info >= (3, 11):
    from typing import dataclass_transform
else:  # Python 3.10: from typing_extensions, which FastAPI and pydantic require
    from typing_extensions import dataclass_transform

if TYPE_CHECKING:  # SciPy is imported where a fit or a batch needs it: answers need none
    import scipy.sparse as sp

ModelT = TypeVar("ModelT", bound="Model")
FitMethod = TypeVar("FitMethod", bound=Callable[..., Any])
Learned = TypeVar("Learned")
Value = TypeVar("Value")
Weights = TypeVar("Weights", "np.ndarray", "sp.csr_matrix")

FLOAT32_MAX = float(np.finfo(np.float32).max)
HUGE_INPUT = 1e6
"""Above this, an input value (a rating, a play count) is the likely cause of a non-finite fit:
float32 arithmetic on such values loses all precision or overflows."""


class Model(ABC):
    """Hyperparameters in ``__init__``, learned state set by :meth:`fit`, no I/O.

    scikit-learn's convention: every ``__init__`` argument is a hyperparameter kept under its own
    name. :attr:`parameters` (name → default) is read from ``__init__``'s signature once, when
    the class is defined; :meth:`get_params` and :meth:`set_params` work from it. Each model
    declares what every parameter accepts in ``constraints``, and :meth:`valid_params` is the
    one check: ``__init__`` (through :meth:`check_params`), ``make_model``, :meth:`set_params`
    and every ``fit`` (through :func:`checked_fit`) run it.

    The shipped models declare each hyperparameter once, as a field of a :func:`hyperparameters`
    class (``factors: int = hyperparameter(64, FACTORS)``): the generated ``__init__`` takes
    them in that order and ends in :meth:`__post_init__`. A model may instead write its own
    ``__init__`` and ``constraints``; the ``__init__`` then calls :meth:`check_params`.
    """

    name: ClassVar[str]
    constraints: ClassVar[Mapping[str, Constraint]] = MappingProxyType({"seed": SEED})
    """Parameter → what it accepts; a subclass declares every parameter of its ``__init__``."""
    parameters: ClassVar[Mapping[str, Any]] = MappingProxyType({})
    """Parameter → default, in ``__init__``'s order (set for each subclass; do not declare)."""
    learned: ClassVar[tuple[str, ...]] = ()
    """The attributes ``fit`` sets (None before), discarded when they come out non-finite."""
    divergence_hint: ClassVar[str] = "check the input"
    """What to change when a fit diverges; formatted with :meth:`get_params`."""
    derived: ClassVar[tuple[str, ...]] = ()
    """The ``cached_property`` names of the class (set for each subclass; do not declare)."""

    def __init_subclass__(cls, **kwargs: Any) -> None:
        super().__init_subclass__(**kwargs)
        cls.derived = tuple(
            name
            for klass in cls.__mro__
            for name, value in vars(klass).items()
            if isinstance(value, functools.cached_property)
        )
        if "set_state" in cls.__dict__:  # restored arrays make what was derived stale
            # setattr: assigning to a method is refused by mypy
            setattr(cls, "set_state", _forgetting_derived(cls.__dict__["set_state"]))  # noqa: B010
        if not any(isinstance(value, dataclasses.Field) for value in vars(cls).values()):
            _declare_parameters(cls)  # a class of fields: @hyperparameters, once __init__ is made

    def __post_init__(self) -> None:
        """The end of a :func:`hyperparameters` model's ``__init__``: the hyperparameters
        checked and normalized, nothing learned yet."""
        self.check_params()
        for attribute in self.learned:
            setattr(self, attribute, None)

    @classmethod
    def valid_params(cls, params: Mapping[str, Any]) -> dict[str, Any]:
        """``params`` checked against :attr:`constraints` and normalized (``int``, ``float``,
        ``bool``): ParameterError for a bad value, MovieRecError for an unknown name."""
        constraints = {name: cls.constraints[name] for name in cls.parameters}
        defaults = {k: v for k, v in cls.parameters.items() if v is not inspect.Parameter.empty}
        return validate(cls.name, constraints, params, defaults)

    def get_params(self) -> dict[str, Any]:
        """Every hyperparameter, as ``__init__`` takes them: ``type(m)(**m.get_params())`` is
        ``m`` again, unfitted."""
        return {name: getattr(self, name) for name in self.parameters}

    def set_params(self: ModelT, **params: Any) -> ModelT:
        """Change hyperparameters, all checked before any is set; they apply from the next
        :meth:`fit`. Returns self."""
        for name, value in self.valid_params(params).items():
            setattr(self, name, value)
        return self

    def check_params(self) -> None:
        """Check the hyperparameters as they stand (from ``__init__`` or assigned since) and keep
        them normalized; ParameterError names the first bad one."""
        self.set_params(**self.get_params())

    @abstractmethod
    def fit(self, user_items: sp.csr_matrix, show_progress: bool = False) -> Model:
        """Learn from a users × items confidence matrix; returns self. Implementations are
        wrapped in :func:`checked_fit`, and report their progress in a :meth:`fitting` step;
        ``show_progress`` shows it on stderr when nothing else does (:func:`progress.shown`)."""

    def fitting(
        self, user_items: sp.csr_matrix, iterations: int | None = None
    ) -> AbstractContextManager[progress.Step]:
        """The progress step of one fit, ``fitting implicit's ALS (20 iterations) on 6,039
        users × 3,628 items`` (the model named as :meth:`family`, the sizes as its detail); a
        model that sweeps counts each of its ``iterations`` with ``advance()``."""
        users, items = user_items.shape
        sweeps = f" ({iterations} iterations)" if iterations else ""
        return progress.step(
            f"fitting {self.family()}{sweeps}",
            done=f"fitted {self.family()}{sweeps}",
            total=iterations,
            unit="iterations",
            detail=f"on {users:,} users × {items:,} items",
        )

    def family(self) -> str:
        """The algorithm as people know it (``DLAE``, ``implicit's ALS``): :meth:`describe`
        without its details, so that progress lines and the report name a model as ``train``,
        the web page and ``repr`` do."""
        return self.describe().split(" (", 1)[0]

    @abstractmethod
    def scores(self, user_indices: np.ndarray, user_items: sp.csr_matrix) -> np.ndarray:
        """Scores (len(user_indices) × items) for users seen in training.

        ``user_items`` holds those users' rows (what they liked), for models that need it.
        """

    @abstractmethod
    def fold_in_scores(self, user_items: sp.csr_matrix) -> np.ndarray:
        """Scores for users not seen in training, from their rows alone, without retraining."""

    def liked_scores(self, liked: np.ndarray, weight: float, n_items: int) -> np.ndarray:
        """One new user's scores (``n_items``,) from the sorted, unique indices of the items
        they like, each of confidence ``weight``: :meth:`fold_in_scores` of that row. Item–item
        and factor models answer from the indices alone, without building a sparse row (nor
        importing SciPy)."""
        return self.fold_in_scores(one_row(liked, weight, n_items))[0]

    def liked_contributions(
        self, liked: np.ndarray, weight: float, n_items: int, item_indices: np.ndarray
    ) -> np.ndarray:
        """:meth:`contributions` of the row :meth:`liked_scores` scores."""
        return self.contributions(one_row(liked, weight, n_items), item_indices)

    @abstractmethod
    def similar_items(self, item_index: int, n: int) -> tuple[np.ndarray, np.ndarray]:
        """The ``n`` items most similar to ``item_index`` (never itself) and their similarity."""

    def contributions(self, user_items: sp.csr_matrix, item_indices: np.ndarray) -> np.ndarray:
        """How much each liked item of a one-row ``user_items`` adds to each item's score
        (liked × len(item_indices)). The default is item-item similarity."""
        liked = user_items.indices
        return np.array(
            [[self.item_similarity(j, i) for i in item_indices] for j in liked], dtype=np.float32
        )

    def item_similarity(self, item_a: int, item_b: int) -> float:
        """Similarity of two items (used by the default :meth:`contributions`)."""
        return 0.0

    @abstractmethod
    def state(self) -> dict[str, np.ndarray]:
        """Learned arrays, for saving without pickle."""

    @abstractmethod
    def set_state(self, arrays: dict[str, np.ndarray]) -> Model:
        """Restore learned arrays saved by :meth:`state`; returns self. What was derived from
        the arrays before is forgotten first (every subclass's ``set_state`` is wrapped so)."""

    def forget_derived(self) -> None:
        """Drop every cached value derived from the learned arrays (:attr:`derived`)."""
        for name in self.derived:
            self.__dict__.pop(name, None)

    def check_state(self: ModelT) -> ModelT:
        """Refuse learned arrays holding NaN or infinity (ModelError), e.g. a tampered saved
        model after :meth:`set_state`; returns self."""
        bad = non_finite(self.state())
        if bad:
            raise ModelError(
                f"the {self.name} model's {', '.join(bad)} hold NaN or infinite values; retrain it"
            )
        return self

    def describe(self) -> str:
        """The model in a few words for people (the web page, the report, ``movierec train``):
        the algorithm and what sets these hyperparameters apart, e.g. ``EASE (λ = 50, users
        weighted, low-pass filtered)``."""
        return self.name

    def __repr__(self) -> str:
        params = ", ".join(f"{k}={v!r}" for k, v in self.get_params().items())
        return f"{type(self).__name__}({params})"


def _forgetting_derived(set_state: Callable[..., Model]) -> Callable[..., Model]:
    @functools.wraps(set_state)
    def restoring(self: Model, arrays: dict[str, np.ndarray]) -> Model:
        self.forget_derived()
        return set_state(self, arrays)

    return restoring


CONSTRAINT = "constraint"
"""The key of a :func:`hyperparameter` field's metadata that holds what it accepts."""


def hyperparameter(default: Value, constraint: Constraint) -> Value:
    """A field of a :func:`hyperparameters` model: one hyperparameter, its default and what it
    accepts, in one declaration (``factors: int = hyperparameter(64, FACTORS)``)."""
    return dataclasses.field(default=default, metadata={CONSTRAINT: constraint})


@dataclass_transform(eq_default=False, field_specifiers=(dataclasses.field,))
def hyperparameters(cls: type[ModelT]) -> type[ModelT]:
    """Class decorator: a model whose fields, each a :func:`hyperparameter`, are its
    hyperparameters. It becomes a dataclass without ``__eq__`` (models compare by identity) and
    without ``__repr__`` (:meth:`Model.__repr__`): ``__init__`` takes the fields in order and
    ends in :meth:`Model.__post_init__`; ``constraints`` are the fields' and
    :attr:`Model.parameters` is read from that ``__init__``, checked as any model's are."""
    fields = dataclasses.fields(cast(Any, dataclasses.dataclass(eq=False, repr=False)(cls)))
    cls.constraints = MappingProxyType(
        {field.name: field.metadata[CONSTRAINT] for field in fields if CONSTRAINT in field.metadata}
    )
    _declare_parameters(cls)
    return cls


def _declare_parameters(cls: type[Model]) -> None:
    """Set ``cls.parameters`` from ``__init__``'s signature; TypeError unless ``constraints``
    names exactly those parameters and accepts every default."""
    cls.parameters = MappingProxyType(_init_defaults(cls))
    missing = [name for name in cls.parameters if name not in cls.constraints]
    stray = [name for name in cls.__dict__.get("constraints", {}) if name not in cls.parameters]
    if missing or stray:
        raise TypeError(
            f"{cls.__name__}.constraints must name exactly the parameters of __init__: "
            f"missing {missing}, not parameters {stray}"
        )
    given = {k: v for k, v in cls.parameters.items() if v is not inspect.Parameter.empty}
    try:
        validate(cls.__name__, cls.constraints, given, given)
    except MovieRecError as exc:
        raise TypeError(f"{cls.__name__} has a default its constraints refuse: {exc}") from None


def _init_defaults(cls: type) -> dict[str, Any]:
    """``__init__``'s parameters and their defaults (``inspect.Parameter.empty`` if none)."""
    defaults = {}
    for name, parameter in inspect.signature(cls).parameters.items():
        if parameter.kind in (parameter.VAR_POSITIONAL, parameter.VAR_KEYWORD):
            raise TypeError(f"{cls.__name__}.__init__ must name its parameters, not take *{name}")
        defaults[name] = parameter.default
    return defaults


def non_finite(arrays: Mapping[str, np.ndarray]) -> list[str]:
    """The names of the floating-point ``arrays`` that hold NaN or an infinity (about 10 ms for
    ML-1M's 3,628² EASE weights, memory-mapped or not)."""
    return [
        name
        for name, array in arrays.items()
        if np.asarray(array).dtype.kind == "f" and not np.isfinite(array).all()
    ]


def one_row(liked: np.ndarray, weight: float | np.ndarray, n_items: int) -> sp.csr_matrix:
    """A one-row CSR matrix holding ``weight`` (one for all, or one per index) at the sorted,
    unique indices ``liked``."""
    import scipy.sparse as sp

    weights = np.full(len(liked), weight, dtype=np.float32)
    indptr = np.array([0, len(liked)], dtype=np.int32)
    return sp.csr_matrix((weights, np.asarray(liked, dtype=np.int32), indptr), (1, n_items))


def _largest_input(model: Model, user_items: sp.csr_matrix) -> float:
    """The largest magnitude in the input; MovieRecError if float32 cannot hold it."""
    import scipy.sparse as sp

    values = user_items.data if sp.issparse(user_items) else np.asarray(user_items)
    largest = float(np.max(np.abs(values))) if values.size else 0.0
    if not largest <= FLOAT32_MAX:  # also NaN
        value = "NaN" if np.isnan(largest) else f"{largest:.3g}"
        raise MovieRecError(
            f"{model.name} cannot learn from a value of {value}: float32 holds finite numbers up "
            f"to {FLOAT32_MAX:.3g}; fix that rating (a corrupt ratings file?) or use a binary "
            "weighting"
        )
    return largest


def checked_fit(fit: FitMethod) -> FitMethod:
    """Wraps a model's ``fit``: the hyperparameters are checked first and the input for values
    float32 cannot hold; learned arrays that come out NaN or infinite are discarded and refused
    with the likely cause, so they are never served or saved. Derived values are forgotten.
    Keyword options of a ``fit`` (how it runs, e.g. EASE's ``gram_of``) pass through."""

    @functools.wraps(fit)
    def checked(
        self: Model, user_items: sp.csr_matrix, show_progress: bool = False, **options: Any
    ) -> Model:
        self.check_params()
        largest = _largest_input(self, user_items)
        # Overflow on the way is caught below by its result, in one line instead of warnings.
        try:
            with (
                progress.shown(show_progress),
                np.errstate(over="ignore", invalid="ignore", divide="ignore"),
            ):
                fit(self, user_items, show_progress, **options)
        finally:
            self.forget_derived()
        bad = non_finite(self.state())
        if bad:
            for attribute in self.learned:
                setattr(self, attribute, None)
            if largest > HUGE_INPUT:
                cause = (
                    f"the input values (up to {largest:.3g}) are too large for float32 "
                    "arithmetic; rescale them or use a binary weighting"
                )
            else:
                cause = f"the fit diverged; {self.divergence_hint.format(**self.get_params())}"
            raise MovieRecError(
                f"{self.name} learned NaN or infinite values ({', '.join(bad)}): {cause}"
            )
        return self

    return cast(FitMethod, checked)


def normalized_rows(matrix: np.ndarray) -> np.ndarray:
    """Rows scaled to unit length (zero rows stay zero)."""
    norms = np.linalg.norm(matrix, axis=1, keepdims=True)
    return matrix / np.maximum(norms, 1e-12)


def require_fitted(value: Learned | None) -> Learned:
    """The learned array, or the error that says to fit first."""
    if value is None:
        raise MovieRecError("the model is not trained yet; call fit() first")
    return value


def gram(user_items: sp.csr_matrix) -> np.ndarray:
    """The dense items × items Gram matrix ``XᵀX`` (float32, symmetric, C-ordered).

    For a catalogue a few percent dense (ML-1M), the most-rated items ("head") go to one
    symmetric BLAS product (``syrk``) on the dense users × head matrix, in blocks of users, and
    the rest ("tail") to a sparse × dense product ``X_tailᵀ·X`` for their rows: BLAS wastes
    work on zeros but runs ~16× faster per multiply-add than the sparse product, whose cost
    grows with the tail's ratings alone. :func:`gram_head_size` picks the split that costs
    least (ML-1M: 1,375 of 3,628 movies, 87% of the ratings; 0.3 s against 0.85 s for ``syrk``
    on every movie). For sparser data (``users·items²`` more than ``DENSE_GRAM_RATIO`` times
    ``Σ_u |I_u|²``) one sparse product wins.
    """
    import scipy.sparse as sp
    from scipy.linalg import blas

    matrix = sp.csr_matrix(user_items, dtype=np.float32)
    n_users, n_items = matrix.shape
    sparse_work = float(np.square(np.diff(matrix.indptr), dtype=np.float64).sum())
    if n_users * float(n_items) ** 2 > DENSE_GRAM_RATIO * max(sparse_work, 1.0):
        return np.asarray((matrix.T @ matrix).toarray(), dtype=np.float32)
    counts = np.bincount(matrix.indices, minlength=n_items)
    by_count = np.argsort(-counts, kind="stable")
    n_head = gram_head_size(counts, n_users)
    head, tail = np.sort(by_count[:n_head]), np.sort(by_count[n_head:])
    head_lower = np.zeros((n_head, n_head), dtype=np.float32, order="F")
    tail_rows = np.zeros((len(tail), n_items), dtype=np.float32)
    tail_columns = matrix[:, tail] if len(tail) else None
    block = max(1, GRAM_BLOCK_ENTRIES // max(n_items, 1))
    for start in range(0, n_users, block):
        dense = matrix[start : start + block].toarray()
        if n_head:
            # The transpose of the C-ordered head columns is Fortran-ordered: BLAS reads it
            # without a copy.
            head_columns = dense if n_head == n_items else dense[:, head]
            head_lower = blas.ssyrk(
                1.0, head_columns.T, beta=1.0, c=head_lower, trans=0, lower=1, overwrite_c=1
            )
        if tail_columns is not None:
            tail_rows += tail_columns[start : start + block].T @ dense
    if not len(tail):
        return np.ascontiguousarray(symmetrize_lower(head_lower).T)  # symmetric: its transpose
    result = np.empty((n_items, n_items), dtype=np.float32)
    result[tail] = tail_rows
    if n_head:
        result[np.ix_(head, head)] = symmetrize_lower(head_lower)
        result[np.ix_(head, tail)] = tail_rows[:, head].T
    return result


DENSE_GRAM_RATIO = 500.0
GRAM_BLOCK_ENTRIES = 8_000_000
"""Users × items entries of each dense block (32 MB of float32): a larger block is fresh memory
the kernel maps on first touch (ML-1M in one 87 MB block: 0.2–0.5 s of system time, against
0.03 s in blocks of this size)."""
SPARSE_SLOWDOWN = 16.0
"""How many times longer a multiply-add takes in scipy's sparse × dense product than in BLAS's
``syrk`` (measured on ML-1M, one thread: 0.36 ns against 0.022 ns)."""


def gram_head_size(counts: np.ndarray, n_users: int) -> int:
    """How many of the most-rated items :func:`gram` gives BLAS: the ``h`` that minimizes the
    estimated cost ``n_users·h²/2 + SPARSE_SLOWDOWN·(ratings of the other items)·n_items``
    (``syrk``'s multiply-adds on the head, the sparse product's on the tail's rows)."""
    n_items = len(counts)
    ordered = np.sort(np.asarray(counts, dtype=np.float64))[::-1]
    tail_ratings = ordered.sum() - np.concatenate([[0.0], np.cumsum(ordered)])
    heads = np.arange(n_items + 1, dtype=np.float64)
    cost = n_users * heads**2 / 2 + SPARSE_SLOWDOWN * tail_ratings * n_items
    return int(np.argmin(cost))


def symmetrize_lower(lower: np.ndarray, block: int = 512) -> np.ndarray:
    """``lower`` made symmetric in place from its lower triangle (what LAPACK filled in; the
    upper part is overwritten), and returned. By strips of ``block`` rows, so the transposed
    reads stay in cache and no second n × n array is made."""
    size = lower.shape[0]
    for start in range(0, size, block):
        stop = min(size, start + block)
        diagonal = lower[start:stop, start:stop]
        diagonal[...] = np.tril(diagonal) + np.tril(diagonal, -1).T
        lower[start:stop, stop:] = lower[stop:, start:stop].T
    return lower


def cosine_similarity_from_gram(gram_matrix: np.ndarray, shrinkage: float = 0.0) -> np.ndarray:
    """Item–item cosine ``G_ij / (‖x_i‖·‖x_j‖ + shrinkage)`` from a Gram matrix, zero diagonal."""
    norms = np.sqrt(np.maximum(np.diag(gram_matrix), 0.0))
    similarity = gram_matrix / (np.outer(norms, norms) + max(shrinkage, 1e-12))
    np.fill_diagonal(similarity, 0.0)
    return similarity.astype(np.float32)


class ItemItemModel(Model, Generic[Weights]):
    """What item–item models (EASE, item kNN) share: one items × items matrix ``weights``
    (dense or sparse) is the whole model, a user's scores are ``x·weights`` for their row ``x``,
    so fold-in needs no solve and a score splits exactly over the liked items."""

    learned: ClassVar[tuple[str, ...]] = ("weights",)
    weights: Weights | None

    def _weights(self) -> Weights:
        return require_fitted(self.weights)

    def scores(self, user_indices: np.ndarray, user_items: sp.csr_matrix) -> np.ndarray:
        return self.fold_in_scores(user_items)

    def fold_in_scores(self, user_items: sp.csr_matrix) -> np.ndarray:
        import scipy.sparse as sp

        return _dense(sp.csr_matrix(user_items, dtype=np.float32) @ self._weights())

    def item_similarity(self, item_a: int, item_b: int) -> float:
        return float(self._weights()[item_a, item_b])

    def contributions(self, user_items: sp.csr_matrix, item_indices: np.ndarray) -> np.ndarray:
        """Exact: entry ``[j, k]`` is ``x_j·W[j, item_k]``; columns sum to the fold-in scores."""
        import scipy.sparse as sp

        row = sp.csr_matrix(user_items)
        weights = _dense(self._weights()[row.indices][:, np.asarray(item_indices)])
        return weights * row.data[:, np.newaxis].astype(np.float32)


def _dense(matrix: np.ndarray | sp.spmatrix) -> np.ndarray:
    """A plain ndarray of a dense or sparse matrix."""
    if isinstance(matrix, np.ndarray):
        return np.asarray(matrix)
    return np.asarray(matrix.toarray())


class FactorModel(Model):
    """Matrix factorization: ``user_factors`` (users × :attr:`width`) and ``item_factors``
    (items × :attr:`width`), a score is their dot product. Subclasses give each fold-in user's
    factors (:meth:`_fold_in_row`); similar items are by the cosine of :meth:`item_vectors`.

    With ``item_bias`` (BPR) the last item column is a bias and the users' last column is
    fixed at 1, so a score stays one dot product; :meth:`item_vectors` leaves the bias out.
    """

    learned: ClassVar[tuple[str, ...]] = ("user_factors", "item_factors")
    item_bias: ClassVar[bool] = False
    factors: int
    user_factors: np.ndarray | None
    item_factors: np.ndarray | None

    @property
    def width(self) -> int:
        """Columns of the learned factors: ``factors``, plus one with ``item_bias``."""
        return self.factors + int(self.item_bias)

    def _factors(self) -> tuple[np.ndarray, np.ndarray]:
        """The learned user and item factors, or the error that says to fit first."""
        return require_fitted(self.user_factors), require_fitted(self.item_factors)

    def item_vectors(self) -> np.ndarray:
        """The items' latent vectors (items × ``factors``, float32): the item factors without
        a bias column, what similarity (and a map of the catalogue) should use."""
        items = self._factors()[1]
        return items[:, :-1] if self.item_bias else items

    @functools.cached_property
    def _items64(self) -> np.ndarray:
        """The item factors in float64, for exact solves and fold-in scores."""
        return self._factors()[1].astype(np.float64)

    @functools.cached_property
    def _unit_items(self) -> np.ndarray:
        return normalized_rows(self.item_vectors())

    def scores(
        self, user_indices: np.ndarray, user_items: sp.csr_matrix | None = None
    ) -> np.ndarray:
        """Users' scores from their learned factors (their rows are not needed)."""
        users, items = self._factors()
        return users[np.asarray(user_indices)] @ items.T

    def fold_in_scores(self, user_items: sp.csr_matrix) -> np.ndarray:
        return self.fold_in_factors(user_items) @ self._items64.T

    def liked_scores(self, liked: np.ndarray, weight: float, n_items: int) -> np.ndarray:
        values = np.full(len(liked), weight, dtype=np.float32)
        return self._fold_in_row(np.asarray(liked, dtype=np.int32), values) @ self._items64.T

    def fold_in_factors(self, user_items: sp.csr_matrix) -> np.ndarray:
        """Each row's user factors (rows × :attr:`width`, float64) with the item factors fixed:
        no retraining. A row without liked items gets :meth:`_blank_user`."""
        import scipy.sparse as sp

        user_items = sp.csr_matrix(user_items)
        out = np.tile(self._blank_user(), (user_items.shape[0], 1))
        for row in range(user_items.shape[0]):
            start, end = user_items.indptr[row], user_items.indptr[row + 1]
            if start < end:
                liked, values = user_items.indices[start:end], user_items.data[start:end]
                out[row] = self._fold_in_row(liked, values)
        return out

    def _blank_user(self) -> np.ndarray:
        """The factors of a user who liked nothing: zeros (and the bias column's 1)."""
        blank = np.zeros(self.width)
        if self.item_bias:
            blank[-1] = 1.0
        return blank

    @abstractmethod
    def _fold_in_row(self, liked: np.ndarray, values: np.ndarray) -> np.ndarray:
        """One user's factors (:attr:`width`,) from their liked item indices and values (at
        least one)."""

    def similar_items(self, item_index: int, n: int) -> tuple[np.ndarray, np.ndarray]:
        """The ``n`` items whose vectors point most nearly the same way (never the item)."""
        unit = self._unit_items
        similarity = unit @ unit[item_index]
        best = top_n(similarity, n, exclude=[item_index])
        return best, similarity[best]

    def item_similarity(self, item_a: int, item_b: int) -> float:
        unit = self._unit_items
        return float(unit[item_a] @ unit[item_b])

    def state(self) -> dict[str, np.ndarray]:
        users, items = self._factors()
        return {"user_factors": users, "item_factors": items}

    def set_state(self, arrays: dict[str, np.ndarray]) -> FactorModel:
        users = np.asarray(arrays["user_factors"], dtype=np.float32)
        items = np.asarray(arrays["item_factors"], dtype=np.float32)
        if any(factors.ndim != 2 or factors.shape[1] != self.width for factors in (users, items)):
            raise MovieRecError("the saved factors do not match the saved settings; retrain")
        self.user_factors, self.item_factors = users, items
        return self
