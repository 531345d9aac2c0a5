"""ladder.rungs.rung1 on a prod folder that is not a checkout (copied, then edited), over ssh: the dry run changes
nothing, the apply adopts it and deploys, every file of the snapshot is in the checkout or the saved archive, and a
second apply changes nothing."""

import subprocess
import tarfile
from pathlib import Path

import pytest

from ladder import load_config
from ladder.app import deploy
from ladder.rungs import rung1
from ladder.sandbox import faults
from tree import snapshot

pytestmark = pytest.mark.ssh


def files_under(root: Path) -> dict[str, bytes]:
    return {str(p.relative_to(root)): p.read_bytes() for p in root.rglob("*") if p.is_file() and not p.is_symlink()}


def archived(archive: Path) -> dict[str, bytes]:
    with tarfile.open(archive) as tar:
        return {m.name.split("/", 1)[1]: tar.extractfile(m).read() for m in tar.getmembers() if m.isfile()}


def test_a_copied_prod_folder_is_adopted_with_nothing_lost(ssh_sandbox, tmp_path, monkeypatch):
    box = ssh_sandbox
    monkeypatch.setenv("LADDER_RUNS", str(tmp_path / "runs"))
    cfg = load_config(box.config_path)
    master = subprocess.run(
        ["git", "-C", str(box.repo), "rev-parse", "master"], capture_output=True, text=True, check=True
    ).stdout.strip()
    [app] = faults.copy_prod(box.dir)
    (app / "notes.txt").write_text("added on prod, in no commit\n")
    before_hosts = snapshot(box.dir / "hosts")
    before = files_under(app)

    assert rung1.setup(cfg, "master").path == cfg.path  # failed with "'origin' does not appear to be a git repository"
    edits = rung1.save_prod_edits(cfg, str(tmp_path / "run1"))
    snap = edits.copied["prod1"]
    assert snap.commit == master and snap.status.modified == ("app.py",)
    assert set(snap.status.untracked) == {"app.py.bak", "notes.txt"}
    assert faults.EDIT_MARK in edits.saved["prod1"].path.read_text()
    plan = rung1.deploy_prod(cfg, "master", edits)
    assert [c.operation for c in plan["prod1"]][-2:] == ["adopt", "deploy"]
    assert all(not c.applied for c in plan["prod1"])
    said = rung1.notices(edits)
    assert said[0].startswith(f"prod1: a copied folder: nearest commit {master[:12]}, 3 files edited, archive saved")
    assert snapshot(box.dir / "hosts") == before_hosts, "the dry run changed a byte on the host"

    done = rung1.deploy_prod(cfg, "master", edits, dry_run=False)
    assert [c.outcome for c in done["prod1"]][-2:] == ["changed", "changed"]
    assert rung1.verify_prod(cfg, "master", dry_run=False)["version"].tolist() == [deploy.version_of(master)]
    assert "adopted: a copy of the archive is kept at" in rung1.notices(edits, dry_run=False)[0]

    # Nothing lost: every file of the snapshot is, byte for byte, in the checkout or in the saved archive.
    now, saved, kept = files_under(app), archived(snap.archive), archived(Path(snap.kept))
    assert saved == kept == before  # the archives hold the whole folder as it was
    lost = [path for path, data in before.items() if now.get(path) != data and saved.get(path) != data]
    assert lost == []
    assert faults.EDIT_MARK in saved["app.py"].decode() and saved["notes.txt"] == b"added on prod, in no commit\n"

    again = rung1.save_prod_edits(cfg, str(tmp_path / "run2"))
    assert again.copied == {} and again.found["prod1"].clean
    second = rung1.deploy_prod(cfg, "master", again, dry_run=False)
    assert not any(c.changed for c in second["prod1"])
