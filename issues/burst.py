"""Set-based writing for the SLA scan's batches: a batch's rows in a few statements, from plain tuples.

Django's ``bulk_create`` and ``bulk_update`` build one model object per row and prepare each field of each
object in Python, then send every value as a literal for the database to parse. In a burst (thousands of
clocks running out at once after a beat outage, a mass import or a policy edit) that was most of the scan's
time, spent while it held its row locks. Here PostgreSQL receives a batch's rows through ``COPY`` (its bulk
loading path: no SQL to parse per value), straight into the table — where a unique key may already be
taken, in a savepoint first — or into a temporary staging table when a key was taken after all
(``INSERT … SELECT … ON CONFLICT DO NOTHING``) or when rows are updated (``UPDATE … FROM``). SQLite, in
process, takes multi-row statements. The columns not given take their model defaults. What is written, to
whom and under which key is decided elsewhere (``notifications.emails``, ``notifications.recipients``,
``issues.scan``): this module writes what it is given.
"""

from __future__ import annotations

import io
import json
import sqlite3
import zlib
from collections.abc import Callable, Iterable, Sequence
from contextlib import nullcontext
from datetime import datetime
from typing import Any, NamedTuple

from django.core.exceptions import FullResultSet
from django.db import IntegrityError, connection, models, transaction
from django.db.models.constants import OnConflict

from notifications.addresses import single_line
from notifications.models import OutboundEmail
from notifications.outbox import Email, new_message_id, nudge_delivery

# Rows per statement on SQLite are bounded by its parameter limit; on PostgreSQL one COPY takes a batch.
ROWS_PER_STATEMENT = 2000
# The outbox columns a queued email fills; the others (subject, body, status, attempts…) take their defaults.
EMAIL_FIELDS = ("recipient", "recipient_name", "language", "kind", "issue", "contact", "context", "dedupe_key",
                "message_id", "created_at", "next_attempt_at")
TEXT = frozenset({"CharField", "EmailField", "SlugField", "TextField"})
NUMBER = frozenset({"AutoField", "BigAutoField", "ForeignKey", "IntegerField", "PositiveIntegerField", "UUIDField"})
# COPY's text format: a tab between columns, \N for NULL, a backslash, tab, newline or carriage return escaped.
NULL = "\\N"


class Queued(NamedTuple):
    """One outbox row a batch wrote: enough to note it on the issue's timeline and to count who heard."""

    dedupe_key: str
    issue_id: int | None
    contact_id: int | None
    kind: str
    recipient: str


def insert(model: type[models.Model], fields: Sequence[str], rows: Iterable[Sequence[Any]], *,
           skip_conflicts: bool = False, returning: Sequence[str] = ()) -> list[tuple]:
    """Insert `rows` (tuples of values, in the order of `fields`) into the model's table; every other column
    takes its model default. `skip_conflicts`: a row that would break a unique constraint is skipped, not an
    error (its cause was written already: twice is once). `returning`: the fields to read back for each row
    written, rows skipped left out."""
    rows = list(rows)
    if not rows:
        return []
    given = [model._meta.get_field(name) for name in fields]
    defaulted = [field for field in model._meta.concrete_fields
                 if field not in given and not field.primary_key and field.db_default is models.NOT_PROVIDED]
    back = [model._meta.get_field(name) for name in returning]
    if connection.vendor == "postgresql":
        return _insert_copied(model, given, defaulted, rows, skip_conflicts=skip_conflicts, returning=back)
    return _insert_values(model, given, defaulted, rows, skip_conflicts=skip_conflicts, returning=back)


def update(model: type[models.Model], fields: Sequence[str], rows: Iterable[Sequence[Any]]) -> None:
    """Give each row its own values: `rows` are (pk, *values in the order of `fields`). A ``claim`` with no
    condition but the row's key."""
    claim(model._base_manager.all(), fields, rows)


def claim(candidates: models.QuerySet, fields: Sequence[str], rows: Iterable[Sequence[Any]]) -> list[int]:
    """Give each row its own values (pk, *values in the order of `fields`) where its row still meets the
    condition of `candidates` (a queryset of one table, without joins), re-checked in the UPDATE itself; returns
    the pks written, which are the claim, whatever was read before."""
    rows = list(rows)
    if not rows:
        return []
    model = candidates.model
    quote = connection.ops.quote_name
    targets = [model._meta.pk, *(model._meta.get_field(name) for name in fields)]
    table, pk = quote(model._meta.db_table), quote(model._meta.pk.column)
    query = candidates.query
    try:
        condition, condition_params = query.get_compiler(using=candidates.db).compile(query.where)
    except FullResultSet:  # every row: an update without a condition
        condition, condition_params = "1 = 1", []
    with connection.cursor() as cursor:
        if connection.vendor != "postgresql":  # SQLite: the rows as a VALUES list, as many as a statement takes
            adapters = [_adapter(field) for field in targets]
            assignments = ", ".join(f"{quote(field.column)} = staged.column{n}"
                                    for n, field in enumerate(targets[1:], 2))
            size = max(1, min(ROWS_PER_STATEMENT, (_parameter_limit() - len(condition_params)) // len(targets)))
            written = []
            for start in range(0, len(rows), size):
                chunk = rows[start:start + size]
                values = [value if adapt is None else adapt(value)
                          for row in chunk for adapt, value in zip(adapters, row, strict=True)]
                row_sql = f"({', '.join(['%s'] * len(targets))})"
                cursor.execute(f"UPDATE {table} SET {assignments} FROM (VALUES {', '.join([row_sql] * len(chunk))}) "
                               f"AS staged WHERE {table}.{pk} = staged.column1 AND ({condition}) "
                               f"RETURNING {table}.{pk}", [*values, *condition_params])
                written += [pk_ for (pk_,) in cursor.fetchall()]
            return written
        with transaction.atomic(savepoint=False):  # the staging table is this session's: one transaction
            stage = _stage(cursor, model, targets)
            _copy(cursor, stage, targets, _copy_text(targets, rows))
            assignments = ", ".join(f"{quote(field.column)} = staged.{quote(field.column)}" for field in targets[1:])
            cursor.execute(f"UPDATE {table} SET {assignments} FROM {stage} AS staged "
                           f"WHERE {table}.{pk} = staged.{pk} AND ({condition}) RETURNING {table}.{pk}",
                           condition_params)
            written = [pk_ for (pk_,) in cursor.fetchall()]
            cursor.execute(f"DELETE FROM {stage}")
    return written


def load(queryset: models.QuerySet, fields: Sequence[str], *,
         related: dict[str, models.QuerySet] | None = None) -> list[models.Model]:
    """The rows of `queryset` as model objects holding `fields`, the pk and the queryset's annotations, set straight
    from each row's values. (Django's own loading gives each object every field of the model, prepared one by one:
    in a burst, the largest part of reading a batch.) A field left out is deferred, as with ``only``: reading it
    costs a query. `related`: foreign keys to load at once for the batch, each from its own queryset (the
    customers of a batch are a few dozen: each is loaded once and shared, not joined to every row)."""
    model = queryset.model
    names = [model._meta.pk.attname, *(model._meta.get_field(name).attname for name in fields),
             *queryset.query.annotations]
    rows = queryset.values_list(*names)
    db, new, objects = rows.db, model.__new__, []
    for row in rows:
        instance = new(model)
        instance._state = state = models.base.ModelState()
        state.db, state.adding = db, False
        instance.__dict__.update(zip(names, row))
        objects.append(instance)
    for name, source in (related or {}).items():
        field = model._meta.get_field(name)
        found = source.in_bulk({getattr(instance, field.attname) for instance in objects} - {None})
        for instance in objects:
            field.set_cached_value(instance, found.get(getattr(instance, field.attname)))
    return objects


def enqueue(emails: list[Email], *, now: datetime) -> list[Queued]:
    """``notifications.outbox.enqueue`` for a scan's batch: the same rows (the name on one line, a Message-ID
    carrying the reply token, due at the email's ``not_before`` or now), written set-based. A dedupe key the
    outbox holds already is skipped by the database itself, so what comes back is exactly what this call
    wrote, in the order given. (No undo hold applies: a hold belongs to a person's quick action, never to
    the scan.)"""
    keys = [email.dedupe_key[:255] for email in emails]
    rows = [(email.recipient, single_line(email.recipient_name, 200), email.language, email.kind, email.issue_id,
             email.contact_id, email.context, key, new_message_id(email), now, email.not_before or now)
            for email, key in zip(emails, keys, strict=True)]
    fresh = {key for (key,) in insert(OutboundEmail, EMAIL_FIELDS, rows, skip_conflicts=True,
                                      returning=("dedupe_key",))}
    if fresh:
        transaction.on_commit(nudge_delivery)
    written = []
    for email, key in zip(emails, keys, strict=True):
        if key in fresh:
            fresh.discard(key)  # a key given twice in one batch was written once
            written.append(Queued(key, email.issue_id, email.contact_id, email.kind, email.recipient))
    return written


# --- PostgreSQL: COPY ------------------------------------------------------------------------------------


def _insert_copied(model: type[models.Model], given: list, defaulted: list, rows: list, *, skip_conflicts: bool,
                   returning: list) -> list[tuple]:
    quote = connection.ops.quote_name
    fields = given + defaulted
    # The defaults are the same on every row: encoded once, they close each line.
    closing = "".join("\t" + encode(field.get_default()) for field, encode in zip(defaulted, _encoders(defaulted)))
    text = _copy_text(given, rows, closing=closing)
    with connection.cursor() as cursor, transaction.atomic(savepoint=False):
        if not skip_conflicts and not returning:
            _copy(cursor, quote(model._meta.db_table), fields, text)
            return []
        if skip_conflicts and all(field in given for field in returning):
            # Nearly always no key is taken (a scan's rows are named after causes no scan has handled yet):
            # straight in, in a savepoint, and every row given was written. A key taken after all undoes this
            # attempt alone, and the staging table below skips exactly the rows whose keys are taken.
            try:
                with transaction.atomic():
                    _copy(cursor, quote(model._meta.db_table), fields, text)
            except IntegrityError:
                pass
            else:
                positions = [given.index(field) for field in returning]
                return [tuple(row[at] for at in positions) for row in rows]
        # A unique key may be taken already: the rows wait in a staging table (this session's: hence one
        # transaction), and one INSERT … SELECT lets the database skip what it holds and say what it wrote.
        stage = _stage(cursor, model, fields)
        _copy(cursor, stage, fields, text)
        columns = ", ".join(quote(field.column) for field in fields)
        sql = f"INSERT INTO {quote(model._meta.db_table)} ({columns}) SELECT {columns} FROM {stage}"
        if skip_conflicts:
            sql += " " + connection.ops.on_conflict_suffix_sql(fields, OnConflict.IGNORE, None, None)
        if returning:
            sql += " " + connection.ops.return_insert_columns(returning)[0]
        cursor.execute(sql)
        written = cursor.fetchall() if returning else []
        cursor.execute(f"DELETE FROM {stage}")
    return written


def _stage(cursor, model: type[models.Model], fields: list) -> str:
    """A temporary table of this connection with the given columns of the model's table, empty, made once."""
    quote = connection.ops.quote_name
    columns = [field.column for field in fields]
    name = quote(f"burst_{model._meta.db_table}_{zlib.crc32(' '.join(columns).encode()):08x}")
    cursor.execute(f"CREATE TEMPORARY TABLE IF NOT EXISTS {name} AS SELECT "
                   f"{', '.join(quote(column) for column in columns)} FROM {quote(model._meta.db_table)} WITH NO DATA")
    return name


def _copy(cursor, table: str, fields: list, text: str) -> None:
    sql = f"COPY {table} ({', '.join(connection.ops.quote_name(field.column) for field in fields)}) FROM STDIN"
    # A COPY bypasses Django's query log: it is noted there as any statement is, when the log is on.
    with cursor.debug_sql(sql) if hasattr(cursor, "debug_sql") else nullcontext():
        driver = cursor.cursor
        if hasattr(driver, "copy_expert"):  # psycopg2 (its errors made Django's, as a statement's are)
            with connection.wrap_database_errors:
                driver.copy_expert(sql, io.StringIO(text))
            return
        with connection.wrap_database_errors, driver.copy(sql) as copy:  # psycopg 3
            copy.write(text)


def _copy_text(fields: list, rows: list, *, closing: str = "") -> str:
    """Rows in COPY's text format: a tab between values, a line per row (`closing` ends each line)."""
    encoders = _encoders(fields)
    end = closing + "\n"
    return "".join("\t".join([encode(value) for encode, value in zip(encoders, row, strict=True)]) + end
                   for row in rows)


def _encoders(fields: list) -> list[Callable[[Any], str]]:
    moments: dict = {}  # a batch's times are mostly the same few instants: each is written out once

    def moment(value) -> str:
        if value is None:
            return NULL
        text = moments.get(value)
        if text is None:
            text = moments[value] = value.isoformat()
        return text

    def encoder(field: models.Field) -> Callable[[Any], str]:
        kind = field.get_internal_type()
        if kind in TEXT:
            return lambda value: NULL if value is None else _escaped(value)
        if kind in NUMBER:
            return lambda value: NULL if value is None else str(value)
        if kind == "BooleanField":
            return lambda value: NULL if value is None else ("t" if value else "f")
        if kind in ("DateTimeField", "DateField"):
            return moment
        if kind == "JSONField":
            encode = (field.encoder or json.JSONEncoder)().encode  # one encoder for the batch, not one per value
            return lambda value: _escaped(encode(value))
        raise TypeError(f"{field} ({kind}): not written by issues.burst")

    return [encoder(field) for field in fields]


def _escaped(text: str) -> str:
    if "\\" in text or "\t" in text or "\n" in text or "\r" in text:  # rare: most values pass untouched
        return text.replace("\\", "\\\\").replace("\t", "\\t").replace("\n", "\\n").replace("\r", "\\r")
    return text


# --- SQLite: multi-row INSERT ------------------------------------------------------------------------------


def _insert_values(model: type[models.Model], given: list, defaulted: list, rows: list, *, skip_conflicts: bool,
                   returning: list) -> list[tuple]:
    quote = connection.ops.quote_name
    fields = given + defaulted
    adapters = [_adapter(field) for field in given]
    defaults = [_adapted(field, field.get_default()) for field in defaulted]
    head = (f"{connection.ops.insert_statement(on_conflict=OnConflict.IGNORE if skip_conflicts else None)} "
            f"{quote(model._meta.db_table)} ({', '.join(quote(field.column) for field in fields)}) VALUES ")
    tail = connection.ops.on_conflict_suffix_sql(fields, OnConflict.IGNORE, None, None) if skip_conflicts else ""
    if returning:
        tail += " " + connection.ops.return_insert_columns(returning)[0]
    row_sql = f"({', '.join(['%s'] * len(fields))})"
    size = min(ROWS_PER_STATEMENT, _parameter_limit() // len(fields))
    written: list[tuple] = []
    with connection.cursor() as cursor:
        for start in range(0, len(rows), size):
            chunk = rows[start:start + size]
            params: list = []
            for row in chunk:
                params += [value if adapt is None else adapt(value) for adapt, value in zip(adapters, row, strict=True)]
                params += defaults
            cursor.execute(head + ", ".join([row_sql] * len(chunk)) + tail, params)
            if returning:
                written += cursor.fetchall()
    return written


def _parameter_limit() -> int:
    """How many values one statement may carry: what SQLite itself allows (32,766 since 3.32), where it says."""
    connection.ensure_connection()
    if hasattr(connection.connection, "getlimit"):
        return connection.connection.getlimit(sqlite3.SQLITE_LIMIT_VARIABLE_NUMBER)
    return connection.features.max_query_params or 999


def _adapter(field: models.Field) -> Callable[[Any], Any] | None:
    kind = field.get_internal_type()
    if kind in TEXT or kind in NUMBER and kind != "UUIDField" or kind == "BooleanField":
        return None
    if kind == "DateTimeField":
        return connection.ops.adapt_datetimefield_value
    if kind == "DateField":
        return connection.ops.adapt_datefield_value
    return lambda value: field.get_db_prep_save(value, connection)


def _adapted(field: models.Field, value: Any) -> Any:
    adapt = _adapter(field)
    return value if adapt is None else adapt(value)
