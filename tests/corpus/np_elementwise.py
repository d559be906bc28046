"""NumPy's differentiable ufuncs and elementwise functions, one at a time: each at a vector,
a matrix, broadcasting pairs and scalars, and a few activation functions composed of them —
the way the NumPy test suites of autograd, JAX and Tangent exercise the elementwise surface."""
import numpy as np

from corpus import case, mat, positive, vec


# ---- trigonometric and hyperbolic ------------------------------------------------------

@case(vec(5), tags=("sin", "reduction"))
def sin_sum(x):
    return np.sum(np.sin(x))


@case(mat(2, 3), tags=("sin", "array-output"))
def sin_matrix(X):
    return np.sin(X)


@case(mat(3), tags=("cos", "reduction"))
def cos_matrix_sum(X):
    return np.sum(np.cos(X))


@case(vec(4, seed=1), tags=("cos", "array-output", "product"))
def cos_times_x(x):
    return np.cos(x) * x


@case(vec(5, seed=2), tags=("tan",))
def tan_sum(x):
    return np.sum(np.tan(x))


@case(mat(2, 3, -0.5, 0.5, seed=3), tags=("tan", "array-output"))
def tan_matrix(X):
    return np.tan(X)


@case(vec(5, -0.8, 0.8), tags=("arcsin",))
def arcsin_sum(x):
    return np.sum(np.arcsin(x))


@case(mat(2, 3, -0.8, 0.8, seed=1), tags=("arccos", "array-output"))
def arccos_matrix(X):
    return np.arccos(X)


@case(vec(4, -2.0, 2.0), tags=("arctan", "power"))
def arctan_squared(x):
    return np.sum(np.arctan(x) ** 2)


@case(mat(3, 2, seed=4), tags=("sinh",))
def sinh_matrix_sum(X):
    return np.sum(np.sinh(X))


@case(vec(5, seed=5), tags=("cosh", "array-output"))
def cosh_vector(x):
    return np.cosh(x)


@case(mat(3, seed=6), tags=("tanh", "product"))
def tanh_weighted(X):
    return np.sum(np.tanh(X) * X)


@case(vec(5, -3.0, 3.0, seed=7), tags=("arcsinh",))
def arcsinh_sum(x):
    return np.sum(np.arcsinh(x))


@case(vec(4, 1.5, 3.0, seed=8), tags=("arccosh",))
def arccosh_sum(x):
    return np.sum(np.arccosh(x))


@case(mat(2, 2, -0.7, 0.7, seed=9), tags=("arctanh", "array-output"))
def arctanh_matrix(X):
    return np.arctanh(X)


@case(0.7, tags=("sin", "exp", "scalar-argument"))
def sin_exp_scalar(a):
    return np.sin(a) * np.exp(a)


@case(0.4, tags=("tanh", "cosh", "scalar-argument"))
def tanh_over_cosh_scalar(a):
    return np.tanh(a) / np.cosh(a)


# ---- exponentials and logarithms -------------------------------------------------------

@case(vec(5, seed=10), tags=("exp",))
def exp_sum(x):
    return np.sum(np.exp(x))


@case(mat(2, 3, seed=11), tags=("exp", "array-output"))
def exp_matrix(X):
    return np.exp(X)


@case(vec(4, seed=12), tags=("exp2",))
def exp2_sum(x):
    return np.sum(np.exp2(x))


@case(mat(3, 2, -0.1, 0.1, seed=13), tags=("expm1",))
def expm1_matrix_sum(X):
    return np.sum(np.expm1(X))


@case(positive(5), tags=("log",))
def log_sum(x):
    return np.sum(np.log(x))


@case(mat(2, 3, 0.5, 2.0, seed=14), tags=("log", "array-output"))
def log_matrix(X):
    return np.log(X)


@case(positive(4, seed=1), tags=("log2",))
def log2_sum(x):
    return np.sum(np.log2(x))


@case(mat(3, 3, 0.5, 2.0, seed=15), tags=("log10",))
def log10_matrix_sum(X):
    return np.sum(np.log10(X))


@case(vec(5, -0.5, 1.0, seed=16), tags=("log1p",))
def log1p_sum(x):
    return np.sum(np.log1p(x))


@case(mat(2, 2, -0.5, 1.0, seed=17), tags=("log1p", "array-output"))
def log1p_matrix(X):
    return np.log1p(X)


@case(0.9, tags=("log", "scalar-argument"))
def log_scalar(a):
    return np.log(a) * a


# ---- roots, squares, reciprocals, absolute values --------------------------------------

@case(positive(5, seed=2), tags=("sqrt",))
def sqrt_sum(x):
    return np.sum(np.sqrt(x))


@case(mat(2, 3, 0.5, 2.0, seed=18), tags=("sqrt", "array-output"))
def sqrt_matrix(X):
    return np.sqrt(X)


@case(vec(5, away=0.2, seed=19), tags=("cbrt",))
def cbrt_sum(x):
    return np.sum(np.cbrt(x))


@case(vec(5, seed=20), tags=("square",))
def square_sum(x):
    return np.sum(np.square(x))


@case(mat(3, 2, seed=21), tags=("square", "array-output"))
def square_matrix(X):
    return np.square(X)


@case(positive(4, seed=3), tags=("reciprocal",))
def reciprocal_sum(x):
    return np.sum(np.reciprocal(x))


@case(mat(2, 3, away=0.3, seed=22), tags=("reciprocal", "array-output"))
def reciprocal_matrix(X):
    return np.reciprocal(X)


@case(vec(6, away=0.1, seed=23), tags=("abs", "exp"), oracle="fd")
def abs_times_exp(x):
    return np.sum(np.abs(x) * np.exp(x))


@case(mat(2, 3, away=0.1, seed=24), tags=("abs", "array-output"), oracle="fd")
def abs_matrix(X):
    return np.abs(X) * X


@case(vec(5, away=0.1, seed=25), tags=("absolute",), oracle="fd")
def absolute_cubed(x):
    return np.sum(np.absolute(x) ** 3)


@case(vec(5, away=0.1, seed=26), tags=("fabs",), oracle="fd")
def fabs_sum(x):
    return np.sum(np.fabs(x) * x)


@case(mat(3, away=0.1, seed=27), tags=("fabs", "array-output"), oracle="fd")
def fabs_matrix(X):
    return np.fabs(X)


# ---- powers ----------------------------------------------------------------------------

@case(vec(5, seed=28), tags=("power-operator", "integer-exponent"))
def cube_operator(x):
    return np.sum(x**3)


@case(vec(5, seed=29), tags=("power", "integer-exponent"))
def power_int(x):
    return np.sum(np.power(x, 3))


@case(positive(5, seed=4), tags=("power", "float-exponent"))
def power_fractional(x):
    return np.sum(np.power(x, 2.5))


@case(positive(4, seed=5), tags=("power", "negative-exponent"))
def power_negative(x):
    return np.sum(np.power(x, -1.5))


@case(mat(2, 3, 0.5, 2.0, seed=30), tags=("power-operator", "array-output"))
def half_power_matrix(X):
    return X**0.5


@case(positive(4, seed=6), positive(4, seed=7), tags=("power", "array-exponent"))
def power_arrays(x, y):
    return np.sum(np.power(x, y))


@case(vec(5, seed=31), tags=("power", "constant-base"))
def power_constant_base(x):
    return np.sum(np.power(2.0, x))


@case(mat(2, 3, 0.5, 2.0, seed=32), vec(3, seed=33), tags=("power-operator", "broadcast", "array-exponent"))
def power_row_broadcast(X, y):
    return np.sum(X**y)


@case(positive(5, seed=8), 1.7, tags=("power-operator", "scalar-exponent", "broadcast"))
def power_scalar_exponent(x, p):
    return np.sum(x**p)


@case(1.3, vec(4, seed=34), tags=("power-operator", "scalar-base", "array-output"))
def scalar_base_power(a, x):
    return a**x


@case(positive(4, seed=9), tags=("float_power",))
def float_power_sum(x):
    return np.sum(np.float_power(x, 1.5))


@case(positive(3, seed=10), positive(3, seed=11), tags=("float_power", "array-exponent"))
def float_power_arrays(x, y):
    return np.sum(np.float_power(x, y))


# ---- two-argument functions ------------------------------------------------------------

@case(vec(4, seed=35), vec(4, seed=36), tags=("hypot",))
def hypot_sum(x, y):
    return np.sum(np.hypot(x, y))


@case(mat(2, 1, seed=37), mat(1, 3, seed=38), tags=("hypot", "broadcast", "array-output"))
def hypot_column_row(a, b):
    return np.hypot(a, b)


@case(0.6, -0.8, tags=("hypot", "scalar-argument"))
def hypot_scalars(a, b):
    return np.hypot(a, b)


@case(vec(5, seed=39), vec(5, 0.2, 1.0, seed=40), tags=("arctan2",))
def arctan2_sum(y, x):
    return np.sum(np.arctan2(y, x))


@case(mat(2, 3, seed=41), vec(3, 0.5, 1.0, seed=42), tags=("arctan2", "broadcast", "array-output"))
def arctan2_row_broadcast(Y, x):
    return np.arctan2(Y, x)


@case(0.3, 0.8, tags=("arctan2", "scalar-argument"))
def arctan2_scalars(y, x):
    return np.arctan2(y, x) ** 2


@case(vec(5, seed=43), vec(5, seed=44), tags=("maximum",), oracle="fd")
def maximum_sum(x, y):
    return np.sum(np.maximum(x, y) ** 2)


@case(vec(6, away=0.1, seed=45), tags=("maximum", "relu", "scalar-operand"), oracle="fd")
def relu_maximum(x):
    return np.sum(np.maximum(x, 0.0) * x)


@case(mat(2, 3, seed=46), mat(2, 3, seed=47), tags=("minimum", "array-output"), oracle="fd")
def minimum_matrix(X, Y):
    return np.minimum(X, Y)


@case(mat(3, 2, away=0.1, seed=48), tags=("minimum", "scalar-operand", "broadcast"), oracle="fd")
def minimum_with_scalar(X):
    return np.sum(np.minimum(0.0, X) ** 2)


@case(vec(5, seed=49), vec(5, seed=50), tags=("fmax",), oracle="fd")
def fmax_sum(x, y):
    return np.sum(np.fmax(x, y) * x)


@case(mat(2, 3, seed=51), vec(3, seed=52), tags=("fmin", "broadcast"), oracle="fd")
def fmin_row_broadcast(X, y):
    return np.sum(np.fmin(X, y) ** 2)


@case(vec(5, seed=53), vec(5, seed=54), tags=("logaddexp",), oracle="fd")
def logaddexp_sum(x, y):
    return np.sum(np.logaddexp(x, y))


@case(mat(2, 1, seed=55), mat(1, 3, seed=56), tags=("logaddexp", "broadcast"), oracle="fd")
def logaddexp_column_row(a, b):
    return np.sum(np.logaddexp(a, b) ** 2)


@case(mat(2, 3, seed=57), mat(2, 3, seed=58), tags=("logaddexp2", "array-output"), oracle="fd")
def logaddexp2_matrix(X, Y):
    return np.logaddexp2(X, Y)


@case(vec(4, seed=59), tags=("logaddexp", "scalar-operand"), oracle="fd")
def logaddexp_with_zero(x):
    return np.sum(np.logaddexp(0.0, x))


# ---- other elementwise functions -------------------------------------------------------

@case(vec(5, away=0.1, seed=60), tags=("sinc",))
def sinc_sum(x):
    return np.sum(np.sinc(x))


@case(mat(2, 2, away=0.1, seed=61), tags=("sinc", "array-output"))
def sinc_matrix(X):
    return np.sinc(X)


@case(vec(4, -90.0, 90.0, seed=62), tags=("deg2rad", "sin"), oracle="fd")
def deg2rad_sin(x):
    return np.sum(np.sin(np.deg2rad(x)))


@case(mat(2, 3, seed=63), tags=("rad2deg", "array-output"), oracle="fd")
def rad2deg_matrix(X):
    return np.rad2deg(X)


@case(vec(4, seed=64), tags=("degrees",), oracle="fd")
def degrees_squared(x):
    return np.sum(np.degrees(x) ** 2)


@case(mat(2, 2, -90.0, 90.0, seed=65), tags=("radians", "cos"), oracle="fd")
def radians_cos(X):
    return np.sum(np.cos(np.radians(X)))


@case(vec(6, away=0.1, seed=66), tags=("heaviside", "step"), oracle="fd")
def heaviside_gate(x):
    return np.sum(x**2 * np.heaviside(x, 0.5))


@case(vec(5, seed=67), tags=("nan_to_num",), oracle="fd")
def nan_to_num_sum(x):
    return np.sum(np.nan_to_num(x) ** 2)


@case(mat(2, 3, seed=68), tags=("nan_to_num", "keyword", "array-output"), oracle="fd")
def nan_to_num_keyword(X):
    return np.nan_to_num(X, nan=0.0) * X


@case(vec(6, -0.9, 0.9, seed=69), tags=("clip", "positional-bounds"), oracle="fd")
def clip_positional(x):
    return np.sum(np.clip(x, -0.45, 0.45) ** 2)


@case(vec(6, -0.9, 0.9, seed=70), tags=("clip", "keyword-bounds"), oracle="fd")
def clip_keywords(x):
    return np.sum(np.clip(x, a_min=-0.45, a_max=0.45) * x)


@case(vec(6, away=0.1, seed=71), tags=("clip", "none-bound"), oracle="fd")
def clip_upper_none(x):
    return np.sum(np.clip(x, 0.0, None) ** 2)


@case(mat(2, 3, seed=72), tags=("clip", "none-bound", "array-output"), oracle="fd")
def clip_lower_none(X):
    return np.clip(X, None, 0.33)


@case(vec(6, -0.9, 0.9, seed=73), tags=("clip", "method"), oracle="fd")
def clip_method(x):
    return np.sum(x.clip(-0.45, 0.45) ** 3)


@case(vec(5, seed=74), vec(5, -1.5, -0.9, seed=75), vec(5, 0.9, 1.5, seed=76), tags=("clip", "array-bounds"),
      oracle="fd")
def clip_array_bounds(x, lo, hi):
    return np.sum(np.clip(2.0 * x, lo, hi) ** 2)


@case(vec(6, away=0.1, seed=77), tags=("where", "comparison"))
def where_sin_cos(x):
    return np.sum(np.where(x > 0, np.sin(x), np.cos(x)))


@case(mat(2, 3, away=0.1, seed=78), vec(3, seed=79), tags=("where", "broadcast", "array-output"))
def where_row_broadcast(X, y):
    return np.where(X > 0, X, y)


@case(vec(6, away=0.1, seed=80), tags=("where", "scalar-branch"))
def where_scalar_branch(x):
    return np.sum(np.where(x < 0, 0.0, x) ** 2)


@case(vec(6, away=0.1, seed=81), tags=("sign",), oracle="fd")
def sign_times_square(x):
    return np.sum(np.sign(x) * x**2)


@case(vec(5, seed=82), tags=("floor",), oracle="fd")
def floor_plus_square(x):
    return np.sum(np.floor(3.0 * x) * x + x**2)


# ---- arithmetic ufuncs by name and broadcasting ----------------------------------------

@case(mat(2, 3, seed=83), vec(3, seed=84), tags=("add", "broadcast"))
def add_row_broadcast(X, y):
    return np.sum(np.add(X, y) ** 2)


@case(mat(2, 1, seed=85), mat(1, 3, seed=86), tags=("multiply", "broadcast", "array-output"))
def multiply_column_row(a, b):
    return np.multiply(a, b)


@case(mat(2, 3, seed=87), vec(3, 0.5, 1.5, seed=88), tags=("divide", "broadcast"))
def divide_row_broadcast(X, y):
    return np.sum(np.divide(X, y) ** 2)


@case(mat(3, 1, seed=89), mat(1, 2, seed=90), tags=("subtract", "broadcast"))
def subtract_column_row(a, b):
    return np.sum(np.subtract(a, b) ** 2)


@case(vec(4, seed=91), positive(4, seed=12), tags=("true_divide",))
def true_divide_sum(x, y):
    return np.sum(np.true_divide(x, y))


@case(vec(4, seed=92), tags=("negative", "exp"))
def negative_exp(x):
    return np.sum(np.exp(np.negative(x)))


@case(0.8, vec(5, seed=93), tags=("scalar-times-array", "exp", "broadcast"))
def scalar_scaled_exp(a, x):
    return np.sum(np.exp(a * x))


@case(1.2, mat(2, 3, seed=94), tags=("scalar-plus-array", "sin", "broadcast", "array-output"))
def scalar_shifted_sin(a, X):
    return np.sin(X + a)


@case(mat(2, 3, seed=95), mat(2, 1, 0.5, 1.5, seed=96), tags=("column-broadcast", "divide"))
def divide_column_broadcast(X, c):
    return np.sum(X / c)


# ---- composed activations --------------------------------------------------------------

@case(vec(6, -3.0, 3.0, seed=97), tags=("softplus", "log1p", "exp"))
def softplus(x):
    return np.sum(np.log1p(np.exp(x)))


@case(vec(6, -3.0, 3.0, seed=98), tags=("logistic", "exp", "array-output"))
def logistic(x):
    return 1.0 / (1.0 + np.exp(-x))


@case(vec(5, seed=99), tags=("logsumexp", "exp", "log"))
def logsumexp_by_hand(x):
    return np.log(np.sum(np.exp(x)))


@case(vec(6, -3.0, 3.0, seed=100), tags=("swish", "exp"))
def swish(x):
    return np.sum(x / (1.0 + np.exp(-x)))


@case(vec(6, -3.0, 3.0, seed=101), tags=("gelu", "tanh", "power"))
def gelu_tanh(x):
    return np.sum(0.5 * x * (1.0 + np.tanh(np.sqrt(2.0 / np.pi) * (x + 0.044715 * x**3))))


@case(mat(2, 3, seed=102), tags=("softmax", "exp", "keepdims", "array-output"),
      bugs={"jac.rev/jit": "compiled reverse Jacobian: the generated code calls np.sum with "
                             "keepdims=True, which numba does not type (TypeError)"})
def softmax_rows(X):
    e = np.exp(X)
    return e / np.sum(e, axis=1, keepdims=True)


@case(vec(5, -2.0, 2.0, seed=103), vec(5, 0.1, 0.9, seed=104), tags=("logistic", "log", "cross-entropy"))
def binary_cross_entropy(z, t):
    p = 1.0 / (1.0 + np.exp(-z))
    return -np.sum(t * np.log(p) + (1.0 - t) * np.log(1.0 - p))


@case(vec(6, away=0.1, seed=105), tags=("elu", "where", "expm1"))
def elu(x):
    return np.sum(np.where(x > 0, x, np.expm1(x)) ** 2)
