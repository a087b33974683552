"""ELBv2 target health and Auto Scaling registration as AWS does them (moto 5.2.3 does neither).

Imported by server.py for its side effects. moto registers and deregisters targets at once and
reports every registered target `healthy`, so a test of draining or of a health gate could never
fail for the right reason. Here:

- A deregistered target is `draining` (reason Target.DeregistrationInProgress) for the target
  group's deregistration delay (`deregistration_delay.timeout_seconds`, 300 s unless changed) and
  still listed by DescribeTargetHealth; then it is gone (`unused`, Target.NotRegistered, when
  asked for by id). Deregistering a draining target again is accepted, as AWS does.
- A newly registered target is `initial` (Elb.RegistrationInProgress) for the health check
  interval x the healthy threshold count, then `healthy`. Registering a registered target changes
  nothing; registering a draining one starts it over as `initial`.
- An instance tagged `emulator:health=<reason code>` (e.g. Target.ResponseCodeMismatch,
  Target.Timeout, Target.FailedHealthChecks) is `unhealthy` with that reason once out of
  `initial`; remove the tag (or set it to `healthy`) and it is healthy again.
- Time scale: every one of those durations is multiplied by the target group's tag
  `emulator:time-scale` (e.g. 0.01: a 300 s delay drains in 3 s), else by the emulator's
  EMULATOR_TIME_SCALE environment variable, else 1.
- Auto Scaling registers an instance in the group's target groups once, when it joins the group
  in service (launched, or its target group attached), never while in Standby; EnterStandby
  deregisters it (draining) and ExitStandby registers it again. moto re-registered every member,
  Standby ones included, whenever the group changed, undoing any deregistration.
Limit kept from moto: a target group holds one registration per instance (one port).
"""

import os
import time

from moto.autoscaling.models import AutoScalingBackend
from moto.elbv2.models import ELBv2Backend, FakeHealthStatus, FakeTargetGroup, elbv2_backends

TIME_SCALE_TAG = "emulator:time-scale"
HEALTH_TAG = "emulator:health"

DESCRIPTIONS = {
    "Target.ResponseCodeMismatch": "Health checks failed with these codes: [502]",
    "Target.Timeout": "Request timed out",
    "Target.FailedHealthChecks": "Health checks failed",
}


def _scale(group):
    tags = elbv2_backends[group.account_id][group.region_name].tagging_service
    raw = tags.get_tag_dict_for_resource(group.arn).get(TIME_SCALE_TAG)
    return float(raw or os.environ.get("EMULATOR_TIME_SCALE") or 1)


def _since(group):
    """Instance id -> when it was registered (its `initial` period counts from there)."""
    return group.__dict__.setdefault("_emulator_since", {})


def _draining(group):
    """Instance id -> (its registration, when draining ends); expired entries dropped."""
    draining = group.__dict__.setdefault("_emulator_draining", {})
    now = time.time()
    for target_id in [t for t, (_, until) in draining.items() if until <= now]:
        del draining[target_id]
    return draining


def _status(target, group, state, reason=None, description=None):
    return FakeHealthStatus(
        target["Id"], target["Port"], group.health_check_port, state, reason, description
    )


_original_register = FakeTargetGroup.register
_original_deregister = FakeTargetGroup.deregister
_original_health_for = FakeTargetGroup.health_for


def _register(self, targets):
    fresh = [t["Id"] for t in targets if t["Id"] not in self.targets]
    _original_register(self, targets)
    draining = _draining(self)
    for target_id in fresh:
        _since(self)[target_id] = time.time()
        draining.pop(target_id, None)


def _deregister(self, targets):
    draining = _draining(self)
    delay = float(self.attributes.get("deregistration_delay.timeout_seconds", 300))
    for target in targets:
        if target["Id"] in draining and target["Id"] not in self.targets:
            continue  # already draining: AWS accepts it again
        _original_deregister(self, [target])
        registration = self.deregistered_targets[target["Id"]]
        draining[target["Id"]] = (registration, time.time() + delay * _scale(self))
        _since(self).pop(target["Id"], None)


def _health_for(self, target, ec2_backend):
    draining = _draining(self)
    target_id = target["Id"]
    if target_id in draining and target_id not in self.targets:
        registration = draining[target_id][0]
        return _status(
            registration,
            self,
            "draining",
            "Target.DeregistrationInProgress",
            "Target deregistration is in progress",
        )
    status = _original_health_for(self, target, ec2_backend)
    if target_id not in self.targets or status.status != "healthy":
        return status
    registration = self.targets[target_id]
    initial = (
        float(self.health_check_interval_seconds)
        * float(self.healthy_threshold_count)
        * _scale(self)
    )
    if time.time() - _since(self).get(target_id, 0) < initial:
        return _status(
            registration,
            self,
            "initial",
            "Elb.RegistrationInProgress",
            "Target registration is in progress",
        )
    instance = ec2_backend.get_instance_by_id(target_id) if target_id.startswith("i-") else None
    health = _instance_tag(instance, HEALTH_TAG) if instance else None
    if health and health != "healthy":
        return _status(
            registration, self, "unhealthy", health, DESCRIPTIONS.get(health, "Health checks failed")
        )
    return status


def _instance_tag(instance, key):
    for tag in instance.get_tags():
        if tag["key"] == key:
            return tag["value"]
    return None


def _describe_target_health(self, target_group_arn, targets):
    group = self.target_groups.get(target_group_arn)
    if group is not None and not targets:
        # Draining targets are listed too, as AWS lists them.
        targets = list(group.targets.values()) + [
            registration
            for target_id, (registration, _) in _draining(group).items()
            if target_id not in group.targets
        ]
    return _original_describe_target_health(self, target_group_arn, targets)


FakeTargetGroup.register = _register
FakeTargetGroup.deregister = _deregister
FakeTargetGroup.health_for = _health_for
_original_describe_target_health = ELBv2Backend.describe_target_health
ELBv2Backend.describe_target_health = _describe_target_health


# --- Auto Scaling: register a member once, when it joins in service; Standby leaves and returns.


def _update_attached_target_groups(self, group_name):
    group = self.autoscaling_groups[group_name]
    if not group.target_group_arns:
        return
    registered = group.__dict__.setdefault("_emulator_registered", {})
    for target_group in self.elbv2_backend.describe_target_groups(
        target_group_arns=group.target_group_arns, load_balancer_arn=None, names=None
    ):
        known = registered.setdefault(target_group.arn, set())
        joining = [
            s.instance.id
            for s in group.instance_states
            if s.lifecycle_state == "InService" and s.instance.id not in known
        ]
        if joining:
            self.elbv2_backend.register_targets(
                target_group.arn, [{"Id": i, "Port": target_group.port} for i in joining]
            )
        known.update(joining)


def _in_target_groups(backend, group_name, instance_ids, action):
    group = backend.autoscaling_groups[group_name]
    for arn in group.target_group_arns:
        target_group = backend.elbv2_backend.target_groups.get(arn)
        if target_group is None:
            continue
        for instance_id in instance_ids:
            registered = instance_id in target_group.targets
            if action == "leave" and registered:
                target_group.deregister([{"Id": instance_id}])
            elif action == "return" and not registered:
                target_group.register([{"Id": instance_id, "Port": target_group.port}])


_original_enter_standby = AutoScalingBackend.enter_standby_instances
_original_exit_standby = AutoScalingBackend.exit_standby_instances


def _enter_standby(self, group_name, instance_ids, should_decrement):
    _in_target_groups(self, group_name, instance_ids, "leave")
    return _original_enter_standby(self, group_name, instance_ids, should_decrement)


def _exit_standby(self, group_name, instance_ids):
    activities = _original_exit_standby(self, group_name, instance_ids)
    _in_target_groups(self, group_name, instance_ids, "return")
    return activities


AutoScalingBackend.update_attached_target_groups = _update_attached_target_groups
AutoScalingBackend.enter_standby_instances = _enter_standby
AutoScalingBackend.exit_standby_instances = _exit_standby
