"""Warm pool instances (moto 5.2.3 stores a group's warm pool configuration but never puts an
instance in it). Imported by server.py for its side effects.

- Seeding, a test affordance: an EC2 instance tagged `emulator:warm-pool=<group name>` is in that
  group's warm pool (Warmed:Stopped) while it is not terminated, provided the group has a warm
  pool (PutWarmPool). Its LaunchTemplate is the one it was launched from (the instance's
  aws:ec2launchtemplate:id/version tags, as AWS reports it per warm instance).
- DescribeWarmPool lists those instances; TerminateInstanceInAutoScalingGroup of one terminates
  it and takes it out of the pool, leaving the group's desired capacity alone, as AWS does.
"""

from moto.autoscaling.models import Activity, AutoScalingBackend
from moto.autoscaling.responses import AutoScalingResponse
from moto.core.responses import ActionResult
from moto.ec2.models import ec2_backends

WARM_TAG = "emulator:warm-pool"


def _warm_instances(account_id, region, group_name):
    ec2 = ec2_backends[account_id][region]
    found = []
    for reservation in ec2.reservations.values():
        for inst in reservation.instances:
            tags = ec2.tags.get(inst.id, {})
            if tags.get(WARM_TAG) == group_name and inst.state != "terminated":
                found.append((inst, tags))
    return found


def _warm_instance_view(inst, tags):
    view = {
        "InstanceId": inst.id,
        "InstanceType": inst.instance_type,
        "AvailabilityZone": inst.placement,
        "LifecycleState": "Warmed:Stopped",
        "HealthStatus": "Healthy",
    }
    if tags.get("aws:ec2launchtemplate:id"):
        view["LaunchTemplate"] = {
            "LaunchTemplateId": tags["aws:ec2launchtemplate:id"],
            "Version": tags.get("aws:ec2launchtemplate:version", "1"),
        }
    return view


def describe_warm_pool(self):
    group_name = self._get_param("AutoScalingGroupName")
    warm_pool = self.autoscaling_backend.describe_warm_pool(group_name=group_name)
    instances = []
    if warm_pool is not None:
        instances = [
            _warm_instance_view(inst, tags)
            for inst, tags in _warm_instances(self.current_account, self.region, group_name)
        ]
    return ActionResult({"WarmPoolConfiguration": warm_pool, "Instances": instances})


_original_terminate = AutoScalingBackend.terminate_instance


def terminate_instance(self, instance_id, should_decrement):
    for group in self.autoscaling_groups.values():
        for inst, _ in _warm_instances(self.account_id, self.region_name, group.name):
            if inst.id == instance_id:
                self.ec2_backend.terminate_instances([instance_id])
                return Activity(
                    f"Terminating EC2 instance: {instance_id}",
                    f"Instance {instance_id} was taken out of the warm pool in response to a user request.",
                    group,
                )
    return _original_terminate(self, instance_id, should_decrement)


AutoScalingResponse.describe_warm_pool = describe_warm_pool
AutoScalingBackend.terminate_instance = terminate_instance
