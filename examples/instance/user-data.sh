#!/bin/sh
# The same as cloud-config.yaml, for images without cloud-init's mounts module: mount the code
# volume by its filesystem label, with nofail, and no AWS API call. Idempotent. Install the
# app's unit (shop.service beside this file) in the image, or here as cloud-config.yaml does.
set -eu
LABEL=app-code
MOUNT_POINT=/srv/app

mkdir -p "$MOUNT_POINT"
grep -q "^LABEL=$LABEL " /etc/fstab ||
  echo "LABEL=$LABEL $MOUNT_POINT auto defaults,nofail,x-systemd.device-timeout=30s 0 2" >>/etc/fstab

# EC2 attached the volume before boot; udev may still be publishing its label.
for _ in $(seq 1 30); do
  [ -e "/dev/disk/by-label/$LABEL" ] && break
  sleep 1
done
mountpoint -q "$MOUNT_POINT" || mount "$MOUNT_POINT" ||
  echo "code volume LABEL=$LABEL not found; $MOUNT_POINT is empty" >&2
