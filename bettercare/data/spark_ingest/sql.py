r"""The ingest's DuckDB SQL, evaluated on Spark: one definition, two engines.

The row rules, staging casts, store values and linkage standardisation are written once,
as DuckDB SQL (:mod:`bettercare.data.ingest.rules`, :mod:`bettercare.data.schema`,
:mod:`bettercare.data.linkage`). :func:`to_spark` transpiles such a statement to Spark
SQL with SQLGlot and rewrites the few DuckDB functions SQLGlot passes through unchanged:

* ``regexp_full_match(x, p)``: ``x RLIKE '^(?:p)$'`` (a whole-string match; DuckDB's
  RE2 and Java's regex agree on the patterns the rules use: classes, ``\p{Lu}``,
  ``(?i)``, counted repeats);
* ``try_strptime(x, '%d/%m/%Y')``: ``to_date(try_to_timestamp(x, 'd/M/yyyy'))``;
* ``bc_pseudonym(x)`` (the DuckDB ingest's keyed pseudonym function), when a key is
  given: HMAC-SHA256 in Spark SQL (:func:`.pseudonym.pseudonym_sql`).

Nothing here reads data; it only rewrites text. ``tests/data/test_spark_ingest.py``
checks the rules' findings are equal on both engines.
"""

from __future__ import annotations

from typing import Any

import sqlglot
from sqlglot import exp

from bettercare.data.spark_ingest.pseudonym import pseudonym_sql

#: strptime directives (DuckDB) -> Java DateTimeFormatter letters (Spark), lenient on
#: one-digit day and month as ``%d`` / ``%m`` are.
_STRPTIME = {"%d": "d", "%m": "M", "%Y": "yyyy", "%H": "H", "%M": "m", "%S": "s"}


def _java_format(fmt: str) -> str:
    for directive, letters in _STRPTIME.items():
        fmt = fmt.replace(directive, letters)
    return fmt


def _rewrite(node: exp.Expression, key: bytes | None = None) -> exp.Expression:
    if isinstance(node, exp.RegexpFullMatch):
        pattern = node.expression
        if not isinstance(pattern, exp.Literal):  # only literal patterns are written
            raise ValueError(f"regexp_full_match with a non-literal pattern: {node.sql()}")
        anchored = exp.Literal.string(f"^(?:{pattern.this})$")
        return exp.RegexpLike(this=node.this, expression=anchored)
    if isinstance(node, exp.Anonymous) and str(node.this).lower() == "try_strptime":
        value, fmt = node.expressions
        java = exp.Literal.string(_java_format(fmt.name))
        parsed = exp.Anonymous(this="try_to_timestamp", expressions=[value, java])
        return exp.Anonymous(this="to_date", expressions=[parsed])
    if isinstance(node, exp.Anonymous) and str(node.this).lower() == "bc_pseudonym":
        if key is None:
            raise ValueError("bc_pseudonym needs the pseudonymisation key")
        (value,) = node.expressions
        hmac = sqlglot.parse_one(pseudonym_sql(key, value.sql(dialect="spark")), read="spark")
        assert isinstance(hmac, exp.Expression)
        return hmac
    return node


def to_spark(sql: str, key: bytes | None = None) -> str:
    """The DuckDB statement or expression ``sql`` as Spark SQL.

    ``key``: the pseudonymisation key, when ``sql`` calls ``bc_pseudonym``.
    """
    tree = sqlglot.parse_one(sql, read="duckdb")
    return tree.transform(lambda node: _rewrite(node, key)).sql(dialect="spark")


def run(spark: Any, sql: str) -> Any:
    """Run the DuckDB statement ``sql`` on Spark; a DataFrame.

    ``CREATE [OR REPLACE] [TEMP] TABLE name AS SELECT ...`` becomes a materialised
    (``localCheckpoint``) temporary view of that name (nothing is written to a
    warehouse); anything else is a query.
    """
    tree = sqlglot.parse_one(sql, read="duckdb")
    if isinstance(tree, exp.Create) and isinstance(tree.expression, exp.Query):
        name = tree.this.name if isinstance(tree.this, exp.Table) else tree.this.this.name
        select = tree.expression.transform(_rewrite).sql(dialect="spark")
        # materialised with its lineage cut: later plans stay small (a view of a view
        # of the rules' union would grow every plan Splink builds on it)
        frame = spark.sql(select).localCheckpoint()
        frame.createOrReplaceTempView(name)
        return frame
    return spark.sql(tree.transform(_rewrite).sql(dialect="spark"))
