"""A real IMAP server for the mailbox tests: Debian's Dovecot in the foreground on a loopback port.

Needs ``/usr/sbin/dovecot`` (package dovecot-imapd; the CI installs it). Its auth process runs as the
``dovecot`` user, so its folder is a ``mkdtemp`` opened to 0755, not pytest's 0700 ``tmp_path``.
"""

from __future__ import annotations

import imaplib
import os
import pwd
import shutil
import socket
import subprocess
import tempfile
import time
from dataclasses import dataclass

import pytest

DOVECOT = "/usr/sbin/dovecot"


def free_port() -> int:
    with socket.socket() as sock:
        sock.bind(("127.0.0.1", 0))
        return sock.getsockname()[1]


@dataclass
class Dovecot:
    host: str
    port: int
    users: dict[str, str]
    log_path: str
    unused: list[str]

    def fresh_user(self) -> str:
        """An account no test used yet (created with the server: Dovecot caches its passwd file)."""
        return self.unused.pop(0)

    def client(self, user: str) -> imaplib.IMAP4:
        client = imaplib.IMAP4(self.host, self.port, timeout=10)
        client.login(user, self.users[user])
        return client

    def append(self, user: str, raw: bytes, folder: str = "INBOX") -> None:
        client = self.client(user)
        try:
            status, data = client.append(folder, None, None, raw)
            assert status == "OK", data
        finally:
            client.logout()

    def flags(self, user: str, folder: str = "INBOX") -> dict[int, str]:
        client = self.client(user)
        try:
            client.select(folder)
            _, data = client.uid("FETCH", "1:*", "(FLAGS)")
            flags = {}
            for line in data:
                if line:
                    text = line.decode()
                    uid = int(text.split("UID ")[1].split()[0].rstrip(")"))
                    flags[uid] = text
            return flags
        finally:
            client.logout()


@pytest.fixture(scope="module")
def dovecot():
    if not os.path.exists(DOVECOT):
        pytest.fail(f"{DOVECOT} not found: install the Debian package dovecot-imapd (the CI does).", pytrace=False)
    folder = tempfile.mkdtemp(prefix="relais-dovecot-")
    os.chmod(folder, 0o755)
    nobody = pwd.getpwnam("nobody")
    os.makedirs(f"{folder}/mail")
    os.chown(f"{folder}/mail", nobody.pw_uid, nobody.pw_gid)
    users = {f"box{n}": f"box{n}-secret" for n in range(1, 61)}
    with open(f"{folder}/passwd", "w") as passwd:
        passwd.writelines(f"{user}:{{PLAIN}}{password}::::::\n" for user, password in users.items())
    port = free_port()
    config = f"""
base_dir = {folder}/run
state_dir = {folder}/state
log_path = {folder}/dovecot.log
protocols = imap
listen = 127.0.0.1
ssl = no
disable_plaintext_auth = no
auth_mechanisms = plain login
auth_failure_delay = 0
mail_location = maildir:{folder}/mail/%u
first_valid_uid = 1
service imap-login {{
  inet_listener imap {{
    address = 127.0.0.1
    port = {port}
  }}
  inet_listener imaps {{
    port = 0
  }}
}}
passdb {{
  driver = passwd-file
  args = scheme=PLAIN {folder}/passwd
}}
userdb {{
  driver = static
  args = uid={nobody.pw_uid} gid={nobody.pw_gid} home={folder}/mail/%u
}}
"""
    with open(f"{folder}/dovecot.conf", "w") as conf:
        conf.write(config)
    process = subprocess.Popen([DOVECOT, "-F", "-c", f"{folder}/dovecot.conf"], stdout=subprocess.PIPE,
                               stderr=subprocess.STDOUT)  # fmt: skip
    deadline = time.monotonic() + 10
    while True:
        try:
            socket.create_connection(("127.0.0.1", port), timeout=0.2).close()
            break
        except OSError:
            if process.poll() is not None or time.monotonic() > deadline:
                output = process.stdout.read().decode(errors="replace") if process.stdout else ""
                process.kill()
                pytest.fail(f"Dovecot did not start: {output}", pytrace=False)
            time.sleep(0.05)
    yield Dovecot(host="127.0.0.1", port=port, users=users, log_path=f"{folder}/dovecot.log", unused=list(users))
    process.terminate()
    try:
        process.wait(timeout=5)
    except subprocess.TimeoutExpired:
        process.kill()
    shutil.rmtree(folder, ignore_errors=True)
