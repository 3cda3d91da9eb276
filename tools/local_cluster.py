"""A one-node Slurm cluster with accounting and an MLflow tracking server, on loopback, under one folder.

For the cluster tests (tests/test_cluster.py) and for people trying the cluster recipe on one
machine (`make cluster-up`, `make cluster-down`). Every daemon is Debian's (munge, mariadb-server,
slurmdbd, slurm-wlm; `.ci/run` installs them), runs as a child of this code with its files under
ROOT, listens on 127.0.0.1 only, and is stopped by the pid recorded in ROOT/cluster.json. Jobs the
cluster started are cancelled first, and any process still carrying this cluster's SLURM_CONF is
ended by pid, so nothing is left behind.

    python tools/local_cluster.py up --root outputs/cluster     # prints the environment to export
    python tools/local_cluster.py down --root outputs/cluster

Why each setting: munged refuses a socket folder that others cannot traverse, and Slurm must be
told that socket (AuthInfo, AccountingStoragePass) or slurmctld fails with "Munge encode failed";
without slurmdbd, `sacct` fails and submitit cannot see that a job died without output (a
segfault), so a sweep would wait forever; CommunicationParameters=NoInAddrAny keeps slurmctld and
slurmd off every interface but loopback.
"""

from __future__ import annotations

import argparse
import json
import os
import secrets
import shutil
import signal
import socket
import subprocess
import sys
import time
from dataclasses import asdict, dataclass, field
from pathlib import Path
from typing import Dict, List, Optional

STATE_FILE = "cluster.json"
CLUSTER_NAME = "converter"
NODE = "localhost"
PARTITION = "debug"
DAEMONS = ("munged", "mariadbd", "slurmdbd", "slurmctld", "slurmd", "mlflow")
REQUIRED = {
    "munged": "munge",
    "mungekey": "munge",
    "mariadbd": "mariadb-server",
    "mariadb-install-db": "mariadb-server",
    "slurmdbd": "slurmdbd",
    "slurmctld": "slurm-wlm",
    "slurmd": "slurm-wlm",
    "sbatch": "slurm-wlm",
}


class ClusterError(RuntimeError):
    """A daemon did not start or did not come up in time; the message names it and its log."""


@dataclass
class Cluster:
    """What a started cluster is: its folder, addresses and the pid of every daemon."""

    root: str
    slurm_conf: str
    mlflow_uri: str = ""
    database_uri: str = ""
    artifact_root: str = ""
    pids: Dict[str, int] = field(default_factory=dict)
    started: Dict[str, float] = field(default_factory=dict)  # process create times: a reused pid is not ours

    def env(self) -> Dict[str, str]:
        """What a process needs to reach this cluster: Slurm's commands read SLURM_CONF."""
        return {"SLURM_CONF": self.slurm_conf}

    def save(self) -> None:
        path = Path(self.root) / STATE_FILE
        tmp = path.with_suffix(".tmp")
        tmp.write_text(json.dumps(asdict(self), indent=2))
        tmp.replace(path)

    @staticmethod
    def load(root: Path) -> Optional[Cluster]:
        try:
            return Cluster(**json.loads((root / STATE_FILE).read_text()))
        except (OSError, ValueError, TypeError):
            return None


def missing_programs() -> List[str]:
    """The Debian packages whose programs are not on PATH (empty: the cluster can start)."""
    return sorted({package for program, package in REQUIRED.items() if not _which(program)})


def _which(program: str) -> Optional[str]:
    return shutil.which(program) or shutil.which(program, path="/usr/sbin:/usr/bin:/sbin")


def why_not_here() -> Optional[str]:
    """Why a cluster cannot start on this machine, or None when it can."""
    if os.geteuid() != 0:
        return "the local Slurm cluster runs its daemons as root (SlurmUser=root); run as root"
    missing = missing_programs()
    if missing:
        return f"Debian packages missing: {' '.join(missing)} (apt-get install {' '.join(missing)}, as .ci/run does)"
    return None


def free_port() -> int:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


def _wait_until(check, seconds: float, what: str, log: Optional[Path] = None, proc=None) -> None:
    deadline = time.monotonic() + seconds
    while time.monotonic() < deadline:
        if check():
            return
        if proc is not None and proc.poll() is not None:
            break
        time.sleep(0.2)
    tail = ""
    if log is not None and log.exists():
        tail = " Its log ends: " + " | ".join(log.read_text(errors="replace").strip().splitlines()[-6:])
    state = f" (exited with {proc.returncode})" if proc is not None and proc.poll() is not None else ""
    raise ClusterError(f"{what} did not come up within {seconds:g} s{state}.{tail}")


def _port_open(port: int) -> bool:
    with socket.socket(socket.AF_INET, socket.SOCK_STREAM) as sock:
        sock.settimeout(0.2)
        return sock.connect_ex(("127.0.0.1", port)) == 0


class _Starter:
    """Starts the daemons in order, recording each pid as soon as it exists."""

    def __init__(self, root: Path) -> None:
        self.root = root
        self.logs = root / "logs"
        self.cluster = Cluster(root=str(root), slurm_conf=str(root / "etc" / "slurm.conf"))

    def spawn(self, name: str, argv: List[str], env: Optional[Dict[str, str]] = None, group: bool = False):
        import psutil

        log = (self.logs / f"{name}.out").open("ab")
        proc = subprocess.Popen(
            argv,
            stdout=log,
            stderr=subprocess.STDOUT,
            stdin=subprocess.DEVNULL,
            env={**os.environ, **(env or {}), "SLURM_CONF": self.cluster.slurm_conf},
            start_new_session=group,
        )
        log.close()
        self.cluster.pids[name] = proc.pid
        self.cluster.started[name] = psutil.Process(proc.pid).create_time()
        self.cluster.save()
        return proc


def start(root: Path, mlflow: bool = True, timeout_s: float = 60.0) -> Cluster:
    """Start munged, MariaDB, slurmdbd, slurmctld, slurmd (and an MLflow server) under root;
    returns once the node is idle. On any failure everything started so far is stopped."""
    reason = why_not_here()
    if reason:
        raise ClusterError(reason)
    root = root.resolve()
    if Cluster.load(root):
        raise ClusterError(f"a cluster is already recorded in {root / STATE_FILE}; stop it first (down --root {root})")
    for sub in ("etc", "logs", "munge", "mysql", "state", "spool", "shared"):
        (root / sub).mkdir(parents=True, exist_ok=True)
    starter = _Starter(root)
    try:
        _start_all(starter, mlflow, timeout_s)
    except BaseException:
        stop(root)
        raise
    return starter.cluster


def _start_all(starter: _Starter, mlflow: bool, timeout_s: float) -> None:
    root, cluster = starter.root, starter.cluster
    os.chmod(root, 0o755)  # munged: its socket folder (and every folder above) must be traversable
    munge_socket = _start_munge(starter, timeout_s)
    db_port, password = _start_mariadb(starter, timeout_s)
    dbd_port, ctld_port, slurmd_port = free_port(), free_port(), free_port()
    _write_slurmdbd_conf(root, munge_socket, dbd_port, db_port, password)
    _write_slurm_conf(root, munge_socket, dbd_port, ctld_port, slurmd_port)
    # slurmdbd reads slurmdbd.conf beside SLURM_CONF
    dbd = starter.spawn("slurmdbd", [_which("slurmdbd"), "-D"])
    _wait_until(lambda: _port_open(dbd_port), timeout_s, "slurmdbd", root / "logs" / "slurmdbd.log", dbd)
    ctld = starter.spawn("slurmctld", [_which("slurmctld"), "-D", "-i", "-f", cluster.slurm_conf])
    _wait_until(lambda: _port_open(ctld_port), timeout_s, "slurmctld", root / "logs" / "slurmctld.log", ctld)
    slurmd = starter.spawn("slurmd", [_which("slurmd"), "-D", "-N", NODE, "-f", cluster.slurm_conf])
    _wait_until(
        lambda: _node_state(cluster) == "idle", timeout_s, "slurmd (node idle)", root / "logs" / "slurmd.log", slurmd
    )
    if mlflow:
        _start_mlflow(starter, db_port, password, timeout_s)
    cluster.save()


def _start_munge(starter: _Starter, timeout_s: float) -> str:
    folder = starter.root / "munge"
    os.chmod(folder, 0o755)
    key = folder / "munge.key"
    subprocess.run([_which("mungekey"), "--create", "--force", f"--keyfile={key}"], check=True, capture_output=True)
    os.chmod(key, 0o600)
    sock = folder / "munge.socket"
    proc = starter.spawn(
        "munged",
        [
            _which("munged"),
            "--foreground",
            "--force",
            f"--socket={sock}",
            f"--key-file={key}",
            f"--pid-file={folder / 'munged.pid'}",
            f"--log-file={starter.logs / 'munged.log'}",
            f"--seed-file={folder / 'munged.seed'}",
        ],
    )
    _wait_until(sock.exists, timeout_s, "munged", starter.logs / "munged.log", proc)
    return str(sock)


def _mariadb_args(root: Path) -> List[str]:
    return ["--no-defaults", f"--datadir={root / 'mysql'}", f"--socket={root / 'mysql' / 'mysqld.sock'}"]


def _start_mariadb(starter: _Starter, timeout_s: float) -> tuple[int, str]:
    root = starter.root
    subprocess.run(
        [
            _which("mariadb-install-db"),
            *_mariadb_args(root)[:2],
            "--user=root",
            "--auth-root-authentication-method=normal",
            "--skip-test-db",
        ],
        check=True,
        capture_output=True,
    )
    port = free_port()
    proc = starter.spawn(
        "mariadbd",
        [
            _which("mariadbd"),
            *_mariadb_args(root),
            "--user=root",
            f"--port={port}",
            "--bind-address=127.0.0.1",
            "--skip-name-resolve",
            f"--pid-file={root / 'mysql' / 'mariadbd.pid'}",
            f"--log-error={starter.logs / 'mariadb.log'}",
            "--innodb-buffer-pool-size=64M",
            "--innodb-lock-wait-timeout=900",  # slurmdbd's advice for its schema upgrades
            "--max-connections=200",
        ],
    )
    _wait_until(lambda: _port_open(port), timeout_s, "MariaDB", starter.logs / "mariadb.log", proc)
    password = secrets.token_hex(12)
    statements = [
        "CREATE DATABASE slurm_acct_db",
        "CREATE DATABASE mlflow",
        f"CREATE USER 'converter'@'127.0.0.1' IDENTIFIED BY '{password}'",
        "GRANT ALL ON slurm_acct_db.* TO 'converter'@'127.0.0.1'",
        "GRANT ALL ON mlflow.* TO 'converter'@'127.0.0.1'",
    ]
    client = _which("mariadb") or _which("mysql")
    subprocess.run(
        [client, "--no-defaults", f"--socket={root / 'mysql' / 'mysqld.sock'}", "-uroot", "-e", ";".join(statements)],
        check=True,
        capture_output=True,
    )
    starter.cluster.database_uri = f"mysql+pymysql://converter:{password}@127.0.0.1:{port}/mlflow"
    return port, password


def _write_private(path: Path, text: str) -> None:
    path.write_text(text)
    os.chmod(path, 0o600)  # slurmdbd refuses a config with a password that others can read


def _write_slurmdbd_conf(root: Path, munge_socket: str, dbd_port: int, db_port: int, password: str) -> None:
    _write_private(
        root / "etc" / "slurmdbd.conf",
        "\n".join(
            [
                "AuthType=auth/munge",
                f"AuthInfo=socket={munge_socket}",
                "DbdHost=localhost",
                "DbdAddr=127.0.0.1",
                f"DbdPort={dbd_port}",
                "SlurmUser=root",
                f"PidFile={root / 'state' / 'slurmdbd.pid'}",
                f"LogFile={root / 'logs' / 'slurmdbd.log'}",
                "StorageType=accounting_storage/mysql",
                "StorageHost=127.0.0.1",
                f"StoragePort={db_port}",
                "StorageUser=converter",
                f"StoragePass={password}",
                "StorageLoc=slurm_acct_db",
                "CommunicationParameters=NoInAddrAny",
                "",
            ]
        ),
    )


def node_memory_mb() -> int:
    """What slurmd may hand out: the machine's memory less 2 GiB for the daemons and the system."""
    import psutil

    return max(1024, int(psutil.virtual_memory().total / 2**20) - 2048)


def _write_slurm_conf(root: Path, munge_socket: str, dbd_port: int, ctld_port: int, slurmd_port: int) -> None:
    cpus = os.cpu_count() or 1
    (root / "etc" / "slurm.conf").write_text(
        "\n".join(
            [
                f"ClusterName={CLUSTER_NAME}",
                f"SlurmctldHost={NODE}(127.0.0.1)",
                f"SlurmctldPort={ctld_port}",
                f"SlurmdPort={slurmd_port}",
                "SlurmUser=root",
                "SlurmdUser=root",
                "AuthType=auth/munge",
                f"AuthInfo=socket={munge_socket}",
                "CryptoType=crypto/munge",
                "CommunicationParameters=NoInAddrAny,NoCtldInAddrAny",
                f"StateSaveLocation={root / 'state'}",
                f"SlurmdSpoolDir={root / 'spool'}",
                f"SlurmctldPidFile={root / 'state' / 'slurmctld.pid'}",
                f"SlurmdPidFile={root / 'state' / 'slurmd.pid'}",
                f"SlurmctldLogFile={root / 'logs' / 'slurmctld.log'}",
                f"SlurmdLogFile={root / 'logs' / 'slurmd.log'}",
                "ProctrackType=proctrack/linuxproc",
                "TaskPlugin=task/none",
                "JobAcctGatherType=jobacct_gather/none",
                "SelectType=select/cons_tres",
                "SelectTypeParameters=CR_Core_Memory",
                "SchedulerType=sched/backfill",
                "MpiDefault=none",
                "ReturnToService=2",
                "KillWait=5",
                "MinJobAge=600",
                "InactiveLimit=0",
                "SlurmctldTimeout=30",
                "SlurmdTimeout=30",
                "AccountingStorageType=accounting_storage/slurmdbd",
                "AccountingStorageHost=127.0.0.1",
                f"AccountingStoragePort={dbd_port}",
                f"AccountingStoragePass={munge_socket}",
                "JobCompType=jobcomp/none",
                f"NodeName={NODE} NodeAddr=127.0.0.1 CPUs={cpus} RealMemory={node_memory_mb()} State=UNKNOWN",
                f"PartitionName={PARTITION} Nodes={NODE} Default=YES MaxTime=INFINITE State=UP",
                "",
            ]
        )
    )


def _node_state(cluster: Cluster) -> str:
    try:
        out = subprocess.run(
            [_which("sinfo"), "-h", "-N", "-o", "%T"],
            env={**os.environ, **cluster.env()},
            capture_output=True,
            text=True,
            timeout=10,
        )
    except (OSError, subprocess.TimeoutExpired):
        return ""
    return out.stdout.strip()


def _start_mlflow(starter: _Starter, db_port: int, password: str, timeout_s: float) -> None:
    """`mlflow server` on the MariaDB database, artifacts under shared/ (proxied by the server)."""
    cluster = starter.cluster
    artifacts = starter.root / "shared" / "mlartifacts"
    artifacts.mkdir(parents=True, exist_ok=True)
    cluster.mlflow_uri = f"http://127.0.0.1:{free_port()}"
    cluster.artifact_root = str(artifacts)
    _serve_mlflow(starter, max(timeout_s, 120))


def _serve_mlflow(starter: _Starter, timeout_s: float) -> None:
    """Start the server the cluster record describes (its port, database and artifact folder)."""
    cluster = starter.cluster
    mlflow = Path(sys.executable).with_name("mlflow")
    argv = [str(mlflow) if mlflow.exists() else "mlflow", "server", "--backend-store-uri", cluster.database_uri]
    argv += ["--artifacts-destination", cluster.artifact_root, "--host", "127.0.0.1"]
    argv += ["--port", cluster.mlflow_uri.rsplit(":", 1)[1], "--workers", "1"]
    # The server's workers are in its process group: stopped together.
    proc = starter.spawn("mlflow", argv, group=True)
    ready = lambda: _mlflow_ready(cluster.mlflow_uri)  # noqa: E731
    _wait_until(ready, timeout_s, "mlflow server", starter.logs / "mlflow.out", proc)


def _mlflow_ready(uri: str) -> bool:
    import urllib.request

    try:
        with urllib.request.urlopen(uri + "/health", timeout=1) as response:
            return response.status == 200
    except OSError:
        return False


def stop_mlflow(cluster: Cluster) -> None:
    """Stop the tracking server alone (an outage); start_mlflow_again brings it back on its port."""
    _end(cluster, "mlflow")
    cluster.save()


def start_mlflow_again(cluster: Cluster, timeout_s: float = 120.0) -> None:
    """The server stop_mlflow stopped, back on the same port, database and artifact folder."""
    starter = _Starter(Path(cluster.root))
    starter.cluster = cluster
    _serve_mlflow(starter, timeout_s)
    cluster.save()


def _ours(cluster: Cluster, name: str):
    """The daemon's process if the recorded pid is still the one started (not a reused pid)."""
    import psutil

    pid = cluster.pids.get(name)
    if not pid:
        return None
    try:
        proc = psutil.Process(pid)
        if abs(proc.create_time() - cluster.started.get(name, -1)) > 0.01:
            return None
        return proc
    except psutil.NoSuchProcess:
        return None


def _end(cluster: Cluster, name: str, grace_s: float = 10.0) -> None:
    import psutil

    proc = _ours(cluster, name)
    if proc is not None:
        try:
            if name == "mlflow":  # its own session: the group is the server and its workers
                os.killpg(proc.pid, signal.SIGTERM)
            else:
                proc.terminate()
            proc.wait(grace_s)
        except psutil.TimeoutExpired:
            if name == "mlflow":
                os.killpg(proc.pid, signal.SIGKILL)
            else:
                proc.kill()
            proc.wait(grace_s)
        except (psutil.NoSuchProcess, ProcessLookupError):
            pass
        if name == "mlflow":
            _kill_group_leftovers(proc.pid)
    cluster.pids.pop(name, None)
    cluster.started.pop(name, None)


def _kill_group_leftovers(pgid: int) -> None:
    """Workers of the server's process group that outlived it."""
    import psutil

    for proc in psutil.process_iter(["pid"]):
        try:
            if os.getpgid(proc.pid) == pgid:
                proc.kill()
        except (ProcessLookupError, psutil.NoSuchProcess, PermissionError):
            continue


def _job_processes(cluster: Cluster) -> List:
    """Processes this cluster started for jobs (slurmstepd and what it ran): they carry its SLURM_CONF."""
    import psutil

    found = []
    for proc in psutil.process_iter(["pid"]):
        if proc.pid == os.getpid():
            continue
        try:
            if proc.environ().get("SLURM_CONF") == cluster.slurm_conf and "SLURM_JOB_ID" in proc.environ():
                found.append(proc)
            elif proc.name().startswith("slurmstepd") and proc.environ().get("SLURM_CONF") == cluster.slurm_conf:
                found.append(proc)
        except (psutil.NoSuchProcess, psutil.AccessDenied, psutil.ZombieProcess):
            continue
    return found


def stop(root: Path) -> List[str]:
    """Cancel the cluster's jobs, stop every daemon by its recorded pid (newest first) and end any
    job process left; returns what had to be killed after the jobs were cancelled."""
    import psutil

    root = root.resolve()
    cluster = Cluster.load(root)
    if cluster is None:
        return []
    if _ours(cluster, "slurmctld") is not None:
        subprocess.run(
            [_which("scancel"), "--full", f"--partition={PARTITION}"],
            env={**os.environ, **cluster.env()},
            capture_output=True,
            timeout=30,
        )
        deadline = time.monotonic() + 15
        while _job_processes(cluster) and time.monotonic() < deadline:
            time.sleep(0.2)
    leftovers = _job_processes(cluster)
    for proc in leftovers:
        try:
            proc.kill()
        except psutil.NoSuchProcess:
            pass
    psutil.wait_procs(leftovers, timeout=10)
    for name in reversed(DAEMONS):
        _end(cluster, name)
    (root / STATE_FILE).unlink(missing_ok=True)
    return [f"{p.pid}" for p in leftovers]


def main(argv: Optional[List[str]] = None) -> int:
    parser = argparse.ArgumentParser(description=__doc__.split("\n\n")[0])
    parser.add_argument("action", choices=["up", "down"])
    parser.add_argument("--root", type=Path, default=Path("outputs/cluster"), help="the cluster's folder")
    parser.add_argument("--no-mlflow", action="store_true", help="Slurm only, no tracking server")
    args = parser.parse_args(argv)
    if args.action == "down":
        stop(args.root)
        print(f"stopped the cluster in {args.root}")
        return 0
    try:
        cluster = start(args.root, mlflow=not args.no_mlflow)
    except (ClusterError, subprocess.CalledProcessError) as exc:
        print(f"cluster: could not start: {exc}", file=sys.stderr)
        return 1
    print(f"export SLURM_CONF={cluster.slurm_conf}")
    if cluster.mlflow_uri:
        print(f"# tracking server: tracking.uri={cluster.mlflow_uri}")
    print(f"# stop with: python tools/local_cluster.py down --root {args.root}")
    return 0


if __name__ == "__main__":
    sys.exit(main())
