"""Compile a :class:`~spotcast_storage.query.Query` to DuckDB SQL.

Joins whose right-hand group has an event time outside the join keys are point-in-time
joins built on DuckDB's ``ASOF JOIN`` (see :func:`pit_join_sql`).
"""

from __future__ import annotations

from dataclasses import dataclass, field
from typing import TYPE_CHECKING, Any

from spotcast_storage.errors import UnsupportedError, ValidationError
from spotcast_storage.query import Filter, Logic, Query, filter_leaves, is_point_in_time, sql_op

if TYPE_CHECKING:
    from spotcast_storage.local.store import LocalFeatureGroup


def q(name: str) -> str:
    """Quote an identifier."""
    return '"' + name.replace('"', '""') + '"'


def table_name(name: str, version: int) -> str:
    return f"{name}_v{version}"


def history_name(name: str, version: int) -> str:
    return f"{name}_v{version}__history"


@dataclass
class Compiled:
    sql: str
    params: list[Any] = field(default_factory=list)


def source_sql(fg: LocalFeatureGroup, columns: list[str], commit: int | None) -> tuple[str, list[Any]]:
    """The rows of ``fg`` now, or as they were at global commit id ``commit``."""
    cols = ", ".join(q(c) for c in columns)
    if commit is None:
        return f"SELECT {cols} FROM main.{q(table_name(fg.name, fg.version))}", []
    if not fg.time_travel:
        raise UnsupportedError(
            f"feature group {fg.name} v{fg.version} was created with time_travel=False, so it "
            "keeps no history to read as of a commit"
        )
    pk = ", ".join(q(k) for k in fg.primary_key)
    return (
        f"SELECT {cols} FROM _spotcast.{q(history_name(fg.name, fg.version))} "
        f"WHERE _commit_id <= ? "
        f"QUALIFY row_number() OVER (PARTITION BY {pk} ORDER BY _commit_id DESC) = 1 AND NOT _deleted",
        [commit],
    )


def filter_sql(f: Filter | Logic, resolve: Any, params: list[Any]) -> str:
    """``resolve(filter)`` returns the qualified column for a leaf filter."""
    if isinstance(f, Logic):
        return f"({filter_sql(f.left, resolve, params)} {f.op} {filter_sql(f.right, resolve, params)})"
    col = resolve(f)
    op = sql_op(f.op)
    if f.value is None:
        if f.op == "==":
            return f"({col} IS NULL)"
        if f.op == "!=":
            return f"({col} IS NOT NULL)"
        raise ValidationError(f"cannot compare {f.feature} {f.op} None")
    if op == "IN":
        values = list(f.value)
        if not values:
            return "FALSE"
        params.extend(values)
        return f"({col} IN ({', '.join('?' for _ in values)}))"
    params.append(f.value)
    return f"({col} {op} ?)"


def _owner(f: Filter, fgs: list[tuple[str, LocalFeatureGroup]]) -> str:
    """Alias of the group a filter refers to (first group that has the column when unnamed)."""
    for alias, fg in fgs:
        if f.fg_name is not None and (f.fg_name, f.fg_version) != (fg.name, fg.version):
            continue
        if f.feature in fg.feature_names:
            return alias
    raise ValidationError(f"filter on {f.feature!r}: no feature group in the query has that column")


def commit_for(fg: LocalFeatureGroup, query: Query) -> int | None:
    if query.as_of_commit is not None:
        return query.as_of_commit
    if query.as_of_time is not None:
        c = fg.commit_at(query.as_of_time)
        if c is None:
            return -1  # nothing was committed yet at that time: empty
        return c
    return None


def compile_query(query: Query, limit: int | None = None) -> Compiled:
    fg: LocalFeatureGroup = query.fg  # type: ignore[assignment]
    params: list[Any] = []
    if not query.joins:
        # Filters may name columns that are not selected: read them, project them away.
        filter_cols = [f.feature for f in filter_leaves(query.filters)]
        for leaf in filter_leaves(query.filters):
            _owner(leaf, [("t0", fg)])
        src, p = source_sql(fg, list(dict.fromkeys([*query.columns, *filter_cols])), commit_for(fg, query))
        params.extend(p)
        sql = f"SELECT {', '.join(f't0.{q(c)}' for c in query.columns)} FROM ({src}) t0"
        if query.filters is not None:
            sql += " WHERE " + filter_sql(query.filters, lambda f: f"t0.{q(f.feature)}", params)
        if limit is not None:
            sql += f" LIMIT {int(limit)}"
        return Compiled(sql, params)

    # Left side: every column a join or the output needs, plus a row id for PIT joins.
    left_filter_cols = [f.feature for f in filter_leaves(query.filters)
                        if f.feature in fg.feature_names and f.fg_name in (None, fg.name)]
    needed = list(dict.fromkeys([*query.columns, *(k for j in query.joins for k in j.left_on),
                                 *([fg.event_time] if fg.event_time else []), *left_filter_cols]))
    for c in needed:
        if c not in fg.feature_names:
            raise ValidationError(f"column {c!r} is not in feature group {fg.name}")
    fgs: list[tuple[str, LocalFeatureGroup]] = [("l0", fg)]
    for i, j in enumerate(query.joins, start=1):
        if j.query.joins:
            raise UnsupportedError("a joined sub-query cannot have joins of its own; join them all on the left query")
        fgs.append((f"j{i}", j.query.fg))  # type: ignore[arg-type]

    left_only = query.filters is not None and all(_owner(f, fgs) == "l0" for f in filter_leaves(query.filters))
    # Row ids are needed only for point-in-time joins that must honour a known-at time.
    need_lid = any(is_point_in_time(query, j) and j.query.fg.known_at for j in query.joins)
    src, p = source_sql(fg, needed, commit_for(fg, query))
    params.extend(p)
    l0 = f"SELECT {'row_number() OVER () AS _lid, ' if need_lid else ''}* FROM ({src}) l0"
    if left_only:
        l0 += " WHERE " + filter_sql(query.filters, lambda f: f"l0.{q(f.feature)}", params)  # type: ignore[arg-type]
    ctes = [f"l0 AS ({l0})"]

    select = [f"l0.{q(c)}" for c in query.columns]
    out_names = list(query.columns)
    joins_sql = []
    for i, j in enumerate(query.joins, start=1):
        alias = f"j{i}"
        rfg: LocalFeatureGroup = j.query.fg  # type: ignore[assignment]
        rcols_out = [c for c in j.query.columns if c not in j.right_on or j.join_type == "cross"]
        for c in rcols_out:
            name = f"{j.prefix}{c}" if j.prefix else c
            if name in out_names:
                raise ValidationError(
                    f"column {c!r} of {rfg.name} clashes with a column already in the query; "
                    f"pass prefix='{rfg.name}_' to join() or select() fewer columns"
                )
            out_names.append(name)
            select.append(f"{alias}.{q(c)} AS {q(name)}")
        rfilter_cols = [f.feature for f in [*filter_leaves(j.query.filters), *filter_leaves(query.filters)]
                        if f.feature in rfg.feature_names and f.fg_name in (None, rfg.name)]
        rneeded = list(dict.fromkeys([*rcols_out, *j.right_on,
                                      *([rfg.event_time] if rfg.event_time else []),
                                      *([rfg.known_at] if rfg.known_at else []), *rfilter_cols]))
        rsrc, rp = source_sql(rfg, rneeded, commit_for(rfg, query))
        params.extend(rp)
        if j.query.filters is not None:
            rp2: list[Any] = []
            rsrc = f"SELECT * FROM ({rsrc}) r WHERE " + filter_sql(j.query.filters, lambda f: f"r.{q(f.feature)}", rp2)
            params.extend(rp2)
        if is_point_in_time(query, j) and rfg.known_at:
            ctes.append(f"{alias} AS ({pit_join_sql('l0', f'({rsrc})', j.left_on, j.right_on, fg.event_time, rfg.event_time, rfg.known_at, rfg.primary_key)})")  # type: ignore[arg-type]
            kind = "LEFT JOIN" if j.join_type == "left" else "JOIN"
            joins_sql.append(f"{kind} {alias} ON l0._lid = {alias}._lid")
        elif is_point_in_time(query, j):
            rsrc = dedup_right(f"({rsrc})", j.right_on, rfg.event_time, None, rfg.primary_key)  # type: ignore[arg-type]
            pairs = list(zip(j.left_on, j.right_on, strict=True))
            kind = "ASOF LEFT JOIN" if j.join_type == "left" else "ASOF JOIN"
            if pairs and any(rfg.get_feature(b).type == "string" for _, b in pairs):
                # ASOF partitions by its equality keys; integers partition much faster than
                # strings, so the right side's distinct keys get small integer codes first.
                codes = f"k{i}"
                ctes.append(f"{codes} AS (SELECT *, row_number() OVER () AS _k FROM "
                            f"(SELECT DISTINCT {', '.join(q(b) for _, b in pairs)} FROM {rsrc} _r))")
                rmatch = " AND ".join(f"_r.{q(b)} = {codes}.{q(b)}" for _, b in pairs)
                lmatch = " AND ".join(f"l0.{q(a)} = kl{i}.{q(b)}" for a, b in pairs)
                rsrc = f"(SELECT _r.*, {codes}._k FROM {rsrc} _r JOIN {codes} ON {rmatch})"
                joins_sql.append(f"LEFT JOIN {codes} kl{i} ON {lmatch}")
                on = f"kl{i}._k = {alias}._k AND "
            else:
                on = "".join(f"l0.{q(a)} = {alias}.{q(b)} AND " for a, b in pairs)
            joins_sql.append(f"{kind} {rsrc} {alias} ON {on}l0.{q(fg.event_time)} >= {alias}.{q(rfg.event_time)}")  # type: ignore[arg-type]
        else:
            kind = {"inner": "JOIN", "left": "LEFT JOIN", "right": "RIGHT JOIN", "full": "FULL JOIN",
                    "cross": "CROSS JOIN", "left_semi_join": "SEMI JOIN"}[j.join_type]
            on = " AND ".join(f"l0.{q(a)} = {alias}.{q(b)}" for a, b in zip(j.left_on, j.right_on, strict=True))
            joins_sql.append(f"{kind} ({rsrc}) {alias}" + ("" if j.join_type == "cross" else f" ON {on}"))
    sql = f"WITH {', '.join(ctes)} SELECT {', '.join(select)} FROM l0 {' '.join(joins_sql)}"
    if query.filters is not None and not left_only:
        def resolve(f: Filter) -> str:
            return f"{_owner(f, fgs)}.{q(f.feature)}"

        sql += " WHERE " + filter_sql(query.filters, resolve, params)
    if need_lid:
        sql += " ORDER BY l0._lid"
    if limit is not None:
        sql += f" LIMIT {int(limit)}"
    return Compiled(sql, params)


def dedup_right(right: str, right_on: tuple[str, ...] | list[str], right_time: str, right_known_at: str | None,
                right_primary_key: list[str] | None) -> str:
    """Keep one right row per (keys, event time): the one known last. A no-op when the
    primary key already makes (keys, event time) unique."""
    if right_primary_key is not None and set(right_primary_key) <= {*right_on, right_time}:
        return right
    order = f"{q(right_known_at)} DESC NULLS LAST" if right_known_at else "1"
    part = ", ".join([*(q(b) for b in right_on), q(right_time)])
    return f"(SELECT * FROM {right} _r QUALIFY row_number() OVER (PARTITION BY {part} ORDER BY {order}) = 1)"


def pit_join_sql(
    left: str,
    right: str,
    left_on: tuple[str, ...] | list[str],
    right_on: tuple[str, ...] | list[str],
    left_time: str,
    right_time: str,
    right_known_at: str | None = None,
    right_primary_key: list[str] | None = None,
) -> str:
    """Rows ``(_lid, right.*)``: for each left row, the newest right row with the same keys
    whose event time (and known-at time) is not after the left row's time.

    ``left`` must have a unique ``_lid`` column. Equal times match (a value stamped at t is
    usable at t). Several right rows with the same keys and event time: the one known last.
    With ``right_known_at``, a candidate that was not yet known at the left time is replaced
    by the newest right row that was (rare: late or corrected data), so the result is exact
    without the cost of a range join over every row.
    """
    on = " AND ".join(f"l.{q(a)} = r.{q(b)}" for a, b in zip(left_on, right_on, strict=True))
    on = (on + " AND ") if on else ""
    rdedup = dedup_right(right, right_on, right_time, right_known_at, right_primary_key)
    asof = (
        f"SELECT l._lid, l.{q(left_time)} AS _pit_t, r.* FROM {left} l "
        f"ASOF JOIN {rdedup} r ON {on}l.{q(left_time)} >= r.{q(right_time)}"
    )
    if not right_known_at:
        return f"SELECT * EXCLUDE (_pit_t) FROM ({asof})"
    ka = q(right_known_at)
    return (
        f"WITH cand AS ({asof}), "
        f"late AS (SELECT * FROM {left} WHERE _lid IN (SELECT _lid FROM cand WHERE {ka} > _pit_t)), "
        f"fix AS (SELECT l._lid, l.{q(left_time)} AS _pit_t, r.* FROM late l "
        f"JOIN {right} r ON {on}r.{q(right_time)} <= l.{q(left_time)} AND r.{ka} <= l.{q(left_time)} "
        f"QUALIFY row_number() OVER (PARTITION BY l._lid ORDER BY r.{q(right_time)} DESC, r.{ka} DESC) = 1) "
        f"SELECT * EXCLUDE (_pit_t) FROM cand WHERE {ka} IS NULL OR {ka} <= _pit_t "
        f"UNION ALL BY NAME SELECT * EXCLUDE (_pit_t) FROM fix"
    )


def point_in_time_join(labels: Any, features: Any, on: Any, label_time: str, feature_time: str,
                       known_at: str | None = None, prefix: str | None = None) -> Any:
    """For each label row, the newest feature row with the same ``on`` keys whose
    ``feature_time`` (and ``known_at``) is not after the label's ``label_time``. Label rows
    keep their order; unmatched ones get nulls. Runs on in-memory frames in DuckDB, so every
    backend can use it."""
    from spotcast_storage import framesql
    from spotcast_storage.local.convert import run_query

    with framesql.session({"_labels_in": labels, "_features_in": features}) as con:
        out_cols = []
        for c in (c for c in features.columns if c not in on):
            name = f"{prefix}{c}" if prefix else c
            if name in labels.columns:
                raise ValidationError(f"feature column {c!r} is also a label column; pass prefix='f_' or drop it")
            out_cols.append(f"j.{q(c)} AS {q(name)}")
        sql = (
            "WITH l AS (SELECT row_number() OVER () AS _lid, * FROM _labels_in), "
            f"j AS ({pit_join_sql('l', '_features_in', list(on), list(on), label_time, feature_time, known_at)}) "
            f"SELECT l.* EXCLUDE (_lid){''.join(', ' + c for c in out_cols)} "
            "FROM l LEFT JOIN j ON l._lid = j._lid ORDER BY l._lid"
        )
        return run_query(con, sql)
