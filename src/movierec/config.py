"""Defaults in one place: the filter, the model presets and the environment variables."""

from __future__ import annotations

from numbers import Integral

from .errors import MovieRecError

MAX_N = 10_000
"""The most results one call returns (the CLI and the Python API; the web has its own cap)."""


def check_n(n: int, name: str = "n") -> int:
    """``n`` (how many results) as an int from 1 to ``MAX_N``; MovieRecError otherwise."""
    if isinstance(n, bool) or not isinstance(n, Integral) or not 0 < n <= MAX_N:
        raise MovieRecError(f"{name} must be a whole number from 1 to {MAX_N:,}, got {n!r}")
    return int(n)


MIN_RATING = 3
"""Ratings below this are dropped; the rest are read as implicit feedback (a "play count")."""

DATA_DIR_ENV = "MOVIEREC_DATA_DIR"
CACHE_DIR_ENV = "MOVIEREC_CACHE_DIR"
DEFAULT_DATASET = "ml-1m"
FALLBACK_DATASET = "ml-latest-small"
SEED = 42
DEMO_FAVOURITES = [
    "Toy Story (1995)",
    "Jumanji (1995)",
    "Men in Black (1997)",
    "Heat (1995)",
    "Sabrina (1995)",
]
"""The course notebook's own five favourites, for `movierec demo` and the walkthrough notebook:
movie_ids 1, 2, 1580, 6 and 7 in both ML-1M and the bundled ml-latest-small (which calls the
third "Men in Black (a.k.a. MIB) (1997)"); the year picks the course's Sabrina (1995), not the
1954 film."""

DENSE_ITEMS_LIMIT = 5_000
"""The most movies the default model solves for densely when movierec picks the model: up to
this many kept movies it is ``default`` on all of them (ML-1M has 3,628)."""
DENSE_HEAD_MIN_RATINGS = 3
"""Above ``DENSE_ITEMS_LIMIT`` movies, ``DENSE_HEAD_PRESET`` fits ``default`` on the movies with
at least this many kept ratings (the bundled ml-latest-small: 4,154 of its 8,452 movies)."""
DENSE_HEAD_PRESET = "default-head"
"""The model for a catalogue above ``DENSE_ITEMS_LIMIT`` movies whose dense head is within it
and whose whole catalogue is within ``DENSE_HEAD_ITEMS_LIMIT`` (its weights keep the whole
catalogue's square shape: 286 MB at 8,452 movies, 400 MB at 10,000)."""
DENSE_HEAD_ITEMS_LIMIT = 10_000
DENSE_HEAD_CAP = 5_000
"""Above both limits, ``CAPPED_HEAD_PRESET`` fits ``default`` on at most this many of the
most-rated movies (with ``DENSE_HEAD_MIN_RATINGS`` or more kept ratings): weights of at most
5,000 × 5,000 (100 MB as float32) at any catalogue size."""
CAPPED_HEAD_PRESET = "default-large"
CAPPED_HEAD_TAIL_NEIGHBOURS = 50
"""How many similar head movies ``CAPPED_HEAD_PRESET`` keeps for each movie outside its head."""
CAPPED_HEAD_MIN_SHARE = 0.75
"""``CAPPED_HEAD_PRESET`` serves a catalogue whose capped head holds at least this share of its
kept ratings (the synthetic ML-25M data: 95.7%); below it, where the dense head misses much of
what users rate, ``LARGE_CATALOGUE_PRESET``. Measured by capping the head at 500, 1,000 and
2,000 movies on ml-latest-small and ML-1M (``bench/bench_small_default.py``, seeds 42–44;
docs/large-catalogues.md): holding 78% of the ratings or more the capped head beat ``ials-large``
on recommend and on similar; at 65% it won recommend; at 57% (ML-1M) it lost recommend by
0.0055. Without the tail's neighbours it lost similar by 0.08 at 47–57%; with them it won
similar at every cap."""
LARGE_CATALOGUE_PRESET = "ials-large"
"""Above both limits. Chosen by ``python bench/bench_large_default.py`` (README, "Models and
evaluation")."""

PRESETS: dict[str, dict[str, float | int | str]] = {
    # Each preset names a model (`movierec.models.MODELS`), its hyperparameters and the weighting.
    # Tuned on the validation part of ML-1M under the recbole protocol (ratings ≥ 3, 10-core,
    # per-user random 8:1:1); the test-part numbers are in the README.
    #
    # The default: DLAE (Steck 2020: a linear autoencoder whose dropout-emphasized penalty
    # λ + p/(1−p)·diag(XᵀX) keeps it from the identity), users weighted by |I_u|^-0.454, plus the
    # rank-128 low-pass graph filter (movierec.models.ease); the input is the ratings. One
    # items × items matrix: it folds in a new user in well under a millisecond and explains
    # exactly; a fit costs 1.6 CPU seconds on one thread (`bench/bench_fit_cpu.py`; 2.6 before
    # issue 21's exact speed-ups).
    # Found by `movierec tune ease --trials 60 --dataset ml-1m --protocol recbole` (seed 42;
    # space in evaluation/tuning.py: λ 10–1e4 log, dropout 0–0.8, zero diagonal or not, γ 0–1,
    # low-pass rank 0/32/64/128 and weight 0–0.8, binary or rating input), stopped after 42
    # trials for time: trial 22, validation NDCG@10 0.2409 (the previous default: 0.2366). Chosen
    # over it on the validation parts of seeds 42, 43, 44 (+0.0047 ± 0.0003 paired, 3 of 3; the
    # README has the test figures).
    "default": {
        "model": "ease",
        "regularization": 906.0,
        "dropout": 0.414,
        "zero_diagonal": False,
        "user_weight_exponent": 0.454,
        "lowpass_rank": 128,
        "lowpass_weight": 0.104,
        "weighting": "rating",
    },
    # The default until issue 14: EASE learned with users weighted by |I_u|^-0.5, plus a rank-64
    # low-pass graph filter, on binary input.
    "ease-lowpass": {
        "model": "ease",
        "regularization": 50.0,
        "user_weight_exponent": 0.5,
        "lowpass_rank": 64,
        "lowpass_weight": 0.4,
        "weighting": "binary",
    },
    # DLAE alone (Steck 2020), users weighted: one items × items solve, no low-pass filter.
    # Found by movierec.evaluation.tuning.tune(load_dataset("ml-1m"), get_protocol("recbole"),
    # "ease", trials=24, seed=42, space={regularization: 10–3000 log, dropout: 0.1–0.7,
    # zero_diagonal: False, user_weight_exponent: 0–1, weighting: binary or rating}): trial
    # values rounded, validation NDCG@10 0.2382.
    "dlae": {
        "model": "ease",
        "regularization": 21.0,
        "dropout": 0.55,
        "zero_diagonal": False,
        "user_weight_exponent": 0.58,
        "weighting": "binary",
    },
    # ADMM-SLIM (Steck et al. 2020): sparse, non-negative item weights with a zero diagonal.
    # Found by movierec.evaluation.tuning.tune(load_dataset("ml-1m"), get_protocol("recbole"),
    # "admm-slim", trials=24, seed=42, space={l1: 0.1–10 log, l2: 50–2000 log, rho: 100–3000 log,
    # iterations: 15, user_weight_exponent: 0–0.6, weighting: binary}), values rounded: trial
    # 16, validation NDCG@10 0.2329. Its first 8 trials are the earlier 8-trial run, whose best
    # (trial 5: l1 1.7, l2 84, ρ 270, exponent 0.22) scored 0.2322; 10 of the 24 scored 0.2316 or
    # more, so the space looks flat near its top. (Each fit is 15 dense 3,123³ products; `movierec
    # tune admm-slim`'s wider space found 0.19 and below in its first trials.)
    "admm-slim": {
        "model": "admm-slim",
        "l1": 0.18,
        "l2": 66.0,
        "rho": 680.0,
        "iterations": 15,
        "user_weight_exponent": 0.12,
        "weighting": "binary",
    },
    # The variational autoencoders, tuned with early stopping on seed 42's validation part by
    # `python bench/bench_vae_tune.py MODEL --set batch_size=B …` (optuna TPE, seed 42, over the
    # space in evaluation/tuning.py but epochs, the papers' settings as the first trial;
    # validation NDCG@10 every few epochs, a trial stopped after 2 measurements without gain or
    # by the median pruner; the epochs are where the best measurement was).
    # Mult-VAE: 6 trials up to 100 epochs, batches of 500 (`--max-epochs 100 --every 10
    # --patience 2`): trial 2 best, 0.1989 at epoch 100 (the papers' settings: 0.1967 at 40);
    # its values rounded, run on to 150 epochs (`--trials 1 --max-epochs 200 --patience 3 --set …`
    # every value): 0.1994 at epoch 120.
    "mult-vae": {
        "model": "mult-vae",
        "hidden": 600,
        "latent": 200,
        "dropout": 0.616,
        "beta": 0.0459,
        "anneal_epochs": 8,
        "learning_rate": 0.000458,
        "batch_size": 500,
        "epochs": 120,
        "weighting": "binary",
    },
    # RecVAE: 4 trials up to 40 epochs, batches of 100 (`--max-epochs 40 --every 5 --patience
    # 2`; at batches of 500 the papers' settings reached 0.2139 at epoch 20, below batches of 100
    # at epoch 10): the papers' settings best, 0.2234 at epoch 25 (the others 0.1983–0.2191).
    "recvae": {
        "model": "recvae",
        "hidden": 600,
        "latent": 200,
        "dropout": 0.5,
        "gamma": 0.005,
        "encoder_epochs": 3,
        "learning_rate": 0.0005,
        "batch_size": 100,
        "epochs": 25,
        "weighting": "binary",
    },
    # Plain EASE (Steck 2019) with its λ tuned: the strongest published ML-1M baseline family.
    "ease-tuned": {"model": "ease", "regularization": 800.0, "weighting": "binary"},
    # implicit's ALS, tuned (optuna, 40 trials): confidence = 0.66 × rating.
    "als-tuned": {
        "model": "als",
        "factors": 256,
        "regularization": 46.0,
        "alpha": 0.66,
        "iterations": 20,
        "weighting": "rating",
    },
    # implicit's ALS for large, sparse catalogues (the default above DENSE_ITEMS_LIMIT before
    # ials-large): chosen on the validation part of ml-latest-small (ratio protocol, seed 42),
    # NDCG@10 0.206 against 0.166 for als-tuned, whose λ = 46 is too strong for so few ratings
    # per movie.
    "als-sparse": {
        "model": "als",
        "factors": 64,
        "regularization": 10.0,
        "alpha": 0.66,
        "iterations": 15,
        "weighting": "rating",
    },
    # iALS with frequency-scaled regularization (Rendle et al. 2021), our own trainer.
    "ials-tuned": {
        "model": "ials",
        "factors": 256,
        "regularization": 0.01,
        "unobserved_weight": 0.3,
        "regularization_exponent": 1.0,
        "iterations": 12,
        "weighting": "binary",
    },
    # Our iALS for large, sparse catalogues: the default above DENSE_ITEMS_LIMIT. ials-tuned's
    # settings at 64 factors (not tuned again). Chosen with `python bench/bench_large_default.py
    # --models als-sparse,ials-tuned:factors=64,…` (ratio protocol, seeds 42, 43, 44; on
    # validation NDCG@10): 0.1978 on ml-latest-small and 0.2286 on ML-1M, against 0.1945 and
    # 0.2167 for als-sparse; optuna's best ALS per dataset (tune() with factors 32–128, λ 1–300,
    # α 0.1–10, 10–20 iterations, any weighting; seed 42; 30 trials on ml-latest-small, 25 on
    # ML-1M) did not carry over: 0.2049 and 0.2150 (λ 26), 0.1687 and 0.2275 (λ 37.8). A fit at
    # ML-25M size takes 259 CPU seconds and 2.1 GB (als-sparse: 278 s, 2.2 GB); README.
    "ials-large": {
        "model": "ials",
        "factors": 64,
        "regularization": 0.01,
        "unobserved_weight": 0.3,
        "regularization_exponent": 1.0,
        "iterations": 12,
        "weighting": "binary",
    },
    # implicit's BPR, tuned (optuna, 27 trials, validation NDCG@10 0.166): few factors and a small
    # learning rate; larger rates and more factors overfit within a few dozen sweeps.
    "bpr-tuned": {
        "model": "bpr",
        "factors": 25,
        "learning_rate": 0.00109,
        "regularization": 0.000195,
        "iterations": 204,
        "weighting": "binary",
    },
    # Spark MLlib's implicit ALS (movierec.models.spark_als): λ is scaled by each user's and
    # movie's rating count, confidence is 1 + α × rating. Chosen on the validation part of
    # ML-1M (recbole, seed 42; 64 factors, 10 iterations, rating weights): validation NDCG@10
    # 0.2260 at λ = 0.2, α = 1, against 0.2170 (λ 0.05), 0.2204 (λ 0.1), 0.2184 (λ 0.4) and
    # 0.2028 (λ 0.2, α 3).
    "spark-als": {
        "model": "spark-als",
        "factors": 64,
        "regularization": 0.2,
        "alpha": 1.0,
        "iterations": 10,
        "weighting": "rating",
    },
    # The course notebook's settings: 500 factors, regularization 0.001, 100 iterations. They
    # overfit: `movierec train` says so (PRESET_WARNINGS).
    "notebook": {
        "model": "als",
        "factors": 500,
        "regularization": 0.001,
        "alpha": 1.0,
        "iterations": 100,
        "weighting": "rating",
    },
}

PRESET_WARNINGS: dict[str, str] = {
    # README, "Models and evaluation": test NDCG@10 0.1089 on ML-1M (recbole protocol, one seed)
    # against 0.1196 for popularity; fitted in 89.5 s against 1.7 s for the default.
    "notebook": "the notebook preset's settings (500 factors, regularization 0.001) overfit: on "
    "ML-1M they score below recommending the most popular movies and take minutes to train; "
    "use the default preset (or als-tuned for ALS) for real recommendations",
}
"""One line for a preset whose results need a warning, said by `movierec train`."""

# The default on its dense head, for catalogues above DENSE_ITEMS_LIMIT whose head fits it
# (settings.catalogue_preset). Chosen by `python bench/bench_small_default.py` on the bundled
# ml-latest-small (ratio protocol, seeds 42–44, load 4–9 on 2 cores; test NDCG@10, its paired
# difference from default, similar hit@10; then a fit on all of its data: CPU s, peak RSS):
#   default on all 8,452 movies   0.2544, —,                0.488;  43.4 CPU s, 1,721 MB
#   head: ≥ 2 ratings (5,331)     0.2537, −0.0008 ± 0.0009, 0.487;  19.4 CPU s,   827 MB
#   head: ≥ 3 ratings (4,154)     0.2542, −0.0003 ± 0.0005, 0.481;  10.8 CPU s,   588 MB
#   head: ≥ 5 ratings (3,012)     0.2553, +0.0008 ± 0.0009, 0.476;  12.2 CPU s,   559 MB
#   ials-large (the rule before)  0.2335, −0.0210 ± 0.0035, 0.418;   1.6 CPU s,   196 MB
#   ease-tuned                    0.2379, −0.0165 ± 0.0010, 0.484;  11.0 CPU s, 1,130 MB
#   als-tuned                     0.1953, −0.0592 ± 0.0013, 0.386;   3.8 CPU s,   198 MB
# The head at 3 ratings ties the whole catalogue on recommend and nearly on similar for a third
# of the memory and a quarter of the CPU; every EASE-family fit puts Toy Story 2 second among
# Toy Story's similar movies (ials-large: 14th, als-tuned: not in the top 50). The model keeps
# the head's weights alone (the saved model: 67 MB, 274 MB when it kept the catalogue's square;
# ials-large: 6 MB).
PRESETS["default-head"] = {**PRESETS["default"], "min_item_ratings": DENSE_HEAD_MIN_RATINGS}
# The default on its capped head: the DENSE_HEAD_CAP most-rated movies (of those with at least
# DENSE_HEAD_MIN_RATINGS kept ratings), for catalogues whose head outgrows DENSE_ITEMS_LIMIT
# (settings.catalogue_preset; docs/large-catalogues.md has the measurements).
# Every movie outside the head gets its 50 most similar head movies (cosine on who rated them)
# for `similar` alone: capped at 500–2,000 movies on ml-latest-small and ML-1M they lifted
# similar hit@10 from 0.337–0.546 to 0.474–0.579, above ials-large's 0.418 and 0.446, and
# changed no recommendation; at 25M ratings they add 17 CPU s to the fit.
PRESETS[CAPPED_HEAD_PRESET] = {
    **PRESETS[DENSE_HEAD_PRESET],
    "max_head_items": DENSE_HEAD_CAP,
    "tail_neighbours": CAPPED_HEAD_TAIL_NEIGHBOURS,
}
