"""The rules of linear algebra: matrix products and their adjoints' halves, solves, inverses,
determinants, and the factorizations and decompositions.
"""
from . import _rule, binary, constant, unary

# The rules below are for one matrix (right-hand sides: a vector or a matrix); NumPy also
# takes stacks of them, batched over leading axes, which these rules do not transpose or
# reduce as a batch. `ranks` declares what a rule holds for: analyze checks it (where the
# code runs if the ranks are not known before), picks the rules for stacks further down
# where there are some, and refuses a stack by name where there are none.
MATRIX = {"x": (2,)}
SYSTEM = {"x": (2,), "y": (1, 2)}

# ---- products, solves, inverses, determinants -----------------------------------------
binary("matmul",     "@ np.dot np.matmul",   "dx @ y + x @ dy",
       "matmul_adjoint_left(bz, x, y)", "matmul_adjoint_right(bz, x, y)", result="array")
# Kronecker products of two vectors or two matrices: bilinear, and the adjoint in each factor
# is the sum over the other's blocks (kron_left, kron_right), each the other's adjoint again
binary("kron",       "np.kron",              "kron(dx, y) + kron(x, dy)",  "kron_left(bz, y)", "kron_right(bz, x)",
       result="array", rank="x")
binary("kron_left",  "runtime.kron_left",    "kron_left(dx, y) + kron_left(x, dy)", "kron(bz, y)", "kron_right(x, bz)",
       result="array", rank="x")
binary("kron_right", "runtime.kron_right",   "kron_right(dx, y) + kron_right(x, dy)", "kron(y, bz)", "kron_left(x, bz)",
       result="array", rank="x")
binary("outer",      "np.outer runtime.outer",             "outer(dx, y) + outer(x, dy)", "bz @ y", "x @ bz", result="array")
unary("trace",       "np.trace",             "trace(dx)",                  "bz * eye(dim(x, 0), dim(x, 1))",
      result="number", ranks=MATRIX)
unary("norm",        "np.linalg.norm",       "sum(x * dx) / z",            "bz * x / z", result="number")
unary("det",         "np.linalg.det",        "z * trace(solve(x, dx))",    "bz * z * transpose(inv(x))",
      result="number", ranks=MATRIX)
unary("inv",         "np.linalg.inv",        "-(z @ dx @ z)",              "-(transpose(z) @ bz @ transpose(z))",
      result="array", ranks=MATRIX)
binary("solve",      "np.linalg.solve",      "solve(x, dy - dx @ z)",
       "-matmul_adjoint_left(solve(transpose(x), bz), x, z)", "solve(transpose(x), bz)", result="array", linear=(1,),
       ranks=SYSTEM)
# Stacks of matrices, batched over the leading axes (analyze.FORMS picks these where the
# ranks are known): the same mathematics with the transposes and traces of the last two
# axes, and right-hand sides that are stacks of matrices too.
STACK = {"x": (3, 4, 5)}            # stacks of up to three leading axes
unary("inv_stack",   "np.linalg.inv",        "-(z @ dx @ z)",
      "-(swapaxes(z, -1, -2) @ bz @ swapaxes(z, -1, -2))", result="array", rank="x", ranks=STACK)
unary("det_stack",   "np.linalg.det",        "z * trace_last(solve_stack(x, dx))",
      "expand(expand(bz * z, -1), -1) * swapaxes(inv_stack(x), -1, -2)", result="array", ranks=STACK)
binary("solve_stack", "np.linalg.solve",     "solve_stack(x, dy - dx @ z)",
       "-matmul_adjoint_left(solve_stack(swapaxes(x, -1, -2), bz), x, z)",
       "adjoint_like(solve_stack(swapaxes(x, -1, -2), bz), y)", result="array", linear=(1,),
       ranks={"x": (3, 4, 5), "y": (2, 3, 4, 5)})
# the traces of a stack of matrices
unary("trace_last",  "runtime.trace_last",   "trace_last(dx)",
      "expand(expand(bz, -1), -1) * eye(dim(x, -2), dim(x, -1))", result="array")

# The halves of a matrix product's adjoint (runtime.py): the adjoints of x and of y in
# z = x @ y given g, shaped like x (like y), summed over the leading axes a stack of
# matrices was broadcast along. Each is linear in g and in the other operand (the third
# argument gives only a shape), and its adjoint in g is the product it is the adjoint of,
# so rules of rules make second derivatives.
_rule("matmul_adjoint_left", ("g", "x", "y"), "runtime.matmul_adjoint_left",
      "matmul_adjoint_left(dg, x, y) + matmul_adjoint_left(g, x, dy)", "bz @ y", None,
      "matmul_adjoint_right(g, bz, y)", result="array", rank="x")
_rule("matmul_adjoint_right", ("g", "x", "y"), "runtime.matmul_adjoint_right",
      "matmul_adjoint_right(dg, x, y) + matmul_adjoint_right(g, dx, y)", "x @ bz",
      "matmul_adjoint_left(g, x, bz)", None, result="array", rank="y")

# ---- linear algebra: factorizations and decompositions ----------------------------------
# A NumPy function that returns a tuple is one primitive per component, each a function of
# the call's arguments (linalg_calls.py): `w, V = np.linalg.eigh(A)` is w = eigvalsh(A),
# V = eigh_vectors(A).  A component's rule reads the others as calls on the same arguments,
# which the common-subexpression pass shares with the user's.  Every rule below is written
# with primitives of this table (the linear maps first), so rules of rules give second
# derivatives.  On 2-D arrays; right-hand sides may be 1-D.
#
# np.linalg.eigh, eigvalsh and cholesky read only the lower triangle of A (as LAPACK does):
# A's tangent enters as sym_lower(dA), the symmetric matrix that triangle spells, and the
# adjoint leaves through its transpose fold_lower, so the upper triangle's derivative is 0.
# SciPy's solve_triangular reads one triangle likewise; cho_solve((c, lower), b) is lowered
# to two triangular solves with c.
#
# Where the derivative does not exist it is not made finite:
# * eigh, svd: repeated eigenvalues (singular values) give inverse_gaps an inf, so the
#   eigenvector (singular vector) derivatives are inf/nan; eigenvalues and singular values
#   stay finite, as JAX's do.  A zero singular value of a non-square matrix divides by 0.
# * slogdet at a singular matrix, cholesky of a matrix that is not positive definite,
#   qr of a matrix without full column rank (also: wider than tall, not implemented): the
#   factorization or its solves raise LinAlgError, or the division by a zero pivot gives inf.
# * pinv and lstsq without full rank (singular values counted as each function counts
#   them): nan, through the piecewise-constant factor full_rank.  With full rank, pinv's
#   rule holds for tall and wide matrices, lstsq's for full column or full row rank.
# Eigenvector and singular vector signs are LAPACK's, locally constant: a derivative is of
# the vectors with those signs held.
unary("sym_lower",    "runtime.sym_lower",    "sym_lower(dx)",          "fold_lower(bz)", result="array", rank=2)
unary("fold_lower",   "runtime.fold_lower",   "fold_lower(dx)",         "sym_lower(bz)", result="array", rank=2)
_rule("triangle", ("x", "lower", "k"), "runtime.triangle", "triangle(dx, lower, k)", "triangle(bz, lower, k)",
      None, None, result="array", rank=2)      # np.tril(x, k) or np.triu(x, k)
unary("lower_halved", "runtime.lower_halved", "lower_halved(dx)",       "lower_halved(bz)", result="array", rank=2)
# F[i, j] = 1 / (w[j] - w[i]) off the diagonal: dF[i, j] = F[i, j]² (dw[i] - dw[j])
unary("inverse_gaps", "runtime.inverse_gaps", "z * z * (expand(dx, 1) - expand(dx, 0))",
      "sum_axis(bz * z * z, 1) - sum_axis(bz * z * z, 0)", result="array", rank=2)
# op(T) z = y for the triangle T of x (op: transpose where trans is 1): dz = op(T)⁻¹ (dy - op(dT) z)
_rule("solve_triangular", ("x", "y", "trans", "lower"), "runtime.solve_triangular",
      "solve_triangular(x, dy - (transpose(triangle(dx, lower, 0)) if trans == 1 else triangle(dx, lower, 0)) @ z,"
      " trans, lower)",
      "-triangle(matmul_adjoint_left(z, x, solve_triangular(x, bz, 1 - trans, lower)) if trans == 1"
      " else matmul_adjoint_left(solve_triangular(x, bz, 1 - trans, lower), x, z), lower, 0)",
      "solve_triangular(x, bz, 1 - trans, lower)", None, None, result="array", linear=(1,), rank="y",
      ranks=SYSTEM)
# A = L Lᵀ: dL = L Φ(L⁻¹ dA L⁻ᵀ), Φ the lower triangle with the diagonal halved
unary("cholesky",     "np.linalg.cholesky",
      "z @ lower_halved(solve_triangular(z, transpose(solve_triangular(z, transpose(sym_lower(dx)), 0, True)),"
      " 0, True))",
      "fold_lower(transpose(solve_triangular(z, transpose(solve_triangular(z, lower_halved(transpose(z) @ bz),"
      " 1, True)), 1, True)))", result="array", rank=2, ranks=MATRIX)
constant("slogdet_sign", "runtime.slogdet_sign", result="number")
unary("logabsdet",    "runtime.logabsdet",    "trace(solve(x, dx))",    "bz * transpose(inv(x))", result="number",
      ranks=MATRIX)
# A = V diag(w) Vᵀ: dw = diag(Vᵀ dA V), dV = V (F ∘ (Vᵀ dA V)) with F = inverse_gaps(w)
unary("eigvalsh",     "np.linalg.eigvalsh",   "sum_axis(eigh_vectors(x) * (sym_lower(dx) @ eigh_vectors(x)), 0)",
      "fold_lower((eigh_vectors(x) * bz) @ transpose(eigh_vectors(x)))", result="array", rank=1, ranks=MATRIX)
unary("eigh_vectors", "runtime.eigh_vectors",
      "z @ (inverse_gaps(eigvalsh(x)) * (transpose(z) @ sym_lower(dx) @ z))",
      "fold_lower(z @ (inverse_gaps(eigvalsh(x)) * (transpose(z) @ bz)) @ transpose(z))", result="array", rank=2,
      ranks=MATRIX)
# A = U diag(s) Vt (reduced), V = Vtᵀ, dP = Uᵀ dA V, F = inverse_gaps(s²):
#   ds = diag(dP),  dU = U (F ∘ (dP S + S dPᵀ)) + (I - U Uᵀ) dA V S⁻¹,
#   dV = V (F ∘ (S dP + dPᵀ S)) + (I - V Vᵀ) dAᵀ U S⁻¹
_S, _F = "svdvals(x)", "inverse_gaps(square(svdvals(x)))"
_DP_U = "(transpose(z) @ dx @ transpose(svd_vt(x)))"            # dP in svd_u's rule, U = z
_DP_VT = "(transpose(svd_u(x)) @ dx @ transpose(z))"            # in svd_vt's, Vt = z
_G_U = f"({_F} * (transpose(z) @ bz))"                           # F ∘ (Uᵀ bU)
_G_VT = f"({_F} * (z @ transpose(bz)))"                          # F ∘ (Vᵀ bV)
unary("svdvals",      "runtime.svdvals",      "sum_axis(svd_u(x) * (dx @ transpose(svd_vt(x))), 0)",
      "(svd_u(x) * bz) @ svd_vt(x)", result="array", rank=1, ranks=MATRIX)
unary("svd_u",        "runtime.svd_u",
      f"z @ ({_F} * ({_DP_U} * {_S} + expand({_S}, 1) * transpose({_DP_U})))"
      f" + (dx @ transpose(svd_vt(x)) - z @ {_DP_U}) / {_S}",
      f"(z @ ({_G_U} * {_S} + transpose(expand({_S}, 1) * {_G_U}))"
      f" + bz / {_S} - z @ (transpose(z) @ (bz / {_S}))) @ svd_vt(x)", result="array", rank=2, ranks=MATRIX)
unary("svd_vt",       "runtime.svd_vt",
      f"transpose(transpose(z) @ ({_F} * (expand({_S}, 1) * {_DP_VT} + transpose({_DP_VT}) * {_S}))"
      f" + (transpose(dx) @ svd_u(x) - transpose(z) @ transpose({_DP_VT})) / {_S})",
      f"svd_u(x) @ ((expand({_S}, 1) * {_G_VT} + transpose({_G_VT} * {_S})) @ z"
      f" + transpose(transpose(bz) / {_S} - transpose(z) @ (z @ (transpose(bz) / {_S}))))", result="array", rank=2,
      ranks=MATRIX)
# np.linalg.norm(x, 2): of a vector, as `norm`; of a matrix (analyze.FORMS picks it), the
# largest singular value σ₁ = u₁ᵀ A v₁, whose derivative is u₁ v₁ᵀ
_U1V1 = "(part(svd_u(x), 0, 1, 1) @ part(svd_vt(x), 0, 1, 0))"
unary("norm_2",        "runtime.norm_2",        "sum(x * dx) / z",        "bz * x / z", result="number",
      ranks={"x": (1,)})
unary("spectral_norm", "runtime.spectral_norm", f"sum({_U1V1} * dx)",      f"bz * {_U1V1}", result="number",
      ranks=MATRIX)
# A = Q R (reduced, A tall of full column rank), C = Qᵀ dA R⁻¹, Ω = tril(C, -1) - tril(C, -1)ᵀ:
#   dQ = Q (Ω - C) + dA R⁻¹,  dR = (C - Ω) R
_DA_RINV_Q = "transpose(solve_triangular(qr_r(x), transpose(dx), 1, False))"      # dA R⁻¹ in qr_q's rule
_DA_RINV_R = "transpose(solve_triangular(z, transpose(dx), 1, False))"            # in qr_r's
_C_Q = f"(transpose(z) @ {_DA_RINV_Q})"
_C_R = f"(transpose(qr_q(x)) @ {_DA_RINV_R})"
_M, _N = "(transpose(z) @ bz)", "(bz @ transpose(z))"                             # Qᵀ bQ, bR Rᵀ
unary("qr_q",         "runtime.qr_q",
      f"z @ (triangle({_C_Q}, True, -1) - transpose(triangle({_C_Q}, True, -1)) - {_C_Q}) + {_DA_RINV_Q}",
      f"transpose(solve_triangular(qr_r(x), transpose(bz + z @ (triangle({_M} - transpose({_M}), True, -1) - {_M})),"
      " 0, False))", result="array", rank=2, ranks=MATRIX)
unary("qr_r",         "runtime.qr_r",
      f"({_C_R} - triangle({_C_R}, True, -1) + transpose(triangle({_C_R}, True, -1))) @ z",
      f"transpose(solve_triangular(z, transpose(qr_q(x) @ ({_N} + triangle(transpose({_N}) - {_N}, True, -1))),"
      " 0, False))", result="array", rank=2, ranks=MATRIX)
# Z = A⁺ of constant rank: dZ = -Z dA Z + Z Zᵀ dAᵀ (I - A Z) + (I - Z A) dAᵀ Zᵀ Z
_W, _Y = "(z @ transpose(z) @ transpose(dx))", "(transpose(dx) @ transpose(z) @ z)"
_V, _U = "(transpose(bz) @ z @ transpose(z))", "(transpose(z) @ z @ transpose(bz))"
_rule("pinv", ("x", "rcond"), "np.linalg.pinv",
      f"full_rank(x, rcond) * (-(z @ dx @ z) + {_W} - {_W} @ x @ z + {_Y} - z @ (x @ {_Y}))",
      f"full_rank(x, rcond) * (-(transpose(z) @ bz @ transpose(z)) + {_V} - x @ (z @ {_V}) + {_U} - {_U} @ z @ x)",
      None, result="array", rank=2, ranks=MATRIX)
constant("full_rank", "runtime.full_rank", arity=2, result="number")
# z = A⁺ y, r = y - A z: dz = A⁺ (dy - dA z + A⁺ᵀ dAᵀ r) + (I - A⁺ A) dAᵀ A⁺ᵀ z, A⁺ v = lstsq(A, v)
_rule("lstsq", ("x", "y"), "runtime.lstsq_solution",
      "full_rank(x, None) * (lstsq(x, dy - dx @ z + lstsq(transpose(x), transpose(dx) @ (y - x @ z)))"
      " + transpose(dx) @ lstsq(transpose(x), z) - lstsq(x, x @ (transpose(dx) @ lstsq(transpose(x), z))))",
      "full_rank(x, None) * (matmul_adjoint_left(y - x @ z, x, lstsq(x, lstsq(transpose(x), bz)))"
      " - matmul_adjoint_left(lstsq(transpose(x), bz), x, z)"
      " + matmul_adjoint_left(lstsq(transpose(x), z), x, bz - lstsq(x, x @ bz)))",
      "full_rank(x, None) * lstsq(transpose(x), bz)", result="array", linear=(1,), rank="y", ranks=SYSTEM)
constant("lstsq_rank", "runtime.lstsq_rank", arity=2, result="number")

# What numba runs as calls into BLAS and LAPACK, which bring threads of their own
# (parallel.py keeps a function calling them off numba's threads).
BLAS_LAPACK = frozenset({
    "matmul", "matmul_adjoint_left", "matmul_adjoint_right", "inv", "inv_stack", "det", "det_stack", "logabsdet",
    "slogdet_sign", "solve", "solve_stack", "solve_triangular", "cholesky", "eigvalsh", "eigh_vectors", "svdvals",
    "svd_u", "svd_vt", "norm_2", "spectral_norm", "qr_q", "qr_r", "pinv", "lstsq", "lstsq_rank", "full_rank"})
