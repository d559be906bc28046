"""TEMPORARY, until main's Transformed.__reduce__ is merged: transforms made by `ship(f)` pickle
as sd.value_and_grad(f), in every process that imports this module."""
import copyreg

import s2sdiff as sd

_made_from = {}


def _reduce(transform):
    return ship, (_made_from[id(transform)],)


def ship(f):
    transform = sd.value_and_grad(f)
    _made_from[id(transform)] = f
    return transform


copyreg.pickle(sd.Transformed, _reduce)
