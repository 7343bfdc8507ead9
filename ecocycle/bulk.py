"""Insert many rows in one statement, for jobs that write tens of thousands of rows.

The ORM's bulk_create builds a model instance and prepares every value one by one; for the
nightly job's hundred thousand scores that is most of its time. Here the caller gives values
already in database form (ints, str, Decimal, JSON text, one prepared datetime), and:
- PostgreSQL gets one INSERT ... SELECT FROM unnest(array, array, ...): one query whatever the
  number of rows;
- other databases get one executemany.
"""

from collections.abc import Sequence

from django.db import connection, models


def bulk_insert(model: type[models.Model], fields: Sequence[str], rows: Sequence[tuple]) -> int:
    """Insert `rows` (tuples in the order of `fields`) into `model`'s table; returns the count."""
    if not rows:
        return 0
    opts = model._meta
    columns = [opts.get_field(name).column for name in fields]
    quote = connection.ops.quote_name
    table = quote(opts.db_table)
    column_list = ", ".join(quote(c) for c in columns)
    with connection.cursor() as cursor:
        if connection.vendor == "postgresql":
            types = [opts.get_field(name).db_type(connection) for name in fields]
            arrays = ", ".join(f"%s::{t}[]" for t in types)
            cursor.execute(
                f"INSERT INTO {table} ({column_list}) SELECT * FROM unnest({arrays})",
                [list(column) for column in zip(*rows, strict=True)],
            )
        else:
            placeholders = ", ".join(["%s"] * len(columns))
            cursor.executemany(f"INSERT INTO {table} ({column_list}) VALUES ({placeholders})",
                               rows)
    return len(rows)


def prepared_datetime(value):
    """A datetime as the database wants it in a raw statement."""
    return connection.ops.adapt_datetimefield_value(value)
