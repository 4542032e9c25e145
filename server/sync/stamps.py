"""Field stamps as a record stores them: packed, one entry per distinct stamp."""

from __future__ import annotations


def pack_meta(meta: dict[str, dict]) -> list:
    """A record's field stamps as stored: `[[hlc, rev, [field, ...]], ...]`, one entry per
    distinct stamp. A record is mostly written by one change, so this is one entry where the
    per-field form repeated the same stamp for every field (a fifth of the bytes to write)."""
    groups: dict[tuple[str, int], list[str]] = {}
    for name, entry in meta.items():
        groups.setdefault((entry["hlc"], entry["rev"]), []).append(name)
    return [[hlc, rev, names] for (hlc, rev), names in groups.items()]


def unpack_meta(packed: list | dict) -> dict[str, dict]:
    """The engine's per-field form of `pack_meta`'s output (fields sharing an entry object,
    which the engine never mutates). A record stored before stamps were packed is already in
    that form, and is packed when it is next written."""
    if isinstance(packed, dict):
        return packed
    meta = {}
    for hlc, rev, names in packed:
        entry = {"hlc": hlc, "rev": rev}
        for name in names:
            meta[name] = entry
    return meta


def field_stamps(packed: list | dict) -> dict[str, str]:
    """Each field's stamp, as a pull reports them (read straight from the packed form: a pull
    does this for every record it sends)."""
    if isinstance(packed, dict):  # stored before stamps were packed
        return {name: entry["hlc"] for name, entry in packed.items()}
    return {name: hlc for hlc, _rev, names in packed for name in names}
