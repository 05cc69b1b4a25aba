"""moto's own test suite as a regression guard for petgate local (issue 19 item 5; `make test-moto`).

Downloads the sdist of the installed moto from PyPI (`pip download --no-deps --no-binary :all:
moto==VERSION`, kept in the git-ignored bench/.moto-suite/ and reused), unpacks its
tests/test_apigateway and tests/test_wafv2 with what they import from tests/ (__init__.py,
conftest.py, markers.py), and runs them twice in moto's server mode (TEST_SERVER_MODE=true,
TEST_SERVER_MODE_ENDPOINT; every mock_aws start POSTs /moto-api/reset there): once against
`moto_server` and once against `petgate local`, each from .venv on a free port of loopback,
each run's per-test outcomes read from pytest's junitxml.

A test that passes against moto_server and fails against petgate local is a regression,
unless bench/moto_suite_known.toml lists it with its reason: "petgate follows recorded AWS:
<LocalStack snapshot file and test>" or "needs a service petgate does not serve: <service>".
Prints a table (passed both / regressions / known / fail both / ...) and each regression with
its failure; exits 1 on any unlisted regression, 0 otherwise. A listed test that no longer
regresses is named as stale (not an error).

Options: `--prepare` only downloads and unpacks (make test runs it, so that the test itself
touches nothing but loopback), `--compare-only` compares the junitxml files of the last run again (no server, no
pytest), for editing the known list; `-k EXPR` passes a selection to both pytest runs.
moto's tests import freezegun, which petgate does not depend on: it is installed with
`pip install --target` into the cache, put on PYTHONPATH for these runs only.
"""

from __future__ import annotations

import argparse
import os
import shutil
import socket
import subprocess
import sys
import tarfile
import time
import tomllib
import urllib.request
import xml.etree.ElementTree as ET
from importlib.metadata import version
from pathlib import Path

ROOT = Path(__file__).resolve().parent.parent
CACHE = ROOT / "bench" / ".moto-suite"
KNOWN = ROOT / "bench" / "moto_suite_known.toml"
BIN = Path(sys.executable).parent
SUITES = ("tests/test_apigateway", "tests/test_wafv2")
# what the suites import from moto's tests/ besides themselves
SUPPORT = ("tests/__init__.py", "tests/conftest.py", "tests/markers.py")
REASONS = ("petgate follows recorded AWS: ", "needs a service petgate does not serve: ")
# moto's pytest settings (its pyproject's [tool.pytest.ini_options], without --color)
PYTEST_INI = """[pytest]
filterwarnings =
    ignore:datetime.datetime.utcnow:DeprecationWarning:botocore
markers =
    network: requires network connection
    requires_docker: requires running docker
    aws_verified: Verified against AWS, and should be able to run against AWS
    requires_clean_slate: requires a clean slate, so no parallel testing
"""
RUN_TIMEOUT = 1800  # seconds for one pytest run of the suites


def log(message: str) -> None:
    print(message, file=sys.stderr, flush=True)


def prepared_tree(moto_version: str) -> Path:
    """The unpacked suites (downloaded once, unpacked once per version)."""
    CACHE.mkdir(parents=True, exist_ok=True)
    sdist = CACHE / f"moto-{moto_version}.tar.gz"
    if not sdist.exists():
        log(f"downloading moto {moto_version}'s sdist from PyPI into {CACHE}")
        subprocess.run(
            [sys.executable, "-m", "pip", "download", "--quiet", "--no-deps", "--no-binary", ":all:",
             "--dest", str(CACHE), f"moto=={moto_version}"],
            check=True,
        )
    tree = CACHE / f"moto-{moto_version}"
    done = tree / ".unpacked"
    if not done.exists():
        shutil.rmtree(tree, ignore_errors=True)
        prefix = f"moto-{moto_version}/"
        with tarfile.open(sdist) as tar:
            members = [
                m for m in tar.getmembers()
                if m.name.startswith(prefix)
                and (m.name[len(prefix):] in SUPPORT
                     or any(m.name[len(prefix):].startswith(s + "/") for s in SUITES))
            ]
            tar.extractall(CACHE, members=members, filter="data")
        (tree / "pytest.ini").write_text(PYTEST_INI)
        done.touch()
    return tree


def test_deps() -> Path:
    """freezegun (imported by moto's apigateway tests), installed beside the suites."""
    deps = CACHE / "deps"
    if not (deps / "freezegun").is_dir():
        log("installing freezegun for moto's tests into " + str(deps))
        subprocess.run(
            [sys.executable, "-m", "pip", "install", "--quiet", "--no-deps", "--target", str(deps),
             "freezegun"],
            check=True,
        )
    return deps


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


def wait_until_up(url: str, proc: subprocess.Popen, log_path: Path) -> None:
    deadline = time.monotonic() + 60
    while time.monotonic() < deadline:
        if proc.poll() is not None:
            raise SystemExit(f"the server ended at start (exit {proc.returncode}); see {log_path}")
        try:
            # moto_server and petgate local both answer this (a GET: 400 "Need to POST")
            urllib.request.urlopen(url + "/moto-api/reset", timeout=2)
            return
        except urllib.error.HTTPError:
            return
        except OSError:
            time.sleep(0.2)
    raise SystemExit(f"no answer from {url} within 60 s; see {log_path}")


def server_command(target: str, port: int) -> list[str]:
    if target == "moto":
        return [str(BIN / "moto_server"), "-H", "127.0.0.1", "-p", str(port)]
    return [str(BIN / "petgate"), "local", "--host", "127.0.0.1", "--port", str(port)]


def clean_env() -> dict[str, str]:
    env = {k: v for k, v in os.environ.items()
           if not k.startswith(("AWS_", "PETGATE_", "MOTO_", "TEST_SERVER_MODE", "PYTEST_"))}
    return env


def run_suite(target: str, tree: Path, deps: Path, select: str | None) -> tuple[Path, float]:
    """Start one server, run the suites against it, stop it; the junitxml and the wall time."""
    port = free_port()
    url = f"http://127.0.0.1:{port}"
    server_log = CACHE / f"server-{target}.log"
    xml = CACHE / f"junit-{target}.xml"
    xml.unlink(missing_ok=True)
    env = clean_env()
    with server_log.open("w") as out:
        server = subprocess.Popen(server_command(target, port), stdout=out, stderr=subprocess.STDOUT,
                                  env=env, cwd=CACHE, start_new_session=True)
    try:
        wait_until_up(url, server, server_log)
        log(f"running moto's suites against {target} at {url}")
        env.update({
            "TEST_SERVER_MODE": "true",
            "TEST_SERVER_MODE_ENDPOINT": url,
            "PYTHONPATH": str(deps),
            "AWS_DEFAULT_REGION": "us-east-1",
        })
        command = [sys.executable, "-m", "pytest", "-p", "no:cacheprovider", "-p", "no:petgate", "-q",
                   "-o", "junit_family=xunit1", f"--junitxml={xml}", *SUITES]
        if select:
            command += ["-k", select]
        started = time.monotonic()
        with (CACHE / f"pytest-{target}.log").open("w") as out:
            subprocess.run(command, cwd=tree, env=env, stdout=out, stderr=subprocess.STDOUT,
                           timeout=RUN_TIMEOUT, check=False)
        wall = time.monotonic() - started
    finally:
        server.terminate()
        try:
            server.wait(timeout=10)
        except subprocess.TimeoutExpired:
            server.kill()
            server.wait()
    if not xml.exists():
        raise SystemExit(f"pytest wrote no {xml}; see {CACHE / f'pytest-{target}.log'}")
    log(f"{target}: {wall:.0f} s")
    return xml, wall


def node_id(tree: Path, classname: str, name: str) -> str:
    """pytest's node id from junitxml's dotted classname (module path, then any classes)."""
    parts = classname.split(".")
    for cut in range(len(parts), 0, -1):
        path = "/".join(parts[:cut]) + ".py"
        if (tree / path).exists():
            return "::".join([path, *parts[cut:], name])
    return f"{classname}::{name}"


def outcomes(tree: Path, xml: Path) -> dict[str, tuple[str, str]]:
    """node id -> (passed | failed | skipped, the failure's first line)."""
    result: dict[str, tuple[str, str]] = {}
    for case in ET.parse(xml).getroot().iter("testcase"):
        nid = node_id(tree, case.get("classname", ""), case.get("name", ""))
        outcome, why = "passed", ""
        for child in case:
            if child.tag in ("failure", "error"):
                outcome = "failed"
                text = (child.get("message") or child.text or "").strip()
                why = text.splitlines()[0] if text else child.tag
                break
            if child.tag == "skipped":
                outcome, why = "skipped", (child.get("message") or "").strip()
        # a test that passed and then errored in teardown appears twice: the worst counts
        if result.get(nid, ("passed", ""))[0] != "failed":
            result[nid] = (outcome, why)
    return result


def known_differences() -> dict[str, str]:
    if not KNOWN.exists():
        return {}
    known = tomllib.loads(KNOWN.read_text()).get("known", {})
    for test, reason in known.items():
        if not isinstance(reason, str) or not reason.startswith(REASONS):
            raise SystemExit(f"{KNOWN}: {test}: a reason must start with one of {REASONS}")
    return known


def compare(tree: Path, moto_xml: Path, petgate_xml: Path) -> int:
    moto = outcomes(tree, moto_xml)
    petgate = outcomes(tree, petgate_xml)
    known = known_differences()
    rows: dict[str, list[str]] = {k: [] for k in (
        "passed both", "regressions", "known differences", "fail both",
        "fail on moto_server only", "skipped (either)", "ran against one only")}
    for test in sorted(set(moto) | set(petgate)):
        if test not in moto or test not in petgate:
            rows["ran against one only"].append(test)
            continue
        m, p = moto[test][0], petgate[test][0]
        if "skipped" in (m, p):
            rows["skipped (either)"].append(test)
        elif m == p == "passed":
            rows["passed both"].append(test)
        elif m == "passed":
            rows["known differences" if test in known else "regressions"].append(test)
        elif p == "passed":
            rows["fail on moto_server only"].append(test)
        else:
            rows["fail both"].append(test)
    total = len(set(moto) | set(petgate))
    print(f"\nmoto {version('moto')}'s {' and '.join(SUITES)} in server mode: {total} tests\n")
    print("| outcome | tests |\n| --- | ---: |")
    for label, tests in rows.items():
        print(f"| {label} | {len(tests)} |")
    moto_passed = sum(1 for o, _ in moto.values() if o == "passed")
    petgate_passed = sum(1 for o, _ in petgate.values() if o == "passed")
    print(f"\npassed against moto_server: {moto_passed}/{len(moto)}; "
          f"against petgate local: {petgate_passed}/{len(petgate)}")
    for label in ("regressions", "known differences", "fail both", "fail on moto_server only",
                  "ran against one only"):
        if rows[label]:
            print(f"\n{label}:")
            for test in rows[label]:
                if label == "known differences":
                    print(f"- {test}\n    {known[test]}")
                elif label in ("regressions", "fail both"):
                    print(f"- {test}\n    petgate local: {petgate[test][1][:300]}")
                    if label == "fail both":
                        print(f"    moto_server: {moto[test][1][:300]}")
                elif label == "fail on moto_server only":
                    print(f"- {test}\n    moto_server: {moto[test][1][:300]}")
                else:
                    print(f"- {test}")
    regressing = set(rows["known differences"])
    stale = sorted(t for t in known if t not in regressing)
    if stale:
        print(f"\nstale entries in {KNOWN.name} (no longer a regression; remove them):")
        for test in stale:
            print(f"- {test}")
    if rows["regressions"]:
        print(f"\n{len(rows['regressions'])} regression(s) against moto_server not listed in "
              f"{KNOWN.relative_to(ROOT)}")
        return 1
    return 0


def main() -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n")[0])
    parser.add_argument("--compare-only", action="store_true",
                        help="compare the last run's junitxml again; run nothing")
    parser.add_argument("-k", dest="select", help="a pytest -k selection for both runs")
    parser.add_argument("--prepare", action="store_true",
                        help="download and unpack the suites and their test dependencies only (what needs PyPI); "
                             "`make test` does this before tests/test_moto_suite.py runs them offline")
    args = parser.parse_args()
    moto_version = version("moto")
    tree = prepared_tree(moto_version)
    if args.prepare:
        test_deps()
        return 0
    if args.compare_only:
        xmls = CACHE / "junit-moto.xml", CACHE / "junit-petgate.xml"
        missing = [str(x) for x in xmls if not x.exists()]
        if missing:
            raise SystemExit(f"no earlier run to compare: {', '.join(missing)}")
        return compare(tree, *xmls)
    deps = test_deps()
    started = time.monotonic()
    moto_xml, moto_wall = run_suite("moto", tree, deps, args.select)
    petgate_xml, petgate_wall = run_suite("petgate", tree, deps, args.select)
    status = compare(tree, moto_xml, petgate_xml)
    print(f"\nwall time: moto_server run {moto_wall:.0f} s, petgate local run {petgate_wall:.0f} s, "
          f"all {time.monotonic() - started:.0f} s")
    return status


if __name__ == "__main__":
    sys.exit(main())
