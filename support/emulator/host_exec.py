"""Hosts that really run their commands: a test affordance. Imported by server.py, which asks it
at SendCommand, on every read of an invocation, at CancelCommand and at termination.

An instance tagged `emulator:ssm-exec=true` runs each AWS-RunShellScript command as the SSM
agent does: the `commands` lines joined by newlines into a script, run by /bin/bash (the agent
runs `sh`, which is bash on Amazon Linux) in a process group of its own, asynchronously. The
invocation is InProgress while it runs, then Success (exit 0), Failed (ResponseCode = the exit
code), or TimedOut (StatusDetails ExecutionTimedOut, ResponseCode 137 as the agent reports a
process it killed) once the command's executionTimeout passes, the process group killed.
StandardOutputContent / StandardErrorContent keep the first 24,000 / 8,000 characters, as AWS.

The process runs as the emulator's user (the agent runs as root), in `workingDirectory` if given,
else in a directory of its own (the agent's orchestration directory), with a minimal PATH, no
HOME (AWS-RunShellScript has none), EMULATOR_INSTANCE_ID and EMULATOR_ROOT_DIR (the instance's
code volume directory, see code_volumes.py). The command text and working directory are
rewritten by code_volumes.to_host_paths (the mount point named by the instance's
`emulator:mount-point` tag becomes the instance's directory) and its output back.

CancelCommand kills the process group (Cancelled, ResponseCode 137). A host terminated while
its command runs has the process killed at once; its invocation stays InProgress until the
executionTimeout, then TimedOut, as for every terminated host (server.py).
"""

import datetime
import os
import shutil
import signal
import subprocess
import tempfile
import threading
import time

import code_volumes

EXEC_TAG = "emulator:ssm-exec"
STDOUT_LIMIT = 24_000
STDERR_LIMIT = 8_000
# The exit code the agent reports for a process it stopped (128 + SIGKILL).
STOPPED = 137
PATH = "/usr/local/sbin:/usr/local/bin:/usr/sbin:/usr/bin:/sbin:/bin"

_lock = threading.Lock()
_executions = {}  # (command id, instance id) -> Execution


def runs_commands(tags):
    return tags.get(EXEC_TAG, "").lower() == "true"


def _param(parameters, name, default=None):
    value = (parameters or {}).get(name)
    if value is None or value == []:
        return default
    return value if isinstance(value, list) else [value]


class Execution:
    def __init__(self, key, instance_id, tags, parameters, timeout):
        self.key = key
        self.instance_id = instance_id
        self.started = time.time()
        self.deadline = self.started + timeout
        self.outcome = None  # the final fields, once the process ended
        self.stopped_by = None  # "cancel" | "gone"
        self.workdir = tempfile.mkdtemp(prefix="invocation-", dir=code_volumes.work_root())
        self.mount_point = code_volumes.mount_point(tags)
        self.code_dir = code_volumes.code_dir(instance_id)
        script = "\n".join(_param(parameters, "commands", [])) + "\n"
        script = code_volumes.to_host_paths(script, self.mount_point, self.code_dir)
        path = os.path.join(self.workdir, "_script.sh")
        with open(path, "w") as f:
            f.write(script)
        cwd = _param(parameters, "workingDirectory", [""])[0]
        cwd = code_volumes.to_host_paths(cwd, self.mount_point, self.code_dir) or self.workdir
        self.stdout = open(os.path.join(self.workdir, "stdout"), "wb")
        self.stderr = open(os.path.join(self.workdir, "stderr"), "wb")
        env = {
            "PATH": PATH,
            "EMULATOR_INSTANCE_ID": instance_id,
            "EMULATOR_ROOT_DIR": self.code_dir,
        }
        try:
            self.proc = subprocess.Popen(
                ["/bin/bash", path],
                cwd=cwd,
                env=env,
                stdin=subprocess.DEVNULL,
                stdout=self.stdout,
                stderr=self.stderr,
                start_new_session=True,
            )
        except OSError as error:  # e.g. the working directory does not exist
            self.proc = None
            self.stderr.write(f"failed to run commands: {error}\n".encode())
            self._finish(1)
            return
        threading.Thread(target=self._watch, daemon=True).start()

    def _watch(self):
        try:
            code = self.proc.wait(timeout=max(0.0, self.deadline - time.time()))
        except subprocess.TimeoutExpired:
            self.kill()
            self.proc.wait()
            code = None
        self._finish(code)

    def kill(self):
        if self.proc is None:
            return
        try:
            os.killpg(self.proc.pid, signal.SIGKILL)
        except ProcessLookupError:
            pass

    def _read(self, name, limit):
        with open(os.path.join(self.workdir, name), "rb") as f:
            text = f.read().decode("utf-8", errors="replace")
        return code_volumes.to_mount_paths(text, self.mount_point, self.code_dir)[:limit]

    def _finish(self, code):
        self.stdout.close()
        self.stderr.close()
        if code is None:
            status, details, code = "TimedOut", "ExecutionTimedOut", STOPPED
        elif code == 0:
            status = details = "Success"
        else:
            # A signal's death (Popen says -N) is reported by the agent as 128 + N.
            status, details, code = "Failed", "Failed", code if code > 0 else 128 - code
        ended = datetime.datetime.now(datetime.timezone.utc)
        outcome = {
            "Status": status,
            "StatusDetails": details,
            "ResponseCode": code,
            "StandardOutputContent": self._read("stdout", STDOUT_LIMIT),
            "StandardErrorContent": self._read("stderr", STDERR_LIMIT),
            "ExecutionEndDateTime": ended.isoformat(),
            "ExecutionElapsedTime": f"PT{ended.timestamp() - self.started:.3f}S",
        }
        shutil.rmtree(self.workdir, ignore_errors=True)
        with _lock:
            self.outcome = outcome


def start(command_id, instance_id, tags, parameters, timeout):
    key = (command_id, instance_id)
    execution = Execution(key, instance_id, tags, parameters, timeout)
    with _lock:
        _executions[key] = execution


def tracks(key):
    with _lock:
        return key in _executions


def settle(key, gone):
    """The invocation's final fields once it has ended, else None (still InProgress). A host
    gone (shutting down or terminated) loses its process and times out at the deadline."""
    with _lock:
        execution = _executions.get(key)
    if execution is None:
        return None
    with _lock:
        # Ended before its host went: the agent had reported it.
        finished = execution.outcome if execution.stopped_by is None else None
    if finished is None and (gone or execution.stopped_by == "gone"):
        execution.stopped_by = "gone"
        execution.kill()
        if time.time() < execution.deadline:
            return None
        final = {"Status": "TimedOut", "StatusDetails": "TimedOut", "ResponseCode": -1}
    elif finished is None:
        return None
    else:
        final = finished
    with _lock:
        _executions.pop(key, None)
    return final


def cancel(key):
    """Kills the invocation's process; True when it was one of these hosts."""
    with _lock:
        execution = _executions.pop(key, None)
    if execution is None:
        return False
    execution.stopped_by = "cancel"
    execution.kill()
    return True


def instances_gone(instance_ids):
    """TerminateInstances: the processes die with their hosts."""
    wanted = set(instance_ids)
    with _lock:
        doomed = [
            e for e in _executions.values() if e.instance_id in wanted and e.outcome is None
        ]
        for execution in doomed:
            execution.stopped_by = "gone"
    for execution in doomed:
        execution.kill()


def reset():
    with _lock:
        doomed = list(_executions.values())
        _executions.clear()
    for execution in doomed:
        execution.kill()


code_volumes.on_reset(reset)
