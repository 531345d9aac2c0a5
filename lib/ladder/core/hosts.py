"""Host: one interface over a folder on this machine and a server over SSH (Fabric)."""

from __future__ import annotations

import contextlib
import io
import os
import shlex
import shutil
import signal
import subprocess
import threading
import time
import uuid
from abc import ABC, abstractmethod
from collections.abc import Mapping
from dataclasses import dataclass
from pathlib import Path, PurePosixPath
from typing import TYPE_CHECKING, BinaryIO

import paramiko

from .config import Config, HostConfig, SSHConfig
from .errors import AuthenticationFailed, CommandTimeout, HostError, HostKeyError, UnexpectedExit, UnreachableHost
from .hostkeys import fingerprint, known_hosts_name

if TYPE_CHECKING:
    from fabric import Connection  # imported when a connection opens: fabric is slow to import

DEFAULT_TIMEOUT = 60.0
# Exit status of coreutils `timeout` when it had to stop the command.
_TIMED_OUT = 124
# Extra seconds the client waits past the remote `timeout`, so the remote side ends it first.
_GRACE = 5.0


@dataclass(frozen=True)
class Result:
    """What one command did on one host."""

    host: str
    command: str
    exited: int
    stdout: str = ""
    stderr: str = ""
    duration: float = 0.0

    @property
    def ok(self) -> bool:
        """True when the command exited 0."""
        return self.exited == 0

    @property
    def failed(self) -> bool:
        """True when the command exited non-zero."""
        return not self.ok


def shell_command(command: str, *, cwd: str | None = None, env: Mapping[str, str] | None = None) -> str:
    """Prefix a command with a quoted `cd` and quoted `export`s."""
    parts = []
    if env:
        parts.append("export " + " ".join(f"{k}={shlex.quote(str(v))}" for k, v in env.items()) + ";")
    if cwd:
        parts.append(f"cd {shlex.quote(cwd)} &&")
    parts.append(command)
    return " ".join(parts)


def temp_beside(path: str) -> str:
    """A hidden, unique temp name in path's folder, so that a rename over path is atomic."""
    where = PurePosixPath(path)
    return str(where.with_name(f".{where.name}.ladder-{uuid.uuid4().hex[:8]}"))


def with_timeout(command: str, timeout: float) -> str:
    """Wrap a command in coreutils `timeout`, which kills its whole process group."""
    return f"timeout -k 2 {timeout:g} bash -c {shlex.quote(command)} </dev/null"


class Host(ABC):
    """A machine Ladder acts on: run commands, move files, read and write text."""

    name: str
    base: str
    timeout: float = DEFAULT_TIMEOUT  # for commands run without a timeout of their own

    def path(self, *parts: str) -> str:
        """Join parts onto the host's base folder."""
        return str(PurePosixPath(self.base, *parts))

    def run(
        self,
        command: str,
        *,
        timeout: float | None = None,
        warn: bool = False,
        cwd: str | None = None,
        env: Mapping[str, str] | None = None,
    ) -> Result:
        """Run a shell command; raise UnexpectedExit (unless warn) or CommandTimeout."""
        timeout = self.timeout if timeout is None else timeout
        full = shell_command(command, cwd=cwd, env=env)
        started = time.monotonic()
        exited, out, err = self._execute(with_timeout(full, timeout), timeout + _GRACE)
        result = Result(self.name, command, exited, out, err, time.monotonic() - started)
        if exited == _TIMED_OUT or exited < 0:
            raise CommandTimeout(result, timeout)
        if result.failed and not warn:
            raise UnexpectedExit(result)
        return result

    @abstractmethod
    def _execute(self, wrapped: str, deadline: float) -> tuple[int, str, str]:
        """Run an already-wrapped command; return (exit status, stdout, stderr)."""

    @abstractmethod
    def put(self, local: str | Path, remote: str) -> None:
        """Copy a local file to the host."""

    @abstractmethod
    def get(self, remote: str, local: str | Path) -> None:
        """Copy a file from the host to this machine."""

    @abstractmethod
    def exists(self, path: str) -> bool:
        """True when the path exists on the host (links count, even dangling)."""

    @abstractmethod
    def read_text(self, path: str) -> str:
        """Return a text file's content."""

    def write_text(self, path: str, text: str, mode: int | None = None) -> None:
        """Replace a text file atomically, optionally setting its mode."""
        self._replace(io.BytesIO(text.encode()), path, mode)

    def replace(self, local: str | Path, remote: str, mode: int | None = None) -> None:
        """Copy a local file over remote atomically (unlike put, which writes in place), optionally setting its mode."""
        with open(local, "rb") as src:
            self._replace(src, remote, mode)

    @abstractmethod
    def _replace(self, src: BinaryIO, path: str, mode: int | None) -> None:
        """Write src to a temp file beside path, set its mode, rename it over path; on failure remove the temp."""

    def close(self) -> None:
        """Release the connection, if any."""

    def __enter__(self) -> Host:
        return self

    def __exit__(self, *exc: object) -> None:
        self.close()

    def __repr__(self) -> str:
        return f"<{type(self).__name__} {self.name} {self.base}>"


class LocalHost(Host):
    """A folder on this machine acting as a host; commands run in local bash."""

    def __init__(self, name: str, base: str | Path, *, timeout: float = DEFAULT_TIMEOUT) -> None:
        self.name = name
        self.base = str(Path(base).absolute())
        self.timeout = timeout

    def _execute(self, wrapped: str, deadline: float) -> tuple[int, str, str]:
        proc = subprocess.Popen(
            ["bash", "-c", wrapped],
            stdin=subprocess.DEVNULL,
            stdout=subprocess.PIPE,
            stderr=subprocess.PIPE,
            text=True,
            errors="replace",
            start_new_session=True,
        )
        try:
            out, err = proc.communicate(timeout=deadline)
        except subprocess.TimeoutExpired:
            os.killpg(proc.pid, signal.SIGKILL)
            out, err = proc.communicate()
            return -signal.SIGKILL, out, err
        return proc.returncode, out, err

    def put(self, local: str | Path, remote: str) -> None:
        shutil.copyfile(local, remote)

    def get(self, remote: str, local: str | Path) -> None:
        shutil.copyfile(remote, local)

    def exists(self, path: str) -> bool:
        return os.path.lexists(path)

    def read_text(self, path: str) -> str:
        return Path(path).read_text()

    def _replace(self, src: BinaryIO, path: str, mode: int | None) -> None:
        tmp = temp_beside(path)
        try:
            with open(tmp, "xb") as out:
                shutil.copyfileobj(src, out)
            if mode is not None:
                os.chmod(tmp, mode)
            os.replace(tmp, path)
        except BaseException:
            with contextlib.suppress(OSError):
                os.unlink(tmp)
            raise


class _RefuseUnknown(paramiko.MissingHostKeyPolicy):
    """Refuse a host whose key is not in known_hosts, naming the key and the fix."""

    def __init__(self, host_name: str) -> None:
        self.host_name = host_name

    def missing_host_key(self, client: paramiko.SSHClient, hostname: str, key: paramiko.PKey) -> None:
        raise HostKeyError(
            f"unknown host key for {hostname}",
            host=self.host_name,
            fingerprint=fingerprint(key),
            fix=f"Check it, then trust it with: ladder hosts trust {self.host_name}",
        )


class _RefuseUnknownJump(_RefuseUnknown):
    """Refuse a ProxyJump host (from ~/.ssh/config) whose key is not in Ladder's known_hosts."""

    def __init__(self, host_name: str, known_hosts: Path) -> None:
        super().__init__(host_name)
        self.known_hosts = known_hosts

    def missing_host_key(self, client: paramiko.SSHClient, hostname: str, key: paramiko.PKey) -> None:
        address, _, port = hostname.strip("[").partition("]:")
        raise HostKeyError(
            f"unknown host key for jump host {hostname} (ProxyJump in ~/.ssh/config on the way to {self.host_name})",
            host=self.host_name,
            fingerprint=fingerprint(key),
            fix=f"Check it, then record it in {self.known_hosts}: ssh-keyscan -p {port or 22} {address} >> {self.known_hosts}",
        )


class SSHHost(Host):
    """A server reached over SSH through a Fabric Connection; unknown keys are refused."""

    def __init__(
        self,
        name: str,
        address: str,
        base: str,
        *,
        port: int = 22,
        user: str | None = None,
        known_hosts: str | Path = "~/.ssh/known_hosts",
        identity_file: str | Path | None = None,
        connect_timeout: float = 10,
        timeout: float = DEFAULT_TIMEOUT,
    ) -> None:
        self.name = name
        self.timeout = timeout
        self.address = address
        self.base = base
        self.port = port
        self.user = user
        self.known_hosts = Path(known_hosts).expanduser()
        self.identity_file = Path(identity_file).expanduser() if identity_file else None
        self.connect_timeout = connect_timeout
        self._conn = None
        self._sftp: paramiko.SFTPClient | None = None

    @property
    def connection(self) -> Connection:
        """The open Fabric Connection, opened on first use."""
        if self._conn is None:
            self._conn = self._open()
        return self._conn

    def _open(self) -> Connection:
        from fabric import Connection

        if self.identity_file is not None and not self.identity_file.is_file():
            raise AuthenticationFailed(
                f"identity file {self.identity_file} does not exist; "
                "fix ssh.identity_file in ladder.yml or create the key",
                host=self.name,
            )
        timeouts = {"banner_timeout": self.connect_timeout, "auth_timeout": self.connect_timeout}
        connect_kwargs: dict = dict(timeouts)
        if self.identity_file is not None:
            connect_kwargs.update(key_filename=str(self.identity_file), look_for_keys=False)
        conn = Connection(
            self.address,
            user=self.user,
            port=self.port,
            connect_timeout=self.connect_timeout,
            connect_kwargs=connect_kwargs,
        )
        # Fabric's client accepts any key (AutoAddPolicy); Ladder's trusts only known_hosts.
        conn.client = self._strict_client(_RefuseUnknown(self.name))
        hop = conn.gateway
        while isinstance(hop, Connection):  # ProxyJump hops: Fabric builds them with its own lax client too
            hop.client = self._strict_client(_RefuseUnknownJump(self.name, self.known_hosts))
            hop.connect_timeout = self.connect_timeout
            hop.connect_kwargs = {**hop.connect_kwargs, **timeouts}
            hop = hop.gateway
        if isinstance(conn.gateway, Connection):
            self._opened(conn.gateway, "jump host ")  # first, so an error names the jump host, not this one
        self._opened(conn, "")
        return conn

    def _opened(self, conn: Connection, what: str) -> None:
        """Open a connection (this host's, or a jump host's when what says so), its failures as Ladder's errors."""
        try:
            conn.open()
        except HostKeyError:
            raise
        except paramiko.BadHostKeyException as exc:
            raise HostKeyError(
                f"host key for {what}{known_hosts_name(conn.host, conn.port)} has CHANGED "
                "(it may be a different server, or someone in the middle)",
                host=self.name,
                fingerprint=fingerprint(exc.key),
                fix=f"If the change is expected, replace its line in {self.known_hosts}"
                if what
                else f"If the change is expected, replace it with: ladder hosts trust {self.name} --replace",
            ) from None
        except paramiko.AuthenticationException as exc:
            raise AuthenticationFailed(
                f"authentication failed{f' at {what}{conn.host}:{conn.port}' if what else ''} as "
                f"{(conn.user if what else self.user) or 'default user'}: {exc}",
                host=self.name,
            ) from None
        except (TimeoutError, OSError, paramiko.SSHException) as exc:
            raise UnreachableHost(
                f"cannot connect to {what}{conn.host}:{conn.port} within {self.connect_timeout:g}s ({exc})",
                host=self.name,
            ) from None

    def _strict_client(self, policy: paramiko.MissingHostKeyPolicy) -> paramiko.SSHClient:
        """A paramiko client that knows only Ladder's known_hosts and refuses other keys by policy."""
        client = paramiko.SSHClient()
        if self.known_hosts.is_file():
            client.load_host_keys(str(self.known_hosts))
        client.set_missing_host_key_policy(policy)
        return client

    @property
    def sftp(self) -> paramiko.SFTPClient:
        """An SFTP session on the open connection."""
        if self._sftp is None:
            self._sftp = self.connection.sftp()
            self._sftp.get_channel().settimeout(self.timeout)  # a server that stops answering fails, not hangs
        return self._sftp

    def _execute(self, wrapped: str, deadline: float) -> tuple[int, str, str]:
        from invoke.exceptions import CommandTimedOut

        conn = self.connection
        done: dict[str, object] = {}

        def call() -> None:
            try:
                done["result"] = conn.run(wrapped, hide=True, warn=True, pty=False, in_stream=False, timeout=deadline)
            except BaseException as exc:  # handed to the caller's thread below
                done["error"] = exc

        # Fabric's timeout starts once the session is open, and opening one waits for the server without a
        # limit: a frozen host would hang the call for ever. The deadline holds for the whole call.
        worker = threading.Thread(target=call, daemon=True, name=f"ssh-{self.name}")
        worker.start()
        worker.join(deadline + _GRACE)
        if worker.is_alive():
            self.close()  # the server does not answer at all; the next call connects again
            return -signal.SIGKILL, "", ""
        error = done.get("error")
        if isinstance(error, CommandTimedOut):
            return -signal.SIGKILL, error.result.stdout, error.result.stderr
        if isinstance(error, BaseException):
            raise error
        r = done["result"]
        return r.exited, r.stdout, r.stderr  # type: ignore[attr-defined]

    def put(self, local: str | Path, remote: str) -> None:
        self.sftp.put(str(local), remote)

    def get(self, remote: str, local: str | Path) -> None:
        self.sftp.get(remote, str(local))

    def exists(self, path: str) -> bool:
        try:
            self.sftp.lstat(path)
        except FileNotFoundError:
            return False
        return True

    def read_text(self, path: str) -> str:
        buf = io.BytesIO()
        self.sftp.getfo(path, buf)
        return buf.getvalue().decode()

    def _replace(self, src: BinaryIO, path: str, mode: int | None) -> None:
        tmp = temp_beside(path)
        sftp = self.sftp
        try:
            sftp.putfo(src, tmp)  # pipelined writes, then a stat that checks the size arrived whole
            if mode is not None:
                sftp.chmod(tmp, mode)
            sftp.posix_rename(tmp, path)
        except BaseException:
            for _ in range(2):  # the second time over a new connection, when the old one died with the copy
                try:
                    self.sftp.remove(tmp)
                    break
                except FileNotFoundError:
                    break
                except (HostError, OSError, paramiko.SSHException, EOFError):
                    self.close()
            raise

    def close(self) -> None:
        sftp, conn, self._sftp, self._conn = self._sftp, self._conn, None, None
        with contextlib.suppress(OSError, EOFError, paramiko.SSHException):  # a dead session cannot say goodbye
            if sftp is not None:
                sftp.close()
        if conn is not None:
            conn.close()


def connect(host: HostConfig, ssh: SSHConfig) -> Host:
    """Build the Host a config entry describes; SSH hosts connect on first use."""
    if host.is_local:
        return LocalHost(host.name, host.base, timeout=ssh.command_timeout)
    return SSHHost(
        host.name,
        host.address,
        host.base,
        port=host.port,
        user=host.user,
        known_hosts=ssh.known_hosts,
        identity_file=ssh.identity_file,
        connect_timeout=ssh.connect_timeout,
        timeout=ssh.command_timeout,
    )


def environment_hosts(config: Config, environment: str) -> list[Host]:
    """Host objects (not yet connected) for every host of an environment of a config."""
    return [connect(h, config.ssh) for h in config.environment(environment).hosts]
