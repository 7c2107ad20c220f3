"""`insyn audit --verify` reads only the pack: a manifest naming a place outside it (../, an
absolute path, a name the file system refuses) or a link in the pack is a problem, never read
through nor a traceback, even when the manifest is validly signed. Packs are made by hand here
(signed with a key of the test's own) so that no notebook or browser runs."""

from __future__ import annotations

import hashlib
import json
from pathlib import Path

from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from insyn import signing
from insyn.audit import check_pack

CSV = b"id\n1\n"


def signed_pack(folder: Path, files: dict[str, str]) -> str:
    """A pack holding evidence/list.csv whose manifest lists `files`, validly signed; its key's fingerprint."""
    (folder / "evidence").mkdir(parents=True)
    (folder / "evidence" / "list.csv").write_bytes(CSV)
    key = Ed25519PrivateKey.generate()
    public = key.public_key().public_bytes_raw()
    manifest = {"files": files, "previous": None,
                "signer": {"algorithm": "Ed25519", "public_key": public.hex(),
                           "fingerprint": signing.fingerprint(public), "rotations": []}}
    data = (json.dumps(manifest) + "\n").encode("utf-8")
    (folder / "manifest.json").write_bytes(data)
    (folder / "manifest.sig").write_bytes(signing.encode_signature(key.sign(data)))
    return signing.fingerprint(public)


def digest(data: bytes) -> str:
    return hashlib.sha256(data).hexdigest()


def test_a_hand_made_pack_that_is_intact_passes(tmp_path):
    pack = tmp_path / "pack"
    key = signed_pack(pack, {"evidence/list.csv": digest(CSV)})
    assert check_pack(pack, key=key).problems == []


def test_a_manifest_naming_places_outside_the_pack_is_refused(tmp_path):
    outside = tmp_path / "outside.csv"
    outside.write_bytes(b"elsewhere\n")
    pack = tmp_path / "pack"
    key = signed_pack(pack, {"evidence/list.csv": digest(CSV), "../outside.csv": digest(outside.read_bytes()),
                             str(outside): digest(outside.read_bytes()), "evidence/./list.csv": digest(CSV),
                             "x" * 5000: digest(b"")})
    problems = check_pack(pack, key=key).problems
    assert sorted(p for p in problems if p.startswith("not a place in the pack")) == sorted(
        f"not a place in the pack: {name!r}" for name in
        ("../outside.csv", str(outside), "evidence/./list.csv", "x" * 5000)), problems


def test_a_link_in_the_pack_is_refused_even_to_a_file_with_the_listed_content(tmp_path):
    outside = tmp_path / "outside.csv"
    outside.write_bytes(CSV)
    pack = tmp_path / "pack"
    key = signed_pack(pack, {"evidence/list.csv": digest(CSV), "evidence/linked.csv": digest(CSV)})
    (pack / "evidence" / "linked.csv").symlink_to(outside)
    (pack / "more").symlink_to(tmp_path, target_is_directory=True)
    problems = check_pack(pack, key=key).problems
    assert "a link, not a file of the pack: evidence/linked.csv" in problems, problems
    assert "a link, not a file of the pack: more" in problems, problems
