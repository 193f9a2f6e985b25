"""Variational autoencoders for implicit feedback: Mult-VAE (Liang, Krishnan, Hoffman & Jebara
2018) and RecVAE (Shenbin, Alekseev, Tutubalina, Malykh & Nikolenko 2020).

Both read a user's row of liked items (L2-normalized, with dropout while training), encode it
into a Gaussian over a small latent space and decode a multinomial over all items; the scores
are the decoder's logits at the encoder's mean. A new user is folded in the way these models
work natively: the encoder on their row, no retraining.

Training needs PyTorch (``pip install -e ".[torch]"``, the CPU build), imported only inside
``fit``; a trained model's weights are plain NumPy arrays (:meth:`Model.state`), and scoring,
fold-in and similar items run in NumPy, so a saved model serves without PyTorch. Fits are
seeded (a PyTorch generator of their own, so the caller's stays untouched, and NumPy's for the
batch order) and use however many threads ``torch.set_num_threads`` allows.

What an epoch costs (``bench/bench_vae_epoch.py``) is mostly the dense products with the
items × hidden matrices and Adam's pass over them; so the sparse input goes through
``embedding_bag`` (a weighted sum of the liked items' rows, never a dense or COO product),
Adam is PyTorch's fused one, the unit-length rows are computed once a fit, and RecVAE encodes
every user once an epoch for its prior and its decoder pass instead of once a batch.
"""

from __future__ import annotations

import functools
import math
from abc import abstractmethod
from collections.abc import Iterator
from typing import Any, ClassVar

import numpy as np
import scipy.sparse as sp

from ..errors import MovieRecError
from .base import (
    Model,
    checked_fit,
    hyperparameter,
    hyperparameters,
    normalized_rows,
    require_fitted,
)
from .params import SEED, Number, Whole
from .ranking import top_n

HIDDEN = Whole(1, 4096)
LATENT = Whole(1, 1024)
EPOCHS = Whole(1, 10_000)
BATCH_SIZE = Whole(1, 1_000_000)
DROPOUT = Number(0.0, 1.0, below=True)
LEARNING_RATE = Number(low=0.0, above=True)
SCORING_BATCH = 2048
"""Users scored at once: a block of dense scores (users × items float32) stays small."""


def require_torch(model: str) -> Any:
    """The ``torch`` module, or the one-line error that says how to install it."""
    try:
        import torch
    except ImportError:
        raise MovieRecError(
            f'{model} trains with PyTorch, which is not installed: pip install -e ".[torch]" '
            "(the CPU build)"
        ) from None
    return torch


def unit_rows(rows: sp.csr_matrix) -> sp.csr_matrix:
    """Rows scaled to unit L2 length (empty rows stay empty): the encoders' input."""
    matrix = sp.csr_matrix(rows, dtype=np.float32, copy=True)
    norms = np.sqrt(np.asarray(matrix.multiply(matrix).sum(axis=1)).ravel())
    matrix.data /= np.repeat(np.maximum(norms, 1e-12), np.diff(matrix.indptr)).astype(np.float32)
    return matrix


def layer_norm(x: np.ndarray, gain: np.ndarray, bias: np.ndarray, eps: float) -> np.ndarray:
    """Layer normalization over the last axis, as ``torch.nn.functional.layer_norm``."""
    centred = x - x.mean(axis=-1, keepdims=True)
    variance = np.square(centred).mean(axis=-1, keepdims=True)
    return centred / np.sqrt(variance + eps) * gain + bias


def swish(x: np.ndarray) -> np.ndarray:
    """``x·sigmoid(x)`` (PyTorch's SiLU), without overflow for large negative ``x``."""
    from scipy.special import expit

    return x * expit(x)


class VAEModel(Model):
    """What the two autoencoders share: training scaffolding around PyTorch, and NumPy scoring
    from the learned arrays in ``network`` (name → array, every matrix laid out inputs ×
    outputs). A subclass gives its layer shapes, its training and its encoder mean.

    Batches default to 100 users, not the papers' 500: ML-1M has 6,000 users, and 500 give 12
    updates an epoch. An epoch at 100 costs more (Adam's pass and the per-batch work five times
    over); the presets (``config.PRESETS``) use 500 for Mult-VAE and 100 for RecVAE, whose
    validation score after 20 epochs at 500 was below that after 10 at 100."""

    learned: ClassVar[tuple[str, ...]] = ("network",)
    weighting = "binary"
    divergence_hint = "lower learning_rate (now {learning_rate:g})"
    network: dict[str, np.ndarray] | None
    epochs: int
    batch_size: int
    dropout: float
    seed: int

    @abstractmethod
    def shapes(self, n_items: int) -> dict[str, tuple[int, ...]]:
        """The shape of every learned array for ``n_items`` items."""

    @abstractmethod
    def _train(
        self, torch: Any, matrix: sp.csr_matrix, generator: Any, rng: np.random.Generator
    ) -> Iterator[dict[str, Any]]:
        """Train on ``matrix`` (users × items), drawing from the torch ``generator`` and from
        ``rng`` (the batch order); after each epoch, the learned tensors by their names in
        :meth:`shapes`."""

    @abstractmethod
    def encode(self, network: dict[str, np.ndarray], rows: sp.csr_matrix) -> np.ndarray:
        """The encoder's mean (users × latent) for unit-length ``rows``."""

    @checked_fit
    def fit(self, user_items: sp.csr_matrix, show_progress: bool = False) -> VAEModel:
        for _ in self.training(user_items):
            pass
        return self

    def training(self, user_items: sp.csr_matrix) -> Iterator[int]:
        """Fit epoch by epoch, for learning curves: after each epoch the network learned so far
        is set and the epoch's number (1, 2, …) is yielded. ``fit`` runs them all, checked."""
        torch = require_torch(self.name)
        matrix = sp.csr_matrix(user_items, dtype=np.float32)
        matrix.eliminate_zeros()
        generator = torch.Generator().manual_seed(self.seed)
        rng = np.random.default_rng(self.seed)
        with self.fitting(user_items, self.epochs) as step:
            for epoch, learned in enumerate(self._train(torch, matrix, generator, rng), start=1):
                step.advance()
                self.network = {
                    name: np.array(tensor.detach().numpy(), dtype=np.float32)
                    for name, tensor in learned.items()
                }
                self.forget_derived()
                yield epoch

    def batches(self, rng: np.random.Generator, n_users: int) -> Iterator[np.ndarray]:
        """The users of one epoch, shuffled, in batches of ``batch_size``."""
        order = rng.permutation(n_users)
        for start in range(0, n_users, self.batch_size):
            yield order[start : start + self.batch_size]

    @staticmethod
    def first_layer(
        torch: Any, unit: sp.csr_matrix, weight: Any, bias: Any, dropout: float, generator: Any
    ) -> Any:
        """``unit @ weight + bias`` for a block of unit-length rows, each entry dropped with
        probability ``dropout`` and the rest scaled by 1/(1 − dropout) (``torch.nn.Dropout``'s
        rule): a weighted sum of the liked items' rows of ``weight`` (``embedding_bag``)."""
        values = torch.from_numpy(unit.data)
        if dropout > 0:
            keep = torch.bernoulli(torch.full_like(values, 1.0 - dropout), generator=generator)
            values = values * keep / (1.0 - dropout)
        summed = torch.nn.functional.embedding_bag(
            torch.from_numpy(unit.indices.astype(np.int64)),
            weight,
            torch.from_numpy(unit.indptr.astype(np.int64)),
            mode="sum",
            per_sample_weights=values,
            include_last_offset=True,
        )
        return summed + bias

    @staticmethod
    def linear(torch: Any, n_in: int, n_out: int, generator: Any) -> tuple[Any, Any]:
        """A weight (n_in × n_out, Glorot-uniform) and a zero bias, as trainable tensors."""
        bound = math.sqrt(6.0 / (n_in + n_out))
        weight = torch.empty(n_in, n_out).uniform_(-bound, bound, generator=generator)
        return weight.requires_grad_(), torch.zeros(n_out, requires_grad=True)

    @staticmethod
    def adam(torch: Any, tensors: list[Any], learning_rate: float) -> Any:
        """Adam over ``tensors``, fused: one pass over each tensor a step (the same update)."""
        return torch.optim.Adam(tensors, lr=learning_rate, fused=True)

    @staticmethod
    def descend(optimizer: Any, loss: Any) -> None:
        """One step of ``optimizer`` down the gradient of ``loss``."""
        optimizer.zero_grad()
        loss.backward()
        optimizer.step()

    @staticmethod
    def gaussian_sample(torch: Any, mu: Any, logvar: Any, generator: Any) -> Any:
        """``mu + ε·exp(logvar / 2)``, ε standard normal (the reparameterization)."""
        noise = torch.randn(mu.shape, generator=generator)
        return mu + noise * torch.exp(0.5 * logvar)

    @staticmethod
    def multinomial_log_likelihood(torch: Any, logits: Any, rows: sp.csr_matrix) -> Any:
        """Σ_i x_ui · log softmax(logits)_ui for each user (the reconstruction term)."""
        return (torch.log_softmax(logits, dim=1) * torch.from_numpy(rows.toarray())).sum(dim=1)

    def _network(self) -> dict[str, np.ndarray]:
        return require_fitted(self.network)

    def scores(self, user_indices: np.ndarray, user_items: sp.csr_matrix) -> np.ndarray:
        return self.fold_in_scores(user_items)

    def fold_in_scores(self, user_items: sp.csr_matrix) -> np.ndarray:
        """The decoder's logits at the encoder's mean for each row (softmax keeps the order)."""
        network = self._network()
        rows = unit_rows(user_items)
        out = np.empty(rows.shape, dtype=np.float32)
        for start in range(0, rows.shape[0], SCORING_BATCH):
            block = rows[start : start + SCORING_BATCH]
            out[start : start + block.shape[0]] = self.decode(network, self.encode(network, block))
        return out

    def decode(self, network: dict[str, np.ndarray], latent: np.ndarray) -> np.ndarray:
        """Logits over the items for latent vectors (users × latent); one linear layer unless a
        subclass has more."""
        return latent @ network["out_w"] + network["out_b"]

    @functools.cached_property
    def _unit_items(self) -> np.ndarray:
        """Each item's output weights (its vector in the last hidden layer), unit length."""
        return normalized_rows(self._network()["out_w"].T)

    def similar_items(self, item_index: int, n: int) -> tuple[np.ndarray, np.ndarray]:
        """Items whose output weights point most nearly the same way (never the item)."""
        similarity = self._unit_items @ self._unit_items[item_index]
        best = top_n(similarity, n, exclude=[item_index])
        return best, similarity[best]

    def item_similarity(self, item_a: int, item_b: int) -> float:
        return float(self._unit_items[item_a] @ self._unit_items[item_b])

    def state(self) -> dict[str, np.ndarray]:
        return dict(self._network())

    def set_state(self, arrays: dict[str, np.ndarray]) -> VAEModel:
        if "out_b" not in arrays:
            raise MovieRecError(f"the saved {self.name} weights are incomplete; retrain")
        expected = self.shapes(int(np.asarray(arrays["out_b"]).shape[0]))
        found = {name: tuple(np.asarray(array).shape) for name, array in arrays.items()}
        if found != expected:
            raise MovieRecError(
                f"the saved {self.name} weights do not match the saved settings; retrain"
            )
        self.network = {name: np.asarray(arrays[name], dtype=np.float32) for name in expected}
        return self


def gaussian_kl(torch: Any, mu: Any, logvar: Any) -> Any:
    """KL(N(mu, exp(logvar)) ‖ N(0, I)) for each row."""
    return -0.5 * (1.0 + logvar - mu.pow(2) - logvar.exp()).sum(dim=1)


@hyperparameters
class MultVAE(VAEModel):
    """Mult-VAE: a ``hidden``-unit tanh layer each side of a ``latent``-dimensional Gaussian,
    a multinomial likelihood, and the KL term's weight β raised linearly from 0 to ``beta``
    over the updates of the first ``anneal_epochs`` epochs, then held (the paper's annealing,
    capped at its best β; a schedule that does not depend on ``epochs``, so an epoch of a
    longer fit is where a fit of that many epochs ends).

    >>> import scipy.sparse as sp
    >>> matrix = sp.random(30, 12, density=0.3, format="csr", random_state=0)
    >>> MultVAE(hidden=8, latent=4, epochs=2).fit(matrix).fold_in_scores(matrix[:2]).shape
    (2, 12)
    """

    name = "mult-vae"

    hidden: int = hyperparameter(600, HIDDEN)
    latent: int = hyperparameter(200, LATENT)
    dropout: float = hyperparameter(0.5, DROPOUT)
    beta: float = hyperparameter(0.2, Number(low=0.0))
    anneal_epochs: int = hyperparameter(50, EPOCHS)
    epochs: int = hyperparameter(50, EPOCHS)
    learning_rate: float = hyperparameter(1e-3, LEARNING_RATE)
    batch_size: int = hyperparameter(100, BATCH_SIZE)
    seed: int = hyperparameter(42, SEED)

    def describe(self) -> str:
        return f"Mult-VAE ({self.hidden}-{self.latent}-{self.hidden}, β ≤ {self.beta:g})"

    def shapes(self, n_items: int) -> dict[str, tuple[int, ...]]:
        hidden, latent = self.hidden, self.latent
        return {
            "in_w": (n_items, hidden),
            "in_b": (hidden,),
            "mu_w": (hidden, latent),
            "mu_b": (latent,),
            "dec_w": (latent, hidden),
            "dec_b": (hidden,),
            "out_w": (hidden, n_items),
            "out_b": (n_items,),
        }

    def encode(self, network: dict[str, np.ndarray], rows: sp.csr_matrix) -> np.ndarray:
        hidden = np.tanh(rows @ network["in_w"] + network["in_b"])
        return hidden @ network["mu_w"] + network["mu_b"]

    def decode(self, network: dict[str, np.ndarray], latent: np.ndarray) -> np.ndarray:
        hidden = np.tanh(latent @ network["dec_w"] + network["dec_b"])
        return hidden @ network["out_w"] + network["out_b"]

    def _train(
        self, torch: Any, matrix: sp.csr_matrix, generator: Any, rng: np.random.Generator
    ) -> Iterator[dict[str, Any]]:
        n_users, n_items = matrix.shape
        in_w, in_b = self.linear(torch, n_items, self.hidden, generator)
        # mean and log-variance side by side
        stats_w, stats_b = self.linear(torch, self.hidden, 2 * self.latent, generator)
        dec_w, dec_b = self.linear(torch, self.latent, self.hidden, generator)
        out_w, out_b = self.linear(torch, self.hidden, n_items, generator)
        weights = [in_w, in_b, stats_w, stats_b, dec_w, dec_b, out_w, out_b]
        optimizer = self.adam(torch, weights, self.learning_rate)
        unit = unit_rows(matrix)
        annealing = self.anneal_epochs * math.ceil(n_users / self.batch_size)  # updates
        done = 0
        for _ in range(self.epochs):
            for users in self.batches(rng, n_users):
                first = self.first_layer(torch, unit[users], in_w, in_b, self.dropout, generator)
                stats = torch.tanh(first) @ stats_w + stats_b
                mu, logvar = stats[:, : self.latent], stats[:, self.latent :]
                latent = self.gaussian_sample(torch, mu, logvar, generator)
                logits = torch.tanh(latent @ dec_w + dec_b) @ out_w + out_b
                beta = self.beta * min(1.0, done / annealing)
                loss = (
                    beta * gaussian_kl(torch, mu, logvar)
                    - self.multinomial_log_likelihood(torch, logits, matrix[users])
                ).mean()
                self.descend(optimizer, loss)
                done += 1
            yield {
                "in_w": in_w,
                "in_b": in_b,
                "mu_w": stats_w[:, : self.latent],
                "mu_b": stats_b[: self.latent],
                "dec_w": dec_w,
                "dec_b": dec_b,
                "out_w": out_w,
                "out_b": out_b,
            }


RECVAE_LAYERS = 5
RECVAE_NORM_EPS = 0.1
PRIOR_WEIGHTS = (3 / 20, 15 / 20, 2 / 20)
"""RecVAE's composite prior: standard normal, the previous epoch's posterior, a wide normal."""
WIDE_LOGVAR = 10.0


@hyperparameters
class RecVAE(VAEModel):
    """RecVAE: a deeper encoder (``5`` densely connected swish layers of ``hidden`` units with
    layer normalization), a linear decoder, a composite prior that holds each user near the
    previous epoch's posterior, a KL weight ``gamma``·|I_u| that grows with the user's
    interactions, and alternating updates (``encoder_epochs`` encoder passes, then one decoder
    pass without dropout, per epoch).

    >>> import scipy.sparse as sp
    >>> matrix = sp.random(30, 12, density=0.3, format="csr", random_state=0)
    >>> RecVAE(hidden=8, latent=4, epochs=2).fit(matrix).fold_in_scores(matrix[:2]).shape
    (2, 12)
    """

    name = "recvae"

    hidden: int = hyperparameter(600, HIDDEN)
    latent: int = hyperparameter(200, LATENT)
    dropout: float = hyperparameter(0.5, DROPOUT)
    gamma: float = hyperparameter(0.005, Number(low=0.0))
    epochs: int = hyperparameter(30, EPOCHS)
    encoder_epochs: int = hyperparameter(3, Whole(1, 100))
    learning_rate: float = hyperparameter(5e-4, LEARNING_RATE)
    batch_size: int = hyperparameter(100, BATCH_SIZE)
    seed: int = hyperparameter(42, SEED)

    def describe(self) -> str:
        return f"RecVAE ({self.hidden} hidden, {self.latent} latent, γ = {self.gamma:g})"

    def shapes(self, n_items: int) -> dict[str, tuple[int, ...]]:
        hidden, latent, deeper = self.hidden, self.latent, RECVAE_LAYERS - 1
        return {
            "in_w": (n_items, hidden),
            "in_b": (hidden,),
            "hidden_w": (deeper, hidden, hidden),
            "hidden_b": (deeper, hidden),
            "norm_gain": (RECVAE_LAYERS, hidden),
            "norm_bias": (RECVAE_LAYERS, hidden),
            "mu_w": (hidden, latent),
            "mu_b": (latent,),
            "out_w": (latent, n_items),
            "out_b": (n_items,),
        }

    def encode(self, network: dict[str, np.ndarray], rows: sp.csr_matrix) -> np.ndarray:
        gain, bias = network["norm_gain"], network["norm_bias"]
        layer = swish(np.asarray(rows @ network["in_w"]) + network["in_b"])
        outputs = [layer_norm(layer, gain[0], bias[0], RECVAE_NORM_EPS)]
        for depth in range(1, RECVAE_LAYERS):
            pre = outputs[-1] @ network["hidden_w"][depth - 1] + network["hidden_b"][depth - 1]
            layer = swish(pre + sum(outputs))
            outputs.append(layer_norm(layer, gain[depth], bias[depth], RECVAE_NORM_EPS))
        return outputs[-1] @ network["mu_w"] + network["mu_b"]

    def _train(
        self, torch: Any, matrix: sp.csr_matrix, generator: Any, rng: np.random.Generator
    ) -> Iterator[dict[str, Any]]:
        fit = _RecVAEFit(self, torch, matrix, generator, rng)
        for _ in range(self.epochs):
            for _ in range(self.encoder_epochs):
                fit.encoder_epoch()
            fit.decoder_epoch()
            yield fit.learned()


class _RecVAEFit:
    """One RecVAE fit in PyTorch: the trainable tensors, their optimizers (the encoder's and
    the decoder's) and every user's posterior of the previous epoch (the composite prior's
    middle part, and the decoder pass's input); :meth:`RecVAE._train` alternates its
    passes."""

    def __init__(
        self,
        model: RecVAE,
        torch: Any,
        matrix: sp.csr_matrix,
        generator: Any,
        rng: np.random.Generator,
    ) -> None:
        self.model, self.torch, self.matrix = model, torch, matrix
        self.generator, self.rng = generator, rng
        n_items, hidden, latent = matrix.shape[1], model.hidden, model.latent
        self.in_w, self.in_b = model.linear(torch, n_items, hidden, generator)
        self.deeper = [
            model.linear(torch, hidden, hidden, generator) for _ in range(RECVAE_LAYERS - 1)
        ]
        self.gains = [torch.ones(hidden, requires_grad=True) for _ in range(RECVAE_LAYERS)]
        self.biases = [torch.zeros(hidden, requires_grad=True) for _ in range(RECVAE_LAYERS)]
        self.stats_w, self.stats_b = model.linear(torch, hidden, 2 * latent, generator)
        self.out_w, self.out_b = model.linear(torch, latent, n_items, generator)
        encoder = [self.in_w, self.in_b, *[t for pair in self.deeper for t in pair]]
        encoder += [*self.gains, *self.biases, self.stats_w, self.stats_b]
        self.unit = unit_rows(matrix)
        self.counts = torch.from_numpy(np.diff(matrix.indptr).astype(np.float32))
        self.encoder_optimizer = model.adam(torch, encoder, model.learning_rate)
        self.decoder_optimizer = model.adam(torch, [self.out_w, self.out_b], model.learning_rate)
        self.old_mu, self.old_logvar = self.posterior()

    def encode(self, rows: sp.csr_matrix, dropout: float) -> tuple[Any, Any]:
        """The encoder's mean and log-variance for unit-length ``rows``."""
        functional, hidden = self.torch.nn.functional, (self.model.hidden,)
        norm = functools.partial(functional.layer_norm, eps=RECVAE_NORM_EPS)
        first = self.model.first_layer(
            self.torch, rows, self.in_w, self.in_b, dropout, self.generator
        )
        outputs = [norm(functional.silu(first), hidden, self.gains[0], self.biases[0])]
        for depth, (w, b) in enumerate(self.deeper, start=1):
            layer = functional.silu(outputs[-1] @ w + b + sum(outputs))
            outputs.append(norm(layer, hidden, self.gains[depth], self.biases[depth]))
        stats = outputs[-1] @ self.stats_w + self.stats_b
        latent = self.model.latent
        return stats[:, :latent], stats[:, latent:]

    def posterior(self) -> tuple[Any, Any]:
        """Every user's posterior under the encoder as it is, without dropout."""
        torch, n_users = self.torch, self.matrix.shape[0]
        with torch.no_grad():
            blocks = [
                self.encode(self.unit[start : start + SCORING_BATCH], 0.0)
                for start in range(0, n_users, SCORING_BATCH)
            ]
        return torch.cat([mu for mu, _ in blocks]), torch.cat([lv for _, lv in blocks])

    def log_prior(self, z: Any, index: Any) -> Any:
        """The composite prior's log density at ``z`` for the users at ``index``: the mixture
        of :data:`PRIOR_WEIGHTS` of a standard normal, their previous posterior and a wide
        normal. (Each part is weighted as it is made: autograd sums the gradients in the order
        the operations were made, and a fit repeats bit for bit only in the same order.)"""
        torch = self.torch
        zeros = torch.zeros_like(z)
        log_weights = [math.log(weight) for weight in PRIOR_WEIGHTS]
        parts = [
            _log_normal(z, zeros, zeros) + log_weights[0],
            _log_normal(z, self.old_mu[index], self.old_logvar[index]) + log_weights[1],
            _log_normal(z, zeros, torch.full_like(z, WIDE_LOGVAR)) + log_weights[2],
        ]
        return torch.logsumexp(torch.stack(parts), dim=0)

    def encoder_epoch(self) -> None:
        """One pass of encoder updates over every user, in shuffled batches, with dropout."""
        model, torch = self.model, self.torch
        for users in model.batches(self.rng, self.matrix.shape[0]):
            mu, logvar = self.encode(self.unit[users], model.dropout)
            z = model.gaussian_sample(torch, mu, logvar, self.generator)
            index = torch.from_numpy(users)
            prior = self.log_prior(z, index)  # made first: the order of the sums (log_prior)
            kl = (_log_normal(z, mu, logvar) - prior).sum(dim=1)
            likelihood = model.multinomial_log_likelihood(
                torch, z @ self.out_w + self.out_b, self.matrix[users]
            )
            loss = (model.gamma * self.counts[index] * kl - likelihood).mean()
            model.descend(self.encoder_optimizer, loss)

    def decoder_epoch(self) -> None:
        """The posterior refreshed, then one pass of decoder updates, each batch's input drawn
        from it (no dropout)."""
        model, torch = self.model, self.torch
        self.old_mu, self.old_logvar = self.posterior()
        for users in model.batches(self.rng, self.matrix.shape[0]):
            index = torch.from_numpy(users)
            z = model.gaussian_sample(
                torch, self.old_mu[index], self.old_logvar[index], self.generator
            )
            likelihood = model.multinomial_log_likelihood(
                torch, z @ self.out_w + self.out_b, self.matrix[users]
            )
            model.descend(self.decoder_optimizer, -likelihood.mean())

    def learned(self) -> dict[str, Any]:
        """The learned tensors by their names in :meth:`RecVAE.shapes`."""
        stack, latent = self.torch.stack, self.model.latent
        return {
            "in_w": self.in_w,
            "in_b": self.in_b,
            "hidden_w": stack([w for w, _ in self.deeper]),
            "hidden_b": stack([b for _, b in self.deeper]),
            "norm_gain": stack(self.gains),
            "norm_bias": stack(self.biases),
            "mu_w": self.stats_w[:, :latent],
            "mu_b": self.stats_b[:latent],
            "out_w": self.out_w,
            "out_b": self.out_b,
        }


def _log_normal(z: Any, mu: Any, logvar: Any) -> Any:
    """The log density of N(mu, exp(logvar)) at ``z``, for each coordinate."""
    return -0.5 * (logvar + math.log(2 * math.pi) + (z - mu).pow(2) / logvar.exp())
