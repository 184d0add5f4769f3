"""L-BFGS: limited-memory quasi-Newton method, with an optional strong-Wolfe line search."""

from __future__ import annotations

from collections.abc import Callable, Iterable

from ..autograd.tensor import Tensor
from ..core import backend
from .line_search import strong_wolfe
from .optimizer import Optimizer

_STATE_ARRAYS = ("d", "prev_flat_grad")
_STATE_LISTS = ("old_dirs", "old_stps", "ro", "al")
_STATE_SCALARS = ("t", "H_diag")


class LBFGS(Optimizer):
    """L-BFGS (``torch.optim.LBFGS``). Each ``step(closure)`` runs up to ``max_iter`` iterations.

    All parameters form one flat vector ``x`` with gradient ``g``. Per iteration ``k``::

        if k == 1: d = -g; H = 1
        else:
            y = g - g_prev; s = t * d
            if y.s > 1e-10: remember (y, s, rho = 1 / y.s), dropping the oldest past
                            history_size; H = y.s / y.y
            q = -g
            for (y_i, s_i, rho_i) newest to oldest: a_i = rho_i s_i.q; q = q - a_i y_i
            r = H q
            for (y_i, s_i, rho_i) oldest to newest: b_i = rho_i y_i.r; r = r + (a_i - b_i) s_i
            d = r
        t = min(1, 1 / sum|g|) * lr on the very first iteration, else lr
        if g.d > -tolerance_change: stop
        line_search_fn == 'strong_wolfe': pick t by a cubic-interpolating Wolfe search
        x = x + t * d; re-evaluate loss and g with the closure
        stop when max_iter, max_eval, |g|_max <= tolerance_grad, |t d|_max <= tolerance_change
        or |loss change| < tolerance_change

    The scalars follow the dtype of the parameters (float32), as in PyTorch, so the iterates
    match PyTorch's. ``step`` needs a ``closure`` that clears the gradients, computes the loss,
    calls ``backward()`` and returns the loss.

    Args:
        params: the parameters (a single group).
        lr: learning rate (default 1).
        max_iter: iterations per ``step`` (default 20).
        max_eval: function evaluations per ``step`` (default ``max_iter * 1.25``).
        tolerance_grad: stop when the largest gradient entry is at most this (default 1e-7).
        tolerance_change: stop when the loss or the step changes less (default 1e-9).
        history_size: number of correction pairs kept (default 100).
        line_search_fn: ``None`` or ``'strong_wolfe'``.

    Example:
        >>> import trainctl as tc
        >>> w = tc.tensor([3.0, -2.0], requires_grad=True)
        >>> opt = tc.optim.LBFGS([w], line_search_fn="strong_wolfe")
        >>> def closure():
        ...     opt.zero_grad()
        ...     loss = ((w - 1) ** 2).sum()
        ...     loss.backward()
        ...     return loss
        >>> _ = opt.step(closure)
        >>> [round(v, 4) for v in w.tolist()]
        [1.0, 1.0]
    """

    def __init__(
        self,
        params: Iterable,
        lr: float = 1,
        max_iter: int = 20,
        max_eval: int | None = None,
        tolerance_grad: float = 1e-7,
        tolerance_change: float = 1e-9,
        history_size: int = 100,
        line_search_fn: str | None = None,
    ) -> None:
        if not 0.0 <= lr:
            raise ValueError(f"{type(self).__name__}: lr must be >= 0, got {lr}")
        if line_search_fn not in (None, "strong_wolfe"):
            raise ValueError(
                f"LBFGS: line_search_fn must be None or 'strong_wolfe', got {line_search_fn!r}"
            )
        if max_eval is None:
            max_eval = max_iter * 5 // 4
        defaults = dict(
            lr=lr, max_iter=max_iter, max_eval=max_eval, tolerance_grad=tolerance_grad,
            tolerance_change=tolerance_change, history_size=history_size,
            line_search_fn=line_search_fn,
        )
        super().__init__(params, defaults)
        if len(self.param_groups) != 1:
            raise ValueError(
                f"LBFGS optimizes a single param group, got {len(self.param_groups)}"
            )
        self._params = self.param_groups[0]["params"]

    def load_state_dict(self, state_dict) -> None:
        super().load_state_dict(state_dict)
        self._params = self.param_groups[0]["params"]

    # ----------------------------------------------------------------- flat views
    def _xp(self):
        return backend.get_array_module(self._params[0].array)

    def _gather_flat_grad(self):
        xp = self._xp()
        parts = [
            xp.zeros(p.array.size, p.array.dtype) if p.grad is None else p.grad.array.reshape(-1)
            for p in self._params
        ]
        return xp.concatenate(parts)

    def _add_grad(self, step_size, update) -> None:
        offset = 0
        for p in self._params:
            n = p.array.size
            p.array += (step_size * update[offset:offset + n]).reshape(p.array.shape)
            p._version += 1
            offset += n

    def _directional_evaluate(self, closure, x, t, d):
        self._add_grad(t, d)
        loss = float(self._eval_closure(closure))
        flat_grad = self._gather_flat_grad()
        for p, saved in zip(self._params, x):
            p.array[...] = saved
            p._version += 1
        return loss, flat_grad

    # ----------------------------------------------------------------- the algorithm
    def step(self, closure: Callable[[], Tensor]):
        """Run up to ``max_iter`` L-BFGS iterations; return the loss from the first closure call."""
        if closure is None:
            raise RuntimeError("LBFGS.step needs a closure that recomputes the loss")
        xp = self._xp()
        group = self.param_groups[0]
        lr, max_iter, max_eval = group["lr"], group["max_iter"], group["max_eval"]
        tol_grad, tol_change = group["tolerance_grad"], group["tolerance_change"]
        history_size = group["history_size"]

        state = self.state[self._params[0]]
        state.setdefault("func_evals", 0)
        state.setdefault("n_iter", 0)
        orig_loss = self._eval_closure(closure)
        loss = float(orig_loss)
        current_evals = 1
        state["func_evals"] += 1
        flat_grad = self._gather_flat_grad()
        if xp.abs(flat_grad).max() <= tol_grad:
            return orig_loss

        s = _unpack(state)
        d, t, H_diag = s["d"], s["t"], s["H_diag"]
        old_dirs, old_stps, ro = s["old_dirs"], s["old_stps"], s["ro"]
        prev_flat_grad, prev_loss = s["prev_flat_grad"], state.get("prev_loss")
        n_iter = 0
        while n_iter < max_iter:
            n_iter += 1
            state["n_iter"] += 1
            if state["n_iter"] == 1:
                d = -flat_grad
                old_dirs, old_stps, ro = [], [], []
                H_diag = 1
            else:
                y = flat_grad - prev_flat_grad
                st = d * t
                ys = y.dot(st)
                if ys > 1e-10:
                    if len(old_dirs) == history_size:
                        old_dirs.pop(0)
                        old_stps.pop(0)
                        ro.pop(0)
                    old_dirs.append(y)
                    old_stps.append(st)
                    ro.append(1.0 / ys)
                    H_diag = ys / y.dot(y)
                if s["al"] is None:
                    s["al"] = [None] * history_size
                al = s["al"]
                q = -flat_grad
                for i in range(len(old_dirs) - 1, -1, -1):
                    al[i] = old_stps[i].dot(q) * ro[i]
                    q -= al[i] * old_dirs[i]
                d = r = q * H_diag
                for i in range(len(old_dirs)):
                    be_i = old_dirs[i].dot(r) * ro[i]
                    r += (al[i] - be_i) * old_stps[i]
            if prev_flat_grad is None:
                prev_flat_grad = flat_grad.copy()
            else:
                prev_flat_grad[...] = flat_grad
            prev_loss = loss
            if state["n_iter"] == 1:
                t = min(1.0, 1.0 / xp.abs(flat_grad).sum()) * lr
            else:
                t = lr
            gtd = flat_grad.dot(d)
            if gtd > -tol_change:
                break

            ls_func_evals = 0
            if group["line_search_fn"] is not None:
                x_init = [p.array.copy() for p in self._params]

                def obj_func(x, t, d):
                    return self._directional_evaluate(closure, x, t, d)

                loss, flat_grad, t, ls_func_evals = strong_wolfe(
                    obj_func, x_init, t, d, loss, flat_grad, gtd, max_ls=max_eval - current_evals
                )
                self._add_grad(t, d)
                opt_cond = xp.abs(flat_grad).max() <= tol_grad
            else:
                self._add_grad(t, d)
                opt_cond = False
                if n_iter != max_iter:
                    loss = float(self._eval_closure(closure))
                    flat_grad = self._gather_flat_grad()
                    opt_cond = xp.abs(flat_grad).max() <= tol_grad
                    ls_func_evals = 1
            current_evals += ls_func_evals
            state["func_evals"] += ls_func_evals

            if n_iter == max_iter or current_evals >= max_eval or opt_cond:
                break
            if xp.abs(d * t).max() <= tol_change:
                break
            if abs(loss - prev_loss) < tol_change:
                break

        s.update(
            d=d, t=t, old_dirs=old_dirs, old_stps=old_stps, ro=ro, H_diag=H_diag,
            prev_flat_grad=prev_flat_grad,
        )
        _pack(state, s)
        state["prev_loss"] = prev_loss
        return orig_loss


# The state keeps arrays as Tensors, so state_dict() holds Tensors as for every optimizer.
def _unwrap(value):
    return value.array if isinstance(value, Tensor) else value


def _wrap(value):
    if value is None or isinstance(value, (int, float)):
        return value
    return Tensor._wrap(value if hasattr(value, "shape") and value.shape else _as_0d(value))


def _as_0d(value):
    xp = backend.get_array_module(value)
    return xp.asarray(value)


def _unpack(state) -> dict:
    s = {k: _unwrap(state.get(k)) for k in _STATE_ARRAYS + _STATE_SCALARS}
    for k in _STATE_LISTS:
        s[k] = None if state.get(k) is None else [_unwrap(v) for v in state[k]]
    return s


def _pack(state, s) -> None:
    for k in _STATE_ARRAYS + _STATE_SCALARS:
        state[k] = _wrap(s[k])
    for k in _STATE_LISTS:
        if s[k] is not None:
            state[k] = [_wrap(v) for v in s[k]]
