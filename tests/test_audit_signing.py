"""Signed and chained audit packs: an auditor who holds the DPO's key fingerprint (given once, out of
band) or last year's pack detects an edited pack, a pack re-signed with another key, and a replaced
or missing year; a key replaced by a signed rotation keeps the chain. Packs are built once, by the
real `insyn audit`; every tampering is done on a copy and verified from a folder with no workbench."""

from __future__ import annotations

import base64
import contextlib
import hashlib
import io
import json
import os
import shutil
import stat
import subprocess
import sys
from pathlib import Path

import pytest
from cryptography.hazmat.primitives import serialization
from cryptography.hazmat.primitives.asymmetric.ed25519 import Ed25519PrivateKey

from helpers import EXPECTED, copy_workbench
from insyn.cli import main

pytestmark = pytest.mark.notebook
YEAR = int(EXPECTED["as_of"][:4])
INSYN = str(Path(sys.executable).with_name("insyn"))


def run(root, db, *args):
    out, err = io.StringIO(), io.StringIO()
    with contextlib.redirect_stdout(out), contextlib.redirect_stderr(err):
        code = main(["--workbench", str(root), "--db", str(db), "-q", *map(str, args)])
    return code, out.getvalue(), err.getvalue()


def verify(tmp_path, *args):
    """`insyn audit --verify ...` as an auditor runs it: its own folder, no workbench anywhere."""
    elsewhere = tmp_path / "auditor"
    elsewhere.mkdir(exist_ok=True)
    env = {k: v for k, v in os.environ.items() if k not in ("INSYN_WORKBENCH", "INSYN_DB")}
    done = subprocess.run([INSYN, "audit", "--verify", *map(str, args)], cwd=elsewhere, env=env,
                          capture_output=True, text=True, timeout=120)
    assert "Traceback" not in done.stderr and "insyn.toml" not in done.stderr, done.stderr
    return done


def manifest_of(folder: Path) -> dict:
    return json.loads((folder / "manifest.json").read_text(encoding="utf-8"))


def fingerprint_of(private: Ed25519PrivateKey) -> str:
    return hashlib.sha256(private.public_key().public_bytes_raw()).hexdigest()


def sign_as(folder: Path, manifest: dict, private: Ed25519PrivateKey, *, name_the_key: bool = True) -> None:
    """Write `manifest` and sign it with `private` (the way a forger with that key would)."""
    if name_the_key:
        manifest["signer"] = {**manifest["signer"], "public_key": private.public_key().public_bytes_raw().hex(),
                              "fingerprint": fingerprint_of(private)}
    data = (json.dumps(manifest, indent=2, ensure_ascii=False) + "\n").encode("utf-8")
    (folder / "manifest.json").write_bytes(data)
    (folder / "manifest.sig").write_bytes(base64.b64encode(private.sign(data)) + b"\n")


def delete_a_deletion_list_row(folder: Path) -> dict:
    """Drop a row of evidence/deletion-list.csv and put its new hash in the manifest."""
    path = folder / "evidence" / "deletion-list.csv"
    lines = path.read_bytes().splitlines(keepends=True)
    assert len(lines) > 2, "the sample's deletion list has rows to delete"
    path.write_bytes(b"".join(lines[:1] + lines[2:]))
    manifest = manifest_of(folder)
    manifest["files"]["evidence/deletion-list.csv"] = hashlib.sha256(path.read_bytes()).hexdigest()
    return manifest


def copy(folder: Path, tmp_path: Path, name: str) -> Path:
    target = tmp_path / "received" / name
    shutil.copytree(folder, target)
    return target


@pytest.fixture(scope="module")
def packs(tmp_path_factory):
    """Two packs of one warehouse by the real `insyn audit`: the first (a new key, the chain's start),
    then, after `--rotate-key`, a re-run for the same year signed by the new key."""
    root, db = copy_workbench(tmp_path_factory.mktemp("signing") / "wb",
                              folders=("pipelines", "expectations", "notebooks", "data/sample"))
    for step in (("load", root / "data" / "sample" / "exports"), ("build", "--as-of", EXPECTED["as_of"])):
        code, _, err = run(root, db, *step)
        assert code == 0, err
    out = root / "packs"

    def audit():
        code, stdout, err = run(root, db, "audit", "--year", YEAR, "--as-of", EXPECTED["as_of"], "--lang", "sv",
                                "--out", out)
        assert code == 0, err
        [line] = [line for line in stdout.splitlines() if line.startswith(f"audit pack for {YEAR}")]
        return Path(line.rsplit(": ", 1)[1]), stdout

    first, first_out = audit()
    code, rotated_out, err = run(root, db, "audit", "--rotate-key")
    assert code == 0, err
    second, second_out = audit()
    return {"root": root, "db": db, "first": first, "second": second, "outputs": (first_out, rotated_out, second_out),
            "old_fp": manifest_of(first)["signer"]["fingerprint"], "new_fp": manifest_of(second)["signer"]["fingerprint"]}


def retired_key(packs) -> Ed25519PrivateKey:
    [path] = (packs["root"] / "data" / "secrets").glob("audit-signing.key.retired-*")
    return serialization.load_pem_private_key(path.read_bytes(), password=None)


def test_the_first_audit_creates_an_owner_only_key_and_says_its_fingerprint(packs):
    first_out, rotated_out, second_out = packs["outputs"]
    secrets = packs["root"] / "data" / "secrets"
    key = secrets / "audit-signing.key"
    assert stat.S_IMODE(key.stat().st_mode) == 0o600
    assert f"a new audit signing key was created: {key}" in first_out
    grouped = " ".join(packs["old_fp"][i:i + 4] for i in range(0, 64, 4))
    assert f"signed by key {grouped}" in first_out and "the first pack of its chain" in first_out
    assert "a new audit signing key was created" not in second_out
    assert packs["old_fp"] != packs["new_fp"]
    assert " ".join(packs["new_fp"][i:i + 4] for i in range(0, 64, 4)) in rotated_out
    assert all(stat.S_IMODE(p.stat().st_mode) == 0o600 for p in secrets.glob("audit-signing*"))


def test_each_pack_names_the_last_one_issued(packs):
    """A re-run for the same year still follows the last pack issued; the record is owner-only."""
    first, second = manifest_of(packs["first"]), manifest_of(packs["second"])
    assert first["previous"] is None
    assert second["year"] == first["year"] == YEAR
    assert second["previous"]["run_id"] == first["run_id"]
    assert second["previous"]["manifest_sha256"] == hashlib.sha256(
        (packs["first"] / "manifest.json").read_bytes()).hexdigest()
    assert second["previous"]["fingerprint"] == packs["old_fp"]
    record = packs["db"].with_name(packs["db"].name + ".d") / "issued-packs.jsonl"
    assert stat.S_IMODE(record.stat().st_mode) == 0o600
    assert [json.loads(line)["run_id"] for line in record.read_text(encoding="utf-8").splitlines()] == [
        first["run_id"], second["run_id"]]


def test_the_manifest_names_no_path_of_this_machine(packs):
    text = (packs["second"] / "manifest.json").read_text(encoding="utf-8")
    manifest = json.loads(text)
    assert str(packs["root"]) not in text and str(packs["root"].parent) not in text
    assert manifest["policy_file"] == "policy.toml"
    assert not any(i["file"].startswith("/") for i in manifest["inputs"])


def test_an_export_loaded_from_outside_the_workbench_is_named_by_its_file_name():
    from insyn.audit import _export_name

    assert _export_name("data/inbox/contacts.csv") == "data/inbox/contacts.csv"
    assert _export_name("/home/dpo/Downloads/contacts.csv") == "contacts.csv"
    assert _export_name("/home/dpo/WE_00D5_1.zip!Contact.csv") == "WE_00D5_1.zip!Contact.csv"


def test_verify_accepts_an_untouched_pack_and_names_its_signer(packs, tmp_path):
    pack = copy(packs["first"], tmp_path, packs["first"].name)
    done = verify(tmp_path, pack)
    assert done.returncode == 0, done.stdout + done.stderr
    # an unknown key is said to be unchecked in the verdict itself, with the fingerprint to compare
    grouped = " ".join(packs["old_fp"][i:i + 4] for i in range(0, 64, 4))
    assert done.stdout.strip().endswith(f"{pack}: intact as signed by key {grouped}, which was NOT checked "
                                        "(pass --key FINGERPRINT or --previous DIR)")
    for given in (packs["old_fp"], grouped, packs["old_fp"].upper(), ":".join(grouped.split())):
        done = verify(tmp_path, pack, "--key", given)
        assert done.returncode == 0, done.stdout
        assert "the one expected" in done.stdout
        assert done.stdout.strip().endswith(f"{pack}: intact")


def test_verify_rejects_a_deleted_row_whose_hash_was_updated(packs, tmp_path):
    pack = copy(packs["first"], tmp_path, "edited")
    manifest = delete_a_deletion_list_row(pack)
    (pack / "manifest.json").write_text(json.dumps(manifest, indent=2, ensure_ascii=False) + "\n", encoding="utf-8")
    done = verify(tmp_path, pack)
    assert done.returncode == 1
    assert "signature: manifest.json does not match manifest.sig" in done.stdout
    assert "changed:" not in done.stdout   # the file matches its (forged) hash: the signature is what catches it
    # nor can the signature simply be removed
    (pack / "manifest.sig").unlink()
    done = verify(tmp_path, pack)
    assert done.returncode == 1 and "not signed: manifest.sig is missing" in done.stdout


def test_verify_rejects_a_pack_resigned_with_another_key_given_the_expected_fingerprint(packs, tmp_path):
    pack = copy(packs["first"], tmp_path, "resigned")
    forger = Ed25519PrivateKey.generate()
    sign_as(pack, delete_a_deletion_list_row(pack), forger)
    done = verify(tmp_path, pack)   # valid, by a key the auditor has never been given: said, with its fingerprint
    assert done.returncode == 0 and fingerprint_of(forger)[:4] in done.stdout and "not checked" in done.stdout
    done = verify(tmp_path, pack, "--key", packs["old_fp"])
    assert done.returncode == 1 and "signer: not the key expected" in done.stdout
    # the next year's pack re-signed by another key no longer follows from last year's signer either
    later = copy(packs["second"], tmp_path, "later-resigned")
    sign_as(later, manifest_of(later), forger)
    done = verify(tmp_path, later, "--previous", packs["first"])
    assert done.returncode == 1 and "signer: not the key that signed the previous pack" in done.stdout


def test_verify_rejects_a_pack_whose_predecessor_was_replaced(packs, tmp_path):
    """Last year's pack re-made (re-signed by the DPO's own old key, one row fewer): this year's pack
    names the original, so given the replacement it is rejected; given the original it passes."""
    replaced = copy(packs["first"], tmp_path, "replaced")
    sign_as(replaced, delete_a_deletion_list_row(replaced), retired_key(packs), name_the_key=False)
    assert verify(tmp_path, replaced, "--key", packs["old_fp"]).returncode == 0   # on its own it looks fine
    done = verify(tmp_path, packs["second"], "--previous", replaced)
    assert done.returncode == 1
    assert f"not {replaced}" in done.stdout and "a pack was replaced or is missing" in done.stdout
    # the first pack of a chain has no predecessor to follow
    done = verify(tmp_path, packs["first"], "--previous", packs["first"])
    assert done.returncode == 1 and "names no previous pack" in done.stdout
    # an edited predecessor is reported as such
    edited = copy(packs["first"], tmp_path, "edited-before")
    (edited / "evidence" / "findings.csv").write_text("tampered\n", encoding="utf-8")
    done = verify(tmp_path, packs["second"], "--previous", edited)
    assert done.returncode == 1 and f"previous pack {edited}: changed: evidence/findings.csv" in done.stdout


def test_verify_accepts_a_rotated_keys_pack(packs, tmp_path):
    second = copy(packs["second"], tmp_path, packs["second"].name)
    done = verify(tmp_path, second, "--previous", packs["first"])
    assert done.returncode == 0, done.stdout
    assert f"follows {packs['first']}" in done.stdout
    for key in (packs["old_fp"], packs["new_fp"]):
        done = verify(tmp_path, second, "--key", key, "--previous", packs["first"])
        assert done.returncode == 0, done.stdout
    assert "handed over from the one expected" in verify(tmp_path, second, "--key", packs["old_fp"]).stdout
    # the hand-over is what links the keys: without it (the pack re-signed by the new key) the old key rejects it
    new_key = serialization.load_pem_private_key(
        (packs["root"] / "data" / "secrets" / "audit-signing.key").read_bytes(), password=None)
    stripped = copy(packs["second"], tmp_path, "no-rotation")
    manifest = manifest_of(stripped)
    manifest["signer"]["rotations"] = []
    sign_as(stripped, manifest, new_key, name_the_key=False)
    assert verify(tmp_path, stripped, "--key", packs["new_fp"]).returncode == 0
    assert verify(tmp_path, stripped, "--key", packs["old_fp"]).returncode == 1
    assert verify(tmp_path, stripped, "--previous", packs["first"]).returncode == 1
    # a hand-over the old key did not sign (one forged by another key) is no hand-over
    forged = copy(packs["second"], tmp_path, "forged-rotation")
    manifest = manifest_of(forged)
    entry = manifest["signer"]["rotations"][-1]
    entry["signature"] = base64.b64encode(Ed25519PrivateKey.generate().sign(b"x")).decode("ascii")
    sign_as(forged, manifest, new_key, name_the_key=False)
    assert verify(tmp_path, forged, "--key", packs["old_fp"]).returncode == 1


def test_verify_usage_errors_exit_2(packs, tmp_path):
    done = verify(tmp_path, packs["first"], "--key", "abc123")
    assert done.returncode == 2 and "64 hex digits" in done.stderr
    done = verify(tmp_path, packs["second"], "--previous", tmp_path / "nowhere")
    assert done.returncode == 2 and "not an audit pack manifest" in done.stderr
    code, _, err = run(packs["root"], packs["db"], "audit", "--year", YEAR, "--key", packs["old_fp"])
    assert code == 2 and "--key and --previous go with --verify" in err


def test_a_signing_key_others_can_read_is_refused(tmp_path):
    from insyn.errors import InsynError
    from insyn.signing import KEY_FILE, load_key, signing_key

    key, created = signing_key(tmp_path / "secrets", create=True)
    assert created and stat.S_IMODE((tmp_path / "secrets" / KEY_FILE).stat().st_mode) == 0o600
    again, created = signing_key(tmp_path / "secrets", create=True)
    assert not created and again.fingerprint == key.fingerprint == load_key(tmp_path / "secrets").fingerprint
    os.chmod(tmp_path / "secrets" / KEY_FILE, 0o644)
    with pytest.raises(InsynError, match="readable by others"):
        load_key(tmp_path / "secrets")


def test_rotate_before_any_key_says_what_to_do(tmp_path):
    from insyn.errors import InsynError
    from insyn.signing import rotate

    with pytest.raises(InsynError, match="the first `insyn audit` creates one"):
        rotate(tmp_path / "secrets")

