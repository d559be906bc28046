"""The backpropagation example of the lecture notes, differentiated by s2sdiff.

f(x) = sqrt(x² + exp(x²)) + cos(x² + exp(x²))
"""
import math

import s2sdiff as sd


def f(x):
    a = x ** 2
    b = math.exp(a)
    c = a + b
    d = math.sqrt(c)
    e = math.cos(c)
    return d + e


def g(a, b):
    return math.log(a * b + max(a, 2))


if __name__ == "__main__":
    df = sd.derivative(f)
    print(f"f'(1.5) = {df(1.5)!r}")
    print("generated source:")
    sd.show(df)
    grad_g = sd.grad(g, wrt=("a", "b"), mode="forward")
    print(f"grad of ln(ab + max(a, 2)) at (3, 2) = {grad_g(3.0, 2.0)}")
