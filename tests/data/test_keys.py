"""Pseudonymisation keys: known-answer pseudonym, key strength, key-file permissions and
encoding, and the identity file tied to its key."""

from __future__ import annotations

import hashlib
import os
from pathlib import Path

import pyarrow as pa
import pytest
from conftest import KEY, NHS, write_feeds
from typer.testing import CliRunner

from bettercare.cli.main import app
from bettercare.data import identities, pseudonymise
from bettercare.data.ingest import ingest

OTHER_KEY = "another-key-0123456789abcdef0123456789ab"


def test_pseudonym_known_answer() -> None:
    # Worked out independently of Python's hmac, in the shell:
    #   printf '%s' 9990000018 | openssl dgst -sha256 \
    #       -hmac 'bars-test-key-0123456789abcdef0123456789'
    expected = "e52e881a7f8d331bea5a8b77b1e2b5faac74d9ed0d5af2f75b26f28863f5e3b3"
    key = b"bars-test-key-0123456789abcdef0123456789"
    assert pseudonymise.pseudonym(key, "9990000018") == expected
    values = pa.array(["9990000018", None])
    assert pseudonymise.pseudonym_array(key, values).to_pylist() == [expected, None]


# RFC 4231, test cases 1, 2 and 6: keys shorter than, and longer than, SHA-256's block
RFC_4231 = [
    (b"\x0b" * 20, b"Hi There", "b0344c61d8db38535ca8afceaf0bf12b881dc200c9833da726e9376c2e32cff7"),
    (
        b"Jefe",
        b"what do ya want for nothing?",
        "5bdcc146bf60754e6a042426089575c75a003f089d2739839dec58b964ec3843",
    ),
    (
        b"\xaa" * 131,
        b"Test Using Larger Than Block-Size Key - Hash Key First",
        "60e431591ee0b67f0d8a26aacbf5b77f8e0bc6213728c5140546040f0ee37f54",
    ),
]


@pytest.mark.parametrize(("key", "data", "expected"), RFC_4231)
def test_pseudonym_array_is_hmac_sha256(key: bytes, data: bytes, expected: str) -> None:
    """The array form hashes from precomputed pads: RFC 4231's answers, repeats and nulls."""
    text = data.decode()
    values = pa.chunked_array([[text, None], [text, "9990000018", None]])
    got = pseudonymise.pseudonym_array(key, values).to_pylist()
    assert got == [expected, None, expected, pseudonymise.pseudonym(key, "9990000018"), None]


def test_key_check_value_known_answer() -> None:
    # printf '%s' 'bettercare key check v1' | openssl dgst -sha256 \
    #     -hmac 'bars-test-key-0123456789abcdef0123456789'   (first 16 hex digits)
    key = b"bars-test-key-0123456789abcdef0123456789"
    assert pseudonymise.key_check_value(key) == "5435c911d537417f"


@pytest.mark.parametrize(
    ("text", "reason"),
    [
        ("abc", "too short"),
        ("0123456789abcdef0123456789abcde", "too short"),  # 31 bytes
        ("k" * 64, "too predictable"),  # one repeated character: 0 bits per character
        ("ab" * 32, "too predictable"),  # 1 bit per character
        ("password" * 4, "too predictable"),  # 2.75 bits per character
    ],
)
def test_weak_keys_are_refused(monkeypatch: pytest.MonkeyPatch, text: str, reason: str) -> None:
    monkeypatch.setenv(pseudonymise.KEY_ENV, text)
    with pytest.raises(pseudonymise.PseudonymKeyError, match=reason):
        pseudonymise.load_key()


@pytest.mark.parametrize("text", [KEY, OTHER_KEY, "0123456789abcdef" * 2])
def test_acceptable_keys(monkeypatch: pytest.MonkeyPatch, text: str) -> None:
    monkeypatch.setenv(pseudonymise.KEY_ENV, text)
    assert pseudonymise.load_key() == text.encode()


def test_bits_per_character_hand_worked() -> None:
    assert pseudonymise.bits_per_character("k" * 64) == 0.0
    assert pseudonymise.bits_per_character("abab") == 1.0
    assert pseudonymise.bits_per_character("0123456789abcdef") == 4.0  # 16 equally likely


def test_generated_key_is_accepted(tmp_path: Path) -> None:
    path = pseudonymise.new_key_file(tmp_path / "k.key")
    assert len(pseudonymise.load_key(path)) == 64


def test_key_file_readable_by_others_is_refused(tmp_path: Path) -> None:
    path = pseudonymise.new_key_file(tmp_path / "k.key")
    for mode in (0o644, 0o640, 0o604, 0o660):
        os.chmod(path, mode)
        with pytest.raises(pseudonymise.PseudonymKeyError, match=f"chmod 600 {path}"):
            pseudonymise.load_key(path)
    os.chmod(path, 0o400)  # owner-only read is fine
    assert pseudonymise.load_key(path)


def test_binary_key_file_is_a_one_line_error(tmp_path: Path, feed_dir: Path, store: Path) -> None:
    path = tmp_path / "secret" / "bin.key"
    path.parent.mkdir()
    path.write_bytes(bytes(range(256)) * 2)
    os.chmod(path, 0o600)
    with pytest.raises(pseudonymise.PseudonymKeyError, match="not UTF-8 text"):
        pseudonymise.load_key(path)
    result = CliRunner().invoke(
        app, ["ingest", str(feed_dir), "--store", str(store), "--key-file", str(path)]
    )
    assert result.exit_code == 2
    assert result.exception is None or isinstance(result.exception, SystemExit)
    assert "not UTF-8 text" in result.output
    assert not store.exists()


def test_cli_refuses_a_key_file_others_can_read(tmp_path: Path, feed_dir: Path, store: Path):
    path = pseudonymise.new_key_file(tmp_path / "secret" / "k.key")
    os.chmod(path, 0o644)
    result = CliRunner().invoke(
        app, ["ingest", str(feed_dir), "--store", str(store), "--key-file", str(path)]
    )
    assert result.exit_code == 2
    assert f"run `chmod 600 {path}`" in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not store.exists()


def test_weak_key_in_the_environment_exits_2(
    monkeypatch: pytest.MonkeyPatch, feed_dir: Path, store: Path
) -> None:
    monkeypatch.setenv(pseudonymise.KEY_ENV, "k" * 64)
    result = CliRunner().invoke(app, ["ingest", str(feed_dir), "--store", str(store)])
    assert result.exit_code == 2
    assert "too predictable (0.00 bits" in result.output
    assert len(result.output.strip().splitlines()) == 1  # one line, even when long
    assert not store.exists()


# -- the identity file carries the key check value ------------------------------------


def _digest(path: Path) -> str:
    return hashlib.sha256(path.read_bytes()).hexdigest()


def test_identity_file_is_stamped_and_refuses_another_key(tmp_path: Path) -> None:
    path = tmp_path / "restricted" / "ids.duckdb"
    identities.bind_key(path, KEY.encode())
    assert identities.read(path, KEY.encode()) is not None  # empty, stamped
    before = _digest(path)
    for call in (
        lambda: identities.bind_key(path, OTHER_KEY.encode()),
        lambda: identities.read(path, OTHER_KEY.encode()),
        lambda: identities.write(path, None, OTHER_KEY.encode()),
        lambda: identities.check_key(path, OTHER_KEY.encode()),
    ):
        with pytest.raises(identities.IdentityFileError, match="different pseudonymisation key"):
            call()
    assert _digest(path) == before  # nothing written
    identities.check_key(path, KEY.encode())  # the right key passes


def test_cli_ingest_refuses_identity_file_of_another_key(
    tmp_path: Path, monkeypatch: pytest.MonkeyPatch
) -> None:
    feeds = write_feeds(tmp_path / "in")
    store = tmp_path / "store" / "s.duckdb"
    ids = tmp_path / "restricted" / "ids.duckdb"
    monkeypatch.setenv(pseudonymise.KEY_ENV, KEY)
    args = ["ingest", str(feeds), "--store", str(store), "--identities", str(ids)]
    first = CliRunner().invoke(app, args)
    assert first.exit_code == 0, first.output
    held = identities.read(ids, KEY.encode())
    assert held is not None and held.num_rows > 0
    store_before, ids_before = _digest(store), _digest(ids)

    other_store = tmp_path / "other" / "s.duckdb"
    monkeypatch.setenv(pseudonymise.KEY_ENV, OTHER_KEY)
    result = CliRunner().invoke(
        app, ["ingest", str(feeds), "--store", str(other_store), "--identities", str(ids)]
    )
    assert result.exit_code == 2
    assert "different pseudonymisation key" in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not other_store.exists()  # nothing written
    assert _digest(ids) == ids_before and _digest(store) == store_before


def test_identity_file_without_key_check_value_is_refused(tmp_path: Path) -> None:
    path = tmp_path / "r" / "ids.duckdb"
    identities.write(path, None)  # as an older version wrote it: no identity_meta
    with pytest.raises(identities.IdentityFileError, match="no key check value"):
        identities.check_key(path, KEY.encode())


def test_library_ingest_with_bound_identity_file(tmp_path: Path) -> None:
    """The identities written by ingest keep the stamp set by bind_key."""
    feeds = write_feeds(tmp_path / "in")
    ids = tmp_path / "restricted" / "ids.duckdb"
    identities.bind_key(ids, KEY.encode())
    ingest(feeds, tmp_path / "s" / "s.duckdb", KEY.encode(), identity_file=ids)
    held = identities.read(ids, KEY.encode())
    assert held is not None
    assert pseudonymise.pseudonym(KEY.encode(), NHS[0]) in held.column("person_id").to_pylist()
    with pytest.raises(identities.IdentityFileError):
        identities.read(ids, OTHER_KEY.encode())


def test_identity_file_that_is_not_duckdb_exits_2(
    tmp_path: Path, feed_dir: Path, store: Path, key_env: bytes
) -> None:
    ids = tmp_path / "restricted" / "ids.duckdb"
    ids.parent.mkdir()
    ids.write_text("names and dates of birth, but not a database\n")
    result = CliRunner().invoke(
        app, ["ingest", str(feed_dir), "--store", str(store), "--identities", str(ids)]
    )
    assert result.exit_code == 2
    assert "not a DuckDB database" in result.output
    assert len(result.output.strip().splitlines()) == 1
    assert not store.exists()


def test_the_evaluation_guide_layout_keeps_the_key_outside_the_data(tmp_path: Path) -> None:
    """docs/evaluation.md, run from a checkout that sits in a temporary folder: the store in
    ``data/eval`` and the key in ``keys/`` are apart; a store written straight into the
    temporary folder makes all of it the data's folder, the checkout's ``keys/`` too."""
    checkout = tmp_path / "bettercare"
    key = pseudonymise.new_key_file(checkout / "keys" / "bettercare.key")
    feeds, store = checkout / "data" / "eval" / "synth", checkout / "data" / "eval" / "s.duckdb"
    assert pseudonymise.load_key(key, [feeds, store.parent])  # the guide's layout
    loose_store = tmp_path / "store.duckdb"  # --store /tmp/store.duckdb
    with pytest.raises(pseudonymise.PseudonymKeyError, match="a folder holding the data"):
        pseudonymise.load_key(key, [tmp_path / "synth", loose_store.parent])
