# Atlas — scripts
# SPDX-License-Identifier: Apache-2.0
"""Exports every model of a dbt project from DuckDB (real dbt) and from Atlas's databases
(tables `data_model_<name>`) as sorted, normalised CSV, and diffs each against DuckDB's."""

import argparse
import csv
import decimal
import difflib
import io
import os
import sqlite3
import sys


def models(project):
    found = []
    for folder, _, files in os.walk(os.path.join(project, "models")):
        found += [name[:-4] for name in files if name.endswith(".sql")]
    return sorted(found)


def normalise(value):
    if value is None:
        return ""
    if isinstance(value, bool):
        return "true" if value else "false"
    if isinstance(value, int):
        return str(value)
    if isinstance(value, (float, decimal.Decimal)):
        number = float(value)
        if number == int(number):
            return str(int(number))
        return f"{number:.6f}".rstrip("0")
    return str(value)


def table_csv(columns, rows):
    lines = sorted([normalise(v) for v in row] for row in rows)
    out = io.StringIO()
    writer = csv.writer(out, lineterminator="\n")
    writer.writerow([c.lower() for c in columns])
    writer.writerows(lines)
    return out.getvalue()


def read_duckdb(path, model):
    import duckdb
    with duckdb.connect(path, read_only=True) as conn:
        cursor = conn.execute(f'select * from "{model}"')
        return [d[0] for d in cursor.description], cursor.fetchall()


def read_sqlite(path, model):
    with sqlite3.connect(path) as conn:
        cursor = conn.execute(f'select * from "data_model_{model}"')
        return [d[0] for d in cursor.description], cursor.fetchall()


def read_postgres(url, model):
    import psycopg
    with psycopg.connect(url) as conn:
        cursor = conn.execute(f'select * from "data_model_{model}"')
        return [d.name for d in cursor.description], cursor.fetchall()


def main():
    parser = argparse.ArgumentParser()
    parser.add_argument("--project", required=True)
    parser.add_argument("--duckdb", required=True)
    parser.add_argument("--sqlite", required=True)
    parser.add_argument("--postgres")
    parser.add_argument("--out", required=True)
    args = parser.parse_args()

    readers = [("sqlite", lambda m: read_sqlite(args.sqlite, m))]
    if args.postgres:
        readers.append(("postgres", lambda m: read_postgres(args.postgres, m)))

    failures = 0
    names = models(args.project)
    for model in names:
        columns, rows = read_duckdb(args.duckdb, model)
        expected = table_csv(columns, rows)
        with open(os.path.join(args.out, f"{model}.duckdb.csv"), "w") as handle:
            handle.write(expected)
        for label, read in readers:
            try:
                columns, rows = read(model)
                actual = table_csv(columns, rows)
            except Exception as error:  # a missing table is a mismatch, reported as such
                actual = f"error: {error}\n"
            with open(os.path.join(args.out, f"{model}.{label}.csv"), "w") as handle:
                handle.write(actual)
            if actual == expected:
                print(f"same      {model:<24} {label:<9} {expected.count(chr(10)) - 1} rows")
            else:
                failures += 1
                print(f"DIFFERENT {model:<24} {label}")
                diff = difflib.unified_diff(expected.splitlines(), actual.splitlines(), "duckdb", label, lineterm="", n=1)
                for line in list(diff)[:20]:
                    print("    " + line)
    backends = len(readers)
    print(f"{len(names) * backends - failures} of {len(names) * backends} model tables identical "
          f"({len(names)} models x {backends} backend{'s' if backends > 1 else ''})")
    sys.exit(1 if failures else 0)


if __name__ == "__main__":
    main()
