"""hypothesis strategies of the types of ``typed_service`` (values of every supported type)."""

from __future__ import annotations

import datetime as dt

from hypothesis import strategies as st
from typed_service import Color, Everything, Level, Partial, Point, Tag, Tree

__all__ = ["decimals", "everything", "finite"]

finite = st.floats(allow_nan=False, allow_infinity=False)
decimals = st.decimals(allow_nan=False, allow_infinity=False)
st.register_type_strategy(Point, st.builds(Point, x=st.integers(), y=st.integers()))
st.register_type_strategy(Tag, st.fixed_dictionaries({"name": st.text()}, optional={"weight": finite}))
st.register_type_strategy(Partial,
                          st.fixed_dictionaries({}, optional={"note": st.text(), "when": st.dates()}))
st.register_type_strategy(Tree, st.deferred(lambda: st.builds(
    Tree, label=st.text(max_size=5), children=st.lists(st.from_type(Tree), max_size=2))))
everything = st.builds(
    Everything, points=st.lists(st.from_type(Point), max_size=3), color=st.sampled_from(Color),
    level=st.sampled_from(Level), mode=st.sampled_from(["fast", "slow"]), when=st.datetimes(
        timezones=st.none() | st.just(dt.UTC)), day=st.dates(), ident=st.uuids(), amount=decimals,
    tags=st.dictionaries(st.text(max_size=5), st.lists(st.integers(), max_size=3), max_size=3),
    tag=st.from_type(Tag), partial=st.from_type(Partial), maybe=st.none() | st.from_type(Point),
    pair=st.tuples(st.integers(), st.text(max_size=5)), unique=st.frozensets(st.text(max_size=3), max_size=3))

