"""Fresh, readable names for generated code: `t1, t2, …` for temporaries, `dx` for the
tangent of `x`, `bx` for its adjoint — never clashing with a name the code already uses."""
from __future__ import annotations

import hashlib

# A derivative's name lists the parameters it is taken in, while that stays readable: numba
# names its cache files after the function, and file names end at 255 bytes.
_LONGEST_SUFFIX = 48


class Namer:
    def __init__(self, taken=()):
        self.taken = set(taken)
        self._temps = 0
        self._derived: dict[tuple[str, str], str] = {}

    def fresh(self, base: str) -> str:
        name, n = base, 1
        while name in self.taken:
            n += 1
            name = f"{base}_{n}"
        self.taken.add(name)
        return name

    def temp(self) -> str:
        while True:
            self._temps += 1
            name = f"t{self._temps}"
            if name not in self.taken:
                self.taken.add(name)
                return name

    def derived(self, prefix: str, name: str) -> str:
        """The one name (`dx`, `bx`) standing for `name`'s tangent or adjoint."""
        key = (prefix, name)
        if key not in self._derived:
            self._derived[key] = self.fresh(prefix + name)
        return self._derived[key]


def user_name(name: str, user_names=frozenset()) -> str:
    """The user's name behind a version made by single assignment (`y_2` -> `y`), for errors;
    a name of the user's own (`y_1_0`) is kept as it is."""
    base, _, suffix = name.rpartition("_")
    return base if base and suffix.isdigit() and name not in user_names else name


def derivative_name(function: str, kind: str, wrt, params) -> str:
    """`f_jvp` (in every parameter), `f_vjp_x_y` (in some), or for a long list of them
    `f_vjp_in_<hash of the list>`."""
    if len(wrt) == len(params):
        return f"{function}_{kind}"
    suffix = "_".join(wrt)
    if len(suffix) > _LONGEST_SUFFIX:
        suffix = "in_" + hashlib.sha256(suffix.encode()).hexdigest()[:10]
    return f"{function}_{kind}_{suffix}"
