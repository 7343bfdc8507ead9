"""Validation of the engine's inputs, shared by every entry point (private helpers).

:func:`stable_match`, :func:`check_stability` and :func:`assign_optimal` accept and refuse the
same things, with a ``TypeError`` or ``ValueError`` that names the offending key:

* seats are integers >= 0 (``int`` or numpy integers; ``bool``, floats and strings are refused:
  ``1.5`` or ``"2"`` seats is a caller's bug, not something to round);
* preference lists are ``list`` or ``tuple``: a ``set`` has no order (its iteration order changes
  with ``PYTHONHASHSEED``), and a ``str`` or ``dict`` would be read as its characters or keys;
* weights are real numbers (``int``, ``float``, ``Decimal``, ``Fraction``, numpy numbers), never
  ``str`` or ``bool``;
* keys are hashable; numpy scalars become the equal Python scalars, because comparing a numpy
  integer with a tuple key yields an array, whose truth value is an error.

The checks look at the set of types present first, so well-formed input (the usual case) costs one
C-level pass and is returned as is, without copying.
"""

from __future__ import annotations

import numbers
from collections.abc import Hashable, Iterable, Mapping, Sequence
from decimal import Decimal
from itertools import chain
from operator import itemgetter

import numpy as np

__all__ = ["checked_capacities", "checked_fits", "checked_placements", "checked_prefs"]

_LIST_TYPES = (list, tuple)
_BOOL_TYPES = (bool, np.bool_)


def _needs_plain(kind: type) -> bool:
    if kind.__hash__ is None:
        return True
    return issubclass(kind, np.generic)


def _plain(owner: Hashable, value: object, what: str) -> Hashable:
    """``value`` as a plain Python key; ``TypeError`` naming ``owner`` if it is unhashable."""
    if isinstance(value, np.generic):
        return value.item()
    try:
        hash(value)
    except TypeError:
        raise TypeError(
            f"{what} of {owner!r}: {type(value).__name__} {value!r} is not hashable"
        ) from None
    return value


def _plain_all(owners: Iterable[Hashable], values: Iterable[object], what: str) -> list[Hashable]:
    return [_plain(owner, value, what) for owner, value in zip(owners, values, strict=True)]


def _seat_count(key: Hashable, value: object) -> int:
    if isinstance(value, _BOOL_TYPES) or not isinstance(value, (int, np.integer)):
        raise TypeError(
            f"capacity of {key!r} must be an integer, not {type(value).__name__} {value!r}"
        )
    if value < 0:
        raise ValueError(f"negative capacity for {key!r}: {value}")
    return int(value)


def checked_capacities(capacities: Mapping[Hashable, object]) -> dict[Hashable, int]:
    """``capacities`` with plain keys and ``int`` seats, each checked."""
    if not isinstance(capacities, Mapping):
        raise TypeError(f"capacities must be a mapping, not {type(capacities).__name__}")
    keys = list(capacities)
    if any(map(_needs_plain, set(map(type, keys)))):
        keys = _plain_all(keys, keys, "capacity")
    return {
        key: _seat_count(key, value)
        for key, value in zip(keys, capacities.values(), strict=True)
    }


def checked_prefs(
    prefs: Mapping[Hashable, Sequence[Hashable]], side: str
) -> Mapping[Hashable, Sequence[Hashable]]:
    """``prefs`` (one side's preference lists) checked; normalised only when it has to be."""
    if not isinstance(prefs, Mapping):
        raise TypeError(f"{side} preferences must be a mapping, not {type(prefs).__name__}")
    keys, lists = list(prefs), list(prefs.values())
    if not all(issubclass(kind, _LIST_TYPES) for kind in set(map(type, lists))):
        pairs = zip(keys, lists, strict=True)
        key, bad = next((k, v) for k, v in pairs if not isinstance(v, _LIST_TYPES))
        raise TypeError(
            f"preferences of {side} {key!r} must be a list or tuple, not {type(bad).__name__}"
        )
    plain_keys = any(map(_needs_plain, set(map(type, keys))))
    plain_items = any(map(_needs_plain, set(map(type, chain.from_iterable(lists)))))
    if not (plain_keys or plain_items):
        return prefs
    if plain_keys:
        keys = _plain_all(keys, keys, side)
    if plain_items:
        what = f"preferences of {side}"
        pairs = zip(keys, lists, strict=True)
        lists = [[_plain(key, value, what) for value in lst] for key, lst in pairs]
    return dict(zip(keys, lists, strict=True))


def checked_placements(placements: Mapping[Hashable, Hashable]) -> Mapping[Hashable, Hashable]:
    """``placements`` (candidate -> track) with plain keys and values."""
    if not isinstance(placements, Mapping):
        raise TypeError(f"placements must be a mapping, not {type(placements).__name__}")
    kinds = set(map(type, chain(placements, placements.values())))
    if not any(map(_needs_plain, kinds)):
        return placements
    keys = _plain_all(placements, placements, "placement")
    return dict(zip(keys, _plain_all(keys, placements.values(), "placement"), strict=True))


def _is_weight(kind: type) -> bool:
    return not issubclass(kind, _BOOL_TYPES) and issubclass(kind, (numbers.Real, Decimal))


def checked_fits(
    rows: Sequence[tuple[Hashable, Hashable, float]],
) -> Sequence[tuple[Hashable, Hashable, float]]:
    """``(member, host, weight)`` rows: real weights and plain keys. Shapes are checked first by
    the caller; the range of the weights (finite, >= 0) is checked on the float column."""
    weights = map(itemgetter(2), rows)
    if not all(map(_is_weight, set(map(type, weights)))):
        member, host, weight = next(row for row in rows if not _is_weight(type(row[2])))
        raise TypeError(
            f"weight of ({member!r}, {host!r}) must be a real number, "
            f"not {type(weight).__name__} {weight!r}"
        )
    kinds = set(map(type, chain(map(itemgetter(0), rows), map(itemgetter(1), rows))))
    if not any(map(_needs_plain, kinds)):
        return rows
    return [
        (_plain(host, member, "member at host"), _plain(member, host, "host of member"), weight)
        for member, host, weight in rows
    ]
