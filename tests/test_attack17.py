"""Attacks on issue 17's build: a manifest that reads two ways (a key given twice), one nested
past Python's recursion limit, and one that is not a file (a FIFO would block `--verify` for
ever) are unreadable input, refused with a clear error, never accepted nor a traceback."""

from __future__ import annotations

import json
import os
import threading
from pathlib import Path

import pytest
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from insyn import signing
from insyn.audit import check_pack
from insyn.errors import InsynError


def signed(folder: Path, data: bytes) -> None:
    """`data` as the pack's manifest, validly signed by a key of the test's own."""
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "manifest.json").write_bytes(data)
    (folder / "manifest.sig").write_bytes(signing.encode_signature(Ed25519PrivateKey.generate().sign(data)))


def manifest_bytes(**extra) -> bytes:
    key = Ed25519PrivateKey.generate().public_key().public_bytes_raw()
    manifest = {"files": {}, "previous": None, "signer": {"algorithm": "Ed25519", "public_key": key.hex(),
                                                          "fingerprint": signing.fingerprint(key), "rotations": []},
                **extra}
    return json.dumps(manifest).encode("utf-8")


def test_a_manifest_with_a_key_given_twice_is_refused(tmp_path):
    data = manifest_bytes(year=2026).replace(b'"year": 2026', b'"year": 2025, "year": 2026')
    signed(tmp_path / "pack", data)
    with pytest.raises(InsynError, match="manifest.json: .*given twice"):
        check_pack(tmp_path / "pack")


def test_a_manifest_nested_past_the_recursion_limit_is_refused(tmp_path):
    signed(tmp_path / "pack", b"[" * 100_000 + b"]" * 100_000)
    with pytest.raises(InsynError, match="manifest.json: not an audit pack manifest"):
        check_pack(tmp_path / "pack")


def test_a_manifest_that_is_a_fifo_is_refused_without_waiting(tmp_path):
    pack = tmp_path / "pack"
    pack.mkdir()
    fifo = pack / "manifest.json"
    os.mkfifo(fifo)
    outcome = []

    def verify():
        try:
            check_pack(pack)
        except InsynError as exc:
            outcome.append(str(exc))

    thread = threading.Thread(target=verify, daemon=True)
    thread.start()
    thread.join(timeout=10)
    blocked = thread.is_alive()
    if blocked:   # release the reader (it waits for a writer) so that the thread ends
        os.close(os.open(fifo, os.O_WRONLY | os.O_NONBLOCK))
        thread.join(timeout=10)
    assert not blocked, "verify waited on a FIFO named manifest.json"
    assert outcome and "manifest.json: not an audit pack manifest" in outcome[0], outcome
