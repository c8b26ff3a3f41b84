"""Chunk units on a real Dask cluster on loopback: a LocalCluster of 2 worker processes (shared storage),
and a `dask scheduler` plus 2 `dask worker` processes (copy mode); the output equals a local run's chunk
for chunk; a killed `drapto encode` resumes without re-sending finished chunks; a killed worker costs only
its chunk; a worker with another drapto version is refused at start. Security: the LocalCluster listens on
127.0.0.1 only and refuses any client but drapto's; a `tls://` scheduler and workers with certificates the
test makes encode the same chunks, and refuse a client without them. Plus the pure rules."""

from __future__ import annotations

import json
import os
import re
import signal
import socket
import subprocess
import sys
import time
from pathlib import Path

import msgspec
import pytest
from conftest import AudioSpec, ClipSpec, json_events, multi_scene_graph, run_drapto

from drapto.core.chunks import Chunk, Window
from drapto.core.config import load_config
from drapto.core.units import load_result
from drapto.errors import InputError

pytestmark = [pytest.mark.cluster, pytest.mark.ffmpeg]

CLIP = ClipSpec(
    duration=6.0, rate="24", video_graph=multi_scene_graph(320, 180, "24", 2.0),
    audio=(AudioSpec("stereo", 2, "eng", "Stereo", True),), subtitles=False, chapters=False,
)  # fmt: skip
FRAMES = 144
# three 2 s chunks; --workers 2 gives the local run the same lp as one chunk per worker thread of 2 workers
ENV = {"DRAPTO_CHUNK_MIN_SECONDS": "1", "DRAPTO_CHUNK_MAX_SECONDS": "3", "DRAPTO_PRESET": "12"}
DASK = str(Path(sys.executable).parent / "dask")
FAKE_VERSION = Path(__file__).with_name("cluster_fake_version.py")


def packets(ffmpeg: str, path: Path) -> str:
    """Every packet's timestamps, size and MD5: the chunk's content without the container's random IDs."""
    argv = [
        ffmpeg,
        "-hide_banner",
        "-loglevel",
        "error",
        "-i",
        str(path),
        "-map",
        "0:v",
        "-c",
        "copy",
        "-f",
        "framemd5",
        "-",
    ]
    return subprocess.run(argv, capture_output=True, text=True, check=True).stdout


def chunks_of(ffmpeg: str, out: Path) -> list[tuple[float, str]]:
    work = out / ".drapto" / "film"
    return [
        (load_result(str(work / "results" / f"{i:04d}.json")).crf, packets(ffmpeg, work / "encoded" / f"{i:04d}.mkv"))
        for i in range(3)
    ]


def finished(events: list[dict]) -> dict[int, list[dict]]:
    found: dict[int, list[dict]] = {}
    for event in events:
        if event["event"] == "chunk_finished":
            found.setdefault(event["index"], []).append(event)
    return found


@pytest.fixture(scope="module")
def reference(make_clip, tmp_path_factory, ffmpeg):
    """A local run (--workers 2), made in a child that imports drapto.shell.cli and checks that no Dask module
    was loaded by it."""
    source = make_clip(CLIP, "film.mkv")
    out = tmp_path_factory.mktemp("local") / "out"
    script = (
        "import sys\nfrom drapto.shell.cli import main\n"
        f"code = main(['encode', {str(source)!r}, {str(out)!r}, '--workers', '2', '--keep', '-q'])\n"
        "loaded = sorted(m for m in sys.modules if m.split('.')[0] in ('dask', 'distributed'))\n"
        "print(code, loaded)\n"
    )
    done = subprocess.run([sys.executable, "-c", script], capture_output=True, text=True, env={**os.environ, **ENV})
    assert done.stdout.strip() == "0 []", done.stdout + done.stderr
    return source, chunks_of(ffmpeg, out)


def encode(source: Path, out: Path, *flags: str, env: dict[str, str] | None = None) -> list[dict]:
    result = run_drapto("encode", source, out, "--json", "--keep", *flags, env={**ENV, **(env or {})})
    assert result.returncode == 0, result.stdout + result.stderr
    return json_events(result.stdout)


def listening(pid: int) -> list[tuple[int, str, int]]:
    """(pid, address, port) of every listening TCP socket of the process and its descendants."""
    import psutil  # distributed's own dependency

    found = []
    for process in [psutil.Process(pid), *psutil.Process(pid).children(recursive=True)]:
        try:
            connections = process.net_connections(kind="inet")
        except psutil.NoSuchProcess:
            continue
        found += [(process.pid, c.laddr.ip, c.laddr.port) for c in connections if c.status == psutil.CONN_LISTEN]
    return found


def serves_http(port: int) -> bool:
    """Whether the port is one of Dask's read-only HTTP servers (the dashboard's, a worker's)."""
    import urllib.request

    try:
        with urllib.request.urlopen(f"http://127.0.0.1:{port}/health", timeout=5) as answer:
            return answer.status == 200
    except OSError:
        return False


def refuses(address: str, security=None) -> str | None:
    """Why a Dask client at `address` was refused (None: it joined)."""
    from distributed import Client

    try:
        with Client(address, security=security, timeout="5s"):
            return None
    except Exception as exc:
        return repr(exc)


def test_local_cluster_is_loopback_tls_only_and_equals_the_local_run(reference, tmp_path, ffmpeg):
    """While the run holds its LocalCluster, every socket it and its children listen on is on 127.0.0.1
    (the dashboard too), and no port admits a plain-TCP client or one with a certificate of its own."""
    from distributed.security import Security

    source, expected = reference
    out = tmp_path / "out"
    argv = [sys.executable, "-m", "drapto", "encode", str(source), str(out), "--json", "--keep", "--cluster", "local:2"]
    child = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, **ENV})
    lines = []
    for line in child.stdout:
        lines.append(line)
        if json.loads(line)["event"] == "notice":  # the cluster is up and its workers checked
            break
    sockets = listening(child.pid)
    web = {port for _pid, _ip, port in sockets if serves_http(port)}
    stranger = Security.temporary()
    refused = {
        port: (refuses(f"tcp://127.0.0.1:{port}"), refuses(f"tls://127.0.0.1:{port}", stranger))
        for _pid, _ip, port in sockets
        if port not in web
    }
    running = child.poll() is None
    stdout, stderr = child.communicate(timeout=300)
    assert child.returncode == 0, stdout + stderr
    assert running, "the run ended before its ports were tried"
    assert {ip for _pid, ip, _port in sockets} == {"127.0.0.1"}, sockets  # the dashboard too
    assert len({pid for pid, _ip, _port in sockets}) == 3  # drapto (scheduler, nannies, dashboard), 2 workers
    assert web and len(refused) >= 3  # the scheduler's and each worker's Dask port
    # refused at the handshake: plain TCP is reset by the TLS listener, a stranger's certificate is not trusted
    for plain, other in refused.values():
        assert "CommClosedError" in plain and "FatalCommClosedError" in other, refused
    events = json_events("".join(lines) + stdout)
    notice = next(e for e in events if e["event"] == "notice")
    assert "cluster local:2: 2 workers, 2 chunks at once, 1 threads each" in notice["message"]
    done = finished(events)
    assert sorted(done) == [0, 1, 2] and all(len(v) == 1 for v in done.values())
    workers = {v[0]["worker"] for v in done.values()}
    assert len(workers) == 2 and all(w.startswith("tls://127.0.0.1:") for w in workers)  # both ran chunks
    forwarded = [e for e in events if e["event"] == "step_progress" and e["step"].startswith("chunk-")]
    assert forwarded and {e["worker"] for e in forwarded} <= workers  # each report names the chunk's worker
    assert chunks_of(ffmpeg, out) == expected  # same CRFs, same packets


def free_port() -> int:
    with socket.socket() as s:
        s.bind(("127.0.0.1", 0))
        return s.getsockname()[1]


class Cluster:
    """A `dask scheduler` and `dask worker` processes on 127.0.0.1, each on a free port; over TLS with the
    certificates in `tls` (a folder holding ca.pem, cert.pem and key.pem), else plain TCP."""

    def __init__(self, tls: Path | None = None) -> None:
        self.protocol = "tls" if tls else "tcp"
        self.address = f"{self.protocol}://127.0.0.1:{free_port()}"
        self.tls = [] if tls is None else [
            "--tls-ca-file", str(tls / "ca.pem"), "--tls-cert", str(tls / "cert.pem"), "--tls-key", str(tls / "key.pem"),
        ]  # fmt: skip
        self.security = None if tls is None else security_of(tls)
        self.processes: list[subprocess.Popen] = []
        self.workers: dict[str, subprocess.Popen] = {}
        port = self.address.rsplit(":", 1)[1]
        self._start([
            DASK, "scheduler", "--host", "127.0.0.1", "--port", port, "--protocol", self.protocol, "--no-dashboard",
            *self.tls,
        ])  # fmt: skip

    def _start(self, argv: list[str]) -> subprocess.Popen:
        process = subprocess.Popen(argv, stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
        self.processes.append(process)
        return process

    def add_worker(self, *extra: str) -> str:
        """A worker without a nanny (killing it is final, like a machine gone), one chunk at a time."""
        port = free_port()
        self.workers[f"{self.protocol}://127.0.0.1:{port}"] = self._start([
            DASK, "worker", self.address, "--host", "127.0.0.1", "--worker-port", str(port), "--nthreads", "1",
            "--no-nanny", "--no-dashboard", *self.tls, *extra,
        ])  # fmt: skip
        return f"{self.protocol}://127.0.0.1:{port}"

    def wait_for(self, count: int) -> None:
        from distributed import Client

        with Client(self.address, timeout="30s", security=self.security) as client:
            client.wait_for_workers(count, timeout=60)

    def stop(self) -> None:
        for process in reversed(self.processes):
            if process.poll() is None:
                process.kill()
            process.wait(timeout=10)


def make_certificates(folder: Path) -> Path:
    """A throwaway authority-signed certificate (self-signed: its own authority) and key, as files."""
    from distributed.security import Security

    made = Security.temporary()
    folder.mkdir(parents=True, exist_ok=True)
    (folder / "ca.pem").write_text(made.tls_ca_file)
    (folder / "cert.pem").write_text(made.tls_client_cert)
    (folder / "key.pem").write_text(made.tls_client_key)
    (folder / "security.toml").write_text('ca_file = "ca.pem"\ncert = "cert.pem"\nkey = "key.pem"\n')
    return folder


def security_of(folder: Path):
    from distributed.security import Security

    return Security(
        require_encryption=True, tls_ca_file=str(folder / "ca.pem"), tls_client_cert=str(folder / "cert.pem"),
        tls_client_key=str(folder / "key.pem"),
    )  # fmt: skip


@pytest.fixture(scope="module")
def dask_cluster():
    cluster = Cluster()
    try:
        cluster.add_worker()
        cluster.add_worker()
        cluster.wait_for(2)
        yield cluster
    finally:
        cluster.stop()


def descendants(pid: int) -> list[int]:
    parents: dict[int, int] = {}
    for entry in Path("/proc").iterdir():
        if entry.name.isdigit():
            try:
                parents[int(entry.name)] = int((entry / "stat").read_text().rsplit(")", 1)[1].split()[1])
            except (OSError, IndexError, ValueError):
                pass
    found, frontier = [], [pid]
    while frontier:
        children = [child for child, parent in parents.items() if parent in frontier]
        found += children
        frontier = children
    return found


def test_separate_processes_copy_mode_equals_the_local_run(reference, dask_cluster, tmp_path, ffmpeg):
    source, expected = reference
    out = tmp_path / "out"
    events = encode(source, out, "--cluster", dask_cluster.address, env={"DRAPTO_CLUSTER_DATA": "copy"})
    done = finished(events)
    assert sorted(done) == [0, 1, 2] and all(len(v) == 1 for v in done.values())
    assert {v[0]["worker"] for v in done.values()} == set(dask_cluster.workers)  # both workers ran chunks
    assert chunks_of(ffmpeg, out) == expected
    assert not list((out / ".drapto" / "film" / "chunks").glob("*/source-copy.mkv"))  # copies removed

    plan = run_drapto("plan", source, tmp_path / "plan", "--cluster", dask_cluster.address, env=ENV)
    assert plan.returncode == 0, plan.stderr
    assert "# cluster data: shared storage: workers read" in plan.stdout  # auto: the same machine reads it


def test_killed_drapto_resumes_without_resending_finished_chunks(reference, dask_cluster, tmp_path, ffmpeg):
    source, expected = reference
    out = tmp_path / "out"
    argv = [
        sys.executable,
        "-m",
        "drapto",
        "encode",
        str(source),
        str(out),
        "--json",
        "--keep",
        "--cluster",
        dask_cluster.address,
    ]
    child = subprocess.Popen(
        argv, stdout=subprocess.PIPE, stderr=subprocess.DEVNULL, text=True, env={**os.environ, **ENV}
    )
    for line in child.stdout:
        if json.loads(line)["event"] == "chunk_finished":
            os.kill(child.pid, signal.SIGKILL)
            break
    child.wait(timeout=60)
    work = out / ".drapto" / "film" / "encoded"
    kept = {p.name: p.stat().st_mtime_ns for p in work.glob("*.mkv")}
    assert kept
    events = encode(source, out, "--cluster", dask_cluster.address)
    resent = {f"{e['index']:04d}.mkv" for e in events if e["event"] == "chunk_started"}
    assert not resent & set(kept) and resent | set(kept) == {f"{i:04d}.mkv" for i in range(3)}
    assert all((work / name).stat().st_mtime_ns == mtime for name, mtime in kept.items())
    assert chunks_of(ffmpeg, out) == expected


def test_a_chunk_sent_to_a_worker_that_runs_something_else_fails_clearly(dask_cluster):
    """A worker that joins after the start check is checked by its first chunk: here the client claims
    another drapto version, so every worker differs from it and the chunk fails before encoding."""
    from distributed import Client

    import drapto
    from drapto.graph.clusterwork import machine_facts, run_remote

    elsewhere = msgspec.structs.replace(machine_facts(), drapto="0.0.0-elsewhere")
    with Client(dask_cluster.address, timeout="20s") as client:
        future = client.submit(run_remote, None, None, "check", elsewhere, pure=False)
        with pytest.raises(Exception, match=rf"tcp://127\.0\.0\.1:\d+ must run what this machine runs: "
                                            rf"drapto {drapto.__version__} there, 0\.0\.0-elsewhere here"):  # fmt: skip
            future.result(timeout=60)


def test_a_worker_killed_mid_chunk_costs_only_that_chunk(reference, dask_cluster, tmp_path, ffmpeg):
    """Last in the module: it leaves the cluster one worker short."""
    source, expected = reference
    out = tmp_path / "out"
    victim, process = next(iter(dask_cluster.workers.items()))
    argv = [
        sys.executable,
        "-m",
        "drapto",
        "encode",
        str(source),
        str(out),
        "--json",
        "--keep",
        "--cluster",
        dask_cluster.address,
    ]
    child = subprocess.Popen(argv, stdout=subprocess.PIPE, stderr=subprocess.PIPE, text=True, env={**os.environ, **ENV})
    deadline = time.monotonic() + 60
    while not descendants(process.pid):  # the victim holds a chunk: its ffmpeg runs
        assert time.monotonic() < deadline and child.poll() is None, "the victim never got a chunk"
        time.sleep(0.05)
    process.kill()
    stdout, stderr = child.communicate(timeout=180)
    assert child.returncode == 0, stdout + stderr
    done = finished(json_events(stdout))
    assert sorted(done) == [0, 1, 2] and all(len(v) == 1 for v in done.values())  # none missing, none twice
    assert all(v[0]["worker"] != victim for v in done.values())
    assert chunks_of(ffmpeg, out) == expected


def test_a_worker_with_another_drapto_version_is_refused_at_start(reference, tmp_path):
    source, _expected = reference
    cluster = Cluster()
    try:
        worker = cluster.add_worker("--preload", str(FAKE_VERSION))
        cluster.wait_for(1)
        result = run_drapto("encode", source, tmp_path / "out", "--cluster", cluster.address, env=ENV)
    finally:
        cluster.stop()
    assert result.returncode == 2
    from drapto import __version__

    assert result.stderr.strip().startswith(
        f"drapto: Cluster worker refused (it must run what this machine runs): {worker}: "
        f"drapto 0.0.0-fake there, {__version__} here"
    ), result.stderr
    assert not (tmp_path / "out" / "film.mkv").exists()


@pytest.fixture(scope="module")
def tls_cluster(tmp_path_factory):
    """A TLS scheduler and 2 TLS workers, with certificates the test makes."""
    certificates = make_certificates(tmp_path_factory.mktemp("tls"))
    cluster = Cluster(tls=certificates)
    try:
        cluster.add_worker()
        cluster.add_worker()
        cluster.wait_for(2)
        yield cluster, certificates
    finally:
        cluster.stop()


def test_tls_cluster_with_a_security_file_equals_the_local_run(reference, tls_cluster, tmp_path, ffmpeg):
    source, expected = reference
    cluster, certificates = tls_cluster
    out = tmp_path / "out"
    events = encode(source, out, "--cluster", cluster.address, "--cluster-security", certificates / "security.toml")
    done = finished(events)
    assert sorted(done) == [0, 1, 2] and all(len(v) == 1 for v in done.values())
    assert {v[0]["worker"] for v in done.values()} <= set(cluster.workers)
    assert chunks_of(ffmpeg, out) == expected


def test_tls_cluster_with_dask_settings_plans(reference, tls_cluster, tmp_path):
    """Without --cluster-security, Dask's own TLS settings (here its DASK_* variables) are used."""
    source, _expected = reference
    cluster, certificates = tls_cluster
    dask_tls = {
        "DASK_DISTRIBUTED__COMM__TLS__CA_FILE": str(certificates / "ca.pem"),
        "DASK_DISTRIBUTED__COMM__TLS__CLIENT__CERT": str(certificates / "cert.pem"),
        "DASK_DISTRIBUTED__COMM__TLS__CLIENT__KEY": str(certificates / "key.pem"),
    }
    plan = run_drapto("plan", source, tmp_path / "plan", "--cluster", cluster.address, env={**ENV, **dask_tls})
    assert plan.returncode == 0, plan.stderr
    assert f"# cluster {cluster.address}: 2 workers" in plan.stdout


def test_tls_cluster_refuses_a_client_without_its_certificate(reference, tls_cluster, dask_cluster, tmp_path):
    """And the two mix-ups of protocol: tcp:// to a TLS scheduler, tls:// to a plain-TCP one."""
    source, _expected = reference
    cluster, certificates = tls_cluster
    stranger = make_certificates(tmp_path / "stranger")
    plain = cluster.address.replace("tls://", "tcp://")
    not_tls = dask_cluster.address.replace("tcp://", "tls://")
    cases = {
        (not_tls, "--cluster-security", certificates / "security.toml"): (
            f"drapto: Cannot reach the Dask cluster at {not_tls}: ",  # the handshake fails in one of two ways
            f"drapto: The Dask cluster at {not_tls} refused drapto's TLS certificate, or drapto refused its",
        ),
        (cluster.address,): f"drapto: The Dask cluster at {cluster.address} wants TLS, and drapto has no "
        "certificate for it: name one with --cluster-security FILE",
        (cluster.address, "--cluster-security", stranger / "security.toml"): f"drapto: The Dask cluster at "
        f"{cluster.address} refused drapto's TLS certificate, or drapto refused its",
        (plain,): f"drapto: Cannot reach the Dask cluster at {plain}: ",
    }
    first = []
    for flags, message in cases.items():
        result = run_drapto("encode", source, tmp_path / "out", "--cluster", *flags, env=ENV)
        assert result.returncode == 2, (flags, result.stderr)
        lines = result.stderr.strip().splitlines()
        assert lines[0].startswith(message) and "Traceback" not in result.stderr, (flags, result.stderr)
        first.append(lines[0])
    assert first[0].endswith(
        ("(if the scheduler listens on plain TCP, its address is tcp://HOST:PORT)", "does not listen on TLS")
    )
    assert first[-1].endswith("(if the scheduler listens on TLS, its address is tls://HOST:PORT)")
    assert not (tmp_path / "out" / "film.mkv").exists()


# ----- pure rules (no cluster) ----------------------------------------------------------------------------


def test_cluster_settings_are_checked():
    assert load_config({"cluster": "local:3", "path_map": "/a=/b"}).cluster == "local:3"
    for bad in ("local:0", "localhost:8786", "8786", "tcp://"):
        with pytest.raises(InputError, match="cluster must be tcp://HOST:PORT"):
            load_config({"cluster": bad})
    with pytest.raises(InputError, match="path_map must be LOCAL=REMOTE"):
        load_config({"path_map": "/a"})
    assert load_config({"cluster": "tls://h:1", "cluster_security": "/s.toml"}).cluster_security == "/s.toml"
    with pytest.raises(InputError, match="cluster_security needs a tls:// cluster address, got 'tcp://h:1'"):
        load_config({"cluster": "tcp://h:1", "cluster_security": "/s.toml"})


def test_security_file_is_checked(tmp_path):
    from drapto.graph.clustersecurity import SecurityFile, load_security_file

    (tmp_path / "ca.pem").write_text("x")
    (tmp_path / "me.pem").write_text("x")
    named = tmp_path / "security.toml"
    named.write_text('ca_file = "ca.pem"\ncert = "me.pem"\n')
    assert load_security_file(str(named)) == SecurityFile(
        ca_file=str(tmp_path / "ca.pem"), cert=str(tmp_path / "me.pem")
    )
    for text, message in [
        ('ca_file = "ca.pem"\n', "Object missing required field `cert`"),
        ('ca_file = "ca.pem"\ncert = "me.pem"\nkey = "gone.pem"\n', f"key {tmp_path / 'gone.pem'} is not a file"),
        ('ca_file = "ca.pem"\ncert = "me.pem"\nca = "x"\n', "unknown field `ca`"),
    ]:
        named.write_text(text)
        with pytest.raises(InputError, match=re.escape(message)):
            load_security_file(str(named))
    with pytest.raises(InputError, match="cluster_security file /nowhere.toml cannot be read"):
        load_security_file("/nowhere.toml")


def test_path_map_threads_and_rebase():
    from drapto.graph.clusterwork import Facts, Worker, map_path, parse_start, threads_per_unit

    assert map_path("/mnt/films/a.mkv", "/mnt/films=/nas/films") == "/nas/films/a.mkv"
    assert map_path("/mnt/filmsx/a.mkv", "/mnt/films=/nas/films") == "/mnt/filmsx/a.mkv"
    assert parse_start("  Duration: 00:00:06.00, start: 1.000000, bitrate: 1 kb/s") == 1.0

    def worker(host: str, cpus: int, nthreads: int) -> Worker:
        return Worker(
            address=host, nthreads=nthreads, facts=Facts(drapto="1", ffmpeg="f", svt="s", host=host, cpus=cpus)
        )

    assert threads_per_unit([worker("a", 16, 4), worker("b", 8, 1)]) == 4  # the smallest share: a's 16/4
    assert threads_per_unit([worker("a", 2, 1), worker("a", 2, 1)]) == 1  # two processes on one host

    chunk = Chunk(
        index=1, start=48, end=96, start_time=2.0, end_time=4.0, cut="scene", score=50.0, seek=1.979167,
        stop=3.979167, probe=Window(start=72, frames=8, seek=3.0, stop=3.3125),
    )  # fmt: skip
    moved = rebase_chunk(chunk, 1.0)
    assert (moved.seek, moved.stop, moved.probe.seek, moved.probe.stop) == (0.979167, 2.979167, 2.0, 2.3125)
    assert (moved.start, moved.end, moved.start_time) == (48, 96, 2.0)


def rebase_chunk(chunk: Chunk, offset: float) -> Chunk:
    from drapto.graph.clusterwork import rebase

    class Holder(msgspec.Struct, frozen=True):
        chunk: Chunk

    return rebase(Holder(chunk), offset).chunk  # rebase only replaces the unit's chunk
