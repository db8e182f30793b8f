"""The Spark ingest's building blocks: DuckDB SQL as Spark SQL, HMAC-SHA256 in Spark SQL."""

from __future__ import annotations

import hashlib
import hmac

import pytest
import sqlglot

from bettercare.data import pseudonymise
from bettercare.data.spark_ingest.pseudonym import _padded, pseudonym_sql
from bettercare.data.spark_ingest.sql import to_spark


def test_whole_string_match_is_anchored_for_java_regex() -> None:
    sql = to_spark("SELECT regexp_full_match(x, '[0-9]{3}') FROM t")
    assert sql == "SELECT x RLIKE '^(?:[0-9]{3})$' FROM t"


def test_day_month_year_dates_parse_with_one_or_two_digits() -> None:
    sql = to_spark("SELECT try_strptime(x, '%d/%m/%Y') FROM t")
    assert sql == "SELECT TO_DATE(TRY_TO_TIMESTAMP(x, 'd/M/yyyy')) FROM t"


def test_padded_key_is_rfc_2104_ipad_and_opad() -> None:
    # RFC 4231 test case 2: key "Jefe", data "what do ya want for nothing?"
    inner, outer = _padded(b"Jefe")
    message = b"what do ya want for nothing?"
    first = hashlib.sha256(bytes.fromhex(inner) + message).digest()
    digest = hashlib.sha256(bytes.fromhex(outer) + first).hexdigest()
    assert digest == "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843"
    long_key = b"k" * 65 + b"0123456789abcdef"  # longer than a block: hashed first
    inner, outer = _padded(long_key)
    first = hashlib.sha256(bytes.fromhex(inner) + message).digest()
    assert (
        hashlib.sha256(bytes.fromhex(outer) + first).hexdigest()
        == hmac.digest(long_key, message, "sha256").hex()
    )


@pytest.mark.spark
def test_pseudonym_in_spark_sql_equals_the_duckdb_stores() -> None:
    from bettercare.data.spark_ingest.session import spark_session

    key = b"spark-pseudonym-test-key-0123456789abcdefghij"
    numbers = ["9434765919", "4010232137", None]
    spark = spark_session()
    frame = spark.createDataFrame([(n,) for n in numbers], "nhs STRING")
    got = [r[0] for r in frame.selectExpr(pseudonym_sql(key, "nhs")).collect()]
    assert got == [pseudonymise.pseudonym(key, n) if n else None for n in numbers]


def test_the_duckdb_pseudonym_function_becomes_hmac_in_spark_sql() -> None:
    key = b"spark-pseudonym-test-key-0123456789abcdefghij"
    sql = to_spark("SELECT bc_pseudonym(d) FROM u", key)
    expected = f"SELECT {pseudonym_sql(key, 'd')} FROM u"
    assert sqlglot.parse_one(sql, read="spark") == sqlglot.parse_one(expected, read="spark")
    with pytest.raises(ValueError, match="needs the pseudonymisation key"):
        to_spark("SELECT bc_pseudonym(d) FROM u")


def test_national_files_are_converted_only_from_paths_the_driver_reads() -> None:
    from bettercare.data.spark_ingest.files import local_path

    assert local_path("/data/feeds/ecds.csv") == "/data/feeds/ecds.csv"
    assert local_path("file:///data/feeds/ecds.csv") == "/data/feeds/ecds.csv"
    assert local_path("file:/data/feeds/ecds.csv") == "/data/feeds/ecds.csv"
    assert local_path("/dbfs/mnt/bcf/ecds.csv") == "/dbfs/mnt/bcf/ecds.csv"  # a mount
    assert local_path("hdfs:///bcf/feeds/ecds.csv") is None
    assert local_path("s3a://bucket/feeds/ecds.csv") is None
    assert local_path("dbfs:/mnt/bcf/ecds.csv") is None
