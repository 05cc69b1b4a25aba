"""petgate's benchmark: ratios against peers measured in the same run on the same machine.

Starts `petgate local` twice, once answering at once and once with 40 ms of control-plane
latency (`--latency 40`, as a real control plane costs), then measures (median and min-max
over several runs, warm-up runs excluded; the contenders of one comparison run in turns,
round by round, so a busy moment of the machine falls on all of them):
- each exercise step as one petgate process against its boto3 floor (a bare python+boto3
  process making the minimum calls the step needs; verify's floor is a bare python process
  making one HTTP request with urllib), at 0 and at 40 ms; every measured run of a change
  step is a change (an untimed reset before each run puts the API back), and a block of what
  is blocked already is measured on its own against its floor (GetRestApi, GetExport);
- at 40 ms, where petgate's extra time goes: its start-up (process start to the first
  control-plane call, from -v) against the floor's, the calls it makes, and the import time
  of a change command by package (python -X importtime);
- each exercise step against the same step done with the aws CLI (its own venv, `pip install
  awscli`) plus curl, the way a shell script would (at 0 ms);
- the whole exercise: six petgate commands, `walkthrough --local`, the aws CLI + curl sequence;
- `petgate --help` against `python -c "import click"`;
- the local gateway's throughput and latency (bounded load on loopback) for GET / (MOCK) and
  GET /pets (HTTP integration), without a policy and with the largest deny list that fits
  AWS's 8,192-character quota; as references, GetRestApis from petgate local's own control
  plane (moto's backend behind petgate's HTTP server) and from a real `moto_server` holding
  the same APIs;
- the policy evaluator alone against 10 to 10,000 CIDRs;
- `waf block` (one petgate process) against the aws CLI's wafv2 sequence (list-ip-sets,
  get-ip-set, update-ip-set: three processes) and against its boto3 floor (the same three
  calls from one bare python+boto3 process);
- the gateway's throughput with a 10,000-entry IP set attached to the stage (WAF evaluated on
  every request);
- the cost of the lease that keeps writers on different machines from losing each other's
  updates: one policy change in-process the way petgate makes it (a read, then CreateModel,
  GetRestApi, UpdateRestApi, DeleteModel) against the bare read-modify-write (GetRestApi,
  UpdateRestApi), at 0 and at 40 ms;
- lists as data: `sync` of a 400-entry file against a 1-entry file, and `waf sync` of a
  10,000-entry file against a 1-entry file (time, and AWS calls counted from `-v`).
Prints markdown tables and writes them, with the machine and date, to bench/RESULTS.md.
petgate's bytecode is compiled first, as `pip install` does (compile_petgate).

`--quick`: one run of everything, no warm-up, small loads, RESULTS.md left alone (to check
that the benchmark works; its numbers mean nothing). `--notes-only`: copy NOTES.md into
RESULTS.md under the tables already there, measuring nothing.
"""

from __future__ import annotations

import json
import os
import platform
import shutil
import statistics
import subprocess
import sys
import tempfile
import time
import timeit
from collections.abc import Callable
from dataclasses import dataclass
from pathlib import Path
from typing import Any

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import load  # noqa: E402
from petgate import example  # noqa: E402
from petgate import policy as policies  # noqa: E402

BIN = Path(sys.executable).parent
PETGATE = str(BIN / "petgate")
MOTO_SERVER = BIN / "moto_server"
AWS = ROOT / "bench" / ".venv-awscli" / "bin" / "aws"
RUNS, WARMUP = 5, 1
PHASE_RUNS = 3  # traced runs (-v) per contender for the start-up / calls split
LATENCY_MS = 40  # the control-plane latency of the second gateway
LOAD_TOTAL = 4000
QUICK = False
ENV = {
    **os.environ,
    "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1", "AWS_PAGER": "", "PETGATE_LOCAL": "1",
    "PETGATE_STATE_DIR": tempfile.mkdtemp(prefix="petgate-bench-"),
}
Row = tuple[str, ...]
Sample = tuple[float, float, float]  # median, min, max
TargetRow = tuple[str, str, "bool | None"]


@dataclass
class Table:
    title: str
    header: tuple[str, ...]
    rows: list[Row]


def timed(commands: list[list[str]], env: dict[str, str] | None = None) -> float:
    """Seconds to run the commands one after another (each must succeed)."""
    started = time.perf_counter()
    for command in commands:
        subprocess.run(command, env=env or ENV, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


@dataclass
class Contender:
    """One side of a comparison: the commands of one run (made afresh for each run), an
    untimed `setup` before each run (puts the API back so that the run is a change), and the
    environment (which gateway)."""

    make: Callable[[], list[list[str]]]
    setup: Callable[[], None] | None = None
    env: dict[str, str] | None = None


def side_by_side(contenders: list[Contender], runs: int | None = None) -> list[Sample]:
    """Round by round, each contender once (the order turning every round); warm-up rounds
    excluded. Returns one sample per contender. `runs`: RUNS unless said (one with --quick)."""
    runs = RUNS if runs is None or QUICK else runs
    samples: list[list[float]] = [[] for _ in contenders]
    for round_ in range(WARMUP + runs):
        order = list(range(len(contenders)))
        order = order[round_ % len(order):] + order[:round_ % len(order)]
        for index in order:
            contender = contenders[index]
            if contender.setup:
                contender.setup()
            seconds = timed(contender.make(), contender.env)
            if round_ >= WARMUP:
                samples[index].append(seconds)
    return [(statistics.median(s), min(s), max(s)) for s in samples]


def measure(make: Callable[[], list[list[str]]], runs: int | None = None, setup: Callable[[], None] | None = None,
            env: dict[str, str] | None = None) -> Sample:
    return side_by_side([Contender(make, setup, env)], runs)[0]


def fmt(sample: Sample, unit: str = "s") -> str:
    median, low, high = sample
    if unit == "ms":
        return f"{median * 1000:.0f} ms ({low * 1000:.0f}–{high * 1000:.0f})"
    return f"{median:.2f} s ({low:.2f}–{high:.2f})"


def ms(seconds: float) -> str:
    return f"{seconds * 1000:.0f} ms"


def signed_ms(seconds: float) -> str:
    rounded = round(seconds * 1000)
    return f"{'+' if rounded >= 0 else '−'}{abs(rounded)} ms"


def start_gateway(latency_ms: int = 0) -> tuple[subprocess.Popen[bytes], str]:
    port = _free_port()
    command = [PETGATE, "local", "--host", "127.0.0.1", "--port", str(port), "--latency", str(latency_ms)]
    process = subprocess.Popen(command, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    if not _answers(url + "/_petgate/health"):
        process.terminate()
        raise SystemExit("petgate local did not start")
    return process, url


def _answers(url: str, attempts: int = 300) -> bool:
    import requests

    for _ in range(attempts):
        try:
            requests.get(url, timeout=1)
            return True
        except requests.ConnectionError:
            time.sleep(0.05)
    return False


def stop(process: subprocess.Popen[bytes]) -> None:
    process.terminate()
    try:
        process.wait(timeout=10)
    except subprocess.TimeoutExpired:
        process.kill()
        process.wait()


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def gateway_env(url: str) -> dict[str, str]:
    """The environment of petgate commands against the gateway at `url`, with a journal and
    lock files of their own (the gateways' APIs and their journals stay apart)."""
    return {**ENV, "PETGATE_LOCAL_URL": url, "PETGATE_STATE_DIR": tempfile.mkdtemp(prefix="petgate-bench-")}


def petgate_json(*args: str, env: dict[str, str] | None = None) -> dict[str, Any]:
    out = subprocess.run([PETGATE, "-o", "json", *args], env=env or ENV, check=True, capture_output=True, text=True).stdout
    return dict(json.loads(out))


# --- the exercise's steps against their floors ----------------------------------------------

_FLOOR_HEAD = """
import json, sys, urllib.request, boto3
url, api, definition, invoke, checkip = sys.argv[1:6]
c = boto3.client("apigateway", endpoint_url=url, region_name="us-east-1",
                 aws_access_key_id="bench", aws_secret_access_key="bench")
"""
# traced runs only: one stderr line as each request leaves (what petgate's -v prints)
_FLOOR_TRACE = """
def _sent(**_):
    sys.stderr.write("debug: sent http\\n")
c.meta.events.register("before-send", _sent)
"""
_DENY = ('p = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Principal": "*", "Action": "execute-api:Invoke",'
         ' "Resource": "execute-api:/*", "Condition": {"IpAddress": {"aws:SourceIp": [ip + "/32"]}}},'
         ' {"Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke", "Resource": "execute-api:/*"}]}\n')
_MY_IP = 'ip = urllib.request.urlopen(checkip).read().decode().strip()\n'
# verify's floor imports no boto3: one HTTP request from a bare python process
VERIFY_FLOOR = """
import sys, urllib.error, urllib.request
try:
    urllib.request.urlopen(sys.argv[4]).read()
except urllib.error.HTTPError as answer:
    answer.read()  # a 403 is an answer too
"""


@dataclass
class Step:
    name: str
    petgate: list[list[str]]
    floor_code: str | None  # after _FLOOR_HEAD; None: VERIFY_FLOOR
    floor_calls: str
    change: bool  # a change step (the 1.3× target is about these)
    aws: list[list[str]] | None = None  # the aws CLI + curl equivalent
    setup: Callable[[], None] | None = None  # before every run: the run must be a change
    prepare: Callable[[], None] | None = None  # once, before the runs


def exercise_steps(url: str, api_id: str, definition: Path, env: dict[str, str]) -> list[Step]:
    """The six steps of the exercise and the no-op block, against the gateway at `url`."""
    from petgate.target import Target as Place

    gateway = Place(local=True, local_url=url).gateway()
    deny = policies.build_deny(["127.0.0.1/32"])
    aws = [str(AWS), "--endpoint-url", url, "apigateway"]
    patch = json.dumps([{"op": "replace", "path": "/policy", "value": json.dumps(deny)}])
    clear = json.dumps([{"op": "replace", "path": "/policy", "value": ""}])
    template = json.dumps({"application/json": '{"message":"Access denied"}'})
    redeploy = aws + ["create-deployment", "--rest-api-id", api_id, "--stage-name", "test"]
    checkip = f"{url}/_petgate/checkip"
    return [
        Step("import the example", [[PETGATE, "import-example", "--new"]],
             'c.import_rest_api(body=open(definition, "rb").read(), parameters={"endpointConfigurationTypes": "REGIONAL"})',
             "ImportRestApi", True,
             [aws + ["import-rest-api", "--body", f"fileb://{definition}", "--parameters", "endpointConfigurationTypes=REGIONAL"]]),
        Step("deploy", [[PETGATE, "deploy", "--api", api_id]], 'c.create_deployment(restApiId=api, stageName="test")',
             "CreateDeployment", True, [redeploy]),
        Step("block my IP (+ redeploy)", [[PETGATE, "block-my-ip", "--api", api_id]],
             _MY_IP + 'c.get_rest_api(restApiId=api)\n' + _DENY +
             'c.update_rest_api(restApiId=api, patchOperations=[{"op": "replace", "path": "/policy", "value": json.dumps(p)}])\n'
             'c.create_deployment(restApiId=api, stageName="test")',
             "checkip, GetRestApi, UpdateRestApi, CreateDeployment", True,
             [["curl", "-s", checkip], aws + ["update-rest-api", "--rest-api-id", api_id, "--patch-operations", patch], redeploy],
             lambda: gateway.set_policy(api_id, None)),
        Step("verify (one request)", [[PETGATE, "verify", "--api", api_id]], None, "one HTTP request (urllib), no boto3", False,
             [["curl", "-s", "-o", "/dev/null", f"{url}/restapis/{api_id}/test/_user_request_/"]]),
        Step("set the 403 template (+ redeploy)", [[PETGATE, "set-403-template", "--api", api_id]],
             'c.get_gateway_response(restApiId=api, responseType="ACCESS_DENIED")\n'
             'c.put_gateway_response(restApiId=api, responseType="ACCESS_DENIED", statusCode="403",'
             ' responseTemplates={"application/json": \'{"message":"Access denied"}\'})\n'
             'c.create_deployment(restApiId=api, stageName="test")',
             "GetGatewayResponse, PutGatewayResponse, CreateDeployment", True,
             [aws + ["put-gateway-response", "--rest-api-id", api_id, "--response-type", "ACCESS_DENIED",
                     "--status-code", "403", "--response-templates", template], redeploy],
             lambda: gateway.delete_gateway_response(api_id, "ACCESS_DENIED")),
        Step("remove the policy (+ redeploy)", [[PETGATE, "unblock", "--api", api_id, "--all"]],
             'c.get_rest_api(restApiId=api)\n'
             'c.update_rest_api(restApiId=api, patchOperations=[{"op": "replace", "path": "/policy", "value": ""}])\n'
             'c.create_deployment(restApiId=api, stageName="test")',
             "GetRestApi, UpdateRestApi, CreateDeployment", True,
             [aws + ["update-rest-api", "--rest-api-id", api_id, "--patch-operations", clear], redeploy],
             lambda: gateway.set_policy(api_id, deny)),
        Step("no-op: block my IP, blocked already", [[PETGATE, "block-my-ip", "--api", api_id]],
             _MY_IP + 'c.get_rest_api(restApiId=api)\n'
             'c.get_export(restApiId=api, stageName="test", exportType="oas30", parameters={"extensions": "apigateway"},'
             ' accepts="application/json")["body"].read()',
             "checkip, GetRestApi, GetExport", False,
             prepare=lambda: subprocess.run([PETGATE, "block-my-ip", "--api", api_id], env=env, check=True, capture_output=True)),
    ]


def floor_command(step: Step, url: str, api_id: str, definition: Path, trace: bool = False) -> list[str]:
    invoke = f"{url}/restapis/{api_id}/test/_user_request_/"
    code = VERIFY_FLOOR if step.floor_code is None else _FLOOR_HEAD + (_FLOOR_TRACE if trace else "") + step.floor_code
    return [sys.executable, "-c", code, url, api_id, str(definition), invoke, f"{url}/_petgate/checkip"]


@dataclass
class StepResult:
    petgate: Sample
    floor: Sample
    aws: Sample | None = None


@dataclass
class Traced:
    first_call: float | None  # seconds from the process's start to its first control-plane request
    total: float
    calls: int


def traced(command: list[str], env: dict[str, str]) -> Traced:
    """One run, its stderr read as it comes: each `debug: ... http` line is a control-plane
    request leaving (petgate's -v; the floor's before-send hook)."""
    started = time.perf_counter()
    process = subprocess.Popen(command, env=env, stdout=subprocess.DEVNULL, stderr=subprocess.PIPE, text=True)
    assert process.stderr is not None
    first, calls = None, 0
    for line in process.stderr:
        if line.startswith("debug: ") and " http" in line:
            calls += 1
            if first is None:
                first = time.perf_counter() - started
    if process.wait():
        raise subprocess.CalledProcessError(process.returncode, command)
    return Traced(first, time.perf_counter() - started, calls)


def traced_median(command: list[str], env: dict[str, str], setup: Callable[[], None] | None) -> Traced:
    runs = []
    for _ in range(PHASE_RUNS):
        if setup:
            setup()
        runs.append(traced(command, env))
    firsts = [run.first_call for run in runs if run.first_call is not None]
    return Traced(statistics.median(firsts) if firsts else None, statistics.median(run.total for run in runs),
                  max(run.calls for run in runs))


def bench_steps(url: str, env: dict[str, str], with_aws: bool, trace: bool) -> tuple[dict[str, StepResult], dict[str, tuple[Traced, Traced]], Path, str]:
    """Each step against its floor (and the aws CLI) on the gateway at `url`; traced runs too."""
    definition = Path(env["PETGATE_STATE_DIR"]) / "petstore.json"
    definition.write_bytes(example.definition_bytes())
    api_id = petgate_json("import-example", "--new", env=env)["api_id"]
    petgate_json("deploy", "--api", api_id, env=env)
    results: dict[str, StepResult] = {}
    phases: dict[str, tuple[Traced, Traced]] = {}
    for step in exercise_steps(url, api_id, definition, env):
        if step.prepare:
            step.prepare()
        floor = floor_command(step, url, api_id, definition)
        contenders = [Contender(lambda step=step: step.petgate, step.setup, env),
                      Contender(lambda floor=floor: [floor], step.setup, env)]
        if with_aws and step.aws is not None:
            contenders.append(Contender(lambda step=step: step.aws, step.setup, env))
        samples = side_by_side(contenders)
        results[step.name] = StepResult(samples[0], samples[1], samples[2] if len(samples) > 2 else None)
        if trace:
            mine = traced_median([step.petgate[0][0], "-v", *step.petgate[0][1:]], env, step.setup)
            theirs = traced_median(floor_command(step, url, api_id, definition, trace=True), env, step.setup)
            phases[step.name] = (mine, theirs)
    return results, phases, definition, api_id


def step_tables(at_0: dict[str, StepResult], at_slow: dict[str, StepResult], phases: dict[str, tuple[Traced, Traced]],
                steps: list[Step]) -> tuple[list[Table], list[TargetRow], list[Row]]:
    """The floors table, the where-the-time-goes table, the change-step target, and the aws CLI rows."""
    slow = f"{LATENCY_MS} ms"
    floors = Table(
        f"Each step against its floor, with 0 and {slow} of control-plane latency (`petgate local --latency`); "
        "the floor is a bare python+boto3 process making the calls listed (verify's: a bare python process, one "
        "urllib request); every run of a change step is a change",
        ("step (the floor's calls)", "AWS calls: petgate / floor", "0 ms: petgate", "0 ms: floor", "0 ms: ratio",
         f"{slow}: petgate", f"{slow}: floor", f"{slow}: ratio", f"added by {slow}: petgate / floor"),
        [])
    split = Table(
        f"Where petgate's extra time goes at {slow} (traced runs, median of {PHASE_RUNS}; start-up: from the process's "
        "start to its first control-plane request; the rest: the calls, the work between them, and exiting)",
        ("step", "petgate: start-up + the rest", "floor: start-up + the rest", "petgate's extra", "of it, start-up",
         f"of it, the rest (the extra calls alone: n × {slow})"),
        [])
    aws_rows: list[Row] = []
    ratios: list[tuple[str, float]] = []
    for step in steps:
        zero, late = at_0[step.name], at_slow[step.name]
        mine, theirs = phases.get(step.name, (Traced(None, 0, 0), Traced(None, 0, 0)))
        slow_ratio = late.petgate[0] / late.floor[0]
        floors.rows.append((
            f"{step.name} ({step.floor_calls})", f"{mine.calls} / {theirs.calls}",
            fmt(zero.petgate), fmt(zero.floor), f"{zero.petgate[0] / zero.floor[0]:.2f}×",
            fmt(late.petgate), fmt(late.floor), f"**{slow_ratio:.2f}×**",
            f"{signed_ms(late.petgate[0] - zero.petgate[0])} / {signed_ms(late.floor[0] - zero.floor[0])}"))
        if step.change:
            ratios.append((step.name, slow_ratio))
        if mine.first_call is not None and theirs.first_call is not None:
            extra = mine.total - theirs.total
            startup = mine.first_call - theirs.first_call
            split.rows.append((
                step.name,
                f"{ms(mine.first_call)} + {ms(mine.total - mine.first_call)} = {ms(mine.total)}",
                f"{ms(theirs.first_call)} + {ms(theirs.total - theirs.first_call)} = {ms(theirs.total)}",
                signed_ms(extra), signed_ms(startup),
                f"{signed_ms(extra - startup)} ({mine.calls - theirs.calls} × {slow} = {ms((mine.calls - theirs.calls) * LATENCY_MS / 1000)})"))
        if zero.aws is not None:
            ratio = zero.aws[0] / zero.petgate[0]
            aws_rows.append((f"step: {step.name}", fmt(zero.petgate), fmt(zero.aws), f"{ratio:.1f}×"))
    worst = max(ratios, key=lambda pair: pair[1])
    measured = ", ".join(f"{name.split(' (')[0]} {ratio:.2f}×" for name, ratio in ratios) + f"; worst {worst[1]:.2f}×"
    met = worst[1] <= 1.3
    if not met:
        measured += f", {(worst[1] / 1.3 - 1) * 100:.0f}% over"
    target = (f"every change step within 1.3× its floor at {slow}, the lease's calls included", measured, met)
    return [floors, split], [target], aws_rows


_PACKAGES = {
    "boto3 + botocore (with urllib3, dateutil, jmespath)": {"boto3", "botocore", "urllib3", "dateutil", "jmespath", "s3transfer", "six"},
    "requests (with charset_normalizer, idna, certifi)": {"requests", "charset_normalizer", "idna", "certifi", "chardet"},
    "click": {"click"},
    "petgate": {"petgate"},
    "rich": {"rich", "markdown_it", "mdurl", "pygments"},
}


def import_times(command: list[str], env: dict[str, str]) -> dict[str, float]:
    """Seconds of import by package (`python -X importtime`: each module's own time, so the
    groups add up to the whole); the rest is Python's standard library and anything else."""
    log = subprocess.run(command, env=env, check=True, capture_output=True, text=True).stderr
    totals: dict[str, float] = {}
    for line in log.splitlines():
        if not line.startswith("import time:") or "self [us]" in line:
            continue
        own, _cumulative, name = line[len("import time:"):].split("|")
        root = name.strip().split(".")[0]
        group = next((label for label, roots in _PACKAGES.items() if root in roots), "the standard library and other")
        totals[group] = totals.get(group, 0.0) + int(own) / 1e6
    return totals


def describe_imports(totals: dict[str, float]) -> str:
    parts = [f"{label} {ms(seconds)}" for label, seconds in sorted(totals.items(), key=lambda item: -item[1])]
    return f"{ms(sum(totals.values()))}: " + ", ".join(parts)


def bench_startup(url: str, env: dict[str, str], step: Step, definition: Path, api_id: str) -> Table:
    """What a process costs before its first call: Python, the imports, the client."""
    client = ("import boto3; boto3.client('apigateway', endpoint_url='http://127.0.0.1:9', region_name='us-east-1',"
              " aws_access_key_id='bench', aws_secret_access_key='bench')")
    pieces = [
        ("`python -c pass`", [sys.executable, "-c", "pass"]),
        ("`python -c 'import boto3'`", [sys.executable, "-c", "import boto3"]),
        ("`python -c 'import boto3'` and creating the apigateway client", [sys.executable, "-c", client]),
        ("`petgate --version` (click and petgate's CLI; no boto3)", [PETGATE, "--version"]),
    ]
    samples = side_by_side([Contender(lambda command=command: [command], None, env) for _, command in pieces], runs=10)
    table = Table("Start-up pieces (no control-plane call; median of 10 runs, min–max)", ("what", "time"),
                  [(label, fmt(sample, "ms")) for (label, _), sample in zip(pieces, samples, strict=True)])
    if step.setup:
        step.setup()
    mine = import_times([sys.executable, "-X", "importtime", "-m", "petgate", *step.petgate[0][1:]], env)
    floor = floor_command(step, url, api_id, definition)
    if step.setup:
        step.setup()
    theirs = import_times([floor[0], "-X", "importtime", *floor[1:]], env)
    table.rows.append((f"imports of `petgate {' '.join(step.petgate[0][1:2])}` (python -X importtime, each module's "
                       "own time by package; importtime itself slows imports)", describe_imports(mine)))
    table.rows.append(("imports of its floor, the same way", describe_imports(theirs)))
    return table


# --- everything else, on the gateway without latency ------------------------------------------

def main() -> None:
    global RUNS, WARMUP, PHASE_RUNS, LOAD_TOTAL, QUICK
    if "--notes-only" in sys.argv[1:]:
        write_notes()
        return
    if "--quick" in sys.argv[1:]:
        RUNS, WARMUP, PHASE_RUNS, LOAD_TOTAL, QUICK = 1, 0, 1, 400, True
    compile_petgate()
    process, url = start_gateway()
    ENV["PETGATE_LOCAL_URL"] = url
    try:
        tables, targets = run_all(url)
    finally:
        stop(process)
    write(tables, targets)


def compile_petgate() -> None:
    """petgate's bytecode, written before anything is measured, as `pip install` writes it (and
    as any first run does, unless PYTHONDONTWRITEBYTECODE is set): the floors' boto3 has its
    own from its installation. Without it, an editable install under PYTHONDONTWRITEBYTECODE=1
    compiles petgate's modules from source in every run (35-65 ms of a change step here)."""
    import compileall

    compileall.compile_dir(str(ROOT / "petgate"), quiet=1)


def run_all(url: str) -> tuple[list[Table], list[TargetRow]]:
    rows: list[Row] = []
    targets: list[TargetRow] = []
    aws_ok = AWS.exists()
    at_0, _, definition, api_id = bench_steps(url, ENV, with_aws=aws_ok, trace=False)
    slow_process, slow_url = start_gateway(LATENCY_MS)
    try:
        slow_env = gateway_env(slow_url)
        at_slow, phases, slow_definition, slow_api = bench_steps(slow_url, slow_env, with_aws=False, trace=True)
        slow_steps = exercise_steps(slow_url, slow_api, slow_definition, slow_env)
        startup = bench_startup(slow_url, slow_env, slow_steps[2], slow_definition, slow_api)
        slow_lease = bench_lease(slow_url, slow_api, changes=3 if QUICK else 10, latency=f"{LATENCY_MS} ms")
    finally:
        stop(slow_process)
    steps = exercise_steps(url, api_id, definition, ENV)
    step_tabs, step_targets, aws_rows = step_tables(at_0, at_slow, phases, steps)
    if aws_ok:
        rows += aws_rows
        for row in aws_rows:
            ratio = float(row[3].rstrip("×"))
            targets.append((f"{row[0].replace('step: ', 'step ')} ≥ 3× faster than aws CLI + curl", row[3], ratio >= 3))
    else:
        rows += [(f"step: {step.name}", fmt(at_0[step.name].petgate), "aws CLI not installed", "–") for step in steps if step.aws]

    exercise = [ours for step in steps if step.aws for ours in step.petgate]
    whole_cli = [theirs for step in steps if step.aws for theirs in step.aws]
    from petgate.target import Target as Place

    gateway = Place(local=True, local_url=url).gateway()

    def fresh_template() -> None:  # each run's set-403-template is a change too
        gateway.delete_gateway_response(api_id, "ACCESS_DENIED")

    if aws_ok:
        six, peer = side_by_side([Contender(lambda: exercise, fresh_template), Contender(lambda: whole_cli, fresh_template)], runs=3)
    else:
        six, peer = measure(lambda: exercise, runs=3, setup=fresh_template), None
    walk = measure(lambda: [[PETGATE, "walkthrough", "--new", "--cleanup"]], runs=3)
    if peer:
        rows.append(("whole exercise: six petgate commands", fmt(six), fmt(peer), f"{peer[0] / six[0]:.1f}×"))
        rows.append(("whole exercise: `walkthrough --local`", fmt(walk), fmt(peer), f"{peer[0] / walk[0]:.1f}×"))
        targets.append(("whole exercise as six commands ≥ 3× faster", f"{peer[0] / six[0]:.1f}×", peer[0] / six[0] >= 3))
    else:
        rows.append(("whole exercise: six petgate commands", fmt(six), "aws CLI not installed", "–"))
        rows.append(("whole exercise: `walkthrough --local`", fmt(walk), "–", "–"))
    targets.append(("`walkthrough --local` under 3 s", f"{walk[0]:.2f} s", walk[0] < 3))

    helped, click_only = side_by_side([Contender(lambda: [[PETGATE, "--help"]]),
                                       Contender(lambda: [[sys.executable, "-c", "import click"]])], runs=10)
    rows.append(("`petgate --help` vs `python -c 'import click'`", fmt(helped, "ms"), fmt(click_only, "ms"), f"{helped[0] / click_only[0]:.2f}× as long"))
    targets.append(("`petgate --help` ≤ 1.5× `import click`", f"{helped[0] / click_only[0]:.2f}×", helped[0] / click_only[0] <= 1.5))

    gateway_rows, gateway_targets = bench_gateway(url, api_id)
    rows += gateway_rows
    targets += gateway_targets
    rows += bench_evaluator()
    rows += bench_lease(url, api_id, changes=20 if QUICK else 100, latency="0 ms")
    rows += slow_lease
    rows += bench_waf(url, api_id, aws_ok)
    rows += bench_lists(url)
    main_table = Table(f"Against the aws CLI + curl, and the rest ({LATENCY_MS} ms rows say so; all others at 0 ms)",
                       ("what", "petgate", "peer", "ratio"), rows)
    return [*step_tabs, startup, main_table], targets + step_targets


FLOOR = """
import sys, boto3
c = boto3.client("wafv2", endpoint_url=sys.argv[1], region_name="us-east-1",
                 aws_access_key_id="bench", aws_secret_access_key="bench")
s = next(s for s in c.list_ip_sets(Scope="REGIONAL")["IPSets"] if s["Name"] == "petgate-bench-ipv4")
got = c.get_ip_set(Name=s["Name"], Scope="REGIONAL", Id=s["Id"])
c.update_ip_set(Name=s["Name"], Scope="REGIONAL", Id=s["Id"], LockToken=got["LockToken"],
                Addresses=sorted(set(got["IPSet"]["Addresses"]) | {sys.argv[2]}))
"""
def bench_waf(url: str, api_id: str, aws_ok: bool) -> list[Row]:
    rows: list[Row] = []
    subprocess.run([PETGATE, "waf", "block", "--list", "bench", "--cidr", "198.18.0.1"], env=ENV, check=True, capture_output=True)
    counter = iter(range(2, 250))
    mine = measure(lambda: [[PETGATE, "waf", "block", "--list", "bench", "--cidr", f"198.18.1.{next(counter)}"]])
    floor = measure(lambda: [[sys.executable, "-c", FLOOR, url, f"198.18.2.{next(counter)}/32"]])
    rows.append(("`waf block` vs its boto3 floor (same 3 calls, one bare process)", fmt(mine), fmt(floor), f"{mine[0] / floor[0]:.2f}× the floor"))
    if aws_ok:
        base = f"{AWS} --endpoint-url {url} wafv2"

        def cli_sequence() -> list[list[str]]:  # the shortest honest shell script: list, get (token), update
            address = f"198.18.3.{next(counter)}/32"
            script = (f"ID=$({base} list-ip-sets --scope REGIONAL --query \"IPSets[?Name=='petgate-bench-ipv4'].Id\" --output text) && "
                      f"T=$({base} get-ip-set --scope REGIONAL --name petgate-bench-ipv4 --id $ID --query LockToken --output text) && "
                      f"{base} update-ip-set --scope REGIONAL --name petgate-bench-ipv4 --id $ID --lock-token $T --addresses {address}")
            return [["bash", "-c", script]]

        peer = measure(cli_sequence)
        rows.append(("`waf block` vs aws CLI list + get + update (3 processes)", fmt(mine), fmt(peer), f"{peer[0] / mine[0]:.1f}×"))
    # gateway throughput with a 10,000-entry IP set attached (none of them the load generator's)
    many = [f"10.{n // 250 % 250}.{n % 250}.{(n * 7) % 250 + 1}/32" for n in range(10_000)]
    from petgate.target import Target
    from petgate.waf import ListNames

    waf_client = Target(local=True, local_url=url).waf()
    summary = waf_client.find_ip_set(ListNames("bench").ip_set(4))
    waf_client.edit_ip_set(summary, lambda _current: sorted(set(many))[:10_000])
    subprocess.run([PETGATE, "unblock", "--api", api_id, "--all"], env=ENV, check=True, capture_output=True)
    subprocess.run([PETGATE, "waf", "attach", "--api", api_id, "--list", "bench"], env=ENV, check=True, capture_output=True)
    result = run_load(f"{url}/restapis/{api_id}/test/_user_request_/")
    rows.append(("gateway GET / with a 10,000-entry WAF IP set attached", f"{result.rps:.0f} req/s",
                 f"p50 {result.p50_ms:.1f} ms, p99 {result.p99_ms:.1f} ms, {result.errors} errors", ""))
    subprocess.run([PETGATE, "waf", "delete", "--list", "bench"], env=ENV, check=True, capture_output=True)
    return rows


def aws_calls(*args: str) -> int:
    """How many control-plane requests one petgate run makes (its -v log: one line per request)."""
    log = subprocess.run([PETGATE, "-v", *args], env=ENV, check=True, capture_output=True, text=True).stderr
    return sum(1 for line in log.splitlines() if line.startswith("debug: ") and " http" in line)


def bench_lists(url: str) -> list[Row]:
    """Lists as data: a sync's cost does not grow with the list. Each measured run changes one
    entry (alternating between two files), so every run reads, writes and redeploys."""
    rows: list[Row] = []
    directory = Path(ENV["PETGATE_STATE_DIR"])

    def feeds(name: str, entries: list[str]) -> tuple[Path, Path]:
        first, second = directory / f"{name}-a.txt", directory / f"{name}-b.txt"
        first.write_text("\n".join(entries) + "\n")
        second.write_text("\n".join(entries[:-1] + ["198.19.255.1"]) + "\n")
        return first, second

    scattered = [f"10.{(i * 2) // 250}.{(i * 2) % 250}.1" for i in range(10_000)]
    results = {}
    for label, count in (("1", 1), ("400", 400)):
        api = petgate_json("import-example", "--new", "--name", f"bench-sync-{count}")["api_id"]
        petgate_json("deploy", "--api", api)
        one, other = feeds(f"sync{count}", scattered[:count])
        turn = iter(range(1000))
        sync = [PETGATE, "sync", "--api", api, "--force"]
        results[label] = measure(lambda sync=sync, one=one, other=other, turn=turn:
                                 [sync + ["--file", str(one if next(turn) % 2 else other)]])
        calls = aws_calls(*sync[1:], "--file", str(one if next(turn) % 2 else other))
        steady = aws_calls(*sync[1:], "--file", str(one if next(turn) % 2 == 0 else other))
        results[f"calls{label}"] = (calls, steady)
    rows.append((f"`sync`, a 400-entry file vs a 1-entry file (one entry changes per run; {results['calls400'][0]} "
                 f"vs {results['calls1'][0]} AWS calls, {results['calls400'][1]} vs {results['calls1'][1]} with nothing to change)",
                 fmt(results["400"]), fmt(results["1"]), f"{results['400'][0] / results['1'][0]:.2f}× the 1-entry cost"))
    for label, count in (("1", 1), ("10000", 10_000)):
        name = f"benchsync{count}"
        one, other = feeds(name, scattered[:count])
        turn = iter(range(1000))
        sync = [PETGATE, "waf", "sync", "--list", name, "--force"]
        subprocess.run(sync + ["--file", str(one)], env=ENV, check=True, capture_output=True)
        results[label] = measure(lambda sync=sync, one=one, other=other, turn=turn:
                                 [sync + ["--file", str(one if next(turn) % 2 else other)]])
        results[f"calls{label}"] = (aws_calls(*sync[1:], "--file", str(one if next(turn) % 2 else other)), 0)
        subprocess.run([PETGATE, "waf", "delete", "--list", name], env=ENV, check=True, capture_output=True)
    rows.append((f"`waf sync`, a 10,000-entry file vs a 1-entry file (one UpdateIPSet; {results['calls10000'][0]} vs "
                 f"{results['calls1'][0]} AWS calls)", fmt(results["10000"]), fmt(results["1"]),
                 f"{results['10000'][0] / results['1'][0]:.2f}× the 1-entry cost"))
    return rows


def bench_lease(url: str, api_id: str, changes: int, latency: str) -> list[Row]:
    """One policy change in one process (no start-up cost), the way petgate makes it: a read
    with no lease, then under the lease (CreateModel ... DeleteModel) a fresh read and the
    write; against the bare read-modify-write."""
    from petgate import lease
    from petgate.target import Target as Place

    gateway = Place(local=True, local_url=url).gateway()
    cidrs = [f"198.51.100.{n}/32" for n in range(1, changes + 1)]

    def bare(cidr: str) -> None:
        policy = gateway.get_policy(api_id)
        gateway.set_policy(api_id, policies.block(policy, [cidr])[0])

    def leased(cidr: str) -> None:
        gateway.get_policy(api_id)  # the read first: a change that is made already stops here
        held = lease.Lease(gateway, api_id)
        held.acquire()
        try:
            bare(cidr)
        finally:
            held.release()

    def per_change(change: Callable[[str], None]) -> float:
        started = time.perf_counter()
        for cidr in cidrs:
            change(cidr)
        elapsed = (time.perf_counter() - started) / len(cidrs)
        gateway.set_policy(api_id, None)
        return elapsed

    gateway.set_policy(api_id, None)  # whatever the benches before left there
    per_change(bare)  # warm-up
    without, with_lease = per_change(bare), per_change(leased)
    return [(f"one policy change as petgate makes it (a read, then CreateModel, GetRestApi, UpdateRestApi, DeleteModel: "
             f"5 calls) vs bare read-modify-write (2 calls), in one process, {latency} of control-plane latency",
             f"{with_lease * 1000:.1f} ms", f"{without * 1000:.1f} ms", f"{with_lease / without:.2f}× the bare cost")]


def start_moto_server() -> tuple[subprocess.Popen[bytes], str] | None:
    if not MOTO_SERVER.exists():
        return None
    port = _free_port()
    process = subprocess.Popen([str(MOTO_SERVER), "-H", "127.0.0.1", "-p", str(port)],
                               stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    if not _answers(url + "/moto-api/"):
        stop(process)
        return None
    return process, url


def bench_gateway(url: str, api_id: str) -> tuple[list[Row], list[TargetRow]]:
    import boto3

    from petgate.gateway import decode_policy
    from petgate.target import Target as Place

    rows: list[Row] = []
    targets: list[TargetRow] = []
    base = f"{url}/restapis/{api_id}/test/_user_request_"
    auth = "AWS4-HMAC-SHA256 Credential=bench/20260101/us-east-1/apigateway/aws4_request, SignedHeaders=host, Signature=0"
    gateway = Place(local=True, local_url=url).gateway()
    gateway.set_policy(api_id, None)
    apis = gateway.list_apis()
    ours = run_load(url + "/restapis", auth)
    rows.append((f"petgate local's control plane (moto's backend behind petgate's own HTTP server): GetRestApis, {len(apis)} APIs",
                 f"{ours.rps:.0f} req/s", f"p50 {ours.p50_ms:.1f} ms, p99 {ours.p99_ms:.1f} ms, {ours.errors} errors", "1.0×"))
    reference, reference_name = ours, "petgate local's GetRestApis"
    moto = start_moto_server()
    if moto is None:
        rows.append(("`moto_server`: GetRestApis", "moto_server not installed or did not start", "", "–"))
    else:
        moto_process, moto_url = moto
        try:
            client = boto3.client("apigateway", endpoint_url=moto_url, region_name="us-east-1",
                                  aws_access_key_id="bench", aws_secret_access_key="bench")
            for api in apis:  # the same listing: names, descriptions, policies
                policy = decode_policy(api["id"], api)
                extra: dict[str, Any] = {"policy": policies.encode(policy)} if policy else {}
                client.create_rest_api(name=api.get("name", "api"), description=api.get("description", ""),
                                       endpointConfiguration={"types": ["REGIONAL"]},
                                       **extra)
            moto_result = run_load(moto_url + "/restapis", auth)
        finally:
            stop(moto_process)
        rows.append((f"`moto_server` (moto's own server, started from .venv): GetRestApis, the same {len(apis)} APIs",
                     f"{moto_result.rps:.0f} req/s", f"p50 {moto_result.p50_ms:.1f} ms, p99 {moto_result.p99_ms:.1f} ms, "
                     f"{moto_result.errors} errors", f"{moto_result.rps / ours.rps:.1f}× petgate local's"))
        reference, reference_name = moto_result, "moto_server's GetRestApis"
    scattered = [f"10.{n // 250}.{n % 250}.{(n * 7) % 250 + 1}/32" for n in range(2000)]
    fit = policies.how_many_fit(None, scattered)
    subprocess.run([PETGATE, "unblock", "--api", api_id, "--all"], env=ENV, check=True, capture_output=True)
    for label, cidrs in (("no policy", []), (f"{fit}-CIDR deny list (the most that fits 8,192 chars)", scattered[:fit])):
        if cidrs:
            args = [a for c in cidrs for a in ("--cidr", c)]
            subprocess.run([PETGATE, "block-my-ip", "--api", api_id, *args], env=ENV, check=True, capture_output=True)
        for path in ("/", "/pets"):
            result = run_load(base + path)
            rows.append((f"gateway GET {path}, {label}", f"{result.rps:.0f} req/s",
                         f"p50 {result.p50_ms:.1f} ms, p99 {result.p99_ms:.1f} ms, {result.errors} errors",
                         f"{result.rps / reference.rps:.1f}× {reference_name}"))
            if path == "/" and cidrs:
                targets.append((f"gateway ≥ 1,000 req/s for GET / with the {fit}-CIDR policy", f"{result.rps:.0f} req/s", result.rps >= 1000))
    return rows, targets


def run_load(url: str, authorization: str | None = None) -> load.LoadResult:
    load.run(url, total=LOAD_TOTAL // 10, concurrency=4, authorization=authorization)  # warm-up
    return load.run(url, total=LOAD_TOTAL, concurrency=4, authorization=authorization)
def bench_evaluator() -> list[Row]:
    rows: list[Row] = []
    request = policies.Request("203.0.113.7", policies.request_arn("us-east-1", "123456789012", "abc", "test", "GET", "/"))
    baseline = None
    for count in (10, 100, 1000, 10000):
        cidrs = [f"10.{n // 65536 % 256}.{n // 256 % 256}.{n % 256}/32" for n in range(0, count * 3, 3)]
        compiled = policies.compile_policy(policies.build_deny(cidrs), "arn:aws:execute-api:us-east-1:123456789012:abc")
        number = 20000
        seconds = timeit.timeit(lambda compiled=compiled: compiled.evaluate(request), number=number) / number
        baseline = baseline or seconds
        rows.append((f"policy evaluation, {count} CIDRs (compiled once)", f"{seconds * 1e6:.1f} µs", "", f"{seconds / baseline:.2f}× the 10-CIDR cost"))
    return rows


def machine() -> str:
    cpu = "unknown CPU"
    try:
        for line in Path("/proc/cpuinfo").read_text().splitlines():
            if line.startswith("model name"):
                cpu = line.split(":", 1)[1].strip()
                break
    except OSError:
        pass
    aws_version = "not installed"
    if AWS.exists():
        aws_version = subprocess.run([str(AWS), "--version"], capture_output=True, text=True).stdout.strip() or "installed"
    return (f"{os.cpu_count()} cores, {cpu}; Python {platform.python_version()} on {platform.system()} "
            f"{platform.release()}; aws CLI: {aws_version}; curl: {'yes' if shutil.which('curl') else 'no'}")


def render(tables: list[Table], targets: list[TargetRow]) -> str:
    lines: list[str] = []
    for table in tables:
        if table.title:
            lines += [f"### {table.title}", ""]
        lines += ["| " + " | ".join(table.header) + " |", "|" + " --- |" * len(table.header)]
        lines += ["| " + " | ".join(row) + " |" for row in table.rows]
        lines.append("")
    lines += ["| target | measured | met |", "| --- | --- | --- |"]
    lines += [f"| {name} | {value} | {'yes' if ok else 'no' if ok is False else '–'} |" for name, value, ok in targets]
    return "\n".join(lines)


RESULTS = ROOT / "bench" / "RESULTS.md"
NOTES = RESULTS.with_name("NOTES.md")


def write(tables: list[Table], targets: list[TargetRow]) -> None:
    table = render(tables, targets)
    print(table)
    if QUICK:
        print("\n--quick: RESULTS.md left alone")
        return
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    header = (f"# petgate benchmark\n\nRun {stamp} on {machine()}.\n"
              f"Medians, with min–max over {RUNS} runs ({WARMUP} warm-up run excluded) unless a row says otherwise.\n\n")
    extra = NOTES.read_text(encoding="utf-8") if NOTES.exists() else ""
    RESULTS.write_text(header + table + "\n\n" + extra, encoding="utf-8")
    print(f"\nwritten to {RESULTS}")


def write_notes() -> None:
    """RESULTS.md's tables as they are, followed by NOTES.md as it is now."""
    results = RESULTS.read_text(encoding="utf-8")
    notes = NOTES.read_text(encoding="utf-8")
    heading = notes.splitlines()[0] if notes else "## Notes"
    cut = results.find("\n" + heading + "\n")
    tables = results if cut < 0 else results[: cut + 1]
    RESULTS.write_text(tables.rstrip("\n") + "\n\n" + notes, encoding="utf-8")
    print(f"notes copied into {RESULTS}")


if __name__ == "__main__":
    main()
