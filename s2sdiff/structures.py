"""Parameter structures (pytrees): tuples, lists, dicts, NamedTuples and dataclasses of
numbers and arrays, as arguments of the functions s2sdiff differentiates.

A call with such arguments runs the transform of a *flat* version of the function, whose
parameters are the structures' leaves and whose first statements rebuild each structure
as a literal (`params = {"w": params_w, "b": params_b}`), which desugar reads item by
item.  Derivatives come back in the arguments' structures, as JAX gives them: the
gradient in a dict parameter is a dict of the same keys.
"""
from __future__ import annotations

import ast
import copy
import dataclasses
import linecache
import numbers
from dataclasses import dataclass

import numpy as np

from .errors import S2SDiffError
from .names import Namer
from .parse import parse_function, python_function


def record_fields(cls):
    """The field names of a NamedTuple or dataclass class, else None."""
    if isinstance(cls, type) and issubclass(cls, tuple) and hasattr(cls, "_fields"):
        return tuple(cls._fields)
    if isinstance(cls, type) and dataclasses.is_dataclass(cls):
        return tuple(f.name for f in dataclasses.fields(cls))
    return None


@dataclass(frozen=True)
class Rebuilt:
    """How a flat function's first statements spell a NamedTuple or dataclass parameter:
    `Rebuilt(cls)(w=..., b=...)`, which desugar reads field by field.  Not the class itself:
    the argument was built already, so nothing a construction does (__post_init__) runs again."""
    cls: type

    def __call__(self, **fields):
        return self.cls(**fields)


@dataclass(frozen=True)
class Node:
    """The shape of a structured argument: its kind, keys (dict keys, field names), the
    children's shapes (None for a leaf), and the class it is rebuilt as."""
    kind: str                 # "tuple", "list", "dict", "namedtuple", "dataclass"
    keys: tuple
    children: tuple
    cls: type | None = None


def structure_of(value):
    """The structure of `value`, or None for a leaf (a number, an array, anything else)."""
    if isinstance(value, (np.ndarray, numbers.Number, str, bytes)) or value is None:
        return None
    if isinstance(value, tuple) and hasattr(type(value), "_fields"):
        return Node("namedtuple", tuple(type(value)._fields), tuple(map(structure_of, value)), type(value))
    if isinstance(value, (tuple, list)):
        return Node(type(value).__name__, tuple(range(len(value))), tuple(map(structure_of, value)))
    if isinstance(value, dict):
        for key in value:
            if not isinstance(key, (str, int)) or isinstance(key, bool):
                raise S2SDiffError(f"a dict argument's keys must be strings or integers, got {key!r}")
        return Node("dict", tuple(value), tuple(structure_of(v) for v in value.values()))
    if dataclasses.is_dataclass(value) and not isinstance(value, type):
        names = tuple(f.name for f in dataclasses.fields(value))
        return Node("dataclass", names, tuple(structure_of(getattr(value, n)) for n in names), type(value))
    return None


def leaves(value, node) -> list:
    if node is None:
        return [value]
    return [leaf for child, shape in zip(_children(value, node), node.children) for leaf in leaves(child, shape)]


def _children(value, node) -> list:
    if node.kind == "dict":
        return [value[k] for k in node.keys]
    if node.kind == "dataclass":
        return [getattr(value, k) for k in node.keys]
    return list(value)


def rebuilt(node, items):
    """The structure `node` with its leaves taken in order from the iterator `items`."""
    if node is None:
        return next(items)
    children = [rebuilt(c, items) for c in node.children]
    if node.kind == "dict":
        return dict(zip(node.keys, children))
    if node.kind == "list":
        return children
    if node.kind == "tuple":
        return tuple(children)
    if node.kind == "namedtuple":
        return node.cls(*children)
    return node.cls(**dict(zip(node.keys, children)))


_flat: dict = {}


def flat_function(f, nodes: tuple):
    """f with each structured parameter (nodes[i] not None) replaced by its leaves."""
    py_func = python_function(f)
    key = (py_func, py_func.__code__, nodes)
    if key in _flat:
        return _flat[key]
    parsed = parse_function(py_func)
    tree = copy.deepcopy(parsed.tree)
    namer = Namer({n.id for n in ast.walk(tree) if isinstance(n, ast.Name)} | set(parsed.params))
    classes, params, prologue = {}, [], []       # fresh name -> the Rebuilt of a NamedTuple or dataclass
    for param, node in zip(parsed.params, nodes):
        if node is None:
            params.append(param)
            continue
        literal = _literal(node, param, namer, classes, params)
        prologue.append(ast.Assign([ast.Name(param, ast.Store())], literal))
    for stmt in prologue:
        ast.copy_location(stmt, tree)
        for sub in ast.walk(stmt):
            ast.copy_location(sub, tree)
    tree.args = ast.arguments(posonlyargs=[], args=[ast.copy_location(ast.arg(p), tree) for p in params],
                              kwonlyargs=[], kw_defaults=[], defaults=[])
    tree.body = prologue + tree.body
    ast.fix_missing_locations(tree)
    namespace = {**parsed.globals, **parsed.closure, **classes}
    exec(compile(ast.Module([copy.deepcopy(tree)], []), parsed.filename, "exec"), namespace)
    function = namespace.pop(tree.name)
    function.s2sdiff_tree = tree
    function.s2sdiff_filename = parsed.filename
    _flat[key] = function
    return function


def _literal(node, path, namer, classes, params) -> ast.expr:
    """The literal that rebuilds a structure from its leaves' parameters (appended to `params`):
    a NamedTuple or dataclass as its class's Rebuilt called with the fields (bound in `classes`)."""
    children = []
    for key, child in zip(node.keys, node.children):
        part = f"{path}_{key}" if isinstance(key, int) or str(key).isidentifier() else f"{path}_{len(children)}"
        if child is None:
            name = namer.fresh(part)
            params.append(name)
            children.append(ast.Name(name, ast.Load()))
        else:
            children.append(_literal(child, part, namer, classes, params))
    if node.kind == "tuple":
        return ast.Tuple(children, ast.Load())
    if node.kind == "list":
        return ast.List(children, ast.Load())
    if node.kind == "dict":
        return ast.Dict([ast.Constant(k) for k in node.keys], children)
    name = next((n for n, marker in classes.items() if marker.cls is node.cls), None) or namer.fresh(node.cls.__name__)
    classes[name] = Rebuilt(node.cls)
    return ast.Call(ast.Name(name, ast.Load()), [], [ast.keyword(k, c) for k, c in zip(node.keys, children)])


_ARRAY_ATTRIBUTES = {"shape", "ndim", "size", "dtype", "T", "real", "imag", "flat"}


def takes_structures(f) -> bool:
    """Whether f reads a parameter as a structure: its code can be read only once a call
    shows the structure."""
    return bool(structure_reads(f))


_reads: dict = {}


def structure_reads(f) -> set:
    """The parameters f reads as structures (`p["w"]`, `p.w`, `a, b = p`, a loop over p or
    p.items())."""
    py_func = python_function(f)
    key = (py_func, py_func.__code__)
    if key not in _reads:
        _reads[key] = _structure_reads(py_func)
    return _reads[key]


def _structure_reads(f) -> set:
    parsed = parse_function(f)
    params = set(parsed.params)
    read = set()

    def is_param(node):
        return isinstance(node, ast.Name) and node.id in params
    # x.copy() is an array's method, p.items() a dict's
    methods = {id(n.func) for n in ast.walk(parsed.tree) if isinstance(n, ast.Call)
               and not (isinstance(n.func, ast.Attribute) and n.func.attr in ("items", "keys", "values", "get"))}
    for node in ast.walk(parsed.tree):
        if id(node) in methods:
            continue
        if isinstance(node, ast.Subscript) and is_param(node.value) and isinstance(node.slice, ast.Constant) \
                and isinstance(node.slice.value, str) \
                or isinstance(node, ast.Attribute) and is_param(node.value) and node.attr not in _ARRAY_ATTRIBUTES \
                or isinstance(node, ast.Assign) and isinstance(node.targets[0], ast.Tuple) and is_param(node.value) \
                or isinstance(node, (ast.For, ast.comprehension)) and is_param(node.iter):
            read.add(next(n.id for n in ast.walk(node) if is_param(n)))
    return read


def vector_function(f, x0, n_args: int):
    """(g, v0, unflatten) for a structured first argument x0: g(v, *args) = f(x0 with its
    leaves read from the vector v, *args), so that an optimizer (or check) working on one
    float vector works on the structure; unflatten(v) is the structure again."""
    node = structure_of(x0)
    others = [f"arg{k}" for k in range(n_args)]
    flat_f, _, _, _ = flattened(f, [x0] + [0.0] * n_args)
    parts, lines, start = [], [], 0
    for k, leaf in enumerate(leaves(x0, node)):
        shape, size = np.shape(leaf), int(np.size(leaf))
        name = f"leaf{k}"
        piece = f"v[{start}:{start + size}].reshape({shape!r})" if shape else f"v[{start}]"
        lines.append(f"    {name} = {piece}")
        parts.append(name)
        start += size
    source = "\n".join([f"def {flat_f.__name__}_of_vector({', '.join(['v'] + others)}):", *lines,
                        f"    return {flat_f.__name__}({', '.join(parts + others)})"]) + "\n"
    filename = f"<s2sdiff:{flat_f.__name__}_of_vector>"
    linecache.cache[filename] = (len(source), None, source.splitlines(True), filename)
    tree = ast.parse(source, filename).body[0]
    namespace = {flat_f.__name__: flat_f}
    exec(compile(ast.Module([tree], []), filename, "exec"), namespace)
    function = namespace[tree.name]
    function.s2sdiff_tree = tree
    function.s2sdiff_filename = filename
    return function, flat_vector(x0), lambda v: unflattened(v, x0)


def flat_vector(value) -> np.ndarray:
    """A structure's leaves, raveled and joined into one float64 vector."""
    return np.concatenate([np.ravel(np.asarray(leaf, dtype=np.float64)) for leaf in leaves(value, structure_of(value))])


def unflattened(v, template):
    """The structure `template` with its leaves read in order from the vector v (flat_vector's inverse)."""
    node = structure_of(template)
    items, start = [], 0
    for leaf in leaves(template, node):
        size = int(np.size(leaf))
        items.append(v[start:start + size].reshape(np.shape(leaf)) if np.ndim(leaf) else float(v[start]))
        start += size
    return rebuilt(node, iter(items))


def is_structured(values) -> bool:
    """Whether a call passes a structure (a tuple, list, dict, NamedTuple or dataclass)."""
    return any(structure_of(v) is not None for v in values)


def flattened(f, values):
    """(flat function, flat values, per parameter: its structure and its leaves' positions)."""
    nodes = tuple(structure_of(v) for v in values)
    flat_values, positions = [], []
    for value, node in zip(values, nodes):
        start = len(flat_values)
        flat_values += leaves(value, node)
        positions.append(tuple(range(start, len(flat_values))))
    return flat_function(f, nodes), flat_values, nodes, positions


def fields(f, wrt):
    """`wrt` with its fields split off: "params.w" (a dict's key, a field, or a position:
    "layers.0.w") names the parameter "params" and the path ("w",) inside it.  Returns the
    wrt resolve_wrt reads and {parameter: path}."""
    items = wrt if isinstance(wrt, (tuple, list)) else (wrt,)
    plain, paths = [], {}
    for item in items:
        if isinstance(item, str) and "." in item:
            name, *path = item.split(".")
            paths[name] = tuple(int(p) if p.isdigit() else p for p in path)
            item = name
        plain.append(item)
    return (type(items)(plain) if isinstance(wrt, (tuple, list)) else plain[0]), paths


def _subtree(node, path, what):
    """(first leaf, end, node) of the part of a structure a path names."""
    start = 0
    for step in path:
        keys = node.keys if node is not None else ()
        if node is None or step not in keys and not (node.kind == "namedtuple" and isinstance(step, int)
                                                      and 0 <= step < len(keys)):
            raise S2SDiffError(f"wrt={what!r}: the argument has no part {step!r}"
                               + (f" (it has {', '.join(map(repr, keys))})" if keys else ""))
        k = keys.index(step) if step in keys else step
        start += sum(_count(c) for c in node.children[:k])
        node = node.children[k]
    return start, start + _count(node), node


def _count(node) -> int:
    return 1 if node is None else sum(_count(c) for c in node.children)


def caller(kind, f, indices, many, remake, paths=None):
    """What a transform does with structured arguments: `remake(flat function, wrt)`
    gives the same transform of the flat function in the leaves `wrt` (of the parts of
    the parameters `paths` names, where it names them)."""
    params = list(parse_function(f).params) if paths else []

    def call(values, each_example=None):
        """`each_example(transform, positions)`: the transform per example (batch=), from
        each parameter's positions among the leaves."""
        if not is_structured(values):
            return None
        flat_f, flat_values, nodes, positions = flattened(f, values)
        nodes = list(nodes)
        wrt = []
        for i in indices:
            path = paths.get(params[i]) if paths else None
            if path is None:
                wrt += positions[i]
                continue
            start, stop, nodes[i] = _subtree(nodes[i], path, ".".join([params[i], *map(str, path)]))
            wrt += positions[i][start:stop]
        wrt = tuple(wrt)
        transformed = remake(flat_f, wrt)
        if each_example is not None:
            transformed = each_example(transformed, positions)
        result = transformed(*flat_values)
        if kind == "jacobian" and transformed.output is not None:      # each leaf of the result regrouped
            return rebuilt(transformed.output, iter(_regrouped(partials, indices, nodes, many)
                                                   for partials in leaves(result, transformed.output)))
        if kind == "value_and_grad":
            return result[0], _regrouped(result[1], indices, nodes, many)
        if kind == "hessian":
            rows = iter(result)
            blocks = [_regrouped(next(rows), indices, nodes, many) for _ in wrt]
            return _regrouped(blocks, indices, nodes, many)
        return _regrouped(result, indices, nodes, many)
    return call


def _regrouped(flat, indices, nodes, many):
    """The derivatives in each `wrt` parameter's leaves, in its structure (a tuple of
    them for several parameters)."""
    items = iter(flat)
    grouped = tuple(rebuilt(nodes[i], items) for i in indices)
    return grouped if many else grouped[0]


def jacobian_in(output, columns, regroup):
    """A Jacobian in the structure `output` of the function's result, as JAX gives it:
    `columns` holds, per differentiated parameter, the partials of the result's leaves;
    each leaf's place takes regroup(its partials, one per parameter)."""
    return rebuilt(output, iter(regroup([column[k] for column in columns]) for k in range(_count(output))))


def regrouped(flat, nodes) -> tuple:
    """One derivative per parameter, in its structure, from the derivatives in the leaves."""
    return _regrouped(flat, range(len(nodes)), nodes, True)


def structured_tangents(primals, tangents):
    """jvp's tangents flattened like the primals, after checking they share the structure."""
    out = []
    for primal, tangent in zip(primals, tangents):
        node = structure_of(primal)
        if node is not None and isinstance(tangent, numbers.Number) and tangent == 0:   # held fixed
            out += [np.zeros(np.shape(leaf)) if isinstance(leaf, np.ndarray) else 0.0 for leaf in leaves(primal, node)]
            continue
        if structure_of(tangent) != node and node is not None:
            raise S2SDiffError(f"jvp: a tangent's structure differs from its primal's: {tangent!r} for {primal!r}")
        out += leaves(tangent, node)
    return out

