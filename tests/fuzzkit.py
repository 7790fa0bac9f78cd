"""Hypothesis strategies for fuzzing the loaders: any JSON value, a valid document with one value replaced or
dropped anywhere in it, and the text of a file (a mutated document, a valid one cut short, or any text)."""

from __future__ import annotations

import copy
from typing import Any

import yaml
from hypothesis import strategies as st

Path_ = tuple[Any, ...]

json_values = st.recursive(
    st.none() | st.booleans() | st.integers() | st.floats(allow_nan=True) | st.text(max_size=8),
    lambda inner: st.lists(inner, max_size=4) | st.dictionaries(st.text(max_size=8), inner, max_size=4),
    max_leaves=12)


def paths_in(doc: Any, prefix: Path_ = ()) -> list[Path_]:
    """Every path to a value inside ``doc`` (keys of mappings, indexes of lists)."""
    found = [prefix] if prefix else []
    if isinstance(doc, dict):
        for key, value in doc.items():
            found += paths_in(value, (*prefix, key))
    elif isinstance(doc, list):
        for i, value in enumerate(doc):
            found += paths_in(value, (*prefix, i))
    return found


def _with(doc: Any, path: Path_, value: Any, *, drop: bool) -> Any:
    result = copy.deepcopy(doc)
    parent = result
    for part in path[:-1]:
        parent = parent[part]
    if drop:
        del parent[path[-1]]
    else:
        parent[path[-1]] = value
    return result


def mutated(doc: Any) -> st.SearchStrategy[Any]:
    """``doc`` with one value anywhere replaced by any JSON value, or dropped."""
    paths = paths_in(doc)
    return st.tuples(st.sampled_from(paths), json_values, st.booleans()).map(
        lambda pvd: _with(doc, pvd[0], pvd[1], drop=pvd[2]))


def file_texts(doc: Any) -> st.SearchStrategy[str]:
    """Texts of a file meant to hold ``doc``: mutated, cut short, any JSON value or any text."""
    valid = yaml.safe_dump(doc, sort_keys=False)
    cut = st.integers(min_value=0, max_value=len(valid)).map(lambda n: valid[:n])
    return (mutated(doc).map(lambda d: yaml.safe_dump(d, sort_keys=False)) | cut
            | json_values.map(lambda v: yaml.safe_dump(v)) | st.text(max_size=80))
