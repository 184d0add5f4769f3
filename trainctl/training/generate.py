"""Text from a trained language model: what ``trainctl generate`` does, as a library function.

The checkpoint holds everything: the model and its config, and the training data's vocabulary
and context length (``TextFile.preprocessing_state()``, stored under ``data.preprocessing``).
Each new token is drawn from the model's scores at the last position of the context (the last
``seq_len`` tokens), divided by the temperature and cut to the ``top_k`` best.

Example:
    >>> from trainctl.training import generate
    >>> out = generate("runs/sonnets_lstm/latest", prompt="Shall I ", tokens=100,
    ...                seed=0)  # doctest: +SKIP
    >>> print(out["text"])  # doctest: +SKIP
"""

from __future__ import annotations

import numpy

from ..autograd import creation
from ..autograd.grad_mode import no_grad
from ..config import resolve
from ..config.build import build_model
from ..config.loader import Sources
from ..core import dtypes
from ..core import random as tc_random
from ..core.errors import CheckpointError, ConfigError, DataError
from ..data.datasets import Vocabulary
from .checkpoint import find_checkpoint, load_checkpoint, load_model_weights

MAX_TOKENS = 100_000


def generate(checkpoint, prompt: str = "", tokens: int = 200, temperature: float = 1.0,
             top_k: int | None = None, seed: int | None = None,
             trust_code: bool = False) -> dict:
    """Sample ``tokens`` new tokens after ``prompt`` from the language model of ``checkpoint``.

    Args:
        checkpoint: a ``.safetensors`` checkpoint or a run directory (its best, else last),
            trained on a ``TextFile`` dataset.
        prompt: the text to continue (tokenized with the stored vocabulary; an unknown
            character or word is ``<unk>``). Empty: start from a newline where the vocabulary
            has one, else from a random token.
        tokens: how many tokens to add.
        temperature: > 0 scales the scores before sampling (lower: safer, higher: wilder);
            0 always takes the most likely token.
        top_k: sample among the ``top_k`` most likely tokens only.
        seed: seeds the sampling (None: a fresh draw each time).
        trust_code: allow the stored config to import code (``type: "pkg.mod:Name"``).

    Returns:
        ``{"text", "prompt", "generated", "tokens", "tokenizer"}``: ``text`` is the prompt
        followed by ``generated``; ``tokens`` the new ids.
    """
    _check_options(tokens, temperature, top_k)
    path = find_checkpoint(checkpoint)
    state = load_checkpoint(path, resume=False)
    prep = (state.get("data") or {}).get("preprocessing") or {}
    if not isinstance(prep, dict) or prep.get("type") != "TextFile":
        raise CheckpointError(f"{path}: not a language model: generate needs a model trained on "
                              "a TextFile dataset (its vocabulary is stored in the checkpoint)")
    vocab = Vocabulary.from_state(prep.get("vocab"))
    context = prep.get("seq_len")
    if isinstance(context, bool) or not isinstance(context, int) or context < 1:
        raise CheckpointError(f"{path}: malformed seq_len {context!r:.40} in the stored data")
    cfg = resolve(state["config"], Sources({(): f"{path} (saved config)"}),
                  trust_code=trust_code)
    tc_random.manual_seed(cfg["seed"])
    model = build_model(cfg)
    load_model_weights(model, state["model"], path)
    model.eval()
    rng = numpy.random.default_rng(seed)
    ids = list(vocab.encode(prompt)) if prompt else _start(vocab, rng)
    new = []
    with no_grad():
        for _ in range(tokens):
            scores = _last_scores(model, ids[-context:], len(vocab))
            token = _sample(scores, temperature, top_k, rng)
            ids.append(token)
            new.append(token)
    generated = vocab.decode(new)
    start = prompt if prompt else vocab.decode(ids[:len(ids) - len(new)])
    if vocab.tokenizer in ("whitespace", "words") and start and generated:
        start = start.rstrip() + " "  # word tokens are decoded without the spaces between them
    return {"text": start + generated, "prompt": prompt, "generated": generated,
            "tokens": new, "tokenizer": vocab.tokenizer}


def _check_options(tokens, temperature, top_k) -> None:
    if isinstance(tokens, bool) or not isinstance(tokens, int) or not 0 <= tokens <= MAX_TOKENS:
        raise ConfigError(f"tokens must be an integer from 0 to {MAX_TOKENS}, got {tokens!r}")
    if not temperature >= 0:  # also refuses NaN
        raise ConfigError(f"temperature must be >= 0, got {temperature}")
    if top_k is not None and (isinstance(top_k, bool) or not isinstance(top_k, int)
                              or top_k < 1):
        raise ConfigError(f"top_k must be a positive integer, got {top_k!r}")


def _start(vocab: Vocabulary, rng) -> list[int]:
    """The context of an empty prompt: a newline where there is one, else a random token."""
    newline = vocab.encode("\n")
    if vocab.tokenizer != "whitespace" and len(newline) and newline[0] != 0:
        return [int(newline[0])]
    return [int(rng.integers(1 if vocab.tokens else 0, len(vocab)))]


def _last_scores(model, ids: list[int], vocab_size: int) -> numpy.ndarray:
    """The model's scores for the token after ``ids``: the last position of its output.

    A per-step model outputs (1, C, T) (ending with ``Permute([0, 2, 1])``, as the loss needs)
    or (1, T, C); the axis of length T tells which. When C happens to equal T, one token less
    of context makes them differ.
    """
    out = _forward(model, ids)
    if out.ndim == 3 and out.shape[1] == out.shape[2] == len(ids) and len(ids) > 1:
        ids = ids[1:]
        out = _forward(model, ids)
    t = len(ids)
    if out.ndim == 3 and out.shape[0] == 1 and out.shape[2] == t and out.shape[1] != t:
        scores = out[0, :, -1]
    elif out.ndim == 3 and out.shape[0] == 1 and out.shape[1] == t:
        scores = out[0, -1, :]
    else:
        raise DataError(f"the model's output {tuple(out.shape)} for {t} tokens has no "
                        f"per-token scores: a language model outputs (1, vocabulary, {t}) or "
                        f"(1, {t}, vocabulary)")
    if scores.shape[0] < vocab_size:
        raise DataError(f"the model scores {scores.shape[0]} tokens but the vocabulary has "
                        f"{vocab_size}")
    return scores[:vocab_size].astype(numpy.float64)


def _forward(model, ids: list[int]) -> numpy.ndarray:
    x = creation.tensor([ids], dtype=dtypes.int64)
    out = model(x)
    return numpy.asarray(out.cpu().array)


def _sample(scores: numpy.ndarray, temperature: float, top_k: int | None, rng) -> int:
    if temperature == 0:
        return int(scores.argmax())
    z = scores / temperature
    if top_k is not None and top_k < len(z):
        cut = numpy.partition(z, -top_k)[-top_k]
        z = numpy.where(z >= cut, z, -numpy.inf)
    p = numpy.exp(z - z.max())
    p /= p.sum()
    return int(rng.choice(len(p), p=p))
