"""The DPO's signing key for audit packs: Ed25519 (the `cryptography` library), its fingerprint,
and the statements that hand the signing over from one key to the next.

The private key lives in the workbench's secrets folder beside the suppression salt, owner-only,
created on the first audit pack. An auditor is given its fingerprint once, out of band: the
SHA-256 of the raw 32-byte public key, in hex. When the DPO replaces the key (`insyn audit
--rotate-key`), the old key signs a statement naming the new one; every later pack carries the
statements, so an auditor holding the old fingerprint (or last year's pack) follows the chain.
"""

from __future__ import annotations

import base64
import datetime as dt
import hashlib
import json
import os
import re
import secrets as pysecrets
import stat
from dataclasses import dataclass
from pathlib import Path

from cryptography.exceptions import InvalidSignature
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey, Ed25519PublicKey

from .errors import InsynError
from .files import replace_private, write_private

KEY_FILE = "audit-signing.key"
ROTATIONS_FILE = "audit-signing.rotations.json"
ALGORITHM = "Ed25519"
ROTATION = "insyn audit signing key rotation"
_SEPARATORS = re.compile(r"[\s:._-]")


def fingerprint(public_raw: bytes) -> str:
    return hashlib.sha256(public_raw).hexdigest()


def grouped(fp: str) -> str:
    """A fingerprint in groups of four, for reading aloud or comparing by eye."""
    return " ".join(fp[i:i + 4] for i in range(0, len(fp), 4))


def parse_fingerprint(text: str) -> str:
    """A fingerprint as given (any case, with or without spaces, colons or dashes), normalised."""
    fp = _SEPARATORS.sub("", text).lower()
    if not re.fullmatch(r"[0-9a-f]{64}", fp):
        raise InsynError(f"--key {text!r}: expected a key fingerprint, 64 hex digits (separators allowed)")
    return fp


def canonical(value) -> bytes:
    """The bytes a statement is signed as: sorted keys, no spaces, ASCII."""
    return json.dumps(value, sort_keys=True, separators=(",", ":"), ensure_ascii=True).encode("ascii")


def encode_signature(signature: bytes) -> bytes:
    return base64.b64encode(signature) + b"\n"


def decode_signature(text: bytes) -> bytes | None:
    try:
        raw = base64.b64decode(text.strip(), validate=True)
    except ValueError:
        return None
    return raw if len(raw) == 64 else None


def signed_by(public_hex: str, data: bytes, signature: bytes | None) -> bool:
    """Whether `signature` over `data` was made by the key whose raw public bytes are `public_hex`."""
    if signature is None:
        return False
    try:
        Ed25519PublicKey.from_public_bytes(bytes.fromhex(public_hex)).verify(signature, data)
    except (ValueError, TypeError, InvalidSignature):
        return False
    return True


@dataclass(frozen=True)
class SigningKey:
    private: Ed25519PrivateKey
    path: Path

    @property
    def public_raw(self) -> bytes:
        return self.private.public_key().public_bytes_raw()

    @property
    def public_hex(self) -> str:
        return self.public_raw.hex()

    @property
    def fingerprint(self) -> str:
        return fingerprint(self.public_raw)

    def sign(self, data: bytes) -> bytes:
        return self.private.sign(data)


def _pem(private: Ed25519PrivateKey) -> bytes:
    return private.private_bytes(serialization.Encoding.PEM, serialization.PrivateFormat.PKCS8,
                                 serialization.NoEncryption())


def load_key(secrets: Path) -> SigningKey | None:
    """The workbench's signing key, or None when there is none yet."""
    path = secrets / KEY_FILE
    try:
        mode = path.stat().st_mode
        data = path.read_bytes()
    except FileNotFoundError:
        return None
    except OSError as exc:
        raise InsynError(f"{path}: cannot read the audit signing key ({exc.strerror})") from None
    if stat.S_IMODE(mode) & 0o077:
        raise InsynError(f"{path}: the audit signing key is readable by others; make it owner-only "
                         f"(chmod 600 {path})")
    try:
        private = serialization.load_pem_private_key(data, password=None)
    except (ValueError, TypeError):
        private = None
    if not isinstance(private, Ed25519PrivateKey):
        raise InsynError(f"{path}: not an Ed25519 private key in PEM (PKCS#8, unencrypted)")
    return SigningKey(private, path)


def signing_key(secrets: Path, create: bool = False) -> tuple[SigningKey | None, bool]:
    """The signing key, and whether it was created now (owner-only) because there was none."""
    existing = load_key(secrets)
    if existing is not None or not create:
        return existing, False
    secrets.mkdir(mode=0o700, parents=True, exist_ok=True)
    path = secrets / KEY_FILE
    # written aside and linked into place: two first audits at once end with one key, not two
    partial = secrets / f".{KEY_FILE}.{os.getpid()}.{pysecrets.token_hex(4)}"
    write_private(partial, _pem(Ed25519PrivateKey.generate()))
    try:
        os.link(partial, path)
    except FileExistsError:
        return load_key(secrets), False
    finally:
        partial.unlink(missing_ok=True)
    return load_key(secrets), True


def rotations(secrets: Path) -> list[dict]:
    """The hand-over statements recorded so far (oldest first), as every later pack carries them."""
    path = secrets / ROTATIONS_FILE
    try:
        entries = json.loads(path.read_text(encoding="utf-8"))
    except FileNotFoundError:
        return []
    except (OSError, ValueError):
        raise InsynError(f"{path}: not a list of signing key rotations") from None
    if not isinstance(entries, list):
        raise InsynError(f"{path}: not a list of signing key rotations")
    return entries


def rotate(secrets: Path, now: dt.datetime | None = None) -> tuple[SigningKey, SigningKey]:
    """A new signing key; the old one signs a statement naming it and is kept aside, retired.
    Returns (old, new)."""
    old = load_key(secrets)
    if old is None:
        raise InsynError(f"{secrets / KEY_FILE}: no audit signing key yet; the first `insyn audit` creates one")
    new = Ed25519PrivateKey.generate()
    new_raw = new.public_key().public_bytes_raw()
    when = (now or dt.datetime.now(dt.timezone.utc)).astimezone(dt.timezone.utc).replace(microsecond=0)
    statement = {"kind": ROTATION, "old_fingerprint": old.fingerprint, "old_public_key": old.public_hex,
                 "new_fingerprint": fingerprint(new_raw), "new_public_key": new_raw.hex(),
                 "rotated_at": when.strftime("%Y-%m-%dT%H:%M:%SZ")}
    entry = {"statement": statement, "signature": base64.b64encode(old.sign(canonical(statement))).decode("ascii")}
    # the old key kept aside first, then the statement, then the new key in its place: a crash
    # between steps leaves the old key in use, never no key or an unannounced one
    write_private(secrets / f"{KEY_FILE}.retired-{old.fingerprint[:16]}", old.path.read_bytes())
    replace_private(secrets / ROTATIONS_FILE,
                    (json.dumps([*rotations(secrets), entry], indent=2) + "\n").encode("utf-8"))
    replace_private(old.path, _pem(new))
    return old, load_key(secrets)


def _hand_over(entry) -> tuple[str, str] | None:
    """(old, new) fingerprints of a rotation statement that is what it says, else None."""
    try:
        statement, signature = entry["statement"], base64.b64decode(entry["signature"], validate=True)
        old_hex, new_hex = statement["old_public_key"], statement["new_public_key"]
        if (statement["kind"] != ROTATION or fingerprint(bytes.fromhex(old_hex)) != statement["old_fingerprint"]
                or fingerprint(bytes.fromhex(new_hex)) != statement["new_fingerprint"]):
            return None
    except (KeyError, TypeError, ValueError):
        return None
    if not signed_by(old_hex, canonical(statement), signature):
        return None
    return statement["old_fingerprint"], statement["new_fingerprint"]


def succeeds(entries: list, trusted: str, signer: str) -> bool:
    """Whether `signer` is the `trusted` key or one it handed over to, through signed statements."""
    edges = [pair for pair in map(_hand_over, entries if isinstance(entries, list) else []) if pair]
    reached, frontier = {trusted}, [trusted]
    while frontier:
        current = frontier.pop()
        for old, new in edges:
            if old == current and new not in reached:
                reached.add(new)
                frontier.append(new)
    return signer in reached
