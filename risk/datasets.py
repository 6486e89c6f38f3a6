"""Read and write the contract's `orders` and `outcomes` tables (Parquet or CSV).

Reading validates the whole table column by column, with the same rules as the
pydantic models (each distinct value goes through the field's own type), and fails on
the first broken column with one line naming the file, the column and the row.
What comes back has fixed dtypes whatever the file format: times as
`datetime64[ns, UTC]`, integers as nullable `Int64` (`amount` as int64), flags as
nullable `boolean`, text as pandas `str` with NaN for unknown.
"""

from __future__ import annotations

import re
import typing
from collections.abc import Iterable
from pathlib import Path
from typing import Annotated, Any

import numpy as np
import pandas as pd
from pydantic import BaseModel, StringConstraints, TypeAdapter, ValidationError

from risk.contract import (
    MAX_ID_LENGTH,
    ORDER_COLUMNS,
    OUTCOME_COLUMNS,
    REQUIRED_ORDER_COLUMNS,
    REQUIRED_OUTCOME_COLUMNS,
    RFC3339_TIME,
    ColumnKind,
    Order,
    Outcome,
    flat_fields,
)
from risk.errors import DataError

_NAIVE_TIME = re.compile(r"^\d{4}-\d{2}-\d{2}([Tt ]\d{2}:\d{2}(:\d{2}(\.\d+)?)?)?$")
"""A date, or a date and time, with nothing saying its timezone: named so in the error."""
_TRUE = frozenset({"true", "1", "t", "yes"})
_FALSE = frozenset({"false", "0", "f", "no"})


class _Table(typing.NamedTuple):
    name: str
    columns: dict[str, ColumnKind]
    required: tuple[str, ...]
    adapters: dict[str, TypeAdapter[Any]]
    id_columns: frozenset[str]


def _field_types(model: type[BaseModel]) -> dict[str, Any]:
    """Each flat column's full annotation (constraints included), read off the models."""
    types: dict[str, Any] = {}
    for column, field in flat_fields(model).items():
        annotation: Any = field.info.annotation
        if field.info.metadata:
            annotation = Annotated[(annotation, *field.info.metadata)]
        types[column] = annotation
    return types


def _is_id(annotation: Any) -> bool:
    """Ids are checked vectorised (length only): there are too many to validate one by one."""
    for arg in typing.get_args(annotation):
        if isinstance(arg, StringConstraints) and arg.max_length == MAX_ID_LENGTH:
            return True
        if _is_id(arg):
            return True
    return False


def _table(name: str, model: type[BaseModel], columns: dict[str, ColumnKind], required: tuple[str, ...]) -> _Table:
    types = _field_types(model)
    return _Table(
        name=name,
        columns=columns,
        required=required,
        adapters={col: TypeAdapter(types[col]) for col in columns if columns[col] != "time"},
        id_columns=frozenset(col for col in columns if _is_id(types[col])),
    )


ORDERS = _table("orders", Order, ORDER_COLUMNS, REQUIRED_ORDER_COLUMNS)
OUTCOMES = _table("outcomes", Outcome, OUTCOME_COLUMNS, REQUIRED_OUTCOME_COLUMNS)


# ---- public API ----------------------------------------------------------------------


def read_orders(path: str | Path) -> pd.DataFrame:
    """The orders table at `path`, validated; order_id must be unique."""
    frame = _read(Path(path), ORDERS)
    _check_post_id(frame, Path(path))
    _check_unique(frame, "order_id", Path(path))
    return frame


def read_outcomes(path: str | Path) -> pd.DataFrame:
    """The outcomes table at `path`, validated (an order may have several outcomes)."""
    return _read(Path(path), OUTCOMES)


def write_orders(frame: pd.DataFrame, path: str | Path) -> None:
    """Write orders in the contract layout; the format follows the file suffix."""
    _write(normalise(frame, ORDERS), Path(path))


def write_outcomes(frame: pd.DataFrame, path: str | Path) -> None:
    """Write outcomes in the contract layout; the format follows the file suffix."""
    _write(normalise(frame, OUTCOMES), Path(path))


def normalise(frame: pd.DataFrame, table: _Table, source: str = "<frame>") -> pd.DataFrame:
    """A copy of `frame` with exactly the table's columns, validated and typed."""
    missing = [c for c in table.required if c not in frame.columns]
    if missing:
        raise DataError(f"{source}: missing required column(s) {', '.join(missing)} in {table.name}")
    out = {}
    for column, kind in table.columns.items():
        if column not in frame.columns:
            out[column] = _EMPTY[kind](len(frame))
            continue
        raw = frame[column].reset_index(drop=True)
        where = _Where(source, column)
        values = _CONVERT[kind](raw, where)
        if column in table.required:
            _check_required(values, where)
        if column in table.id_columns:
            _check_ids(values, where)
        elif kind != "time":
            _check_with_adapter(values, table.adapters[column], where)
        out[column] = values
    result = pd.DataFrame(out)
    if "quantity" in result:
        result["quantity"] = result["quantity"].fillna(1)  # the contract's default
    if "amount" in result:
        result["amount"] = result["amount"].astype("int64")
    return result


# ---- reading and writing files ----------------------------------------------------------


def read_frame(path: str | Path, csv_dtype: Any = str) -> pd.DataFrame:
    """A table file as it is (.parquet, or .csv read with `csv_dtype`); unreadable is one clear line."""
    path = Path(path)
    if not path.exists():
        raise DataError(f"{path}: no such file")
    suffix = path.suffix.lower()
    try:
        if suffix in (".parquet", ".pq"):
            return pd.read_parquet(path)
        if suffix == ".csv":
            return pd.read_csv(path, dtype=csv_dtype, keep_default_na=False, na_values=[""])
    except Exception as exc:  # pyarrow and the csv parser raise many kinds
        raise DataError(f"{path}: cannot be read as {suffix[1:]}: {str(exc).splitlines()[0]}") from None
    raise DataError(f"{path}: unknown format {suffix!r}; use .parquet or .csv")


def _read(path: Path, table: _Table) -> pd.DataFrame:
    return normalise(read_frame(path), table, source=str(path))


def _write(frame: pd.DataFrame, path: Path) -> None:
    path.parent.mkdir(parents=True, exist_ok=True)
    suffix = path.suffix.lower()
    if suffix in (".parquet", ".pq"):
        frame.to_parquet(path, index=False)
    elif suffix == ".csv":
        _as_text(frame).to_csv(path, index=False)
    else:
        raise DataError(f"{path}: unknown format {suffix!r}; use .parquet or .csv")


def _as_text(frame: pd.DataFrame) -> pd.DataFrame:
    """CSV cells: RFC 3339 UTC times, lower-case flags, plain integers, empty for unknown."""
    text = {}
    for column in frame.columns:
        values = frame[column]
        if isinstance(values.dtype, pd.DatetimeTZDtype):
            cells = values.dt.strftime("%Y-%m-%dT%H:%M:%S.%fZ").str.replace(".000000Z", "Z", regex=False)
        elif isinstance(values.dtype, pd.BooleanDtype):
            cells = values.map({True: "true", False: "false"})
        else:
            cells = values.astype(object)
        text[column] = cells.astype(object).where(values.notna(), None)
    return pd.DataFrame(text)


# ---- conversion per column kind ---------------------------------------------------------


class _Where(typing.NamedTuple):
    source: str
    column: str

    def fail(self, rows: np.ndarray, reason: str, values: pd.Series) -> typing.NoReturn:
        first = int(rows[0])
        shown = _python_values([values.iloc[first]])[0]
        more = f" (and {len(rows) - 1} more rows)" if len(rows) > 1 else ""
        raise DataError(
            f"{self.source}: column '{self.column}', row {first + 1}: {reason}, got {shown!r}{more}"
        )


def _to_time(raw: pd.Series, where: _Where) -> pd.Series:
    if isinstance(raw.dtype, pd.DatetimeTZDtype):
        return raw.dt.tz_convert("UTC").astype("datetime64[ns, UTC]")
    if pd.api.types.is_datetime64_dtype(raw.dtype):
        rows = np.flatnonzero(raw.notna().to_numpy())
        if len(rows):
            where.fail(rows, "time without a timezone", raw)
        return pd.Series(pd.NaT, index=raw.index, dtype="datetime64[ns, UTC]")
    text = raw.astype(object).where(raw.notna(), None)
    present = text.notna().to_numpy()
    as_str = text.astype(str).str.strip().astype("string[pyarrow]")  # RE2 over the column, not a Python loop
    # the contract's RFC 3339 (as the API reads it): pandas alone would also take "+0100", "+01",
    # a time without seconds or a date alone; `t` and `z` are RFC 3339 too, which pandas refuses
    rfc3339 = as_str.str.match(RFC3339_TIME.pattern).fillna(False).to_numpy(dtype=bool)
    parsed = pd.to_datetime(as_str.str.upper().astype(object).where(present & rfc3339, None), utc=True,
                            format="ISO8601", errors="coerce")
    bad = present & (~rfc3339 | parsed.isna().to_numpy())
    if bad.any():
        rows = np.flatnonzero(bad)
        first = as_str.iloc[int(rows[0])]
        naive = bool(_NAIVE_TIME.match(first))
        where.fail(rows, "time without a timezone" if naive else
                   "not an RFC 3339 time with a timezone (like 2026-11-24T10:15:02Z or 2026-11-24T11:15:02+01:00)",
                   raw)
    return parsed.astype("datetime64[ns, UTC]")


def _to_int(raw: pd.Series, where: _Where) -> pd.Series:
    if pd.api.types.is_bool_dtype(raw.dtype):
        where.fail(np.flatnonzero(raw.notna().to_numpy()), "a flag where an integer belongs", raw)
    present = raw.notna().to_numpy()
    numbers = pd.to_numeric(raw, errors="coerce")
    not_number = present & numbers.isna().to_numpy()
    if not_number.any():
        where.fail(np.flatnonzero(not_number), "not an integer", raw)
    as_float = numbers.to_numpy(dtype="float64", na_value=np.nan)
    fractional = present & (np.floor(as_float) != as_float)
    if fractional.any():
        where.fail(np.flatnonzero(fractional), "not a whole number", raw)
    return numbers.astype("Int64")


def _to_bool(raw: pd.Series, where: _Where) -> pd.Series:
    if pd.api.types.is_bool_dtype(raw.dtype):
        return raw.astype("boolean")
    text = _to_str(raw, where).str.strip().str.lower()
    is_true = text.isin(_TRUE).to_numpy()
    is_false = text.isin(_FALSE).to_numpy()
    bad = text.notna().to_numpy() & ~is_true & ~is_false
    if bad.any():
        where.fail(np.flatnonzero(bad), "not true or false", raw)
    return pd.Series(pd.arrays.BooleanArray(is_true, ~(is_true | is_false)))


def _to_str(raw: pd.Series, where: _Where) -> pd.Series:
    if not pd.api.types.is_string_dtype(raw.dtype) or raw.dtype == object:
        kind = pd.api.types.infer_dtype(raw, skipna=True)
        if kind not in ("string", "empty"):
            is_text = raw.map(lambda v: v is None or v != v or isinstance(v, str)).to_numpy()
            where.fail(np.flatnonzero(~is_text), "not text", raw)
    return raw.astype("str")


_EMPTY = {
    "time": lambda n: pd.Series(pd.NaT, index=range(n), dtype="datetime64[ns, UTC]"),
    "int": lambda n: pd.Series(pd.NA, index=range(n), dtype="Int64"),
    "bool": lambda n: pd.Series(pd.NA, index=range(n), dtype="boolean"),
    "str": lambda n: pd.Series(np.nan, index=range(n), dtype="str"),
}
_CONVERT = {"time": _to_time, "int": _to_int, "bool": _to_bool, "str": _to_str}


# ---- rules ---------------------------------------------------------------------------------


def _check_required(values: pd.Series, where: _Where) -> None:
    missing = values.isna().to_numpy()
    if missing.any():
        where.fail(np.flatnonzero(missing), "required value is missing", values)


def _check_ids(values: pd.Series, where: _Where) -> None:
    lengths = values.str.len().to_numpy(dtype="float64", na_value=np.nan)
    bad = (lengths == 0) | (lengths > MAX_ID_LENGTH)
    if bad.any():
        where.fail(np.flatnonzero(bad), f"an id must be 1 to {MAX_ID_LENGTH} characters", values)


def _check_with_adapter(values: pd.Series, adapter: TypeAdapter[Any], where: _Where) -> None:
    """Validate each distinct value with the contract field's own type."""
    distinct = pd.unique(values.dropna())
    reasons = {}
    for value in _python_values(distinct):
        try:
            adapter.validate_python(value)
        except ValidationError as exc:
            reasons[value] = exc.errors(include_url=False)[0]["msg"]
    if reasons:
        bad_rows = np.flatnonzero(values.isin(list(reasons)).to_numpy())
        where.fail(bad_rows, reasons[_python_values([values.iloc[bad_rows[0]]])[0]], values)


def _python_values(values: Iterable[Any]) -> list[Any]:
    return [v.item() if isinstance(v, np.generic) else v for v in values]


def _check_post_id(frame: pd.DataFrame, path: Path) -> None:
    """`post.post_id` is required whenever the order has a post."""
    post_columns = [c for c in frame.columns if c.startswith("post_") and c != "post_post_id"]
    has_post = frame[post_columns].notna().any(axis=1).to_numpy()
    orphan = has_post & frame["post_post_id"].isna().to_numpy()
    if orphan.any():
        _Where(str(path), "post_post_id").fail(
            np.flatnonzero(orphan), "required when the order has a post", frame["post_post_id"]
        )


def _check_unique(frame: pd.DataFrame, column: str, path: Path) -> None:
    repeated = frame[column].duplicated(keep="first").to_numpy()
    if repeated.any():
        _Where(str(path), column).fail(np.flatnonzero(repeated), "duplicate value", frame[column])
