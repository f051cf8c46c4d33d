"""A throwaway Dovecot IMAP server (implicit TLS on 127.0.0.1) for `make run` and the tests.

Everything lives in one directory: dovecot.conf (rewritten on every start), the self-signed
certificate that is its own CA (cert.pem, key.pem; made once), the users file, the password
(made once), Maildir storage in mail/home, dovecot.log, state/ and the runtime directory run/.

As a normal user every Dovecot process runs as that user, without chroots. As root, Dovecot
will neither run imap-login as root nor give mail access to uid 0, so imap-login runs as
dovenull chrooted into its socket directory (Dovecot's default) and mail as the `dovecot`
user chrooted into mail/ (home "mail/./home"): neither needs to reach the directory's parents,
which may be private to root (pytest's tmp_path is).
"""

from __future__ import annotations

import contextlib
import grp
import imaplib
import os
import pwd
import secrets
import shutil
import signal
import socket
import ssl
import subprocess
import tempfile
import time
from dataclasses import dataclass
from pathlib import Path
from string import Template

HOST = "127.0.0.1"
_SOCKET_ROOM = 107 - 30  # the longest socket below base_dir: token-login/imap-urlauth

_OPENSSL_CNF = """[req]
distinguished_name = dn
x509_extensions = v3
prompt = no
[dn]
CN = localhost
[v3]
basicConstraints = critical, CA:TRUE
keyUsage = critical, digitalSignature, keyCertSign
extendedKeyUsage = serverAuth
subjectAltName = DNS:localhost, IP:127.0.0.1
subjectKeyIdentifier = hash
authorityKeyIdentifier = keyid:always
"""

_CONFIG = Template("""# Written by portal/devtools/dovecot.py on every start: edits are lost.
protocols = imap
listen = $host
base_dir = $base_dir
state_dir = $directory/state
log_path = $directory/dovecot.log
info_log_path = $directory/dovecot.log
auth_verbose = no
auth_failure_delay = 0
ssl = required
ssl_cert = <$directory/cert.pem
ssl_key = <$directory/key.pem
default_internal_user = $internal_user
default_internal_group = $internal_group
default_login_user = $login_user
first_valid_uid = 1
$chroot_dirs
mail_location = maildir:~/Maildir
passdb {
  driver = passwd-file
  args = scheme=PLAIN $directory/users
}
userdb {
  driver = static
  args = uid=$uid gid=$gid home=$home
}
namespace inbox {
  inbox = yes
  separator = /
  mailbox Processed {
    auto = subscribe
  }
  mailbox Sent {
    special_use = \\Sent
  }
  mailbox Trash {
    special_use = \\Trash
  }
}
protocol imap {
  mail_max_userip_connections = 100
}
service imap-login {
  inet_listener imap {
    port = 0
  }
  inet_listener imaps {
    port = $port
    ssl = yes
  }
}
$chroots""")
# Without root nothing can chroot: these services (started now or on demand) chroot by default.
_UNCHROOTED = "".join(f"service {name} {{\n  chroot =\n}}\n" for name in (
    "imap-login", "imap-urlauth-login", "anvil", "ipc", "old-stats", "aggregator", "director"))


class DovecotError(RuntimeError):
    """Dovecot could not be started; the message ends with the tail of its log."""


def _binary() -> str | None:
    found = shutil.which("dovecot") or "/usr/sbin/dovecot"
    return found if os.access(found, os.X_OK) else None


def available() -> bool:
    """Whether the dovecot binary is installed (Debian: dovecot-imapd)."""
    return _binary() is not None


@dataclass(frozen=True)
class LocalMailbox:
    """Where the local server listens and how to log in (IMAPS, verified with ca_file)."""

    host: str
    port: int
    user: str
    password: str
    ca_file: Path
    folder: str = "INBOX"
    processed_folder: str = "Processed"

    def ssl_context(self) -> ssl.SSLContext:
        return ssl.create_default_context(cafile=str(self.ca_file))

    def environment(self) -> dict[str, str]:
        """The MAIL_INBOX_* settings that point the portal's email channel here."""
        return {
            "MAIL_INBOX_HOST": self.host, "MAIL_INBOX_PORT": str(self.port),
            "MAIL_INBOX_USER": self.user, "MAIL_INBOX_PASSWORD": self.password,
            "MAIL_INBOX_FOLDER": self.folder,
            "MAIL_INBOX_PROCESSED_FOLDER": self.processed_folder,
            "MAIL_INBOX_CA_FILE": str(self.ca_file),
        }


def _free_port() -> int:
    with socket.socket() as probe:
        probe.bind((HOST, 0))
        return probe.getsockname()[1]


def _signal_group(pgid: int, signum: int) -> None:
    with contextlib.suppress(ProcessLookupError, PermissionError):
        os.killpg(pgid, signum)


class DovecotServer:
    """`dovecot -F` as a child process in its own process group; `with` starts and stops it."""

    def __init__(self, directory: Path, *, port: int = 0, user: str = "complaints",
                 password: str | None = None) -> None:
        self.directory = Path(directory).resolve()
        self.port, self.user, self._password = port, user, password
        self.mailbox: LocalMailbox | None = None
        self._process: subprocess.Popen[bytes] | None = None
        self._spare_base: str | None = None

    def __enter__(self) -> DovecotServer:
        self.start()
        return self

    def __exit__(self, *_exc: object) -> None:
        self.stop()

    def _load_password(self) -> str:
        if self._password is not None:
            return self._password
        path = self.directory / "password"
        try:
            fd = os.open(path, os.O_WRONLY | os.O_CREAT | os.O_EXCL, 0o600)
        except FileExistsError:
            return path.read_text().strip()
        with os.fdopen(fd, "w") as out:
            out.write(secrets.token_urlsafe(18) + "\n")
        return path.read_text().strip()

    def _certificate(self) -> None:
        cert, key = self.directory / "cert.pem", self.directory / "key.pem"
        if cert.exists() and key.exists():
            return
        openssl = shutil.which("openssl")
        if openssl is None:
            raise DovecotError("openssl is not installed (apt-get install openssl).")
        config = self.directory / "openssl.cnf"
        config.write_text(_OPENSSL_CNF)
        result = subprocess.run(  # noqa: S603
            [openssl, "req", "-x509", "-config", str(config), "-newkey", "ec", "-pkeyopt",
             "ec_paramgen_curve:P-256", "-nodes", "-days", "3650", "-keyout", str(key),
             "-out", str(cert)], capture_output=True, text=True, check=False)
        if result.returncode != 0:
            raise DovecotError(f"openssl could not make the certificate:\n{result.stderr}")
        key.chmod(0o600)

    def _settings(self, base_dir: str, port: int) -> dict[str, object]:
        mail = self.directory / "mail"
        (mail / "home").mkdir(parents=True, exist_ok=True)
        common = {"host": HOST, "directory": self.directory, "base_dir": base_dir, "port": port}
        if os.geteuid() != 0:
            try:
                me = pwd.getpwuid(os.geteuid()).pw_name
                group = grp.getgrgid(os.getegid()).gr_name
            except KeyError as error:
                raise DovecotError("Dovecot needs a user and group with names.") from error
            return {**common, "internal_user": me, "internal_group": group, "login_user": me,
                    "uid": os.geteuid(), "gid": os.getegid(), "home": mail / "home",
                    "chroot_dirs": "", "chroots": _UNCHROOTED}
        login, owner = _system_user("dovenull", "nobody"), _system_user("dovecot", "nobody")
        for top, dirs, files in os.walk(mail / "home"):
            for name in (top, *(os.path.join(top, n) for n in dirs + files)):
                os.lchown(name, owner.pw_uid, owner.pw_gid)
        return {**common, "internal_user": "root", "internal_group": "root",
                "login_user": login.pw_name, "uid": owner.pw_uid, "gid": owner.pw_gid,
                "home": f"{mail}/./home", "chroot_dirs": f"valid_chroot_dirs = {mail}",
                "chroots": ""}

    def start(self, timeout: float = 15) -> LocalMailbox:
        """Write the files, start Dovecot and wait until a TLS login succeeds."""
        if self._process is not None and self.mailbox is not None:
            return self.mailbox
        binary, directory = _binary(), self.directory
        if binary is None:
            raise DovecotError("dovecot is not installed (apt-get install dovecot-imapd).")
        if any(c.isspace() for c in str(directory)):
            raise DovecotError(f"Dovecot's directory may not contain spaces: {directory}")
        directory.mkdir(mode=0o700, parents=True, exist_ok=True)
        password = self._load_password()
        if not password or any(c in password for c in ":\r\n"):
            raise ValueError("the IMAP password may not be empty or contain ':' or newlines")
        config, log = directory / "dovecot.conf", directory / "dovecot.log"
        base_dir = str(directory / "run")
        _clear_stale_pid(Path(base_dir, "master.pid"), config)
        if len(base_dir) > _SOCKET_ROOM:  # Unix socket paths are short: run elsewhere
            base_dir = self._spare_base = tempfile.mkdtemp(prefix="dovecot-")
        self._certificate()
        users = directory / "users"
        users.touch(mode=0o600)
        users.write_text(f"{self.user}:{{PLAIN}}{password}\n")
        port = self.port or _free_port()
        config.write_text(_CONFIG.substitute(self._settings(base_dir, port)))
        with log.open("ab") as out:
            self._process = subprocess.Popen(  # noqa: S603
                [binary, "-F", "-c", str(config)], stdin=subprocess.DEVNULL, stdout=out,
                stderr=out, start_new_session=True)
        mailbox = LocalMailbox(HOST, port, self.user, password, directory / "cert.pem")
        try:
            problem = self._wait(mailbox, time.monotonic() + timeout)
        except BaseException:  # Ctrl-C while waiting: leave nothing running
            self.stop()
            raise
        if problem is None:
            self.mailbox = mailbox
            return mailbox
        self.stop()
        tail = "\n".join(log.read_text(errors="replace").splitlines()[-15:])
        raise DovecotError(f"Dovecot on {HOST}:{port} did not start: {problem}.\n{tail}")

    def _wait(self, mailbox: LocalMailbox, deadline: float) -> str | None:
        """None once a TLS login succeeds, otherwise why not."""
        assert self._process is not None
        problem = "it did not answer in time"
        while time.monotonic() < deadline:
            if self._process.poll() is not None:
                return f"it exited with status {self._process.returncode}"
            try:
                with imaplib.IMAP4_SSL(mailbox.host, mailbox.port, timeout=2,
                                       ssl_context=mailbox.ssl_context()) as imap:
                    imap.login(mailbox.user, mailbox.password)
                return None
            except (OSError, imaplib.IMAP4.error) as error:
                problem = f"it did not answer in time ({error})"
                time.sleep(0.05)
        return problem

    def stop(self) -> None:
        """Stop Dovecot and every process of its group; safe to call more than once."""
        process, self._process, self.mailbox = self._process, None, None
        if process is not None:
            _signal_group(process.pid, signal.SIGTERM)  # all of them: the master alone
            # may linger a second after its children have gone; then SIGKILL it.
            deadline = time.monotonic() + 0.5
            while process.returncode is None and time.monotonic() < deadline:
                # WNOWAIT: the master stays a zombie so that its group id cannot be reused.
                if os.waitid(os.P_PID, process.pid, os.WEXITED | os.WNOHANG | os.WNOWAIT):
                    break
                time.sleep(0.02)
            _signal_group(process.pid, signal.SIGKILL)  # whatever is left
            process.wait()
        if self._spare_base is not None:
            shutil.rmtree(self._spare_base, ignore_errors=True)
            self._spare_base = None


def _system_user(*names: str) -> pwd.struct_passwd:
    for name in names:
        try:
            return pwd.getpwnam(name)
        except KeyError:
            continue
    raise DovecotError(f"none of these users exists: {', '.join(names)}")


def _clear_stale_pid(path: Path, config: Path) -> None:
    """Refuse to start twice on one directory; forget the pid a killed Dovecot left behind."""
    try:
        pid = int(path.read_text().split()[0])
        command = Path(f"/proc/{pid}/cmdline").read_bytes().split(b"\0")
    except (OSError, ValueError, IndexError):
        path.unlink(missing_ok=True)
        return
    if str(config).encode() in command:
        raise DovecotError(f"Dovecot already runs with {config} (pid {pid}).")
    path.unlink()
