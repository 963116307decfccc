"""Benchmark: the reference server against Prism's mock, requests per second and latency on loopback.

    .venv/bin/python bench/server_speed.py [--requests 20000] [--seconds 10] [--clients 1,32]
        [--mixes write,read] [--pg-workers 1,2,4] [--skip null|reference|prism|postgres]

Every server gets the same closed-loop load at each level of concurrency; they
run side by side and take turns, so a slow spell of the machine does not land
on one of them only. In the write mix every client keeps one keep-alive connection and loops over

    create a policy with a new key (201), get it (200), update it (200),
    and every --order-every-th iteration order all the keys it created (200),

each client in projects of its own, so the order it sends lists every scoped
policy of the project, as the contract demands, and the reference server
answers 2xx throughout. A client moves on to a fresh project after
--policies-per-project creates, so request sizes and the cost of each state
change stay the same through the run instead of growing with its length (the
reference server is started with all those projects). A level ends after
--requests measured requests (split evenly over its clients) or --seconds,
whichever comes first; a short warm-up before it (a tenth of the requests, at
most a quarter of the seconds) is not measured. Latency is from the first byte
written to the last byte read; p50 and p99 are nearest-rank over every request.

In the read mix each client first creates 10 policies in a project of its own
(not measured), then loops over listing that project (200) and getting one of
its policies (200).

The reference server runs as ``release-policy serve`` on a SQLite file in a
temporary directory (WAL, so every write is committed before it is answered;
--durable syncs every commit too), and on PostgreSQL with each of --pg-workers
(``--workers N``, a database of its own each) in a cluster of Debian's
PostgreSQL that the script starts in a temporary directory the way the tests do
(``tests/server/postgres.py``: fsync off, so a commit survives the kill of a
process, not a power loss, as with SQLite without --durable). Prism (``@stoplight/prism-cli@5``) is
installed by ``npm install --prefix`` into a cache directory outside the
repository and runs as ``prism mock spec/release-policies.yaml``, with its
per-request logging turned down to warnings (--prism-log info restores it): it
validates each request against the spec and answers the spec's example, storing
nothing, so its GET of a created key answers the example's policy. Its status
codes are counted like the reference server's; the table's "GET echoes key"
column shows which server keeps state.

The load generator is this script again, in a separate process (so it has a
core of its own on a two-core machine), driving the clients with asyncio over
raw sockets: requests are preformatted bytes, responses are parsed only as far
as the status line, the length and, for GETs, the key. httpx was measured for
this and rejected: against the calibration server below, on a two-core
machine, its AsyncClient managed about 840 requests per second with one client
and 380 with 32, at 90% of a core: less than the servers themselves do, so
httpx would have measured itself. The raw client reaches about 8,000 and 15,000
there. ``wrk`` with a Lua script was the other option: its hooks are per
thread, not per connection, so this mix (each client its own keys) would need a
thread per client (``-t32 -c32``), and it is a Debian package more on the
machine; the asyncio client is fast enough, as the calibration shows.

To show the generator is not the limit, each run starts with calibration rows:
the same load against a null HTTP server (a process of its own too) that
frames requests and answers a fixed body. The CPU columns are the server's and
the generator's CPU time over the measured window as a share of one core
(Linux /proc, the server's child processes included; near 100% for a Python
server means its event loop was the bottleneck); the database CPU is
PostgreSQL's (the postmaster and its backends).
"""

from __future__ import annotations

import argparse
import asyncio
import contextlib
import json
import math
import os
import secrets
import shutil
import socket
import subprocess
import sys
import tempfile
import time
from collections import Counter
from collections.abc import Callable, Iterator, Sequence
from dataclasses import dataclass, field
from pathlib import Path
from typing import TypedDict

REPOSITORY = Path(__file__).resolve().parent.parent
SPEC = REPOSITORY / "spec" / "release-policies.yaml"
PRISM_PACKAGE = "@stoplight/prism-cli@5"
PATH = "/api/v2/projects/{project}/release-policies"
READY_TIMEOUT = 90.0
#: Expected status of each kind of request in the mix.
EXPECTED = {"create": 201, "get": 200, "update": 200, "order": 200, "list": 200}
#: Policies each client of the read mix creates (unmeasured) before it reads them.
READ_POLICIES = 10


# --------------------------------------------------------------------------- the load generator


class Plan(TypedDict):
    """What the parent tells one load-generator process (as JSON on its command line)."""

    port: int
    token: str
    projects: list[list[str]]  # per client, the projects it works through in turn
    requests: int
    seconds: float
    warmup_requests: int
    warmup_seconds: float
    order_every: int
    policies_per_project: int
    mix: str  # "write" (create/get/update/order) or "read" (list and get)
    server_pids: list[int]
    database_pids: list[int]  # PostgreSQL's postmaster (its backends are its children), if any


class Result(TypedDict):
    """What one load-generator process reports back."""

    requests: int
    elapsed: float
    latencies_ms: list[float]
    statuses: dict[str, int]  # "create 201" -> count
    errors: int
    transport_errors: int
    gets: int
    gets_echoing_key: int
    loadgen_cpu: float
    server_cpu: float | None
    database_cpu: float | None


def create_body(key: str, iteration: int) -> bytes:
    body = {
        "key": key,
        "name": f"Bench policy {iteration}",
        "releaseMethod": "guarded-release",
        "scope": {"environmentKeys": ["production"], "flagTagKeys": ["checkout"]},
        "guardedReleaseConfig": {
            "rolloutContextKindKey": "user",
            "minSampleSize": 100,
            "rollbackOnRegression": True,
            "metricKeys": ["http-errors", "latency-p99"],
            "metricRegressionThreshold": 0.05,
            "stages": [
                {"allocation": 1000, "durationMillis": 3600000},
                {"allocation": 10000, "durationMillis": 3600000},
                {"allocation": 50000, "durationMillis": 0},
            ],
        },
    }
    return json.dumps(body, separators=(",", ":")).encode()


def update_body(iteration: int) -> bytes:
    body = {
        "name": f"Bench policy {iteration}, progressive now",
        "releaseMethod": "progressive-release",
        "scope": {"environmentKeys": ["production", "staging"]},
        "progressiveReleaseConfig": {
            "rolloutContextKindKey": "user",
            "stages": [
                {"allocation": 25000, "durationMillis": 60000},
                {"allocation": 50000, "durationMillis": 60000},
            ],
        },
    }
    return json.dumps(body, separators=(",", ":")).encode()


class Connection:
    """One keep-alive HTTP/1.1 connection: write a request, read its whole response."""

    def __init__(self, port: int) -> None:
        self.port = port
        self._reader: asyncio.StreamReader | None = None
        self._writer: asyncio.StreamWriter | None = None

    def close(self) -> None:
        if self._writer is not None:
            self._writer.close()
        self._reader = self._writer = None

    async def request(self, raw: bytes) -> tuple[int, bytes]:
        if self._reader is None or self._writer is None:
            self._reader, self._writer = await asyncio.open_connection("127.0.0.1", self.port)
        reader, writer = self._reader, self._writer
        writer.write(raw)
        head = await reader.readuntil(b"\r\n\r\n")
        status = int(head[9:12])
        length = -1
        chunked, keep_alive = False, True
        for line in head.split(b"\r\n")[1:]:
            name, _, value = line.partition(b":")
            name = name.strip().lower()
            if name == b"content-length":
                length = int(value)
            elif name == b"transfer-encoding":
                chunked = b"chunked" in value.lower()
            elif name == b"connection":
                keep_alive = b"close" not in value.lower()
        if chunked:
            body = await self._chunks(reader)
        elif length >= 0:
            body = await reader.readexactly(length)
        else:  # no length: the body runs to the end of the connection
            body = await reader.read()
            keep_alive = False
        if not keep_alive:
            self.close()
        return status, body

    @staticmethod
    async def _chunks(reader: asyncio.StreamReader) -> bytes:
        parts: list[bytes] = []
        while True:
            size = int((await reader.readuntil(b"\r\n")).split(b";")[0], 16)
            if size == 0:
                while await reader.readuntil(b"\r\n") != b"\r\n":
                    pass  # trailers
                return b"".join(parts)
            parts.append((await reader.readexactly(size + 2))[:-2])


@dataclass
class Tally:
    """What the clients of one level measured, once the warm-up is over."""

    measuring: bool = False
    deadline: float = math.inf
    latencies: list[float] = field(default_factory=list)
    statuses: Counter[str] = field(default_factory=Counter)
    errors: int = 0
    transport_errors: int = 0
    gets: int = 0
    gets_echoing_key: int = 0


class Client:
    """One simulated API client: its own connection, its own projects, the mix in a loop."""

    def __init__(self, plan: Plan, index: int, tally: Tally) -> None:
        self.plan, self.tally = plan, tally
        self.projects = plan["projects"][index]
        self.name = f"c{index}"
        self.connection = Connection(plan["port"])
        self.headers = (
            f"Host: 127.0.0.1:{plan['port']}\r\nAuthorization: {plan['token']}\r\n"
            "LD-API-Version: beta\r\nAccept: application/json\r\n"
        ).encode()
        self.budget = 0
        self.until = math.inf
        self.iteration_number = 0
        self.generation = 0  # index of the project in use
        self.keys: list[str] = []  # the policies of the project in use, in their current order

    def raw(self, method: str, path: str, body: bytes | None) -> bytes:
        start = f"{method} {path} HTTP/1.1\r\n".encode()
        if body is None:
            return start + self.headers + b"\r\n"
        length = f"Content-Type: application/json\r\nContent-Length: {len(body)}\r\n\r\n".encode()
        return start + self.headers + length + body

    async def call(self, kind: str, raw: bytes, echo: bytes | None = None) -> bool:
        """One request; False once the budget or the time is spent (the request is then not sent)."""
        if self.budget <= 0 or time.perf_counter() >= self.until:
            return False
        self.budget -= 1
        measuring = self.tally.measuring
        started = time.perf_counter()
        try:
            status, body = await self.connection.request(raw)
        except (OSError, asyncio.IncompleteReadError, asyncio.LimitOverrunError, ValueError):
            self.connection.close()
            if measuring:
                self.tally.transport_errors += 1
                self.tally.errors += 1
            return True
        if measuring:
            tally = self.tally
            tally.latencies.append(time.perf_counter() - started)
            tally.statuses[f"{kind} {status}"] += 1
            if status != EXPECTED[kind]:
                tally.errors += 1
            if echo is not None:
                tally.gets += 1
                tally.gets_echoing_key += echo in body
        return True

    async def prepare(self) -> None:
        """For the read mix: the policies it reads, created before any request is counted."""
        if self.plan["mix"] == "read":
            base = PATH.format(project=self.projects[0])
            for number in range(READ_POLICIES):
                key = f"{self.name}-{number}"
                await self.connection.request(self.raw("POST", base, create_body(key, number)))
                self.keys.append(key)

    async def run(self, budget: int, until: float) -> None:
        """Go on with the mix until ``budget`` requests are sent or the clock passes ``until``."""
        self.budget, self.until = budget, until
        while await self.iteration():
            pass

    async def iteration(self) -> bool:
        if self.plan["mix"] == "read":
            return await self.read()
        if self.generation >= len(self.projects):
            return False  # out of fresh projects: the parent sized them so this cannot happen
        number = self.iteration_number
        base = PATH.format(project=self.projects[self.generation])
        key = f"{self.name}-{number}"
        if not await self.call("create", self.raw("POST", base, create_body(key, number))):
            return False
        self.iteration_number += 1
        self.keys.append(key)
        echo = f'"key":"{key}"'.encode()
        if not await self.call("get", self.raw("GET", f"{base}/{key}", None), echo):
            return False
        if not await self.call("update", self.raw("PUT", f"{base}/{key}", update_body(number))):
            return False
        if self.iteration_number % self.plan["order_every"] == 0:
            self.keys.reverse()
            order = json.dumps(self.keys, separators=(",", ":")).encode()
            if not await self.call("order", self.raw("POST", f"{base}/order", order)):
                return False
        if len(self.keys) >= self.plan["policies_per_project"]:
            self.generation += 1
            self.keys = []
        return True

    async def read(self) -> bool:
        """List the project, then get one of its policies."""
        base = PATH.format(project=self.projects[0])
        key = self.keys[self.iteration_number % len(self.keys)]
        self.iteration_number += 1
        if not await self.call("list", self.raw("GET", base, None)):
            return False
        return await self.call("get", self.raw("GET", f"{base}/{key}", None), f'"key":"{key}"'.encode())


def _cpu_seconds(pids: Sequence[int]) -> float | None:
    """CPU time (user + system) of these processes and their descendants, from /proc; None elsewhere."""
    ticks = os.sysconf("SC_CLK_TCK") if hasattr(os, "sysconf") else 100
    parents: dict[int, int] = {}
    times: dict[int, float] = {}
    try:
        for entry in Path("/proc").iterdir():
            if not entry.name.isdigit():
                continue
            with contextlib.suppress(OSError):
                stat = (entry / "stat").read_text()
                fields = stat[stat.rindex(")") + 2 :].split()
                parents[int(entry.name)] = int(fields[1])
                times[int(entry.name)] = (int(fields[11]) + int(fields[12])) / ticks
    except OSError:
        return None
    wanted = set(pids)
    grew = True
    while grew:
        more = {pid for pid, parent in parents.items() if parent in wanted} - wanted
        wanted |= more
        grew = bool(more)
    if not wanted & times.keys():
        return None
    return sum(times[pid] for pid in wanted if pid in times)


async def _drive(plan: Plan) -> Result:
    tally = Tally()
    clients = [Client(plan, index, tally) for index in range(len(plan["projects"]))]
    count = len(clients)
    grace = 30.0  # a request still unanswered this long after the deadline is abandoned

    async def phase(total: int, seconds: float) -> float:
        until = time.perf_counter() + seconds
        share = math.ceil(total / count)
        tasks = [asyncio.ensure_future(client.run(share, until)) for client in clients]
        _, pending = await asyncio.wait(tasks, timeout=seconds + grace)
        for task in pending:
            task.cancel()
            tally.errors += 1
            tally.transport_errors += 1
        return time.perf_counter()

    await asyncio.gather(*(client.prepare() for client in clients))
    await phase(plan["warmup_requests"], plan["warmup_seconds"])
    tally.measuring = True
    server_before = _cpu_seconds(plan["server_pids"])
    database_before = _cpu_seconds(plan["database_pids"])
    cpu_before = time.process_time()
    started = time.perf_counter()
    ended = await phase(plan["requests"], plan["seconds"])
    loadgen_cpu = time.process_time() - cpu_before
    server_after = _cpu_seconds(plan["server_pids"])
    database_after = _cpu_seconds(plan["database_pids"])
    for client in clients:
        client.connection.close()
    elapsed = ended - started
    server_cpu = None
    if server_before is not None and server_after is not None:
        server_cpu = (server_after - server_before) / elapsed
    database_cpu = None
    if database_before is not None and database_after is not None:
        database_cpu = (database_after - database_before) / elapsed
    return Result(
        requests=len(tally.latencies) + tally.transport_errors,
        elapsed=elapsed,
        latencies_ms=[round(latency * 1000, 4) for latency in tally.latencies],
        statuses=dict(tally.statuses),
        errors=tally.errors,
        transport_errors=tally.transport_errors,
        gets=tally.gets,
        gets_echoing_key=tally.gets_echoing_key,
        loadgen_cpu=loadgen_cpu / elapsed,
        server_cpu=server_cpu,
        database_cpu=database_cpu,
    )


def load_main(plan_json: str) -> int:
    plan: Plan = json.loads(plan_json)
    result = asyncio.run(_drive(plan))
    print(json.dumps(result))
    return 0


# --------------------------------------------------------------------------- the calibration server


class _NullProtocol(asyncio.Protocol):
    """Parses pipelined HTTP/1.1 requests just enough to frame them; answers each with a fixed body."""

    BODY = b'{"key":"null"}'

    def __init__(self) -> None:
        self.buffer = b""
        self.transport: asyncio.Transport | None = None

    def connection_made(self, transport: asyncio.BaseTransport) -> None:
        assert isinstance(transport, asyncio.Transport)
        self.transport = transport

    def data_received(self, data: bytes) -> None:
        self.buffer += data
        while True:
            end = self.buffer.find(b"\r\n\r\n")
            if end < 0:
                return
            head = self.buffer[: end + 2].lower()  # every header line ends in CRLF
            mark = head.find(b"content-length:")
            length = int(head[mark + 15 : head.index(b"\r\n", mark)]) if mark >= 0 else 0
            if len(self.buffer) < end + 4 + length:
                return
            self.buffer = self.buffer[end + 4 + length :]
            created = head.startswith(b"post") and head.split(b" ", 2)[1].endswith(b"release-policies")
            status = b"201 Created" if created else b"200 OK"
            assert self.transport is not None
            self.transport.write(
                b"HTTP/1.1 "
                + status
                + b"\r\nContent-Type: application/json\r\nContent-Length: "
                + str(len(self.BODY)).encode()
                + b"\r\n\r\n"
                + self.BODY
            )


async def _null_serve(port: int) -> None:
    loop = asyncio.get_running_loop()
    server = await loop.create_server(_NullProtocol, "127.0.0.1", port)
    async with server:
        await server.serve_forever()


def null_main(port: str) -> int:
    with contextlib.suppress(KeyboardInterrupt):
        asyncio.run(_null_serve(int(port)))
    return 0


# --------------------------------------------------------------------------- the servers


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as probe:
        probe.bind(("127.0.0.1", 0))
        port: int = probe.getsockname()[1]
        return port


def wait_ready(process: subprocess.Popen[bytes], port: int, token: str, name: str) -> None:
    """Until the server answers a GET with 2xx; bounded by READY_TIMEOUT."""
    request = (
        f"GET {PATH.format(project='ready')}/ready HTTP/1.1\r\nHost: 127.0.0.1:{port}\r\n"
        f"Authorization: {token}\r\nLD-API-Version: beta\r\nConnection: close\r\n\r\n"
    ).encode()
    deadline = time.monotonic() + READY_TIMEOUT
    while time.monotonic() < deadline:
        if process.poll() is not None:
            sys.exit(f"{name} exited with {process.returncode} before it answered")
        with contextlib.suppress(OSError), socket.create_connection(("127.0.0.1", port), timeout=2) as sock:
            sock.sendall(request)
            answer = sock.recv(64)
            # the reference server answers 404 for the unknown policy: it is up all the same
            if answer.startswith((b"HTTP/1.1 2", b"HTTP/1.1 404")):
                return
        time.sleep(0.2)
    sys.exit(f"{name} did not answer within {READY_TIMEOUT:g} s")


@contextlib.contextmanager
def running(argv: list[str], name: str, port: int, token: str, env: dict[str, str]) -> Iterator[int]:
    """Start a server, wait until it answers, yield its pid, stop it."""
    with tempfile.TemporaryFile() as log:
        process = subprocess.Popen(
            argv, cwd=REPOSITORY, env=env, stdin=subprocess.DEVNULL, stdout=log, stderr=subprocess.STDOUT
        )
        try:
            wait_ready(process, port, token, name)
            yield process.pid
        except SystemExit:
            log.seek(0)
            print(log.read()[-2000:].decode(errors="replace"), file=sys.stderr)
            raise
        finally:
            process.terminate()
            try:
                process.wait(timeout=15)
            except subprocess.TimeoutExpired:
                process.kill()
                process.wait()


def install_prism(directory: Path) -> Path:
    """``prism`` from npm in ``directory`` (kept between runs), installed there if it is not yet."""
    binary = directory / "node_modules" / ".bin" / "prism"
    if not binary.exists():
        npm = shutil.which("npm")
        if npm is None:
            sys.exit("npm is needed to install Prism")
        directory.mkdir(parents=True, exist_ok=True)
        print(f"installing {PRISM_PACKAGE} into {directory} ...", file=sys.stderr)
        done = subprocess.run(
            [npm, "install", "--prefix", str(directory), "--no-audit", "--no-fund", PRISM_PACKAGE],
            check=False,
            stdout=subprocess.DEVNULL,
        )
        if done.returncode != 0 or not binary.exists():
            sys.exit(f"npm install {PRISM_PACKAGE} failed ({done.returncode}); --skip prism runs without it")
    return binary


# --------------------------------------------------------------------------- the benchmark


@dataclass
class Row:
    server: str
    mix: str
    clients: int
    result: Result


@dataclass(frozen=True)
class Server:
    """A server to measure: its name, command line and port, and the database processes it uses."""

    name: str
    argv: list[str]
    port: int
    database_pids: list[int] = field(default_factory=list)


def project_names(mix: str, clients: int, generations: int) -> list[list[str]]:
    """Per client, its projects; distinct between levels, so each level starts on empty projects."""
    return [[f"{mix[0]}{clients}-c{client}-g{g}" for g in range(generations)] for client in range(clients)]


def plan_for(
    args: argparse.Namespace, mix: str, clients: int, server: Server, *, token: str, pids: list[int]
) -> Plan:
    warmup = max(args.requests // 10, 20 * clients)
    per_client = math.ceil(args.requests / clients) + math.ceil(warmup / clients)
    # every iteration creates exactly one policy in at least three requests; the read mix needs one project
    generations = math.ceil(per_client / 3 / args.policies_per_project) + 1 if mix == "write" else 1
    return Plan(
        port=server.port,
        token=token,
        projects=project_names(mix, clients, generations),
        requests=args.requests,
        seconds=args.seconds,
        warmup_requests=warmup,
        warmup_seconds=args.seconds / 4,
        order_every=args.order_every,
        policies_per_project=args.policies_per_project,
        mix=mix,
        server_pids=pids,
        database_pids=server.database_pids,
    )


def load(plan: Plan) -> Result:
    done = subprocess.run(
        [sys.executable, str(Path(__file__).resolve()), "--load-plan", json.dumps(plan)],
        capture_output=True,
        check=False,
        timeout=plan["seconds"] * 2 + plan["warmup_seconds"] * 2 + 120,
    )
    if done.returncode != 0:
        sys.exit(f"the load generator failed ({done.returncode}): {done.stderr[-2000:].decode()}")
    result: Result = json.loads(done.stdout)
    return result


def percentile(values: Sequence[float], share: float) -> float:
    """Nearest-rank percentile of sorted values."""
    if not values:
        return math.nan
    return values[max(0, math.ceil(share * len(values)) - 1)]


def _share(value: float | None) -> str:
    return "-" if value is None else f"{value:.0%}"


def table(rows: Sequence[Row]) -> str:
    header = (
        "| server | mix | clients | requests | rps | p50 ms | p99 ms | errors | GET echoes key"
        " | server CPU | database CPU | loadgen CPU |"
    )
    lines = [header, "|---|---|--:|--:|--:|--:|--:|--:|--:|--:|--:|--:|"]
    for row in rows:
        result = row.result
        latencies = sorted(result["latencies_ms"])
        rps = result["requests"] / result["elapsed"] if result["elapsed"] else math.nan
        echo = f"{result['gets_echoing_key'] / result['gets']:.0%}" if result["gets"] else "-"
        lines.append(
            f"| {row.server} | {row.mix} | {row.clients} | {result['requests']} | {rps:,.0f}"
            f" | {percentile(latencies, 0.50):.2f} | {percentile(latencies, 0.99):.2f}"
            f" | {result['errors']} | {echo} | {_share(result['server_cpu'])}"
            f" | {_share(result['database_cpu'])} | {result['loadgen_cpu']:.0%} |"
        )
    return "\n".join(lines)


def statuses(rows: Sequence[Row]) -> str:
    lines = []
    for row in rows:
        counts = ", ".join(f"{name}: {count}" for name, count in sorted(row.result["statuses"].items()))
        transport = row.result["transport_errors"]
        extra = f", transport errors: {transport}" if transport else ""
        lines.append(f"- {row.server}, {row.mix}, {row.clients} clients: {counts}{extra}")
    return "\n".join(lines)


def parse_args(argv: Sequence[str] | None) -> argparse.Namespace:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0] if __doc__ else None)
    parser.add_argument("--requests", type=int, default=20000, help="measured requests per level (20000)")
    parser.add_argument("--seconds", type=float, default=10.0, help="at most this long per level (10)")
    parser.add_argument("--clients", default="1,32", help="concurrency levels, comma-separated (1,32)")
    parser.add_argument("--order-every", type=int, default=5, help="order every n-th iteration (5)")
    parser.add_argument(
        "--policies-per-project",
        type=int,
        default=50,
        help="creates before a client takes a new project (50)",
    )
    parser.add_argument("--durable", action="store_true", help="serve with --durable (sync every commit)")
    parser.add_argument(
        "--prism-dir",
        type=Path,
        default=Path(os.environ.get("XDG_CACHE_HOME") or Path.home() / ".cache") / "rpv-bench-prism",
        help="where Prism is installed with npm (kept between runs)",
    )
    parser.add_argument("--prism-log", default="warn", help="Prism's --verboseLevel (warn)")
    parser.add_argument(
        "--skip",
        action="append",
        default=[],
        choices=["null", "reference", "prism", "postgres"],
        help="leave a server out (repeatable); --skip prism needs no npm, --skip postgres no PostgreSQL",
    )
    parser.add_argument("--mixes", default="write,read", help="load mixes, comma-separated (write,read)")
    parser.add_argument(
        "--pg-workers",
        default="1,2,4",
        help="worker counts of the PostgreSQL server, comma-separated (1,2,4)",
    )
    parser.add_argument("--load-plan", help=argparse.SUPPRESS)
    parser.add_argument("--null-port", help=argparse.SUPPRESS)
    args = parser.parse_args(argv)
    if args.requests < 1 or args.seconds <= 0 or args.order_every < 1 or args.policies_per_project < 1:
        parser.error("--requests, --seconds, --order-every and --policies-per-project must be positive")
    return args


def main(argv: Sequence[str] | None = None) -> int:
    args = parse_args(argv)
    if args.load_plan:
        return load_main(args.load_plan)
    if args.null_port:
        return null_main(args.null_port)
    levels = [int(level) for level in args.clients.split(",")]
    mixes = args.mixes.split(",")
    token = secrets.token_urlsafe(16)
    env = {**os.environ, "RELEASE_POLICY_TOKENS": token}
    prism = None if "prism" in args.skip else install_prism(args.prism_dir)
    rows: list[Row] = []
    with tempfile.TemporaryDirectory(prefix="rpv-bench-") as scratch, contextlib.ExitStack() as stack:
        database = None if "postgres" in args.skip else stack.enter_context(postgres_cluster())
        servers = server_commands(args, (mixes, levels), token, (prism, database), Path(scratch))
        # All servers run at once (idle ones cost nothing) and take turns at each level, so a
        # slow spell of the machine hits both sides of the comparison rather than one.
        pids = [stack.enter_context(running(each.argv, each.name, each.port, token, env)) for each in servers]
        for mix in mixes:
            for clients in levels:
                for server, pid in zip(servers, pids, strict=True):
                    print(f"{server.name}, {mix}, {clients} clients ...", file=sys.stderr)
                    plan = plan_for(args, mix, clients, server, token=token, pids=[pid])
                    rows.append(Row(server.name, mix, clients, load(plan)))
    names = [server.name for server in servers]
    rows.sort(key=lambda row: (mixes.index(row.mix), names.index(row.server), row.clients))
    print(table(rows))
    print()
    print("Status codes (measured requests):")
    print(statuses(rows))
    return 0


@dataclass(frozen=True)
class Database:
    """The benchmark's PostgreSQL cluster: how to reach it, how to add a database, its postmaster."""

    url: str
    create: Callable[[str], None]
    postmaster: int

    def database_url(self, name: str) -> str:
        self.create(f"CREATE DATABASE {name}")
        return self.url.rsplit("/", 1)[0] + "/" + name


@contextlib.contextmanager
def postgres_cluster() -> Iterator[Database]:
    """A cluster of Debian's PostgreSQL in a temporary directory, as the tests start it (fsync off, so
    it commits as SQLite does without --durable: durable against a kill, not against power loss)."""
    sys.path.insert(0, str(REPOSITORY))
    from tests.server.postgres import cluster

    with cluster() as running:
        postmaster = int((running.directory / "data" / "postmaster.pid").read_text().split()[0])
        yield Database(running.url, running.sql, postmaster)


def server_commands(
    args: argparse.Namespace,
    loads: tuple[Sequence[str], Sequence[int]],
    token: str,
    others: tuple[Path | None, Database | None],
    scratch: Path,
) -> list[Server]:
    """Each server to measure."""
    prism, database = others
    servers = []
    if "null" not in args.skip:
        port = free_port()
        servers.append(
            Server("null (calibration)", [sys.executable, __file__, "--null-port", str(port)], port)
        )
    projects = ["ready"]
    for mix in loads[0]:
        for clients in loads[1]:
            plan = plan_for(args, mix, clients, Server("", [], 0), token=token, pids=[])
            projects += [name for names in plan["projects"] for name in names]

    def reference(name: str, db: str, *options: str, database_pids: Sequence[int] = ()) -> Server:
        port = free_port()
        argv = [sys.executable, "-m", "validator", "serve", "--host", "127.0.0.1", "--port", str(port)]
        argv += ["--db", db, *options]
        argv += [option for project in projects for option in ("--project", project)]
        return Server(name, argv, port, list(database_pids))

    if "reference" not in args.skip:
        durable = ["--durable"] if args.durable else []
        name = "reference SQLite" + (" (durable)" if args.durable else "")
        servers.append(reference(name, str(scratch / "bench.db"), *durable))
    if database is not None:
        for workers in (int(count) for count in args.pg_workers.split(",")):
            db = database.database_url(f"bench_w{workers}")
            pids = [database.postmaster]
            servers.append(
                reference(
                    f"reference PostgreSQL, {workers} w", db, "--workers", str(workers), database_pids=pids
                )
            )
    if prism is not None:
        port = free_port()
        argv = [str(prism), "mock", "--host", "127.0.0.1", "--port", str(port)]
        argv += ["--verboseLevel", args.prism_log, str(SPEC)]
        servers.append(Server("prism", argv, port))
    return servers


if __name__ == "__main__":
    sys.exit(main())
