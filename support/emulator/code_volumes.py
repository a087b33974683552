"""Code volumes as directories, for hosts that run their commands (host_exec.py): a test
affordance. Imported by server.py for its side effects.

The model, and why: every host of a deploy is given the same mount point (say /mnt/code), but
each has its own volume there. Without mount namespaces (no unshare or bwrap here) one path
cannot lead to a different directory per process, so the emulator rewrites the path instead:

- Each instance tagged `emulator:ssm-exec=true` has a directory `<EMULATOR_ROOT>/<instance-id>`
  that stands for its code volume (EMULATOR_ROOT: the emulator's environment, else a temporary
  directory made at start). Scripts get it as EMULATOR_ROOT_DIR.
- The instance's `emulator:mount-point` tag names the mount point. Before a command runs, every
  occurrence of that path in its text (and in workingDirectory) that is the whole path or is
  followed by `/` or a character that cannot be part of a path name becomes the instance's
  directory; the output has the directory turned back into the mount point, so a script that
  prints `readlink /mnt/code/current` prints what the host would.
- Limits: only the literal path is rewritten. A path built at run time from pieces, or carried
  encoded (base64, URL-escaped), is not; a symlink a script makes points at the real directory
  (the next command on that host follows it as the host would). Snapshots and launches
  translate absolute symlinks under the directory to and from the mount point, so a launched
  host's `current` points into its own directory; world.ts's `hostReadlink` reads them in
  mount-point terms.

Snapshots carry the content: CreateSnapshot of the volume an exec instance has attached at its
code device (the `emulator:code-device` tag, else /dev/sdf; /dev/xvdf is the same device) saves
a tar of its directory keyed by the snapshot id (symlinks kept as symlinks). CopySnapshot copies
it. An instance launched (RunInstances, or by Auto Scaling from a launch template) with a block
device mapping that names a saved snapshot, on any device, gets its directory filled from it, and
becomes an exec host: it is tagged `emulator:ssm-exec=true` and, unless it has one, the
snapshot's `emulator:mount-point`. Snapshots of anything else carry nothing: a host launched from
one gets an empty directory once it is an exec host.
"""

import json
import os
import re
import shutil
import tarfile
import tempfile

from moto.ec2.models import ec2_backends
from moto.ec2.models.elastic_block_store import EBSBackend
from moto.ec2.models.instances import InstanceBackend
from moto.moto_api._internal.models import MotoAPIBackend

EXEC_TAG = "emulator:ssm-exec"
MOUNT_TAG = "emulator:mount-point"
DEVICE_TAG = "emulator:code-device"
DEFAULT_DEVICE = "/dev/sdf"

ROOT = os.path.realpath(os.environ.get("EMULATOR_ROOT") or tempfile.mkdtemp(prefix="emulator-root-"))
os.makedirs(ROOT, exist_ok=True)


def _store():
    return os.path.join(ROOT, ".snapshots")


def work_root():
    path = os.path.join(ROOT, ".invocations")
    os.makedirs(path, exist_ok=True)
    return path


def code_dir(instance_id):
    path = os.path.join(ROOT, instance_id)
    os.makedirs(path, exist_ok=True)
    return path


def mount_point(tags):
    value = (tags or {}).get(MOUNT_TAG)
    if not value:
        return None
    return value.rstrip("/") or "/"


def _pattern(path):
    # The path itself, not a longer name that starts with it (/mnt/code is not /mnt/codes).
    return re.compile(re.escape(path) + r"(?![\w.+@~-])")


def to_host_paths(text, mount, directory):
    if not mount or mount == "/" or not text:
        return text
    return _pattern(mount).sub(lambda _: directory, text)


def to_mount_paths(text, mount, directory):
    if not mount or mount == "/" or not text:
        return text
    return _pattern(directory).sub(lambda _: mount, text)


def _same_device(a, b):
    norm = lambda d: re.sub(r"^xvd", "sd", d.removeprefix("/dev/"))
    return norm(a) == norm(b)


def _tags(backend, resource_id):
    return backend.tags.get(resource_id, {})


# --- CreateSnapshot / CopySnapshot: the code directory goes into the store.


def _save(snapshot_id, directory, mount):
    os.makedirs(_store(), exist_ok=True)

    def relative_links(info):
        if info.issym() and mount and _pattern(directory).match(info.linkname):
            info.linkname = to_mount_paths(info.linkname, mount, directory)
        return info

    with tarfile.open(os.path.join(_store(), f"{snapshot_id}.tar"), "w") as tar:
        tar.add(directory, arcname=".", filter=relative_links)
    with open(os.path.join(_store(), f"{snapshot_id}.json"), "w") as f:
        json.dump({"mountPoint": mount}, f)


def _saved(snapshot_id):
    meta = os.path.join(_store(), f"{snapshot_id}.json")
    if not snapshot_id or not os.path.exists(meta):
        return None
    with open(meta) as f:
        return json.load(f)


_original_create_snapshot = EBSBackend.create_snapshot


def create_snapshot(self, volume_id, *args, **kwargs):
    snapshot = _original_create_snapshot(self, volume_id, *args, **kwargs)
    attachment = snapshot.volume.attachment
    if attachment is not None and attachment.instance is not None:
        tags = _tags(self, attachment.instance.id)
        device = tags.get(DEVICE_TAG, DEFAULT_DEVICE)
        if tags.get(EXEC_TAG, "").lower() == "true" and _same_device(attachment.device, device):
            _save(snapshot.id, code_dir(attachment.instance.id), mount_point(tags))
    return snapshot


_original_copy_snapshot = EBSBackend.copy_snapshot


def copy_snapshot(self, source_snapshot_id, *args, **kwargs):
    snapshot = _original_copy_snapshot(self, source_snapshot_id, *args, **kwargs)
    if _saved(source_snapshot_id) is not None:
        for ext in ("tar", "json"):
            shutil.copy(
                os.path.join(_store(), f"{source_snapshot_id}.{ext}"),
                os.path.join(_store(), f"{snapshot.id}.{ext}"),
            )
    return snapshot


EBSBackend.create_snapshot = create_snapshot
EBSBackend.copy_snapshot = copy_snapshot

# --- RunInstances (and Auto Scaling's launches): a mapping naming a saved snapshot fills the
# new host's directory.


def _restore(snapshot_id, instance, backend):
    saved = _saved(snapshot_id)
    tags = _tags(backend, instance.id)
    extra = {EXEC_TAG: "true"}
    if saved["mountPoint"] and not tags.get(MOUNT_TAG):
        extra[MOUNT_TAG] = saved["mountPoint"]
    backend.create_tags([instance.id], extra)
    directory = code_dir(instance.id)
    mount = saved["mountPoint"]

    def own_links(member, _path):
        if member.issym() and mount and _pattern(mount).match(member.linkname):
            return member.replace(linkname=to_host_paths(member.linkname, mount, directory))
        return member

    with tarfile.open(os.path.join(_store(), f"{snapshot_id}.tar")) as tar:
        tar.extractall(directory, filter=own_links)


def _fill(backend, reservation):
    for instance in reservation.instances:
        for _, device in instance.get_block_device_mapping:
            volume = backend.volumes.get(device.volume_id)
            snapshot_id = getattr(volume, "snapshot_id", None)
            if _saved(snapshot_id) is not None:
                _restore(snapshot_id, instance, backend)
                break


_original_run_instances = InstanceBackend.run_instances


def run_instances(self, *args, **kwargs):
    reservation = _original_run_instances(self, *args, **kwargs)
    _fill(self, reservation)
    return reservation


InstanceBackend.run_instances = run_instances

# --- Reset: every directory and saved snapshot goes (host_exec kills its processes first).
_resets = []


def on_reset(callback):
    _resets.append(callback)


_original_reset = MotoAPIBackend.reset


def reset(self):
    for callback in _resets:
        callback()
    for name in os.listdir(ROOT):
        shutil.rmtree(os.path.join(ROOT, name), ignore_errors=True)
    return _original_reset(self)


MotoAPIBackend.reset = reset


def all_tags(account_id, region, instance_id):
    return _tags(ec2_backends[account_id][region], instance_id)
