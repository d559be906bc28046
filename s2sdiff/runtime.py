"""Helpers generated code calls: tapes, zeros shaped like a value, adjoints summed back
to an argument's shape, and the shape-dependent adjoints of matrix products.

Each is a plain Python function (so `jit=False` code runs) with a numba overload (so
compiled code inlines it)."""
from __future__ import annotations

import ctypes
import operator

import llvmlite.binding as llvm_binding
import llvmlite.ir as llvm_ir
import numba
import numpy as np
import scipy.special
import scipy.special.cython_special
from numba.core import cgutils, types
from numba.extending import get_cython_function_address, intrinsic, overload, register_jitable

from .errors import MemoryBudgetExceeded, S2SDiffError, UnsupportedError, at_line, source_excerpt


def reshape(x, shape):
    """np.reshape, of any array numba has (a view that is not contiguous is copied first,
    as NumPy does: numba reshapes only contiguous arrays)."""
    return np.reshape(x, shape)


def reshape_like(g, x):
    """g in x's shape: the adjoint of a reshape (g may be a view that is not contiguous,
    which numba does not reshape); its one element for a number x."""
    if not isinstance(x, np.ndarray):
        return np.ravel(g)[0]
    return np.reshape(np.ascontiguousarray(g), x.shape)


def amax_along(x, axis):
    """np.max(x, axis): numba's np.max takes no axis."""
    return np.max(x, axis=axis)


def amin_along(x, axis):
    """np.min(x, axis)."""
    return np.min(x, axis=axis)


# ---- the tape meter --------------------------------------------------------------------
# Bytes reverse-mode code tapes, counted in one buffer of the process: [0] every tape and
# snapshot allocated, [1] those the adjoints running now hold, [2] the budget they are held
# to.  Compiled code reaches it by a symbol registered with LLVM (as SciPy's functions
# below), which code cached on disk links to anew in each process.
TAPE_METER = (ctypes.c_int64 * 3)()
llvm_binding.add_symbol("s2sdiff_tape_meter", ctypes.addressof(TAPE_METER))
TAPED, HELD, BUDGET = range(3)
TAPE_METER[BUDGET] = 2 ** 62           # until an adjoint sets its own


def _meter_slot(builder, slot):
    module = builder.module
    meter = module.globals.get("s2sdiff_tape_meter")
    if meter is None:
        meter = llvm_ir.GlobalVariable(module, llvm_ir.ArrayType(llvm_ir.IntType(64), 3), "s2sdiff_tape_meter")
        meter.linkage = "external"
    index = llvm_ir.IntType(32)
    return builder.gep(meter, [index(0), index(slot)])


@intrinsic
def _meter_read(typingctx, slot):
    def codegen(context, builder, signature, args):
        return builder.load(_meter_slot(builder, signature.args[0].literal_value))
    if isinstance(slot, types.IntegerLiteral):
        return types.int64(slot), codegen


@intrinsic
def _meter_write(typingctx, slot, value):
    def codegen(context, builder, signature, args):
        builder.store(context.cast(builder, args[1], signature.args[1], types.int64),
                      _meter_slot(builder, signature.args[0].literal_value))
        return context.get_dummy_value()
    if isinstance(slot, types.IntegerLiteral) and isinstance(value, types.Integer):
        return types.none(slot, value), codegen


def tapes_held():
    """Bytes the tapes of running adjoints hold (an adjoint's are released as it returns)."""
    return TAPE_METER[HELD]


def start_tapes(budget):
    """An adjoint with tapes starts: it holds them to `budget` bytes (memory=, or the
    default); returns what was held before, for end_tapes."""
    TAPE_METER[BUDGET] = budget
    return TAPE_METER[HELD]


def end_tapes(held):
    """The adjoint's tapes are freed as it returns: the bytes held go back to `held`."""
    TAPE_METER[HELD] = held


def budget_left():
    """Bytes the budget leaves to tapes not yet made."""
    return TAPE_METER[BUDGET] - TAPE_METER[HELD]


def _take(nbytes, held):
    """Counts `nbytes` of tape, refusing first where it would take the tapes held past the
    budget; tapes a recomputed step makes and drops (`held` false) only need to fit."""
    if TAPE_METER[HELD] + nbytes > TAPE_METER[BUDGET]:
        raise MemoryBudgetExceeded(f"{_TAPES_OVER} ({TAPE_METER[HELD] + nbytes} bytes against "
                                   f"{TAPE_METER[BUDGET]})")
    TAPE_METER[TAPED] += nbytes
    if held:
        TAPE_METER[HELD] += nbytes


_TAPES_OVER = ("reverse mode's tapes would take more memory than its budget (memory=..., by default half of this "
               "machine's RAM)")


def new_tape(n, value):
    """An array for `n` recorded values like `value`, a number or an array (at least one
    slot), held until the adjoint returns; arrays are recorded as float64, as compiled
    code does."""
    _take(max(n, 1) * _slot_bytes(value), True)
    return _tape_of(n, value)


def step_tape(n, value):
    """new_tape for a loop inside an iteration the adjoint recomputes: dropped with it."""
    _take(max(n, 1) * _slot_bytes(value), False)
    return _tape_of(n, value)


def _slot_bytes(value):
    """A slot's bytes: tapes hold float64 (a number's tape, 8 bytes a value, counted alike)."""
    return 8 * value.size if isinstance(value, np.ndarray) else 8


def _tape_of(n, value):
    if isinstance(value, np.ndarray):
        return np.empty((max(n, 1),) + value.shape)
    return np.full(max(n, 1), value)


def nbytes_of(x):
    """Bytes one snapshot of x takes: an array's elements, 8 for a number."""
    return x.nbytes if isinstance(x, np.ndarray) else 8


# Each snapshot slot also takes its place on the checkpointed adjoint's stack of segments
# (three int64 per entry, two entries a slot at most) and on its list of free slots.
SLOT_OVERHEAD = 56


def check_budget(state, budget, line, filename):
    """Refuse, naming the loop, a loop whose state (`state` bytes) the memory budget cannot
    hold even once, before anything is allocated."""
    if state + SLOT_OVERHEAD > budget - tapes_held():
        raise MemoryBudgetExceeded(f"the loop's state takes {state} bytes, {_OVER_BUDGET}\n"
                                   f"{source_excerpt(filename, at_line(line))}")


_OVER_BUDGET = ("larger than the memory budget even for the one snapshot checkpointing needs: give the transform a "
                "larger budget (memory=...)")


def snapshot_slots(steps, state, budget):
    """How many snapshots of a loop's state (`state` bytes each, and SLOT_OVERHEAD) the
    memory budget leaves, at least one and at most one a step."""
    return max(1, min(steps, (budget - tapes_held()) // (state + SLOT_OVERHEAD)))


def checkpoint_split(start, stop, free):
    """Binomial checkpointing (Griewank's revolve): reversing steps start..stop-1 from a
    snapshot at `start` with `free` more snapshot slots, the step at which to take the next
    snapshot.  With s = free + 1 snapshots and t forward sweeps over each step, at most
    β(s, t) = C(s + t, t) steps can be reversed, and β(s, t) = β(s - 1, t) + β(s, t - 1):
    the steps before the new snapshot keep s snapshots and one sweep less, those after it
    one snapshot less."""
    length = stop - start
    s = free + 1
    previous, reach, t = 1, s + 1, 1          # β(s, t - 1), β(s, t)
    while reach < length:
        t += 1
        previous, reach = reach, reach * (s + t) // t
    return start + max(1, min(length - 1, previous))


@register_jitable
def add_into(view, value):
    """`array[i, :] += value`, written into the view: numba compiles `a[s] += v` as an add
    into the view and a copy of it back onto itself, whose error path alone (a message
    formatted from the shapes) compiles in about a second."""
    view += value


def grown(tape):
    """The tape with twice the room: a while loop's tape grows as it runs."""
    return _doubled(tape, True)


def step_grown(tape):
    """grown for a step_tape."""
    return _doubled(tape, False)


def _doubled(tape, held):
    if isinstance(tape, list):          # an array_tape: its copies are counted as they are kept
        return tape + tape
    _take(8 * tape.size, held)
    return np.concatenate((tape, tape))


def array_tape(n, value):
    """A tape for arrays like `value` whose shape may change from one iteration to the next:
    a list of `n` slots (at least one), each to hold a kept copy, empty until then."""
    return [np.empty((0,) * np.ndim(value)) if isinstance(value, np.ndarray) else 0.0] * max(n, 1)


def kept(x):
    """A float64 copy of x for an array_tape's slot, held until the adjoint returns."""
    _take(_slot_bytes(x), True)
    return _float_copy(x)


def step_kept(x):
    """kept for a loop inside an iteration the adjoint recomputes: dropped with it."""
    _take(_slot_bytes(x), False)
    return _float_copy(x)


def _float_copy(x):
    return np.array(x, dtype=np.float64) if isinstance(x, np.ndarray) else np.float64(x)


def released(x):
    """A kept copy is dropped (an array_tape's slot is given another): its bytes are no longer held."""
    TAPE_METER[HELD] -= nbytes_of(x)


def folded(tape):
    """The adjoint of grown: each slot of the old tape gets both copies' adjoints."""
    half = len(tape) // 2
    return tape[:half] + tape[half:]


def zero_like(x):
    """The zero tangent or adjoint of x: 0.0 for a number, float zeros for an array, and
    for an array_tape a list of those."""
    if isinstance(x, np.ndarray):
        return np.zeros(x.shape)
    if isinstance(x, list):
        return [zero_like(e) for e in x]
    return 0.0


def adjoint_like(g, x):
    """The adjoint `g` of a broadcast result, summed back to the shape of the argument x
    (and spread over x's shape when g is a number)."""
    if not isinstance(x, np.ndarray):
        return np.sum(g) if isinstance(g, np.ndarray) else g
    if not isinstance(g, np.ndarray):
        return np.full(x.shape, g)
    while g.ndim > x.ndim:
        g = g.sum(axis=0)
    for axis, extent in enumerate(x.shape):
        if extent == 1 and g.shape[axis] != 1:
            g = g.sum(axis=axis, keepdims=True)
    return g if g.shape == x.shape else np.broadcast_to(g, x.shape).copy()


def tangent_like(d, z):
    """The tangent d of an elementwise result z, spread to z's shape where an operand without
    a tangent broadcast z larger (d of `a + X` for a constant X is da in every element)."""
    if not isinstance(z, np.ndarray) or isinstance(d, np.ndarray) and d.shape == z.shape:
        return d
    return np.zeros(z.shape) + d


def scalar_output(value):
    """Refuse, as JAX does, the gradient of a function whose value is an array (the seed 1.0
    would silently give the gradient of the sum of its elements)."""
    if isinstance(value, np.ndarray):
        raise CheckFailed(_NOT_SCALAR)


class CheckFailed(S2SDiffError):
    """A check the generated code makes as it runs (scalar_output, float_elements)."""


_NOT_SCALAR = ("grad needs a scalar-valued function, but the function returned an array: use sd.jacobian "
               "(or sd.vjp with a cotangent)")


def float_elements(array):
    """Refuse an array of integers that is assigned differentiated values: it would truncate them."""
    if isinstance(array, np.ndarray) and array.dtype.kind not in "fc":
        raise S2SDiffError(_NOT_FLOAT)


_NOT_FLOAT = ("an array of integers (or booleans) is assigned differentiated values, which it truncates: make it "
              "an array of floats (np.zeros(n), x * 1.0)")


def expect_ndim(value, ndim, name, line, filename):
    """Refuse an array of another rank than the code was made for (analyze.rank_check)."""
    if np.ndim(value) != ndim:
        raise UnsupportedError(_rank_guessed(ndim, name, line, filename))


class ShapesNotSupported(UnsupportedError):
    """A refusal found as the code runs, already naming the user's line."""


def check_supported(condition, message, line, filename):
    """Refuse, naming the user's line, a call whose lowering holds only for the shapes
    `condition` tests (np.kron of vectors, …): the shapes are known when the code runs."""
    if not condition:
        raise ShapesNotSupported(f"{message}\n{source_excerpt(filename, at_line(line))}")


def broadcast_length(a, b):
    """The length NumPy's broadcasting gives an axis of lengths a and b: the one other than
    1; -1 where they differ and neither is 1 (they do not broadcast; -1 stays -1)."""
    if a == 1:
        return b
    return a if b == 1 or b == a else -1


def check_broadcast(condition, line, filename):
    """NumPy's ValueError, naming the user's line, where the arrays of a fused line do not
    broadcast together (fusion.py finds their shape as the code runs)."""
    if not condition:
        raise ValueError(f"{_NOT_BROADCAST}\n{source_excerpt(filename, at_line(line))}")


_NOT_BROADCAST = "operands could not be broadcast together"


def _rank_guessed(ndim, name, line, filename):
    named = f"'{name}'" if name else "an array"
    if ndim == 0:
        what = (f"{named if name else 'a value'} indexes a differentiated array here and was taken for an integer, but "
                "it is an array: indexing with an array (a mask or integer indices) is not supported on differentiated "
                "arrays yet")
    else:
        what = (f"the code reads elements of {named} here, and s2sdiff took it for a {ndim}-D array as the code does "
                "not show its number of dimensions, but it has another, so those elements are rows: index every "
                "dimension, or take rows with a slice (x[i, :]) so that the code shows it")
    return f"{what}\n{source_excerpt(filename, at_line(line))}"


def chunk_count(count):
    """How many chunks a loop of `count` iterations is cut into for threads: two per
    thread, each of at least 4096 iterations (1: the loop runs on one thread)."""
    return max(1, min(2 * numba.get_num_threads(), count // 4096))


def owned(x):
    """A copy of an array (a gradient handed out must not share another's storage); a number as it is."""
    return x.copy() if isinstance(x, np.ndarray) else x


@register_jitable
def sech2(x):
    """1 / cosh(x)², the derivative of tanh, without overflow: 4 e^(-2|x|) / (1 + e^(-2|x|))²."""
    e = np.exp(-2.0 * np.abs(x))
    return 4.0 * e / ((1.0 + e) * (1.0 + e))


def sinc_derivative(x, n):
    """The n-th derivative of np.sinc(x) = sin(πx)/(πx), elementwise."""
    if isinstance(x, np.ndarray):
        return np.array([_sinc_derivative_at(v, n) for v in x.ravel()]).reshape(x.shape)
    return _sinc_derivative_at(x, n)


@register_jitable
def _sinc_derivative_at(x, n):
    # With u = πx and f(u) = sin(u)/u, the derivative is πⁿ f⁽ⁿ⁾(u).  Near 0 f's Taylor series
    # term by term (it has no cancelling division there); elsewhere Leibniz's rule on
    # sin(u) · u⁻¹, whose terms do not cancel badly once |u| exceeds n + 1.
    u = np.pi * x
    total = 0.0
    if abs(u) < n + 1.0:
        k = (n + 1) // 2                    # the first power u^(2k - n) with 2k >= n
        term_sign = -1.0 if k % 2 else 1.0
        for k in range(k, k + 40):
            coefficient = 1.0               # (2k)! / ((2k - n)! (2k + 1)!)
            for j in range(2 * k - n + 1, 2 * k + 1):
                coefficient *= j
            for j in range(2, 2 * k + 2):
                coefficient /= j
            total += term_sign * coefficient * u ** (2 * k - n)
            term_sign = -term_sign
    else:
        binomial, falling = 1.0, 1.0        # C(n, k), and (n - k)! built from k = n down
        for j in range(2, n + 1):
            falling *= j
        for k in range(n + 1):
            sign = -1.0 if (n - k) % 2 else 1.0
            total += binomial * np.sin(u + k * np.pi / 2) * sign * falling / u ** (n - k + 1)
            binomial = binomial * (n - k) / (k + 1)
            falling = falling / (n - k) if n - k > 0 else falling
    return np.pi ** n * total


def concat(x, y, axis):
    """np.concatenate((x, y), axis)."""
    return np.concatenate((x, y), axis)


def part(x, start, stop, axis):
    """A copy of x[start:stop] along `axis` (a piece of a join, its adjoint's share)."""
    index = [slice(None)] * x.ndim
    index[axis] = slice(start, stop)
    return x[tuple(index)].copy()


def put(x, like, start, axis):
    """Zeros shaped like `like` with x at start along `axis`: the adjoint of a piece."""
    out = np.zeros(like.shape)
    index = [slice(None)] * like.ndim
    index[axis] = slice(start, start + x.shape[axis])
    out[tuple(index)] = x
    return out


def flip_along(x, axis):
    """np.flip(x, axis)."""
    return np.flip(x, axis)


def moveaxis(x, source, destination):
    """np.moveaxis."""
    return np.moveaxis(x, source, destination)


def permute(x, axes, inverse):
    """np.transpose(x, axes); `inverse`, the order back, is for the rule's adjoint."""
    return np.transpose(x, axes)


def atleast_1d(x):
    """np.atleast_1d, of numbers too (numba's takes arrays only)."""
    return np.atleast_1d(x)


def atleast_2d(x):
    return np.atleast_2d(x)


def atleast_3d(x):
    """np.atleast_3d: a vector (n) as (1, n, 1), a matrix (m, n) as (m, n, 1): np.dstack's pieces."""
    return np.atleast_3d(x)


def as_column(x):
    """A vector as a column (n, 1), a matrix as it is: the pieces of np.column_stack."""
    return x.reshape(-1, 1) if np.ndim(x) < 2 else x


def kron_left(g, y):
    """The adjoint of x in np.kron(x, y), given g: each block of g weighted by y and summed."""
    _same_rank(g, y)
    if y.ndim == 1:
        return g.reshape(-1, y.shape[0]) @ y
    p, q = y.shape
    return np.einsum("ipjq,pq->ij", g.reshape(g.shape[0] // p, p, g.shape[1] // q, q), y)


def kron_right(g, x):
    """The adjoint of y in np.kron(x, y), given g: the blocks of g weighted by x's entries."""
    _same_rank(g, x)
    if x.ndim == 1:
        return g.reshape(x.shape[0], -1).T @ x
    m, n = x.shape
    return np.einsum("ipjq,ij->pq", g.reshape(m, g.shape[0] // m, n, g.shape[1] // n), x)


def _same_rank(g, factor):
    if np.ndim(g) != np.ndim(factor) or np.ndim(factor) > 2:
        raise UnsupportedError("np.kron is differentiated for two vectors or two matrices")


def weights_along(w, x, axis):
    """np.average's weights: 1-D weights of x's `axis` shaped to broadcast along it (NumPy
    allows them); weights of x's own shape as they are."""
    if np.ndim(w) == 1 and np.ndim(x) > 1:
        shape = [1] * np.ndim(x)
        shape[axis] = w.shape[0]
        return w.reshape(shape)
    return w


def take_along(x, order):
    """x's elements in `order` along the last axis (np.take_along_axis)."""
    return np.take_along_axis(x, order, -1)


def order_of(x):
    """np.argsort(x) along the last axis (numba's sorts vectors only)."""
    return np.argsort(x, axis=-1)


def put_along(x, order):
    """The inverse of take_along for a permutation `order`: out[..., order] = x."""
    out = np.empty(x.shape)
    np.put_along_axis(out, order, x, -1)
    return out


def diag_adjoint(g, x, k):
    """g in x's shape through np.diag's k-th diagonal: the diagonal of a matrix g for a
    vector x, and for a matrix x (square or not) zeros with g on that diagonal."""
    if x.ndim == 1:
        return np.diag(g, k).copy()         # NumPy's diagonal of a matrix is a view of it
    out = np.zeros(x.shape)
    rows = np.arange(g.shape[0]) + max(-k, 0)
    out[rows, rows + k] = g
    return out


def heaviside(x, h0):
    """np.heaviside (numba has none): 0 below zero, 1 above, h0 at zero, NaN for NaN."""
    return np.heaviside(x, h0)


@register_jitable
def _heaviside_at(x, h0):
    if x != x:
        return x
    return 0.0 if x < 0 else (1.0 if x > 0 else h0)


@register_jitable
def mean_along(a, axis):
    """np.mean(a, axis): numba's np.mean takes no axis (kept-as-written code, conditions)."""
    return np.sum(a, axis=axis) / a.shape[axis]


def expand(g, axis):
    """g with an axis of length 1 at `axis` (np.expand_dims): the adjoint of a sum along
    it, and what keepdims keeps; a number becomes an array of one element."""
    return np.expand_dims(g, axis)


def is_float_array(x):
    """Whether x is an array of floats (what `dtype=x.dtype` allocates in float64)."""
    return isinstance(x, np.ndarray) and x.dtype.kind == "f"


def trace_last(x):
    """The traces of a stack of matrices (along the last two axes)."""
    return np.trace(x, axis1=-2, axis2=-1)


def keep_all(value, like):
    """A whole-array reduction's value with keepdims: an array of like's rank, every axis
    of length 1."""
    return np.full((1,) * np.ndim(like), value)


def _as_matrices(g, x, y):
    """x, y and z = x @ y's adjoint g with a vector operand made a one-row (one-column)
    matrix, as np.matmul reads it, so that every operand is a matrix or a stack of them."""
    x1 = x[None, :] if x.ndim == 1 else x
    y1 = y[:, None] if y.ndim == 1 else y
    g1 = np.asarray(g)
    if x.ndim == 1:
        g1 = g1[..., None, :] if y.ndim > 1 else g1[..., None]
    if y.ndim == 1:
        g1 = g1[..., None]
    return g1, x1, y1


def matmul_adjoint_left(g, x, y):
    """Adjoint of x in z = x @ y, given the adjoint g of z: g yᵀ, an outer product for a
    vector y; for stacks of matrices, summed over the leading axes x was broadcast along."""
    if np.ndim(x) == 0 or np.ndim(y) == 0:      # np.dot with a number: a product
        return g * y if np.ndim(x) else np.sum(g * y)
    if x.ndim <= 2 and y.ndim <= 2:
        if y.ndim == 1:
            return np.outer(g, y) if np.ndim(g) == 1 else g * y
        return g @ y.T if np.ndim(g) == 2 else y @ g
    g1, x1, y1 = _as_matrices(g, x, y)
    return adjoint_like(g1 @ np.swapaxes(y1, -1, -2), x1).reshape(x.shape)


def matmul_adjoint_right(g, x, y):
    """Adjoint of y in z = x @ y, given the adjoint g of z: xᵀ g, an outer product for a
    vector x; for stacks of matrices, summed over the leading axes y was broadcast along."""
    if np.ndim(x) == 0 or np.ndim(y) == 0:
        return g * x if np.ndim(y) else np.sum(g * x)
    if x.ndim <= 2 and y.ndim <= 2:
        if x.ndim == 1:
            return np.outer(x, g) if np.ndim(g) == 1 else g * x
        return x.T @ g
    g1, x1, y1 = _as_matrices(g, x, y)
    return adjoint_like(np.swapaxes(x1, -1, -2) @ g1, y1).reshape(y.shape)


def choose(c, a, b):
    """`a if c else b`, elementwise when any of them is an array (np.where); a number for
    numbers, where np.where would return a 0-d array."""
    if any(isinstance(v, np.ndarray) for v in (c, a, b)):
        return np.where(c, a, b)
    return a if c else b


def empty_adjoint(x):
    """Room for an array's adjoint whose every element a loop will write."""
    return np.empty(x.shape)


def stacked_empty(n, like):
    """Room for n values shaped like `like`, one per row: a list comprehension's array.
    `like` is None where the list has no item to show the shape (NumPy's empty list: (0,))."""
    return np.empty((n,) + np.shape(like))


@overload(reshape)
def _reshape(x, shape):
    if isinstance(x, types.Array) and x.layout == "C":
        return lambda x, shape: x.reshape(shape)
    return lambda x, shape: np.ascontiguousarray(x).reshape(shape)


@overload(reshape_like)
def _reshape_like(g, x):
    if not isinstance(x, types.Array):
        return lambda g, x: np.ascontiguousarray(g).ravel()[0]
    return lambda g, x: np.reshape(np.ascontiguousarray(g), x.shape)


def _extreme_along(x, axis, better):
    """A compiled np.max / np.min along an axis, as loops."""
    if not isinstance(x, types.Array):
        return None                 # numba's own typing error: no np.max along an axis of a number
    if x.ndim > 2:
        def stack(x, axis):             # the axis moved first: the extremes of its slices, element by element
            moved = np.ascontiguousarray(np.moveaxis(x, axis, 0))
            out = moved[0].copy()
            flat = out.reshape(-1)
            for k in range(1, moved.shape[0]):
                piece = moved[k].reshape(-1)
                for j in range(flat.size):
                    if better(piece[j], flat[j]):
                        flat[j] = piece[j]
            return out
        return stack
    if x.ndim == 1:
        def vector(x, axis):
            best = x[0]
            for v in x[1:]:
                if better(v, best):
                    best = v
            return best
        return vector

    def matrix(x, axis):
        rows = axis == 1 or axis == -1
        out = x[:, 0].copy() if rows else x[0, :].copy()
        for i in range(x.shape[0]):
            for j in range(x.shape[1]):
                k = i if rows else j
                if better(x[i, j], out[k]):
                    out[k] = x[i, j]
        return out
    return matrix


@register_jitable
def _larger(a, b):
    return a > b or a != a          # NaN wins, as in NumPy


@register_jitable
def _smaller(a, b):
    return a < b or a != a


@overload(amax_along)
def _amax_along(x, axis):
    return _extreme_along(x, axis, _larger)


@overload(amin_along)
def _amin_along(x, axis):
    return _extreme_along(x, axis, _smaller)


@register_jitable
def _taken(nbytes, held):
    if _meter_read(HELD) + nbytes > _meter_read(BUDGET):
        raise MemoryBudgetExceeded(_TAPES_OVER)
    _meter_write(TAPED, _meter_read(TAPED) + nbytes)
    if held:
        _meter_write(HELD, _meter_read(HELD) + nbytes)


def _tape_overload(held):
    def tape(n, value):
        if isinstance(value, types.Array):
            def make(n, value):
                slots = n if n > 1 else 1               # (max() of numbers compiles slowly)
                _taken(slots * value.size * 8, held)
                return np.empty((slots,) + value.shape)
            return make

        def make_numbers(n, value):
            slots = n if n > 1 else 1
            _taken(slots * 8, held)
            return np.full(slots, value)
        return make_numbers
    return tape


overload(new_tape)(_tape_overload(True))
overload(step_tape)(_tape_overload(False))


@overload(tapes_held)
def _tapes_held():
    return lambda: _meter_read(HELD)


@overload(start_tapes)
def _start_tapes(budget):
    def start(budget):
        _meter_write(BUDGET, budget)
        return _meter_read(HELD)
    return start


@overload(end_tapes)
def _end_tapes(held):
    return lambda held: _meter_write(HELD, held)


@overload(budget_left)
def _budget_left():
    return lambda: _meter_read(BUDGET) - _meter_read(HELD)


@overload(nbytes_of)
def _nbytes_of(x):
    if isinstance(x, types.Array):
        return lambda x: x.size * x.itemsize
    return lambda x: 8


@overload(check_budget)
def _check_budget(state, budget, line, filename):
    if not all(isinstance(t, types.Literal) for t in (line, filename)):
        return None             # numba asks again with the constants' values
    text = f"the loop's state is {_OVER_BUDGET}\n{source_excerpt(filename.literal_value, at_line(line.literal_value))}"

    def check(state, budget, line, filename):
        if state + SLOT_OVERHEAD > budget - tapes_held():
            raise MemoryBudgetExceeded(text)
    return check


@overload(snapshot_slots)
def _snapshot_slots(steps, state, budget):
    return snapshot_slots


def _grown_overload(held):
    def grown_tape(tape):
        if isinstance(tape, types.List):
            return lambda tape: tape + tape

        def grow(tape):
            _taken(tape.size * 8, held)
            return np.concatenate((tape, tape))
        return grow
    return grown_tape


overload(grown)(_grown_overload(True))
overload(step_grown)(_grown_overload(False))


@overload(array_tape)
def _array_tape(n, value):
    empty = (0,) * value.ndim if isinstance(value, types.Array) else None

    def slots(n, value):
        return [np.empty(empty)] * (n if n > 1 else 1)

    def numbers(n, value):
        return [0.0] * (n if n > 1 else 1)
    return numbers if empty is None else slots


def _kept_overload(held):
    def keep(x):
        if isinstance(x, types.Array):
            def copy(x):
                _taken(x.size * 8, held)
                return x.astype(np.float64)
            return copy

        def number(x):
            _taken(8, held)
            return float(x)
        return number
    return keep


overload(kept)(_kept_overload(True))
overload(step_kept)(_kept_overload(False))


@overload(released)
def _released(x):
    return lambda x: _meter_write(HELD, _meter_read(HELD) - nbytes_of(x))


# Helpers whose Python body numba compiles as it is.
@overload(folded)
def _folded(tape):
    return folded


@overload(checkpoint_split)
def _checkpoint_split(start, stop, free):
    return checkpoint_split


@overload(chunk_count)
def _chunk_count(count):
    return chunk_count


@overload(owned)
def _owned(x):
    return (lambda x: x.copy()) if isinstance(x, types.Array) else (lambda x: x)


@overload(zero_like)
def _zero_like(x):
    if isinstance(x, types.Array):
        return lambda x: np.zeros(x.shape)
    if isinstance(x, types.List):
        return lambda x: [zero_like(e) for e in x]
    return lambda x: 0.0


@overload(tangent_like)
def _tangent_like(d, z):
    if not isinstance(z, types.Array):
        return lambda d, z: d
    if isinstance(d, types.Array) and d.ndim == z.ndim:
        def spread_if_smaller(d, z):
            if d.shape == z.shape:
                return np.ascontiguousarray(d)
            return np.zeros(z.shape) + d
        return spread_if_smaller
    return lambda d, z: np.zeros(z.shape) + d


@overload(float_elements)
def _float_elements(array):
    if isinstance(array, types.Array) and not isinstance(array.dtype, (types.Float, types.Complex)):
        def refuse(array):
            raise CheckFailed(_NOT_FLOAT)
        return refuse
    return lambda array: None


@overload(expect_ndim, prefer_literal=True)
def _expect_ndim(value, ndim, name, line, filename):
    if not all(isinstance(t, types.Literal) for t in (ndim, name, line, filename)):
        return None             # numba asks again with the constants' values
    rank = value.ndim if isinstance(value, types.Array) else 0
    if rank != ndim.literal_value:
        message = _rank_guessed(ndim.literal_value, name.literal_value, line.literal_value, filename.literal_value)

        def refuse(value, ndim, name, line, filename):
            raise UnsupportedError(message)
        return refuse
    return lambda value, ndim, name, line, filename: None


@overload(check_supported)
def _check_supported(condition, message, line, filename):
    if not all(isinstance(t, types.Literal) for t in (message, line, filename)):
        return None             # numba asks again with the constants' values
    text = f"{message.literal_value}\n{source_excerpt(filename.literal_value, at_line(line.literal_value))}"

    def check(condition, message, line, filename):
        if not condition:
            raise ShapesNotSupported(text)
    return check


@overload(broadcast_length)
def _broadcast_length(a, b):
    return broadcast_length


@overload(check_broadcast)
def _check_broadcast(condition, line, filename):
    if not all(isinstance(t, types.Literal) for t in (line, filename)):
        return None             # numba asks again with the constants' values
    text = f"{_NOT_BROADCAST}\n{source_excerpt(filename.literal_value, at_line(line.literal_value))}"

    def check(condition, line, filename):
        if not condition:
            raise ValueError(text)
    return check


@overload(scalar_output)
def _scalar_output(value):
    if isinstance(value, types.Array):
        def refuse(value):
            raise CheckFailed(_NOT_SCALAR)
        return refuse
    return lambda value: None


@numba.njit
def broadcast_sum(g, x):
    """adjoint_like for any numbers of dimensions: each element of the broadcast shape
    adds g's element to x's (g's extra leading axes and x's axes of length 1 summed, g's
    axes of length 1 spread)."""
    lead = g.ndim - x.ndim
    ndim = max(g.ndim, x.ndim)
    extents, g_strides, x_strides = np.ones(ndim, np.int64), np.zeros(ndim, np.int64), np.zeros(ndim, np.int64)
    g_stride = x_stride = 1
    for axis in range(ndim - 1, -1, -1):
        gi, xi = axis - max(0, -lead), axis - max(0, lead)
        g_extent = g.shape[gi] if gi >= 0 else 1
        x_extent = x.shape[xi] if xi >= 0 else 1
        extents[axis] = max(g_extent, x_extent)
        g_strides[axis] = g_stride if g_extent != 1 else 0
        x_strides[axis] = x_stride if x_extent != 1 else 0
        g_stride *= g_extent
        x_stride *= x_extent
    g_flat = np.ascontiguousarray(g).reshape(-1)
    out = np.zeros(x.size)
    for n in range(np.prod(extents)):
        rest, at_g, at_x = n, 0, 0
        for axis in range(ndim - 1, -1, -1):
            i = rest % extents[axis]
            rest //= extents[axis]
            at_g += i * g_strides[axis]
            at_x += i * x_strides[axis]
        out[at_x] += g_flat[at_g]
    return out.reshape(x.shape)


@numba.njit
def column_sums(g):
    """np.sum(g, axis=0) of a matrix, row by row in memory order: numba's axis sum takes
    several times as long (a bias's adjoint in a batched layer)."""
    sums = np.zeros(g.shape[1])
    if g.strides[0] >= g.strides[1]:
        for i in range(g.shape[0]):
            for j in range(g.shape[1]):
                sums[j] += g[i, j]
    else:                                       # a transpose's layout: down the columns
        for j in range(g.shape[1]):
            for i in range(g.shape[0]):
                sums[j] += g[i, j]
    return sums


@overload(adjoint_like)
def _adjoint_like(g, x):
    if not isinstance(x, types.Array):
        return (lambda g, x: np.sum(g)) if isinstance(g, types.Array) else (lambda g, x: g)
    if not isinstance(g, types.Array):
        return lambda g, x: np.full(x.shape, g)
    # Plain loops below, and no max()/min() of numbers: numba's NumPy allocations, axis sums
    # and slice copies, and its builtins on tuples, each compile in a tenth of a second or more.
    if g.ndim == x.ndim == 1:
        def vector(g, x):
            if g.shape[0] == x.shape[0] or g.shape[0] != 1 and x.shape[0] != 1:
                return g                                # (a mismatch fails in NumPy's own check)
            out = np.zeros(x.shape[0])
            for i in range(g.shape[0] if g.shape[0] > out.shape[0] else out.shape[0]):
                out[0 if out.shape[0] == 1 else i] += g[0 if g.shape[0] == 1 else i]
            return out
        return vector
    if g.ndim == 2 and x.ndim == 1:
        return lambda g, x: adjoint_like(column_sums(g), x)      # then as two vectors
    if g.ndim == x.ndim == 2:
        def matrix(g, x):
            if g.shape == x.shape:
                return g
            # over the broadcast shape: x's axes of length 1 summed, g's spread
            out = np.zeros(x.shape)
            for i in range(g.shape[0] if x.shape[0] == 1 else x.shape[0]):
                gi, xi = 0 if g.shape[0] == 1 else i, 0 if x.shape[0] == 1 else i
                for j in range(g.shape[1] if x.shape[1] == 1 else x.shape[1]):
                    out[xi, 0 if x.shape[1] == 1 else j] += g[gi, 0 if g.shape[1] == 1 else j]
            return out
        return matrix
    if g.ndim == x.ndim:
        return lambda g, x: g if g.shape == x.shape else broadcast_sum(g, x)
    return lambda g, x: broadcast_sum(g, x)


def outer(a, b):
    """np.outer of two vectors; compiled, the loop it is (numba's np.outer compiles in about a second)."""
    return np.outer(a, b)


@overload(outer)
def _outer(a, b):
    def loops(a, b):
        out = np.empty((a.shape[0], b.shape[0]))
        for i in range(a.shape[0]):
            for j in range(b.shape[0]):
                out[i, j] = a[i] * b[j]
        return out
    return loops


@register_jitable
def _stacks_product(a, b):
    """a @ b of stacks of matrices (both of 2 or more dimensions), the leading axes broadcast."""
    batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
    m, k, n = a.shape[-2], a.shape[-1], b.shape[-1]
    left = np.ascontiguousarray(np.broadcast_to(a, batch + (m, k))).reshape((-1, m, k))
    right = np.ascontiguousarray(np.broadcast_to(b, batch + (k, n))).reshape((-1, k, n))
    out = np.empty((left.shape[0], m, n))
    for i in range(left.shape[0]):
        out[i] = left[i] @ right[i]
    return out.reshape(batch + (m, n))


@register_jitable
def _row_axis(v):
    return np.ascontiguousarray(v).reshape(v.shape[:-1] + (1, v.shape[-1]))


@register_jitable
def _column_axis(v):
    return np.ascontiguousarray(v).reshape(v.shape + (1,))


@register_jitable
def _without_last(v):
    return np.ascontiguousarray(v).reshape(v.shape[:-1])


@register_jitable
def _without_second_last(v):
    return np.ascontiguousarray(v).reshape(v.shape[:-2] + (v.shape[-1],))


@overload(operator.matmul)
def _matmul_of_stacks(a, b):
    """`@` of stacks of matrices, compiled as NumPy computes it (numba's takes vectors and
    matrices): a vector operand is a one-row (one-column) matrix whose axis is dropped."""
    if not (isinstance(a, types.Array) and isinstance(b, types.Array)) or max(a.ndim, b.ndim) <= 2:
        return None
    if a.ndim == 1:
        return lambda a, b: _without_second_last(_stacks_product(_row_axis(a), b))
    if b.ndim == 1:
        return lambda a, b: _without_last(_stacks_product(a, _column_axis(b)))
    return lambda a, b: _stacks_product(a, b)


@register_jitable
def _matrices_of(a):
    return np.ascontiguousarray(a).reshape((-1, a.shape[-2], a.shape[-1]))


@overload(trace_last)
def _trace_last(x):
    def traces(x):
        matrices = _matrices_of(x)
        out = np.zeros(matrices.shape[0])
        for i in range(matrices.shape[0]):
            for j in range(min(matrices.shape[1], matrices.shape[2])):
                out[i] += matrices[i, j, j]
        return out.reshape(x.shape[:-2])
    return traces


# numba's np.linalg.inv, det and solve take one matrix; stacks of them, as NumPy does, one by one
@overload(np.linalg.inv)
def _inv_of_stack(a):
    if isinstance(a, types.Array) and a.ndim > 2:
        def inverses(a):
            matrices = _matrices_of(a)
            out = np.empty(matrices.shape)
            for i in range(matrices.shape[0]):
                out[i] = np.linalg.inv(matrices[i])
            return out.reshape(a.shape)
        return inverses
    return None


@overload(np.linalg.det)
def _det_of_stack(a):
    if isinstance(a, types.Array) and a.ndim > 2:
        def determinants(a):
            matrices = _matrices_of(a)
            out = np.empty(matrices.shape[0])
            for i in range(matrices.shape[0]):
                out[i] = np.linalg.det(matrices[i])
            return out.reshape(a.shape[:-2])
        return determinants
    return None


@overload(np.linalg.solve)
def _solve_of_stack(a, b):
    if isinstance(a, types.Array) and isinstance(b, types.Array) and max(a.ndim, b.ndim) > 2 and b.ndim > 1:
        def solutions(a, b):
            batch = np.broadcast_shapes(a.shape[:-2], b.shape[:-2])
            n, k = a.shape[-1], b.shape[-1]
            left = np.ascontiguousarray(np.broadcast_to(a, batch + (n, n))).reshape((-1, n, n))
            right = np.ascontiguousarray(np.broadcast_to(b, batch + (b.shape[-2], k))).reshape((-1, b.shape[-2], k))
            out = np.empty(right.shape)
            for i in range(left.shape[0]):
                out[i] = np.linalg.solve(left[i], right[i])
            return out.reshape(batch + (b.shape[-2], k))
        return solutions
    return None


@overload(matmul_adjoint_left)
def _matmul_adjoint_left(g, x, y):
    g_dims, x_dims, y_dims = (t.ndim if isinstance(t, types.Array) else 0 for t in (g, x, y))
    if x_dims == 0 or y_dims == 0:
        return (lambda g, x, y: g * y) if x_dims else (lambda g, x, y: np.sum(g * y))
    if x_dims > 2 or y_dims > 2:        # g yᵀ over the stacks, summed back to x's shape
        if y_dims == 1:
            return lambda g, x, y: adjoint_like(_column_axis(g) * y, x)
        if x_dims == 1:
            return lambda g, x, y: adjoint_like(_stacks_product(_row_axis(g), np.swapaxes(y, -1, -2)), x)
        return lambda g, x, y: adjoint_like(_stacks_product(g, np.swapaxes(y, -1, -2)), x)
    if y_dims == 1:
        return (lambda g, x, y: outer(g, y)) if g_dims == 1 else (lambda g, x, y: g * y)
    return (lambda g, x, y: g @ y.T) if g_dims == 2 else (lambda g, x, y: y @ g)


@overload(matmul_adjoint_right)
def _matmul_adjoint_right(g, x, y):
    g_dims, x_dims, y_dims = (t.ndim if isinstance(t, types.Array) else 0 for t in (g, x, y))
    if x_dims == 0 or y_dims == 0:
        return (lambda g, x, y: g * x) if y_dims else (lambda g, x, y: np.sum(g * x))
    if x_dims > 2 or y_dims > 2:        # xᵀ g over the stacks, summed back to y's shape
        if x_dims == 1:
            return lambda g, x, y: adjoint_like(_column_axis(x) * _row_axis(g), y)
        if y_dims == 1:
            return lambda g, x, y: adjoint_like(_without_last(_stacks_product(np.swapaxes(x, -1, -2),
                                                                              _column_axis(g))), y)
        return lambda g, x, y: adjoint_like(_stacks_product(np.swapaxes(x, -1, -2), g), y)
    if x_dims == 1:
        return (lambda g, x, y: outer(x, g)) if g_dims == 1 else (lambda g, x, y: g * x)
    return lambda g, x, y: x.T @ g


@overload(is_float_array)
def _is_float_array(x):
    floats = isinstance(x, types.Array) and isinstance(x.dtype, types.Float)
    return lambda x: floats


@overload(keep_all)
def _keep_all(value, like):
    ones = (1,) * (like.ndim if isinstance(like, types.Array) else 0)
    return lambda value, like: np.full(ones, value)


@overload(expand)
def _expand(g, axis):
    if isinstance(g, types.Array):
        return lambda g, axis: np.expand_dims(g, axis)
    return lambda g, axis: np.full(1, g)


@overload(choose)
def _choose(c, a, b):
    if any(isinstance(v, types.Array) for v in (c, a, b)):
        return lambda c, a, b: np.where(c, a, b)
    return lambda c, a, b: a if c else b


def _elementwise(scalar):
    """The overload of a helper of (x, parameter) that applies `scalar` to each element of x."""
    def implementation(x, parameter):
        if isinstance(x, types.Array):
            def each(x, parameter):
                flat = np.ascontiguousarray(x).ravel()
                out = np.empty(flat.shape)
                for k in range(flat.size):
                    out[k] = scalar(flat[k], parameter)
                return out.reshape(x.shape)
            return each
        return lambda x, parameter: scalar(x, parameter)
    return implementation


@overload(concat)
def _concat(x, y, axis):
    return concat


def _sliced_along(ndim, write):
    """A compiled x[start:stop] along a runtime axis (read) or out[start:stop] = x along it
    (write), for arrays of 1 to 3 dimensions: a slice's place is fixed when it compiles."""
    def piece(a, axis, start, stop):
        if ndim == 1:
            return a[start:stop]
        if ndim == 2:
            return a[start:stop] if axis == 0 else a[:, start:stop]
        if axis == 0:
            return a[start:stop]
        return a[:, start:stop] if axis == 1 else a[:, :, start:stop]
    piece = register_jitable(piece)
    if write:
        def put_at(x, like, start, axis):
            out = np.zeros(like.shape)
            a = axis + ndim if axis < 0 else axis
            piece(out, a, start, start + x.shape[a])[...] = x
            return out
        return put_at

    def part_at(x, start, stop, axis):
        a = axis + ndim if axis < 0 else axis
        return piece(x, a, start, stop).copy()
    return part_at


_TOO_MANY_DIMENSIONS = "this runs on arrays of 4 or more dimensions only without numba so far (jit=False)"


@overload(part)
def _part(x, start, stop, axis):
    if x.ndim > 3:
        def refuse(x, start, stop, axis):
            raise UnsupportedError(_TOO_MANY_DIMENSIONS)
        return refuse
    return _sliced_along(x.ndim, False)


@overload(put)
def _put(x, like, start, axis):
    if like.ndim > 3:
        def refuse(x, like, start, axis):
            raise UnsupportedError(_TOO_MANY_DIMENSIONS)
        return refuse
    return _sliced_along(like.ndim, True)


@register_jitable
def _kron_left_vectors(g, y):
    out = np.zeros(g.shape[0] // y.shape[0])
    for r in range(g.shape[0]):                 # out[i] = Σ g[i p + k] y[k]
        out[r // y.shape[0]] += g[r] * y[r % y.shape[0]]
    return out


@register_jitable
def _kron_left_matrices(g, y):
    p, q = y.shape
    out = np.zeros((g.shape[0] // p, g.shape[1] // q))
    for r in range(g.shape[0]):                 # out[i, j] = Σ g[i p + k, j q + l] y[k, l]
        for c in range(g.shape[1]):
            out[r // p, c // q] += g[r, c] * y[r % p, c % q]
    return out


@register_jitable
def _kron_right_vectors(g, x):
    p = g.shape[0] // x.shape[0]
    out = np.zeros(p)
    for r in range(g.shape[0]):                 # out[k] = Σ g[i p + k] x[i]
        out[r % p] += g[r] * x[r // p]
    return out


@register_jitable
def _kron_right_matrices(g, x):
    m, n = x.shape
    p, q = g.shape[0] // m, g.shape[1] // n
    out = np.zeros((p, q))
    for r in range(g.shape[0]):                 # out[k, l] = Σ g[i p + k, j q + l] x[i, j]
        for c in range(g.shape[1]):
            out[r % p, c % q] += g[r, c] * x[r // p, c // q]
    return out


def _kron_factors_fit(g, factor) -> bool:
    return isinstance(factor, types.Array) and isinstance(g, types.Array) and g.ndim == factor.ndim <= 2


@overload(kron_left)
def _kron_left(g, y):
    if not _kron_factors_fit(g, y):
        def refuse(g, y):
            raise UnsupportedError("np.kron is differentiated for two vectors or two matrices")
        return refuse
    return (lambda g, y: _kron_left_vectors(g, y)) if y.ndim == 1 else (lambda g, y: _kron_left_matrices(g, y))


@overload(kron_right)
def _kron_right(g, x):
    if not _kron_factors_fit(g, x):
        def refuse(g, x):
            raise UnsupportedError("np.kron is differentiated for two vectors or two matrices")
        return refuse
    return (lambda g, x: _kron_right_vectors(g, x)) if x.ndim == 1 else (lambda g, x: _kron_right_matrices(g, x))


@overload(weights_along)
def _weights_along(w, x, axis):
    if isinstance(w, types.Array) and w.ndim == 1 and isinstance(x, types.Array) and x.ndim == 2:
        return lambda w, x, axis: w.reshape((w.shape[0], 1)) if axis == 0 or axis == -2 else w.reshape((1, w.shape[0]))
    if isinstance(w, types.Array) and w.ndim == 1 and isinstance(x, types.Array) and x.ndim > 2:
        def refuse(w, x, axis):
            raise UnsupportedError(_TOO_MANY_DIMENSIONS)
        return refuse
    return lambda w, x, axis: w


def _along_last(write):
    """Compiled take_along (write False) and put_along (write True) for 1-D and 2-D arrays."""
    def permute(x, order):
        out = np.empty(x.shape)
        last = x.shape[-1]
        flat_x = np.ascontiguousarray(x).reshape(-1, last)
        flat_order, flat_out = np.ascontiguousarray(order).reshape(-1, last), out.reshape(-1, last)
        for r in range(flat_x.shape[0]):
            for j in range(flat_x.shape[1]):
                if write:
                    flat_out[r, flat_order[r, j]] = flat_x[r, j]
                else:
                    flat_out[r, j] = flat_x[r, flat_order[r, j]]
        return out
    return permute


@overload(order_of)
def _order_of(x):
    if x.ndim == 1:
        return lambda x: np.argsort(x)

    def rows(x):
        flat = np.ascontiguousarray(x).reshape(-1, x.shape[-1])
        out = np.empty(flat.shape, np.intp)
        for r in range(flat.shape[0]):
            out[r] = np.argsort(flat[r])
        return out.reshape(x.shape)
    return rows


@overload(take_along)
def _take_along(x, order):
    return _along_last(False)


@overload(put_along)
def _put_along(x, order):
    return _along_last(True)


@overload(diag_adjoint)
def _diag_adjoint(g, x, k):
    if x.ndim == 1:
        return lambda g, x, k: np.diag(g, k)

    def embed(g, x, k):
        out = np.zeros(x.shape)
        first = -k if k < 0 else 0
        for i in range(g.shape[0]):
            out[first + i, first + i + k] = g[i]
        return out
    return embed


@overload(flip_along)
def _flip_along(x, axis):
    ndim = x.ndim
    if ndim > 3:
        def refuse(x, axis):
            raise UnsupportedError(_TOO_MANY_DIMENSIONS)
        return refuse

    def flipped(x, axis):
        a = axis + ndim if axis < 0 else axis
        if ndim == 1:
            return x[::-1]
        if ndim == 2:
            return x[::-1] if a == 0 else x[:, ::-1]
        if a == 0:
            return x[::-1]
        return x[:, ::-1] if a == 1 else x[:, :, ::-1]
    return flipped


@overload(moveaxis)
def _moveaxis(x, source, destination):
    return lambda x, source, destination: np.moveaxis(x, source, destination)


@overload(permute)
def _permute(x, axes, inverse):
    return lambda x, axes, inverse: np.transpose(x, axes)


@overload(atleast_1d)
def _atleast_1d(x):
    return (lambda x: x) if isinstance(x, types.Array) and x.ndim >= 1 else (lambda x: np.full(1, x))


@overload(atleast_2d)
def _atleast_2d(x):
    if isinstance(x, types.Array) and x.ndim >= 2:
        return lambda x: x
    if isinstance(x, types.Array):
        return lambda x: x.reshape(1, -1) if x.ndim == 1 else np.full((1, 1), x[()])
    return lambda x: np.full((1, 1), x)


@overload(atleast_3d)
def _atleast_3d(x):
    if isinstance(x, types.Array) and x.ndim >= 3:
        return lambda x: x
    if isinstance(x, types.Array) and x.ndim == 2:
        return lambda x: np.ascontiguousarray(x).reshape(x.shape[0], x.shape[1], 1)
    if isinstance(x, types.Array) and x.ndim == 1:
        return lambda x: np.ascontiguousarray(x).reshape(1, x.shape[0], 1)
    return lambda x: np.full((1, 1, 1), x)


@overload(as_column)
def _as_column(x):
    if isinstance(x, types.Array) and x.ndim >= 2:
        return lambda x: x
    return lambda x: np.ascontiguousarray(x).reshape(-1, 1)


overload(sinc_derivative)(_elementwise(_sinc_derivative_at))
overload(heaviside)(_elementwise(_heaviside_at))


@overload(empty_adjoint)
def _empty_adjoint(x):
    return empty_adjoint


@overload(stacked_empty)
def _stacked_empty(n, like):
    if isinstance(like, types.Array):
        return lambda n, like: np.empty((n,) + like.shape)
    if isinstance(like, types.Optional) and isinstance(like.type, types.Array):
        # no item (None): rows of a compiled array need a rank, so no rows of zero extents
        nothing = (0,) * like.type.ndim

        def stack(n, like):
            if like is None:
                return np.empty((n,) + nothing)
            return np.empty((n,) + like.shape)
        return stack
    return lambda n, like: np.empty(n)


# ---- Jacobians: one column (forward) or row (reverse) per sweep ------------------------

def shape_of(v):
    """v.shape, or () for a number."""
    return v.shape if isinstance(v, np.ndarray) else ()


def size_of(v):
    return v.size if isinstance(v, np.ndarray) else 1


def seed_view(seed, like):
    """The tangent seed for a parameter: `seed` viewed in its shape, or its one number."""
    return seed.reshape(like.shape) if isinstance(like, np.ndarray) else seed[0]


def shaped_partial(J, out, like):
    """The (outputs × inputs) matrix J shaped out.shape + like.shape; a number for numbers."""
    if not isinstance(out, np.ndarray) and not isinstance(like, np.ndarray):
        return J[0, 0]
    return J.reshape(shape_of(out) + shape_of(like))


def store_column(J, k, v):
    """Column k of the (outputs × inputs) matrix J: a tangent, flattened."""
    if isinstance(v, np.ndarray):
        J[:, k] = v.ravel()
    else:
        J[0, k] = v


def store_row(J, k, v):
    """Row k of J: an adjoint, flattened."""
    if isinstance(v, np.ndarray):
        J[k, :] = v.ravel()
    else:
        J[k, 0] = v


@overload(shape_of)
def _shape_of(v):
    return (lambda v: v.shape) if isinstance(v, types.Array) else (lambda v: ())


@overload(size_of)
def _size_of(v):
    return (lambda v: v.size) if isinstance(v, types.Array) else (lambda v: 1)


@overload(seed_view)
def _seed_view(seed, like):
    return (lambda seed, like: seed.reshape(like.shape)) if isinstance(like, types.Array) else \
        (lambda seed, like: seed[0])


@overload(shaped_partial)
def _shaped_partial(J, out, like):
    out_rank, like_rank = (v.ndim if isinstance(v, types.Array) else 0 for v in (out, like))
    if out_rank == like_rank == 0:
        return lambda J, out, like: J[0, 0]
    # J is (out.size × like.size): already the shape where both are at most vectors (the tuple
    # arithmetic of the general reshape takes numba a third of a second to compile)
    if out_rank == like_rank == 1:
        return lambda J, out, like: J
    if out_rank == 0 and like_rank == 1:
        return lambda J, out, like: J[0]
    return lambda J, out, like: J.reshape(shape_of(out) + shape_of(like))


@overload(store_column)
def _store_column(J, k, v):
    if isinstance(v, types.Array):
        def store(J, k, v):
            J[:, k] = v.ravel()
        return store

    def store_number(J, k, v):
        J[0, k] = v
    return store_number


@overload(store_row)
def _store_row(J, k, v):
    if isinstance(v, types.Array):
        def store(J, k, v):
            J[k, :] = v.ravel()
        return store

    def store_number(J, k, v):
        J[k, 0] = v
    return store_number


# ---- batched forward mode: K directions in a trailing axis (transform/batched.py) -------

def in_direction(d, k):
    """Direction k of a batched tangent d (its last axis).  Of a number's tangent, a number:
    NumPy's d[..., k] of a vector is a 0-d view that a later write into d would change."""
    v = d[..., k]
    return v[()] if v.ndim == 0 else v


def batched_zeros(v, count):
    """The zero tangent of v in `count` directions: v's shape + (count,)."""
    return np.zeros(shape_of(v) + (count,))


def seed_block(x, start, stop):
    """Unit seeds for the elements start … stop - 1 of x (flat order): x's shape + (stop - start,)."""
    seeds = np.zeros((size_of(x), stop - start))
    for j in range(stop - start):
        seeds[start + j, j] = 1.0
    return seeds.reshape(shape_of(x) + (stop - start,))


def store_columns(J, start, d):
    """Columns start … of the (outputs × inputs) matrix J: a batched tangent, flattened."""
    count = d.shape[-1]
    J[:, start:start + count] = np.ascontiguousarray(d).reshape((J.shape[0], count))   # (no -1: count may be 0)


@overload(in_direction)
def _in_direction(d, k):
    return lambda d, k: d[..., k]


@overload(batched_zeros)
def _batched_zeros(v, count):
    if isinstance(v, types.Array):
        return lambda v, count: np.zeros(v.shape + (count,))
    return lambda v, count: np.zeros(count)


# seed_block and store_columns of a vector or a matrix as plain loops: the reshapes and
# tuple arithmetic of the general forms take numba several times as long to compile.
@overload(seed_block)
def _seed_block(x, start, stop):
    if isinstance(x, types.Array) and x.ndim == 1:
        def vector(x, start, stop):
            seeds = np.zeros((x.shape[0], stop - start))
            for j in range(stop - start):
                seeds[start + j, j] = 1.0
            return seeds
        return vector
    if isinstance(x, types.Array) and x.ndim == 2:
        def matrix(x, start, stop):
            columns = x.shape[1]
            seeds = np.zeros((x.shape[0], columns, stop - start))
            for j in range(stop - start):
                seeds[(start + j) // columns, (start + j) % columns, j] = 1.0
            return seeds
        return matrix
    return seed_block


@overload(store_columns)
def _store_columns(J, start, d):
    if d.ndim == 1:                 # a number's tangents: one row of J
        def row(J, start, d):
            for j in range(d.shape[0]):
                J[0, start + j] = d[j]
        return row
    if d.ndim == 2:
        def rows(J, start, d):
            for i in range(d.shape[0]):
                for j in range(d.shape[1]):
                    J[i, start + j] = d[i, j]
        return rows
    if d.ndim == 3:
        def blocks(J, start, d):
            for i in range(d.shape[0]):
                for k in range(d.shape[1]):
                    for j in range(d.shape[2]):
                        J[i * d.shape[1] + k, start + j] = d[i, k, j]
        return blocks
    return store_columns


HELPERS = {f.__name__: f for f in (new_tape, step_tape, step_grown, array_tape, kept, step_kept, released,
                                    start_tapes, end_tapes, budget_left,
                                    nbytes_of, check_budget, snapshot_slots, checkpoint_split, reshape,
                                    reshape_like, amax_along, amin_along, add_into, grown, folded, zero_like, owned,
                                    chunk_count, adjoint_like, tangent_like,
                                    sech2, sinc_derivative, heaviside, concat, part, put, atleast_1d, atleast_2d,
                                    as_column, weights_along, take_along, put_along, diag_adjoint, keep_all, trace_last,
                                    order_of, permute, atleast_3d, flip_along, moveaxis, kron_left, kron_right,
                                    scalar_output, float_elements, expect_ndim, check_supported,
                                    expand, choose, empty_adjoint, stacked_empty,
                                    matmul_adjoint_left, matmul_adjoint_right, outer, shape_of, size_of, store_column,
                                    store_row, seed_view, shaped_partial, in_direction,
                                    batched_zeros, seed_block, store_columns)}


# ---- linear algebra: factorizations and decompositions (rules/linalg.py) ----------------
# One helper per component of a NumPy function that returns a tuple (linalg_calls.py), and
# the linear maps their rules are written with.

def eigh_vectors(a):
    """The eigenvectors of the symmetric matrix a's lower triangle spells: np.linalg.eigh(a)[1]."""
    return np.linalg.eigh(a)[1]


def svd_u(a):
    """U of the reduced SVD a = U diag(s) Vt."""
    return np.linalg.svd(a, full_matrices=False)[0]


def svdvals(a):
    """The singular values, largest first."""
    return np.linalg.svd(a, compute_uv=False)


def svd_vt(a):
    """Vt of the reduced SVD."""
    return np.linalg.svd(a, full_matrices=False)[2]


def norm_2(x):
    """np.linalg.norm(x, 2): of a vector, the square root of the sum of squares."""
    return np.sqrt(np.sum(x * x))


def spectral_norm(a):
    """np.linalg.norm(a, 2) of a matrix: its largest singular value."""
    return svdvals(a)[0]


def qr_q(a):
    """Q of the reduced QR factorization."""
    return np.linalg.qr(a)[0]


def qr_r(a):
    """R of the reduced QR factorization."""
    return np.linalg.qr(a)[1]


def slogdet_sign(a):
    return np.linalg.slogdet(a)[0]


def logabsdet(a):
    """log |det a|."""
    return np.linalg.slogdet(a)[1]


def lstsq_solution(a, b):
    """np.linalg.lstsq(a, b, rcond=None)[0]."""
    return np.linalg.lstsq(a, b, rcond=None)[0]


def lstsq_rank(a, b):
    """np.linalg.lstsq(a, b, rcond=None)[2]."""
    return np.linalg.lstsq(a, b, rcond=None)[2]


def full_rank(a, rcond):
    """1.0 if a has full rank, counting the singular values above rcond times the largest as
    np.linalg.pinv does (rcond None: as lstsq with rcond=None does), else nan: the factor
    that makes the derivative of pinv and lstsq nan where they have none."""
    s = np.linalg.svd(a, compute_uv=False)
    cutoff = (np.finfo(np.float64).eps * max(a.shape) if rcond is None else rcond) * s[0]
    return 1.0 if np.sum(s > cutoff) == min(a.shape) else np.nan


def solve_triangular(a, b, trans, lower):
    """scipy.linalg.solve_triangular(a, b, trans, lower): op(T) x = b for the triangle T of a,
    op the transpose where trans is 1."""
    import scipy.linalg
    return scipy.linalg.solve_triangular(a, b, trans=trans, lower=lower)


def triangle(x, lower, k):
    """np.tril(x, k) if lower else np.triu(x, k)."""
    return np.tril(x, k) if lower else np.triu(x, k)


def sym_lower(x):
    """The symmetric matrix whose lower triangle is x's (what np.linalg.eigh and cholesky read)."""
    return np.tril(x) + np.tril(x, -1).T


def fold_lower(x):
    """The transpose of sym_lower: the upper triangle's elements added onto the lower's."""
    return np.tril(x) + np.triu(x, 1).T


def lower_halved(x):
    """The lower triangle of x with its diagonal halved."""
    return np.tril(x, -1) + 0.5 * np.diag(np.diag(x))


def inverse_gaps(w):
    """F[i, j] = 1 / (w[j] - w[i]) off the diagonal, 0 on it; inf where two values are equal."""
    gaps = w[None, :] - w[:, None]
    inverse = np.divide(1.0, gaps, out=np.full(gaps.shape, np.inf), where=gaps != 0)
    np.fill_diagonal(inverse, 0.0)
    return inverse


@overload(eigh_vectors)
def _eigh_vectors(a):
    return eigh_vectors


@overload(svd_u)
def _svd_u(a):
    return svd_u


@overload(svdvals)
def _svdvals(a):
    return lambda a: np.linalg.svd(a, False)[1]       # numba's svd has no compute_uv


@overload(spectral_norm)
def _spectral_norm(a):
    return lambda a: np.linalg.svd(a, False)[1][0]


@overload(norm_2)
def _norm_2(x):
    return lambda x: np.sqrt(np.sum(x * x))


@overload(svd_vt)
def _svd_vt(a):
    return svd_vt


@overload(qr_q)
def _qr_q(a):
    return qr_q


@overload(qr_r)
def _qr_r(a):
    return qr_r


@overload(slogdet_sign)
def _slogdet_sign(a):
    return slogdet_sign


@overload(logabsdet)
def _logabsdet(a):
    return logabsdet


# numba's lstsq takes no rcond=None: the same cutoff, spelled out
@overload(lstsq_solution)
def _lstsq_solution(a, b):
    return lambda a, b: np.linalg.lstsq(a, b, np.finfo(np.float64).eps * max(a.shape[0], a.shape[1]))[0]


@overload(lstsq_rank)
def _lstsq_rank(a, b):
    return lambda a, b: np.linalg.lstsq(a, b, np.finfo(np.float64).eps * max(a.shape[0], a.shape[1]))[2]


@overload(full_rank)
def _full_rank(a, rcond):
    none = rcond is None or isinstance(rcond, (types.NoneType, types.Omitted))

    def gate(a, rcond):
        s = np.linalg.svd(a, False)[1]
        m, n = a.shape
        relative = np.finfo(np.float64).eps * (m if m > n else n) if none else rcond
        return 1.0 if np.sum(s > relative * s[0]) == (m if m < n else n) else np.nan
    return gate


@overload(solve_triangular)
def _solve_triangular(a, b, trans, lower):
    def substitution(a, b, trans, lower):
        n = a.shape[0]
        if a.shape[1] != n:
            raise ValueError("expected square matrix")
        if b.shape[0] != n:
            raise ValueError("shapes of a and b are incompatible")
        x = np.ascontiguousarray(b).astype(np.float64).reshape((n, -1))
        forwards = lower != (trans != 0)            # op(T) lower triangular: first row first
        for step in range(n):
            i = step if forwards else n - 1 - step
            pivot = a[i, i]
            if pivot == 0.0:
                raise np.linalg.LinAlgError("singular matrix: a diagonal element of the triangle is zero")
            for c in range(x.shape[1]):
                total = x[i, c]
                for j in range(i) if forwards else range(i + 1, n):
                    total -= (a[j, i] if trans != 0 else a[i, j]) * x[j, c]
                x[i, c] = total / pivot
        return x.reshape(b.shape)
    return substitution


@overload(triangle)
def _triangle(x, lower, k):
    return lambda x, lower, k: np.tril(x, k) if lower else np.triu(x, k)


@overload(sym_lower)
def _sym_lower(x):
    return sym_lower


@overload(fold_lower)
def _fold_lower(x):
    return fold_lower


@overload(lower_halved)
def _lower_halved(x):
    def loops(x):
        out = np.zeros(x.shape)
        for i in range(x.shape[0]):
            for j in range(i):
                out[i, j] = x[i, j]
            out[i, i] = 0.5 * x[i, i]
        return out
    return loops


@overload(inverse_gaps)
def _inverse_gaps(w):
    def loops(w):
        n = w.shape[0]
        inverse = np.zeros((n, n))
        for i in range(n):
            for j in range(n):
                if i != j:
                    gap = w[j] - w[i]
                    inverse[i, j] = 1.0 / gap if gap != 0.0 else np.inf
        return inverse
    return loops


HELPERS.update({f.__name__: f for f in (eigh_vectors, svd_u, svdvals, svd_vt, norm_2, spectral_norm, qr_q, qr_r,
                                         slogdet_sign, logabsdet,
                                         lstsq_solution, lstsq_rank, full_rank, solve_triangular, triangle, sym_lower,
                                         fold_lower, lower_halved, inverse_gaps)})


def lstsq(a, b):
    """np.linalg.lstsq(a, b, rcond=None), all four results (the user's primal, compiled)."""
    return np.linalg.lstsq(a, b, rcond=None)


@overload(lstsq)
def _lstsq(a, b):
    return lambda a, b: np.linalg.lstsq(a, b, np.finfo(np.float64).eps * max(a.shape[0], a.shape[1]))


# ---- SciPy's special functions (rules/special.py) --------------------------------------
# Each helper calls scipy.special in plain Python.  Compiled, it calls the C function SciPy
# exports for Cython (scipy.special.cython_special), elementwise over arrays, by a symbol
# name registered with LLVM: a ctypes pointer would keep numba from caching the code on
# disk.  The same overloads teach numba scipy.special's own functions of these names, so
# that a user's function calling them compiles as it is.

def _cython_special(name, arity):
    """A numba intrinsic calling cython_special's C function `name` of `arity` doubles
    (Cython's last parameter, its skip-dispatch flag, passed as 0)."""
    symbol = f"s2sdiff_scipy_{name}"
    llvm_binding.add_symbol(symbol, get_cython_function_address("scipy.special.cython_special",
                                                                _double_version(name, arity)))

    def codegen(context, builder, signature, args):
        double, flag = llvm_ir.DoubleType(), llvm_ir.IntType(32)
        prototype = llvm_ir.FunctionType(double, [double] * arity + [flag])
        function = cgutils.get_or_insert_function(builder.module, prototype, symbol)
        doubles = [context.cast(builder, value, kind, types.float64) for value, kind in zip(args, signature.args)]
        return builder.call(function, doubles + [llvm_ir.Constant(flag, 0)])

    def signature(*args):
        if all(isinstance(a, (types.Float, types.Integer)) for a in args):
            return types.float64(*args), codegen

    def unary(typingctx, x):            # numba reads an intrinsic's parameters: no *args
        return signature(x)

    def binary(typingctx, x, y):
        return signature(x, y)
    typer = unary if arity == 1 else binary
    typer.__name__ = symbol
    return intrinsic(typer)


def _double_version(name, arity):
    """The name cython_special exports `name` of doubles by: a function of several types
    (a fused one) has one mangled name per type, `__pyx_fuse_<k><name>`, told apart by the C
    signature its capsule is named with."""
    wanted = f"double ({'double, ' * arity}int __pyx_skip_dispatch)".encode()
    capsule_name = ctypes.pythonapi.PyCapsule_GetName
    capsule_name.restype, capsule_name.argtypes = ctypes.c_char_p, [ctypes.py_object]
    exported = scipy.special.cython_special.__pyx_capi__
    return next(candidate for candidate in [name] + [f"__pyx_fuse_{k}{name}" for k in range(8)]
                if candidate in exported and capsule_name(exported[candidate]) == wanted)


_C = {name: _cython_special(name, arity) for name, arity in (
    ("gammaln", 1), ("psi", 1), ("expit", 1), ("log_expit", 1), ("logit", 1), ("erf", 1), ("erfc", 1), ("erfcx", 1),
    ("erfinv", 1), ("erfcinv", 1), ("ndtr", 1), ("log_ndtr", 1), ("ndtri", 1), ("xlogy", 2), ("xlog1py", 2),
    ("betaln", 2))}
_c_erfcx, _c_psi, _c_gammaln = _C["erfcx"], _C["psi"], _C["gammaln"]      # numba reads globals, not a dict


def _each(kernel):
    """The overload of a one-argument helper: `kernel` of a number, of each element of an array."""
    def implementation(x):
        if isinstance(x, types.Array):
            def each(x):
                flat = np.ascontiguousarray(x).ravel()
                out = np.empty(flat.size)
                for k in range(flat.size):
                    out[k] = kernel(flat[k])
                return out.reshape(x.shape)
            return each
        if isinstance(x, (types.Float, types.Integer)):
            return lambda x: kernel(x)
    return implementation


def _each_pair(kernel):
    """The overload of a two-argument helper: `kernel` of numbers, of each pair of elements of
    its arguments broadcast together."""
    def implementation(x, y):
        if isinstance(x, types.Array) or isinstance(y, types.Array):
            def each(x, y):
                xs, ys = x + np.zeros(np.shape(y)), y + np.zeros(np.shape(x))     # both in the broadcast shape
                flat_x, flat_y = xs.ravel(), ys.ravel()
                out = np.empty(flat_x.size)
                for k in range(flat_x.size):
                    out[k] = kernel(flat_x[k], flat_y[k])
                return out.reshape(xs.shape)
            return each
        if isinstance(x, (types.Float, types.Integer)) and isinstance(y, (types.Float, types.Integer)):
            return lambda x, y: kernel(x, y)
    return implementation


def gammaln(x):
    """log |Γ(x)|."""
    return scipy.special.gammaln(x)


def digamma(x):
    """ψ(x) = Γ′(x) / Γ(x)."""
    return scipy.special.digamma(x)


def polygamma(n, x):
    """ψ⁽ⁿ⁾(x), the n-th derivative of the digamma function (a number for a number x, where
    SciPy's gives an array of no dimensions)."""
    value = scipy.special.polygamma(n, x)
    return value if np.ndim(value) else value[()]


def multigammaln(a, d):
    """The log of the multivariate gamma function Γ_d(a)."""
    return scipy.special.multigammaln(a, d)


def multipolygamma(n, a, d):
    """Σⱼ₌₀..d₋₁ ψ⁽ⁿ⁾(a − j/2): the (n+1)-th derivative of multigammaln(a, d) in a."""
    return sum(polygamma(n, a - 0.5 * j) for j in range(d))


def expit(x):
    """1 / (1 + e⁻ˣ)."""
    return scipy.special.expit(x)


def log_expit(x):
    """log expit(x) = −log(1 + e⁻ˣ)."""
    return scipy.special.log_expit(x)


def logit(x):
    """log(x / (1 − x)), the inverse of expit."""
    return scipy.special.logit(x)


def erf(x):
    """The error function, of arrays too (math.erf takes numbers)."""
    return scipy.special.erf(x)


def erfc(x):
    """1 − erf(x)."""
    return scipy.special.erfc(x)


def erfinv(x):
    """The inverse of erf."""
    return scipy.special.erfinv(x)


def erfcinv(x):
    """The inverse of erfc."""
    return scipy.special.erfcinv(x)


def ndtr(x):
    """Φ(x), the standard normal distribution function."""
    return scipy.special.ndtr(x)


def log_ndtr(x):
    """log Φ(x), accurate far into the lower tail."""
    return scipy.special.log_ndtr(x)


def ndtri(x):
    """Φ⁻¹(x)."""
    return scipy.special.ndtri(x)


_SQRT2 = float(np.sqrt(2.0))
_SQRT_2_OVER_PI = float(np.sqrt(2.0 / np.pi))


def log_ndtr_slope(x):
    """φ(x) / Φ(x), the derivative of log_ndtr: √(2/π) / erfcx(−x/√2), with no overflow or
    cancellation in either tail (erfcx(t) = e^(t²) erfc(t))."""
    return _SQRT_2_OVER_PI / scipy.special.erfcx(-x / _SQRT2)


@register_jitable
def _log_ndtr_slope_at(x):
    return _SQRT_2_OVER_PI / _c_erfcx(-x / _SQRT2)


def xlogy(x, y):
    """x log y, 0 where x == 0."""
    return scipy.special.xlogy(x, y)


def xlog1py(x, y):
    """x log(1 + y), 0 where x == 0."""
    return scipy.special.xlog1py(x, y)


def betaln(a, b):
    """log |B(a, b)|."""
    return scipy.special.betaln(a, b)


def logsumexp(x):
    """log Σ eˣ over all of x, shifted by its largest element (a number: itself)."""
    return scipy.special.logsumexp(x)


def logsumexp_along(x, axis):
    """logsumexp along one axis."""
    return scipy.special.logsumexp(x, axis=axis)


for _helper, _kernel in ((gammaln, "gammaln"), (digamma, "psi"), (expit, "expit"), (log_expit, "log_expit"),
                         (logit, "logit"), (erf, "erf"), (erfc, "erfc"), (erfinv, "erfinv"), (erfcinv, "erfcinv"),
                         (ndtr, "ndtr"), (log_ndtr, "log_ndtr"), (ndtri, "ndtri")):
    overload(_helper)(_each(_C[_kernel]))
    overload(getattr(scipy.special, _helper.__name__))(_each(_C[_kernel]))
for _helper in (xlogy, xlog1py, betaln):
    overload(_helper)(_each_pair(_C[_helper.__name__]))
    overload(getattr(scipy.special, _helper.__name__))(_each_pair(_C[_helper.__name__]))
overload(log_ndtr_slope)(_each(_log_ndtr_slope_at))


# B₂, B₄, …, B₂₀: the Bernoulli numbers of the asymptotic series of the polygamma functions
_BERNOULLI = (1 / 6, -1 / 30, 1 / 42, -1 / 30, 5 / 66, -691 / 2730, 7 / 6, -3617 / 510, 43867 / 798, -174611 / 330)


@register_jitable
def _polygamma_at(n, x):
    """ψ⁽ⁿ⁾(x) (cython_special has no Hurwitz zeta): ψ for n = 0; for n ≥ 1 and x > 0 the
    series (−1)ⁿ⁺¹ n! Σₖ (x + k)⁻⁽ⁿ⁺¹⁾, its terms summed while x + k < 20 + n and the rest
    by the asymptotic expansion in 1/(x + k); below zero by the reflection
    ψ⁽ⁿ⁾(x) = (−1)ⁿ ψ⁽ⁿ⁾(1 − x) − πⁿ⁺¹ Pₙ(cot πx), dⁿ/duⁿ cot u = Pₙ(cot u)."""
    n = int(n)
    if n == 0:
        return _c_psi(x)
    sign = 1.0 if n % 2 else -1.0           # (−1)ⁿ⁺¹
    if x <= 0.0 and x == np.floor(x):
        return sign * np.inf                # a pole, signed as SciPy's
    if x < 0.0:
        return -sign * _polygamma_positive(n, 1.0 - x) - np.pi ** (n + 1) * _cot_derivative(n, x - np.round(x))
    return _polygamma_positive(n, x)


@register_jitable
def _polygamma_positive(n, x):
    factorial = 1.0
    for k in range(2, n + 1):
        factorial *= k
    near = 0.0
    while x < 20.0 + n:
        near += x ** -(n + 1.0)
        x += 1.0
    inverse = 1.0 / x
    power = inverse ** n
    far = factorial / n * power + 0.5 * factorial * power * inverse     # (n−1)!/xⁿ + n!/(2xⁿ⁺¹)
    coefficient = 0.5 * factorial * (n + 1)                              # (2k+n−1)!/(2k)! at k = 1
    power *= inverse * inverse
    for k in range(1, len(_BERNOULLI) + 1):
        far += _BERNOULLI[k - 1] * coefficient * power
        coefficient *= (2 * k + n) * (2 * k + n + 1) / ((2 * k + 1) * (2 * k + 2))
        power *= inverse * inverse
    return (1.0 if n % 2 else -1.0) * (factorial * near + far)


@register_jitable
def _cot_derivative(n, r):
    """dⁿ/duⁿ cot u at u = πr: Pₙ(cot u), where P₀(c) = c and Pₘ₊₁(c) = −(1 + c²) Pₘ′(c)."""
    p = np.zeros(n + 2)
    p[1] = 1.0
    for _ in range(n):
        q = np.zeros(n + 2)
        for i in range(n + 2):
            q[i] = -(i + 1) * p[i + 1] if i + 1 < n + 2 else 0.0
            if i >= 1:
                q[i] -= (i - 1) * p[i - 1]
        p = q
    c = np.cos(np.pi * r) / np.sin(np.pi * r)
    value = 0.0
    for i in range(n + 1, -1, -1):
        value = value * c + p[i]
    return value


@register_jitable
def _multigammaln_at(a, d):
    total = 0.25 * d * (d - 1) * np.log(np.pi)
    for j in range(d):
        total += _c_gammaln(a - 0.5 * j)
    return total


@register_jitable
def _multipolygamma_at(n, a, d):
    total = 0.0
    for j in range(d):
        total += _polygamma_at(n, a - 0.5 * j)
    return total


def _polygamma_overload(n, x):
    if isinstance(x, types.Array):
        return lambda n, x: multipolygamma(n, x, 1)
    return lambda n, x: _polygamma_at(n, x)


@overload(multipolygamma)
def _multipolygamma(n, a, d):
    if isinstance(a, types.Array):
        def each(n, a, d):
            flat = np.ascontiguousarray(a).ravel()
            out = np.empty(flat.size)
            for k in range(flat.size):
                out[k] = _multipolygamma_at(n, flat[k], d)
            return out.reshape(a.shape)
        return each
    return lambda n, a, d: _multipolygamma_at(n, a, d)


for _helper, _implementation in ((polygamma, _polygamma_overload), (multigammaln, _elementwise(_multigammaln_at))):
    overload(_helper)(_implementation)
    overload(getattr(scipy.special, _helper.__name__))(_implementation)


@overload(logsumexp)
def _logsumexp(x):
    if isinstance(x, types.Array):
        def whole(x):
            top = np.max(x)
            shift = top if np.isfinite(top) else 0.0        # all -inf (or an inf): no shift
            return shift + np.log(np.sum(np.exp(x - shift)))
        return whole
    return lambda x: x + 0.0


@overload(logsumexp_along)
def _logsumexp_along(x, axis):
    if x.ndim == 1:
        return lambda x, axis: logsumexp(x)

    def along(x, axis):         # one pass over x as (before, axis, after), no np.moveaxis (seconds to compile)
        if axis < 0:
            axis += x.ndim
        flat = np.ascontiguousarray(x).reshape(-1)
        out = np.sum(x, axis=axis)          # the result's shape; its values are replaced
        values = out.reshape(-1)
        count, after = x.shape[axis], 1
        for k in range(axis + 1, x.ndim):
            after *= x.shape[k]
        for i in range(values.size):
            start = i // after * count * after + i % after
            top = -np.inf
            for k in range(count):
                v = flat[start + k * after]
                if v > top or v != v:
                    top = v
            shift = top if np.isfinite(top) else 0.0       # all -inf (or an inf, a NaN): no shift
            total = 0.0
            for k in range(count):
                total += np.exp(flat[start + k * after] - shift)
            values[i] = shift + np.log(total)
        return out
    return along


def _constant(argument):
    """The value of an argument numba knows as it compiles (an omitted one's default, a
    literal); the argument's type where not."""
    if isinstance(argument, types.Omitted):
        return argument.value
    if isinstance(argument, types.NoneType):
        return None
    return getattr(argument, "literal_value", argument)


# A user's function calling scipy.special.logsumexp (with an axis None or an int, and no b
# or return_sign), softmax or log_softmax compiles: generated code has its own lowering.
@overload(scipy.special.logsumexp, prefer_literal=True)
def _scipy_logsumexp(a, axis=None, b=None, keepdims=False, return_sign=False):
    keepdims = _constant(keepdims)
    if _constant(b) is not None or _constant(return_sign) is not False or keepdims not in (True, False) \
            or not isinstance(a, types.Array):
        return None
    if _constant(axis) is None:
        ones = (1,) * a.ndim
        if keepdims:
            return lambda a, axis=None, b=None, keepdims=False, return_sign=False: np.full(ones, logsumexp(a))
        return lambda a, axis=None, b=None, keepdims=False, return_sign=False: logsumexp(a)
    if keepdims:
        return lambda a, axis=None, b=None, keepdims=False, return_sign=False: expand(logsumexp_along(a, axis), axis)
    return lambda a, axis=None, b=None, keepdims=False, return_sign=False: logsumexp_along(a, axis)


@register_jitable
def _log_softmax(x, axis):
    if axis is None:
        return x - logsumexp(x)
    return x - expand(logsumexp_along(x, axis), axis)


def _softmax_overload(log):
    def implementation(x, axis=None):
        if not isinstance(x, types.Array):
            return None
        if log:
            return lambda x, axis=None: _log_softmax(x, axis)
        return lambda x, axis=None: np.exp(_log_softmax(x, axis))
    return implementation


overload(scipy.special.softmax, prefer_literal=True)(_softmax_overload(False))
overload(scipy.special.log_softmax, prefer_literal=True)(_softmax_overload(True))


# SciPy's functions written in Python that numba compiles by the overloads above (not from their source)
SCIPY_OVERLOADS = frozenset({scipy.special.polygamma, scipy.special.multigammaln, scipy.special.logsumexp,
                             scipy.special.softmax, scipy.special.log_softmax})

HELPERS.update({f.__name__: f for f in (gammaln, digamma, polygamma, multigammaln, multipolygamma, expit, log_expit,
                                         logit, erf, erfc, erfinv, erfcinv, ndtr, log_ndtr, ndtri, log_ndtr_slope,
                                         xlogy, xlog1py, betaln, logsumexp, logsumexp_along)})
