"""petgate's benchmark: ratios against peers measured in the same run on the same machine.

Starts one `petgate local`, then measures (median and min-max over several runs, warm-up
runs excluded):
- each exercise step as one petgate process against the same step done with the aws CLI
  (its own venv, `pip install awscli`) plus curl, the way a shell script would;
- the whole exercise: six petgate commands, `walkthrough --local`, the aws CLI + curl sequence;
- `petgate --help` against `python -c "import click"`;
- the local gateway's throughput and latency (bounded load on loopback) for GET / (MOCK) and
  GET /pets (HTTP integration), without a policy and with the largest deny list that fits
  AWS's 8,192-character quota, and moto's control plane (GetRestApis) as the reference;
- the policy evaluator alone against 10 to 10,000 CIDRs;
- `waf block` (one petgate process) against the aws CLI's wafv2 sequence (list-ip-sets,
  get-ip-set, update-ip-set: three processes) and against its boto3 floor (the same three
  calls from one bare python+boto3 process);
- the gateway's throughput with a 10,000-entry IP set attached to the stage (WAF evaluated on
  every request);
- the cost of the lease that keeps writers on different machines from losing each other's
  updates: one policy change in-process with it (CreateModel, GetRestApi, UpdateRestApi,
  DeleteModel) against the bare read-modify-write (GetRestApi, UpdateRestApi);
- lists as data: `sync` of a 400-entry file against a 1-entry file, and `waf sync` of a
  10,000-entry file against a 1-entry file (time, and AWS calls counted from `-v`).
Prints one markdown table and writes it, with the machine and date, to bench/RESULTS.md.
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
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
sys.path.insert(0, str(ROOT))

from bench import load  # noqa: E402
from petgate import example  # noqa: E402
from petgate import policy as policies  # noqa: E402

BIN = Path(sys.executable).parent
PETGATE = str(BIN / "petgate")
AWS = ROOT / "bench" / ".venv-awscli" / "bin" / "aws"
RUNS, WARMUP = 5, 1
ENV = {
    **os.environ,
    "AWS_ACCESS_KEY_ID": "bench", "AWS_SECRET_ACCESS_KEY": "bench", "AWS_DEFAULT_REGION": "us-east-1",
    "AWS_REGION": "us-east-1", "AWS_PAGER": "", "PETGATE_LOCAL": "1",
    "PETGATE_STATE_DIR": tempfile.mkdtemp(prefix="petgate-bench-"),
}
Row = tuple[str, str, str, str]


def timed(commands: list[list[str]]) -> float:
    """Seconds to run the commands one after another (each must succeed)."""
    started = time.perf_counter()
    for command in commands:
        subprocess.run(command, env=ENV, check=True, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    return time.perf_counter() - started


def measure(make: Callable[[], list[list[str]]], runs: int = RUNS) -> tuple[float, float, float]:
    for _ in range(WARMUP):
        timed(make())
    samples = [timed(make()) for _ in range(runs)]
    return statistics.median(samples), min(samples), max(samples)


def fmt(sample: tuple[float, float, float], unit: str = "s") -> str:
    median, low, high = sample
    if unit == "ms":
        return f"{median * 1000:.0f} ms ({low * 1000:.0f}–{high * 1000:.0f})"
    return f"{median:.2f} s ({low:.2f}–{high:.2f})"


def start_gateway() -> tuple[subprocess.Popen[bytes], str]:
    import requests

    port = _free_port()
    process = subprocess.Popen([PETGATE, "local", "--port", str(port)], stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    url = f"http://127.0.0.1:{port}"
    for _ in range(300):
        try:
            requests.get(url + "/_petgate/health", timeout=1)
            return process, url
        except requests.ConnectionError:
            time.sleep(0.05)
    raise SystemExit("petgate local did not start")


def _free_port() -> int:
    import socket

    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return int(sock.getsockname()[1])


def petgate_json(*args: str) -> dict:
    out = subprocess.run([PETGATE, "-o", "json", *args], env=ENV, check=True, capture_output=True, text=True).stdout
    return dict(json.loads(out))


def main() -> None:
    process, url = start_gateway()
    ENV["PETGATE_LOCAL_URL"] = url
    try:
        rows, targets = run_all(url)
    finally:
        process.terminate()
        process.wait(timeout=10)
    write(rows, targets)


def run_all(url: str) -> tuple[list[Row], list[tuple[str, str, bool | None]]]:
    rows: list[Row] = []
    targets: list[tuple[str, str, bool | None]] = []
    definition = Path(ENV["PETGATE_STATE_DIR"]) / "petstore.json"
    definition.write_bytes(example.definition_bytes())
    api_id = petgate_json("import-example", "--new")["api_id"]
    petgate_json("deploy", "--api", api_id)
    invoke = f"{url}/restapis/{api_id}/test/_user_request_/"
    checkip = f"{url}/_petgate/checkip"
    aws_ok = AWS.exists()
    aws = [str(AWS), "--endpoint-url", url, "apigateway"]
    deny_value = json.dumps(policies.build_deny(["127.0.0.1/32"]))
    patch = json.dumps([{"op": "replace", "path": "/policy", "value": deny_value}])
    clear = json.dumps([{"op": "replace", "path": "/policy", "value": ""}])
    template = json.dumps({"application/json": '{"message":"Access denied"}'})
    curl = ["curl", "-s", "-o", "/dev/null"]

    steps: list[tuple[str, list[list[str]], list[list[str]]]] = [
        ("import the example", [[PETGATE, "import-example", "--new"]],
         [aws + ["import-rest-api", "--body", f"fileb://{definition}", "--parameters", "endpointConfigurationTypes=REGIONAL"]]),
        ("deploy", [[PETGATE, "deploy", "--api", api_id]],
         [aws + ["create-deployment", "--rest-api-id", api_id, "--stage-name", "test"]]),
        ("block my IP (+ redeploy)", [[PETGATE, "block-my-ip", "--api", api_id]],
         [curl[:2] + [checkip], aws + ["update-rest-api", "--rest-api-id", api_id, "--patch-operations", patch],
          aws + ["create-deployment", "--rest-api-id", api_id, "--stage-name", "test"]]),
        ("verify (one request)", [[PETGATE, "verify", "--api", api_id]], [curl + [invoke]]),
        ("set the 403 template (+ redeploy)", [[PETGATE, "set-403-template", "--api", api_id]],
         [aws + ["put-gateway-response", "--rest-api-id", api_id, "--response-type", "ACCESS_DENIED",
                 "--status-code", "403", "--response-templates", template],
          aws + ["create-deployment", "--rest-api-id", api_id, "--stage-name", "test"]]),
        ("remove the policy (+ redeploy)", [[PETGATE, "unblock", "--api", api_id, "--all"]],
         [aws + ["update-rest-api", "--rest-api-id", api_id, "--patch-operations", clear],
          aws + ["create-deployment", "--rest-api-id", api_id, "--stage-name", "test"]]),
    ]
    floors = step_floors(url, api_id, definition, invoke, checkip)
    for name, ours, theirs in steps:
        mine = measure(lambda ours=ours: ours)
        if aws_ok:
            peer = measure(lambda theirs=theirs: theirs)
            ratio = peer[0] / mine[0]
            rows.append((f"step: {name}", fmt(mine), fmt(peer), f"{ratio:.1f}×"))
            targets.append((f"step {name} ≥ 3× faster than aws CLI + curl", f"{ratio:.1f}×", ratio >= 3))
        else:
            rows.append((f"step: {name}", fmt(mine), "aws CLI not installed", "–"))
        floor = measure(lambda name=name: [floors[name]])
        rows.append(("  its boto3 floor (the same calls from one bare python+boto3 process)", "", fmt(floor),
                     f"petgate {mine[0] / floor[0]:.2f}× the floor"))

    exercise = [ours for _, ours_list, _ in steps for ours in ours_list]
    whole_cli = [theirs for _, _, theirs_list in steps for theirs in theirs_list]
    six = measure(lambda: exercise, runs=3)
    walk = measure(lambda: [[PETGATE, "walkthrough", "--new", "--cleanup"]], runs=3)
    if aws_ok:
        peer = measure(lambda: whole_cli, runs=3)
        rows.append(("whole exercise: six petgate commands", fmt(six), fmt(peer), f"{peer[0] / six[0]:.1f}×"))
        rows.append(("whole exercise: `walkthrough --local`", fmt(walk), fmt(peer), f"{peer[0] / walk[0]:.1f}×"))
        targets.append(("whole exercise as six commands ≥ 3× faster", f"{peer[0] / six[0]:.1f}×", peer[0] / six[0] >= 3))
    else:
        rows.append(("whole exercise: six petgate commands", fmt(six), "aws CLI not installed", "–"))
        rows.append(("whole exercise: `walkthrough --local`", fmt(walk), "–", "–"))
    targets.append(("`walkthrough --local` under 3 s", f"{walk[0]:.2f} s", walk[0] < 3))

    helped = measure(lambda: [[PETGATE, "--help"]], runs=10)
    click_only = measure(lambda: [[sys.executable, "-c", "import click"]], runs=10)
    rows.append(("`petgate --help` vs `python -c 'import click'`", fmt(helped, "ms"), fmt(click_only, "ms"), f"{helped[0] / click_only[0]:.2f}× as long"))
    targets.append(("`petgate --help` ≤ 1.5× `import click`", f"{helped[0] / click_only[0]:.2f}×", helped[0] / click_only[0] <= 1.5))

    gateway_rows, gateway_targets = bench_gateway(url, api_id)
    rows += gateway_rows
    targets += gateway_targets
    rows += bench_evaluator()
    rows += bench_lease(url, api_id)
    rows += bench_waf(url, api_id, aws_ok)
    rows += bench_lists(url)
    mine = measure(lambda: [[PETGATE, "block-my-ip", "--api", api_id, "--cidr", "198.51.100.9"]])
    floor = measure(lambda: [[sys.executable, "-c", BLOCK_FLOOR, url, api_id, "198.51.100.9/32"]])
    rows.append(("`block-my-ip` vs its boto3 floor (GetRestApi, UpdateRestApi, CreateDeployment; one bare process)",
                 fmt(mine), fmt(floor), f"{mine[0] / floor[0]:.2f}× the floor"))
    return rows, targets


_FLOOR_HEAD = """
import json, sys, urllib.error, urllib.request, boto3
url, api, definition, invoke, checkip = sys.argv[1:6]
c = boto3.client("apigateway", endpoint_url=url, region_name="us-east-1",
                 aws_access_key_id="bench", aws_secret_access_key="bench")
"""
_FLOOR_STEPS = {
    "import the example": 'c.import_rest_api(body=open(definition, "rb").read(), parameters={"endpointConfigurationTypes": "REGIONAL"})',
    "deploy": 'c.create_deployment(restApiId=api, stageName="test")',
    "block my IP (+ redeploy)": (
        'ip = urllib.request.urlopen(checkip).read().decode().strip()\n'
        'c.get_rest_api(restApiId=api)\n'
        'p = {"Version": "2012-10-17", "Statement": [{"Effect": "Deny", "Principal": "*", "Action": "execute-api:Invoke",'
        ' "Resource": "execute-api:/*", "Condition": {"IpAddress": {"aws:SourceIp": [ip + "/32"]}}},'
        ' {"Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke", "Resource": "execute-api:/*"}]}\n'
        'c.update_rest_api(restApiId=api, patchOperations=[{"op": "replace", "path": "/policy", "value": json.dumps(p)}])\n'
        'c.create_deployment(restApiId=api, stageName="test")'),
    "verify (one request)": 'try:\n    urllib.request.urlopen(invoke).read()\nexcept urllib.error.HTTPError:\n    pass  # a 403 is an answer too',
    "set the 403 template (+ redeploy)": (
        'c.get_gateway_response(restApiId=api, responseType="ACCESS_DENIED")\n'
        'c.put_gateway_response(restApiId=api, responseType="ACCESS_DENIED", statusCode="403",'
        ' responseTemplates={"application/json": \'{"message":"Access denied"}\'})\n'
        'c.create_deployment(restApiId=api, stageName="test")'),
    "remove the policy (+ redeploy)": (
        'c.update_rest_api(restApiId=api, patchOperations=[{"op": "replace", "path": "/policy", "value": ""}])\n'
        'c.create_deployment(restApiId=api, stageName="test")'),
}


def step_floors(url: str, api_id: str, definition: Path, invoke: str, checkip: str) -> dict[str, list[str]]:
    """Each step's boto3 floor: a bare python+boto3 process making the calls the step needs."""
    return {name: [sys.executable, "-c", _FLOOR_HEAD + code, url, api_id, str(definition), invoke, checkip]
            for name, code in _FLOOR_STEPS.items()}


BLOCK_FLOOR = """
import json, sys, boto3
c = boto3.client("apigateway", endpoint_url=sys.argv[1], region_name="us-east-1",
                 aws_access_key_id="bench", aws_secret_access_key="bench")
c.get_rest_api(restApiId=sys.argv[2])
policy = {"Version": "2012-10-17", "Statement": [
    {"Effect": "Deny", "Principal": "*", "Action": "execute-api:Invoke", "Resource": "execute-api:/*",
     "Condition": {"IpAddress": {"aws:SourceIp": [sys.argv[3]]}}},
    {"Effect": "Allow", "Principal": "*", "Action": "execute-api:Invoke", "Resource": "execute-api:/*"}]}
c.update_rest_api(restApiId=sys.argv[2], patchOperations=[{"op": "replace", "path": "/policy", "value": json.dumps(policy)}])
c.create_deployment(restApiId=sys.argv[2], stageName="test")
"""

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


def bench_lease(url: str, api_id: str) -> list[Row]:
    """One policy change with and without the lease, in one process (no start-up cost)."""
    from petgate import lease
    from petgate.target import Target

    gateway = Target(local=True, local_url=url).gateway()
    cidrs = [f"198.51.100.{n}/32" for n in range(1, 101)]

    def bare(cidr: str) -> None:
        policy = gateway.get_policy(api_id)
        gateway.set_policy(api_id, policies.block(policy, [cidr])[0])

    def leased(cidr: str) -> None:
        with lease.held(gateway, api_id):
            bare(cidr)

    def per_change(change: Callable[[str], None]) -> float:
        started = time.perf_counter()
        for cidr in cidrs:
            change(cidr)
        elapsed = (time.perf_counter() - started) / len(cidrs)
        gateway.set_policy(api_id, None)
        return elapsed

    gateway.set_policy(api_id, None)  # the gateway bench left its largest deny list there
    per_change(bare)  # warm-up
    without, with_lease = per_change(bare), per_change(leased)
    return [("one policy change under the lease (4 calls) vs bare read-modify-write (2 calls)",
             f"{with_lease * 1000:.1f} ms", f"{without * 1000:.1f} ms", f"{with_lease / without:.2f}× the bare cost")]


def bench_gateway(url: str, api_id: str) -> tuple[list[Row], list[tuple[str, str, bool | None]]]:
    rows: list[Row] = []
    targets: list[tuple[str, str, bool | None]] = []
    base = f"{url}/restapis/{api_id}/test/_user_request_"
    auth = "AWS4-HMAC-SHA256 Credential=bench/20260101/us-east-1/apigateway/aws4_request, SignedHeaders=host, Signature=0"
    moto = run_load(url + "/restapis", auth)
    rows.append(("moto control plane: GetRestApis (reference)", f"{moto.rps:.0f} req/s", f"p50 {moto.p50_ms:.1f} ms, p99 {moto.p99_ms:.1f} ms", "1.0×"))
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
                         f"p50 {result.p50_ms:.1f} ms, p99 {result.p99_ms:.1f} ms, {result.errors} errors", f"{result.rps / moto.rps:.1f}× moto"))
            if path == "/" and cidrs:
                targets.append((f"gateway ≥ 1,000 req/s for GET / with the {fit}-CIDR policy", f"{result.rps:.0f} req/s", result.rps >= 1000))
    return rows, targets


def run_load(url: str, authorization: str | None = None) -> load.LoadResult:
    load.run(url, total=400, concurrency=4, authorization=authorization)  # warm-up
    return load.run(url, total=4000, concurrency=4, authorization=authorization)


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


def write(rows: list[Row], targets: list[tuple[str, str, bool | None]]) -> None:
    lines = ["| what | petgate | peer | ratio |", "| --- | --- | --- | --- |"]
    lines += [f"| {a} | {b} | {c} | {d} |" for a, b, c, d in rows]
    lines += ["", "| target | measured | met |", "| --- | --- | --- |"]
    lines += [f"| {name} | {value} | {'yes' if ok else 'no' if ok is False else '–'} |" for name, value, ok in targets]
    table = "\n".join(lines)
    print(table)
    stamp = time.strftime("%Y-%m-%d %H:%M UTC", time.gmtime())
    results = ROOT / "bench" / "RESULTS.md"
    notes = results.with_name("NOTES.md")
    header = f"# petgate benchmark\n\nRun {stamp} on {machine()}.\nMedians, with min–max over the runs; warm-up runs excluded.\n\n"
    extra = notes.read_text(encoding="utf-8") if notes.exists() else ""
    results.write_text(header + table + "\n\n" + extra, encoding="utf-8")
    print(f"\nwritten to {results}")


if __name__ == "__main__":
    main()
