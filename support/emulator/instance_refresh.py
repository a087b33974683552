"""Instance refreshes (moto 5.2.3 has none: StartInstanceRefresh and DescribeInstanceRefreshes
answer HTTP 500). Imported by server.py for its side effects.

- StartInstanceRefresh records a refresh of the group, Pending; one while another is active
  (Pending, InProgress, Cancelling) is refused with InstanceRefreshInProgress, as AWS does.
- The refresh runs for `emulator:refresh-seconds` (a group tag, default 1) of wall time, seen
  through DescribeInstanceRefreshes: InProgress with its percentage, then its outcome. The outcome
  is `emulator:refresh-status` (a group tag): Successful (default) replaces every instance that
  was in the group when the refresh started, as AWS does (each is terminated and the group
  launches its replacement from its launch template as it is then); Failed replaces none and
  reports StatusReason.
- CancelInstanceRefresh cancels the active refresh (ActiveInstanceRefreshNotFound without one).

Refreshes live on the Auto Scaling backend, so the emulator's reset clears them.
"""

import datetime
import time
import uuid

from moto.autoscaling.exceptions import AutoscalingClientError, ValidationError
from moto.autoscaling.responses import AutoScalingResponse
from moto.core.responses import ActionResult

ACTIVE = ("Pending", "InProgress", "Cancelling")
SECONDS_TAG = "emulator:refresh-seconds"
STATUS_TAG = "emulator:refresh-status"


class InstanceRefreshInProgress(AutoscalingClientError):
    code = "InstanceRefreshInProgress"
    message = "An Instance Refresh is already in progress and blocks the execution of this Instance Refresh."


class ActiveInstanceRefreshNotFound(AutoscalingClientError):
    code = "ActiveInstanceRefreshNotFound"
    message = "No in progress or pending Instance Refresh found for Auto Scaling group"


def _refreshes(backend):
    if not hasattr(backend, "emulator_refreshes"):
        backend.emulator_refreshes = []
    return backend.emulator_refreshes


def _group(backend, name):
    group = backend.autoscaling_groups.get(name)
    if group is None:
        raise ValidationError(f"AutoScalingGroup name not found - {name}")
    return group


def _tag(group, key, default):
    for tag in group.tags or []:
        if tag.get("Key") == key:
            return tag.get("Value", default)
    return default


def _now():
    return datetime.datetime.now(datetime.timezone.utc)


def _advance(backend, refresh):
    """Brings a refresh up to now: InProgress while its time runs, then its outcome."""
    if refresh["Status"] not in ("Pending", "InProgress"):
        return
    elapsed = time.time() - refresh["started"]
    if elapsed < refresh["seconds"]:
        refresh["Status"] = "InProgress"
        refresh["PercentageComplete"] = int(100 * elapsed / max(refresh["seconds"], 0.001))
        return
    refresh["EndTime"] = _now()
    if refresh["outcome"] != "Successful":
        refresh["Status"] = "Failed"
        refresh["StatusReason"] = f"{STATUS_TAG} is {refresh['outcome']}"
        return
    group = backend.autoscaling_groups.get(refresh["AutoScalingGroupName"])
    members = {state.instance.id for state in group.instance_states} if group else set()
    for instance_id in refresh["instances"]:
        if instance_id in members:
            backend.terminate_instance(instance_id, should_decrement=False)
    refresh["Status"] = "Successful"
    refresh["PercentageComplete"] = 100
    refresh["InstancesToUpdate"] = 0


def _view(refresh):
    return {k: v for k, v in refresh.items() if k[0].isupper()}


def start_instance_refresh(self):
    backend = self.autoscaling_backend
    name = self._get_param("AutoScalingGroupName")
    group = _group(backend, name)
    refreshes = _refreshes(backend)
    for refresh in refreshes:
        if refresh["AutoScalingGroupName"] == name:
            _advance(backend, refresh)
            if refresh["Status"] in ACTIVE:
                raise InstanceRefreshInProgress()
    instances = [state.instance.id for state in group.instance_states]
    refresh = {
        "InstanceRefreshId": str(uuid.uuid4()),
        "AutoScalingGroupName": name,
        "Status": "Pending",
        "StartTime": _now(),
        "PercentageComplete": 0,
        "InstancesToUpdate": len(instances),
        "started": time.time(),
        "seconds": float(_tag(group, SECONDS_TAG, "1")),
        "outcome": _tag(group, STATUS_TAG, "Successful"),
        "instances": instances,
    }
    refreshes.append(refresh)
    return ActionResult({"InstanceRefreshId": refresh["InstanceRefreshId"]})


def describe_instance_refreshes(self):
    backend = self.autoscaling_backend
    name = self._get_param("AutoScalingGroupName")
    _group(backend, name)
    ids = self._get_param("InstanceRefreshIds", [])
    found = []
    for refresh in reversed(_refreshes(backend)):
        if refresh["AutoScalingGroupName"] != name:
            continue
        if ids and refresh["InstanceRefreshId"] not in ids:
            continue
        _advance(backend, refresh)
        found.append(_view(refresh))
    return ActionResult({"InstanceRefreshes": found})


def cancel_instance_refresh(self):
    backend = self.autoscaling_backend
    name = self._get_param("AutoScalingGroupName")
    _group(backend, name)
    for refresh in _refreshes(backend):
        if refresh["AutoScalingGroupName"] == name:
            _advance(backend, refresh)
            if refresh["Status"] in ACTIVE:
                refresh["Status"] = "Cancelled"
                refresh["EndTime"] = _now()
                return ActionResult({"InstanceRefreshId": refresh["InstanceRefreshId"]})
    raise ActiveInstanceRefreshNotFound()


AutoScalingResponse.start_instance_refresh = start_instance_refresh
AutoScalingResponse.describe_instance_refreshes = describe_instance_refreshes
AutoScalingResponse.cancel_instance_refresh = cancel_instance_refresh
