"""moto server with the few AWS behaviours this project needs and moto 5.2.3 lacks.

Each patch below makes the emulator closer to AWS, never looser. Everything else is moto as
published. Start it as `python server.py -H 127.0.0.1 -p PORT` (the arguments of moto.server).

EC2 behaviours modelled below: CreateLaunchTemplateVersion honours SourceVersion and ClientToken;
a launch (RunInstances, or Auto Scaling from a template) with Encrypted=false beside a SnapshotId
is refused as AWS refuses it; DescribeLaunchTemplates and DescribeLaunchTemplateVersions page with
NextToken; DeleteLaunchTemplateVersions exists.

Test affordances (documented in README.md here), read from instance tags so a test can shape
the fleet through the real EC2 API:
  emulator:ssm-ping    Online (default) | ConnectionLost | Inactive | none (not SSM-managed)
  emulator:ssm-status  Success (default) | Failed: the outcome of every command on that host
  emulator:ssm-seconds N: commands on that host stay InProgress for N seconds before ending

SSM and EC2 together: a host terminated while its command runs (TerminateInstances, or
TerminateInstanceInAutoScalingGroup, after which moto's group launches a replacement unless told
to decrement, as AWS does) leaves its invocation InProgress until the command's
executionTimeout, then TimedOut, as AWS reports an invocation whose agent went away.
CancelCommand with InstanceIds cancels only those hosts' invocations. SendCommand to a host
that is shutting down or terminated is refused, the whole call, with InvalidInstanceId.

Hosts that run their commands (host_exec.py, code_volumes.py), a test affordance:
  emulator:ssm-exec     true: AWS-RunShellScript commands really run (bash, asynchronously):
                        InProgress, then Success / Failed (ResponseCode = exit code) / TimedOut
                        (ExecutionTimedOut, 137) at executionTimeout; output kept to 24,000 /
                        8,000 characters; CancelCommand and termination kill the process group.
                        The ssm-status and ssm-seconds tags do not apply to such a host.
  emulator:mount-point  the path its commands use for its code volume; the emulator rewrites it
                        to the host's own directory <EMULATOR_ROOT>/<instance-id> (and back in
                        the output).
  emulator:code-device  the device of its code volume (default /dev/sdf): CreateSnapshot of the
                        volume there saves the directory; a host launched with a mapping naming
                        that snapshot gets it back and becomes an exec host.
Lost answers (lost_answers.py): POST /emulator-api/lose-answer {"action": A, "times": N} makes
the next N successful calls of A take effect, then answer HTTP 500 (the SDK retries them).
S3 (s3_cutoff.py): an object tagged emulator:cut-off answers GET with half its bytes (or N),
then closes the connection.
Instance refreshes (instance_refresh.py): Start, Describe and Cancel; one runs for the group's
emulator:refresh-seconds tag (default 1), then replaces the group's instances (or, with
emulator:refresh-status=Failed, fails).
"""

import copy
import datetime
import sys
import time

from moto.core.exceptions import JsonRESTError
from moto.core.responses import ActionResult
from moto.ec2.exceptions import InvalidLaunchTemplateVersionNotFound, InvalidParameter
from moto.ec2.models import ec2_backends
from moto.ec2.models.instances import InstanceBackend
from moto.ec2.models.launch_templates import LaunchTemplate
from moto.ec2.responses import EC2Response
from moto.ssm.responses import SimpleSystemManagerResponse
from moto.ssm.models import Command
from moto.server import main

import code_volumes  # (code volumes as directories, carried by snapshots)
import elbv2  # noqa: F401 (target health and Auto Scaling registration as AWS does them)
import host_exec  # (hosts that really run their commands)
import instance_refresh  # noqa: F401 (instance refreshes that replace the group's instances)
import lost_answers  # noqa: F401 (calls that take effect but whose answer is lost)
import s3_cutoff  # noqa: F401 (a download cut off half-way)
import warm_pool  # noqa: F401 (warm pool instances, seeded by a tag)

PAGE = 50


def _ec2(account_id, region):
    return ec2_backends[account_id][region]


def _instances(account_id, region):
    for reservation in _ec2(account_id, region).all_reservations():
        yield from reservation.instances


def _tag(instance, key, default=None):
    for tag in instance.get_tags():
        if tag["key"] == key:
            return tag["value"]
    return default


# --- SSM: a command reaches only the instances it names (moto adds every instance of the
# region when Targets is empty).
_original_targets = Command._get_instance_ids_from_targets


def _targets_only(self):
    return _original_targets(self) if self.targets else []


Command._get_instance_ids_from_targets = _targets_only

# --- SSM: an invocation's outcome follows the host's emulator:ssm-status tag.
_original_invocation = Command.invocation_response


# (command id, instance id) -> (time the invocation ends, its final fields, its timeout)
_running = {}

_GONE = ("shutting-down", "terminated")


def _execution_timeout(command):
    value = (command.parameters or {}).get("executionTimeout") or ["3600"]
    return float(value[0] if isinstance(value, list) else value)


def _invocation(self, instance_id, plugin_name):
    inv = _original_invocation(self, instance_id, plugin_name)
    tags = code_volumes.all_tags(self.account_id, self.backend_region, instance_id)
    if host_exec.runs_commands(tags) and self.document_name == "AWS-RunShellScript":
        host_exec.start(
            self.command_id, instance_id, tags, self.parameters, _execution_timeout(self)
        )
        inv.update(Status="InProgress", StatusDetails="InProgress", ResponseCode=-1)
        return inv
    status, seconds = "Success", 0.0
    for inst in _instances(self.account_id, self.backend_region):
        if inst.id == instance_id:
            status = _tag(inst, "emulator:ssm-status", "Success")
            seconds = float(_tag(inst, "emulator:ssm-seconds", "0"))
    if status == "Failed":
        inv.update(
            Status="Failed",
            StatusDetails="Failed",
            ResponseCode=1,
            StandardErrorContent="emulated failure (emulator:ssm-status=Failed)\n",
        )
    if seconds > 0:
        final = {k: inv[k] for k in ("Status", "StatusDetails", "ResponseCode")}
        now = time.time()
        timeout = now + _execution_timeout(self)
        _running[(self.command_id, instance_id)] = (now + seconds, final, timeout)
        inv.update(Status="InProgress", StatusDetails="InProgress", ResponseCode=-1)
    return inv


def _instance_state(command, instance_id):
    for inst in _instances(command.account_id, command.backend_region):
        if inst.id == instance_id:
            return inst.state
    return None


# What SSM reports once a terminated host's invocation times out: the agent never answered.
_TIMED_OUT = {"Status": "TimedOut", "StatusDetails": "TimedOut", "ResponseCode": -1}


def _settle(command):
    """Ends the invocations whose time has come, then recounts. A host that was terminated
    meanwhile never ends its command: its invocation times out at the executionTimeout."""
    now = time.time()
    for inv in command.invocations:
        key = (command.command_id, inv["InstanceId"])
        if host_exec.tracks(key):
            gone = _instance_state(command, inv["InstanceId"]) in _GONE
            final = host_exec.settle(key, gone)
            if final:
                inv.update(final)
            continue
        if key not in _running:
            continue
        ends, final, timeout = _running[key]
        if _instance_state(command, inv["InstanceId"]) in _GONE:
            if timeout <= now:
                _running.pop(key)
                inv.update(_TIMED_OUT)
        elif ends <= now:
            inv.update(_running.pop(key)[1])
    _refresh_counts(command)


Command.invocation_response = _invocation

_original_send_command = SimpleSystemManagerResponse.send_command


def _send_command(self):
    """As AWS: one host gone refuses the whole call (moto would send to it)."""
    ids = self._get_param("InstanceIds") or []
    backend = self.ssm_backend
    states = {i.id: i.state for i in _instances(backend.account_id, backend.region_name)}
    gone = [i for i in ids if states.get(i) in _GONE]
    if gone:
        raise JsonRESTError(
            "InvalidInstanceId",
            f"Instances [{', '.join(gone)}] not in a valid state for account {backend.account_id}",
        )
    return _original_send_command(self)


SimpleSystemManagerResponse.send_command = _send_command


def _refresh_counts(command):
    """AWS counts per invocation; moto counts what was asked for."""
    finished = [i for i in command.invocations if i["Status"] != "InProgress"]
    command.target_count = len(command.invocations)
    command.completed_count = len(finished)
    command.error_count = sum(1 for i in finished if i["Status"] not in ("Success", "Cancelled"))
    if len(finished) < len(command.invocations):
        command.status = "InProgress"
    elif any(i["Status"] == "Cancelled" for i in finished):
        command.status = "Cancelled"
    else:
        command.status = "Failed" if command.error_count else "Success"
    command.status_details = command.status


_original_response_object = Command.response_object
_original_get_invocation = Command.get_invocation


def _response_object(self):
    _settle(self)
    return _original_response_object(self)


def _get_invocation(self, instance_id, plugin_name):
    _settle(self)
    return _original_get_invocation(self, instance_id, plugin_name)


Command.response_object = _response_object
Command.get_invocation = _get_invocation


_original_command_init = Command.__init__


def _command_init(self, *args, **kwargs):
    _original_command_init(self, *args, **kwargs)
    _refresh_counts(self)


Command.__init__ = _command_init


def _page(items, token, max_results):
    start = int(token or 0)
    end = start + max_results
    return items[start:end], (str(end) if end < len(items) else None)


def list_command_invocations(self):
    command_id = self._get_param("CommandId")
    instance_id = self._get_param("InstanceId")
    details = self._get_param("Details", False)
    max_results = min(int(self._get_param("MaxResults", PAGE)), PAGE)
    commands = (
        [self.ssm_backend.get_command_by_id(command_id)]
        if command_id
        else list(self.ssm_backend._commands)
    )
    for command in commands:
        _settle(command)
    rows = []
    for command in commands:
        for inv in command.invocations:
            if instance_id and inv["InstanceId"] != instance_id:
                continue
            row = {
                "CommandId": command.command_id,
                "InstanceId": inv["InstanceId"],
                "DocumentName": command.document_name,
                "Comment": command.comment,
                "RequestedDateTime": command.requested_date_time,
                "Status": inv["Status"],
                "StatusDetails": inv["StatusDetails"],
            }
            if details:
                row["CommandPlugins"] = [
                    {
                        "Name": inv["PluginName"],
                        "Status": inv["Status"],
                        "StatusDetails": inv["StatusDetails"],
                        "ResponseCode": inv["ResponseCode"],
                        "ResponseStartDateTime": command.requested_date_time,
                        "ResponseFinishDateTime": command.requested_date_time
                        + datetime.timedelta(seconds=1),
                        "Output": (inv["StandardOutputContent"] + inv["StandardErrorContent"])[:2500],
                    }
                ]
            rows.append(row)
    page, token = _page(rows, self._get_param("NextToken"), max_results)
    result = {"CommandInvocations": page}
    if token:
        result["NextToken"] = token
    return ActionResult(result)


def describe_instance_information(self):
    wanted = None
    for f in (self._get_param("Filters") or []) + (
        self._get_param("InstanceInformationFilterList") or []
    ):
        key = f.get("Key") or f.get("key")
        if key in ("InstanceIds", "InstanceIds".lower()):
            wanted = set(f.get("Values") or f.get("valueSet") or [])
    max_results = min(int(self._get_param("MaxResults", PAGE)), PAGE)
    rows = []
    for inst in _instances(self.current_account, self.region):
        if inst.state != "running" or (wanted is not None and inst.id not in wanted):
            continue
        ping = _tag(inst, "emulator:ssm-ping", "Online")
        if ping == "none":
            continue
        rows.append(
            {
                "InstanceId": inst.id,
                "PingStatus": ping,
                "LastPingDateTime": datetime.datetime.now(datetime.timezone.utc),
                "AgentVersion": "3.3.0.0",
                "IsLatestVersion": True,
                "PlatformType": "Linux",
                "PlatformName": "Amazon Linux",
                "ResourceType": "EC2Instance",
                "IPAddress": inst.private_ip,
            }
        )
    page, token = _page(rows, self._get_param("NextToken"), max_results)
    result = {"InstanceInformationList": page}
    if token:
        result["NextToken"] = token
    return ActionResult(result)


def cancel_command(self):
    command = self.ssm_backend.get_command_by_id(self._get_param("CommandId"))
    only = set(self._get_param("InstanceIds") or [])
    _settle(command)
    for inv in command.invocations:
        if only and inv["InstanceId"] not in only:
            continue
        if inv["Status"] == "InProgress":
            key = (command.command_id, inv["InstanceId"])
            _running.pop(key, None)
            # A process the agent stops reports 128 + SIGKILL; one never started, -1.
            code = host_exec.STOPPED if host_exec.cancel(key) else -1
            inv.update(Status="Cancelled", StatusDetails="Cancelled", ResponseCode=code)
    _refresh_counts(command)
    return ActionResult({})


SimpleSystemManagerResponse.list_command_invocations = list_command_invocations
SimpleSystemManagerResponse.describe_instance_information = describe_instance_information
SimpleSystemManagerResponse.cancel_command = cancel_command

# --- SSM: the AWS-managed documents exist in every region (moto knows none of them).
_original_describe_document = SimpleSystemManagerResponse.describe_document
_AWS_DOCUMENTS = {"AWS-RunShellScript": "Linux", "AWS-RunPowerShellScript": "Windows"}


def describe_document(self):
    name = self._get_param("Name")
    if name not in _AWS_DOCUMENTS:
        return _original_describe_document(self)
    return ActionResult(
        {
            "Document": {
                "Name": name,
                "Owner": "Amazon",
                "Status": "Active",
                "DocumentType": "Command",
                "SchemaVersion": "1.2",
                "PlatformTypes": [_AWS_DOCUMENTS[name]],
            }
        }
    )


SimpleSystemManagerResponse.describe_document = describe_document

# --- EC2: CreateLaunchTemplateVersion inherits from SourceVersion and honours ClientToken.
_original_create_version = EC2Response.create_launch_template_version
_tokens = {}


def _version_result(template, version):
    return ActionResult(
        {
            "LaunchTemplateVersion": {
                "CreateTime": version.create_time,
                "DefaultVersion": template.is_default(version),
                "LaunchTemplateData": version.data,
                "LaunchTemplateId": template.id,
                "LaunchTemplateName": template.name,
                "VersionDescription": version.description,
                "VersionNumber": version.number,
            }
        }
    )


def create_launch_template_version(self):
    name = self._get_param("LaunchTemplateName")
    tmpl_id = self._get_param("LaunchTemplateId")
    backend = self.ec2_backend
    template = backend.get_launch_template_by_name(name) if name else backend.get_launch_template(tmpl_id)
    token = self._get_param("ClientToken")
    if token and (template.id, token) in _tokens:
        version = template.get_version(_tokens[(template.id, token)])
        return _version_result(template, version)
    source = self._get_param("SourceVersion")
    if source:
        data = copy.deepcopy(template.get_version(source).data)
        data.update(self._get_param("LaunchTemplateData", {}))
        version = template.create_version(data, self._get_param("VersionDescription"))
    else:
        version = template.create_version(
            self._get_param("LaunchTemplateData", {}), self._get_param("VersionDescription")
        )
    if token:
        _tokens[(template.id, token)] = version.number
    return _version_result(template, version)


EC2Response.create_launch_template_version = create_launch_template_version

# --- EC2: a launch whose block device mapping has Encrypted=false beside a SnapshotId is
# refused, as AWS refuses it (moto launches it). Encrypted=true beside a snapshot is allowed: it
# encrypts a volume made from an unencrypted snapshot. Launches through an Auto Scaling group
# fail the call that asked for them (AWS would record a failed scaling activity instead).
ENCRYPTED_BESIDE_SNAPSHOT = (
    "Parameter encrypted is invalid. You cannot specify the encrypted flag if specifying "
    "a snapshot id in a block device mapping."
)


def _refuse_encrypted_false(mappings):
    for mapping in mappings or []:
        ebs = mapping.get("Ebs") or {}
        encrypted = ebs.get("Encrypted")
        if ebs.get("SnapshotId") and (encrypted is False or str(encrypted).lower() == "false"):
            raise InvalidParameter(ENCRYPTED_BESIDE_SNAPSHOT)


_original_run_instances_response = EC2Response.run_instances


def run_instances_response(self):
    # The request as sent: moto's parser writes Encrypted=false into every mapping.
    _refuse_encrypted_false(self._get_param("BlockDeviceMappings", []))
    return _original_run_instances_response(self)


_original_run_instances = InstanceBackend.run_instances


def run_instances(self, image_id, count, user_data, security_group_names, **kwargs):
    if kwargs.get("launch_template") and "block_device_mappings" not in kwargs:
        template = self._get_template_from_args(kwargs["launch_template"])
        _refuse_encrypted_false(template.data.get("BlockDeviceMappings"))
    return _original_run_instances(
        self, image_id, count, user_data, security_group_names, **kwargs
    )


EC2Response.run_instances = run_instances_response
InstanceBackend.run_instances = run_instances

# --- EC2 and SSM: a terminated exec host's command dies with it (host_exec.py).
_original_terminate_instances = InstanceBackend.terminate_instances


def terminate_instances(self, instance_ids):
    result = _original_terminate_instances(self, instance_ids)
    host_exec.instances_gone([inst.id for inst, _ in result])
    return result


InstanceBackend.terminate_instances = terminate_instances

# --- EC2: DescribeLaunchTemplates and DescribeLaunchTemplateVersions page with NextToken
# (moto cuts the list at MaxResults and says nothing). AWS allows up to 200 per page.
_original_describe_templates = EC2Response.describe_launch_templates
_original_describe_versions = EC2Response.describe_launch_template_versions


def _paged(self, original, key):
    max_results = min(int(self._get_param("MaxResults") or 200), 200)
    deleted = lambda item: item.get("VersionNumber") in _deleted_versions.get(
        item.get("LaunchTemplateId"), ()
    )
    # The whole list from moto, then one page of it.
    if self.automated_parameter_parsing:
        self.params["MaxResults"] = 100000
    else:
        self.querystring["MaxResults"] = ["100000"]
    result = original(self)
    listed = [item for item in result.result[key] if not deleted(item)]
    items, token = _page(listed, self._get_param("NextToken"), max_results)
    out = {key: items}
    if token:
        out["NextToken"] = token
    return ActionResult(out)


def describe_launch_templates(self):
    return _paged(self, _original_describe_templates, "LaunchTemplates")


def describe_launch_template_versions(self):
    return _paged(self, _original_describe_versions, "LaunchTemplateVersions")


EC2Response.describe_launch_templates = describe_launch_templates
EC2Response.describe_launch_template_versions = describe_launch_template_versions

# --- EC2: DeleteLaunchTemplateVersions (missing in moto). A deleted version leaves every
# listing and is not found by number; numbers are never reused. The default version cannot be
# deleted (AWS documents no error code for that; this answers unexpectedError).
_deleted_versions = {}  # launch template id -> deleted version numbers


def delete_launch_template_versions(self):
    name = self._get_param("LaunchTemplateName")
    tmpl_id = self._get_param("LaunchTemplateId")
    backend = self.ec2_backend
    template = backend.get_launch_template_by_name(name) if name else backend.get_launch_template(tmpl_id)
    gone = _deleted_versions.setdefault(template.id, set())
    ok, refused = [], []
    for raw in self._get_param("Versions", []):
        number = int(raw)
        item = {
            "LaunchTemplateId": template.id,
            "LaunchTemplateName": template.name,
            "VersionNumber": number,
        }
        if number in gone or not 1 <= number <= len(template.versions):
            error = ("launchTemplateVersionDoesNotExist", f"The launch template version {number} does not exist.")
        elif number == template.default_version_number:
            error = ("unexpectedError", "You cannot delete the default version of a launch template.")
        else:
            gone.add(number)
            ok.append(item)
            continue
        refused.append({**item, "ResponseError": {"Code": error[0], "Message": error[1]}})
    return ActionResult(
        {
            "SuccessfullyDeletedLaunchTemplateVersions": ok,
            "UnsuccessfullyDeletedLaunchTemplateVersions": refused,
        }
    )


_original_get_version = LaunchTemplate.get_version


def get_version(self, num):
    if str(num).isdigit() and int(num) in _deleted_versions.get(self.id, ()):
        raise InvalidLaunchTemplateVersionNotFound(template_id=self.id, version=num)
    return _original_get_version(self, num)


EC2Response.delete_launch_template_versions = delete_launch_template_versions
LaunchTemplate.get_version = get_version

if __name__ == "__main__":
    main(sys.argv[1:])
