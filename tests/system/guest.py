# SPDX-License-Identifier: GPL-2.0-or-later
"""The booted guest as the system test sees it: QEMU with the image's own kernel, a root
command channel on a virtio-serial port, the person's console (a getty on hvc0), QMP for USB
hot-plug, and the serial console (kernel and systemd) in a log file. Standard library only."""

import json
import os
import re
import select
import shlex
import socket
import subprocess
import time


class GuestError(Exception):
    pass


class Chan:
    """A byte stream from a QEMU chardev (QEMU connects to our listening socket)."""

    def __init__(self, sock, log_path):
        self.sock = sock
        self.buf = b""
        self.log = open(log_path, "ab", buffering=0)

    def _fill(self, timeout):
        r, _, _ = select.select([self.sock], [], [], max(0.0, timeout))
        if not r:
            return False
        data = self.sock.recv(65536)
        if not data:
            raise GuestError("channel closed (QEMU exited?)")
        self.log.write(data)
        self.buf += data
        return True

    def send(self, text):
        self.sock.sendall(text.encode() if isinstance(text, str) else text)

    def expect(self, patterns, timeout):
        """Waits for the first of the regexes (str) in the output; returns (index, match,
        text before and including it) and consumes up to the match end."""
        if isinstance(patterns, str):
            patterns = [patterns]
        rx = [re.compile(p.encode()) for p in patterns]
        deadline = time.monotonic() + timeout
        while True:
            best = None
            for i, r in enumerate(rx):
                m = r.search(self.buf)
                if m and (best is None or m.start() < best[1].start()):
                    best = (i, m)
            if best:
                i, m = best
                text = self.buf[: m.end()].decode(errors="replace")
                self.buf = self.buf[m.end():]
                return i, m, text
            left = deadline - time.monotonic()
            if left <= 0:
                raise GuestError("timeout after %.0f s waiting for %s; got: %r" % (
                    timeout, patterns, self.buf[-600:].decode(errors="replace")))
            self._fill(min(left, 1.0))

    def drain(self, wait=0.0):
        """Returns (and consumes) what arrived, waiting up to `wait` seconds of silence."""
        deadline = time.monotonic() + wait
        while True:
            left = deadline - time.monotonic()
            if left <= 0 or not self._fill(left):
                break
        out = self.buf.decode(errors="replace")
        self.buf = b""
        return out


class Guest:
    def __init__(self, work, kernel, initrd, disk, accel, log):
        self.work, self.kernel, self.initrd, self.disk = work, kernel, initrd, disk
        self.accel = accel
        self.log = log
        self.proc = None
        self.boots = 0
        self.events = []
        self.serial_log = os.path.join(work, "serial.log")

    # --- start and stop ---------------------------------------------------------------------
    def _listen(self, name):
        path = os.path.join(self.work, name)
        if os.path.exists(path):
            os.unlink(path)
        s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
        s.bind(path)
        s.listen(1)
        return s, path

    def start(self, accel=None):
        accel = accel or self.accel
        self.boots += 1
        lshell, pshell = self._listen("shell.sock")
        lcon, pcon = self._listen("getty.sock")
        self.qmp_path = os.path.join(self.work, "qmp.sock")
        if os.path.exists(self.qmp_path):
            os.unlink(self.qmp_path)
        with open(self.serial_log, "ab") as f:
            f.write(("\n===== boot %d (%s) =====\n" % (self.boots, accel)).encode())
        append = ("console=ttyS0,115200 root=/dev/vda rw net.ifnames=0 edd=off panic=-1 "
                  "systemd.show_status=1 systemd.log_color=0")
        cmd = ["qemu-system-x86_64", "-nodefaults", "-no-user-config", "-display", "none",
               "-no-reboot", "-m", "1536", "-smp", "2", "-machine", "q35"]
        if accel == "kvm":
            cmd += ["-accel", "kvm", "-cpu", "host"]
        else:
            cmd += ["-accel", "tcg", "-cpu", "max"]
        cmd += ["-kernel", self.kernel, "-initrd", self.initrd, "-append", append,
                "-drive", "file=%s,format=raw,if=virtio,cache=unsafe,discard=unmap" % self.disk,
                "-device", "virtio-rng-pci",
                "-chardev", "file,id=ser0,path=%s,append=on" % self.serial_log,
                "-serial", "chardev:ser0",
                "-device", "virtio-serial-pci,id=vser",
                "-chardev", "socket,id=con,path=%s" % pcon,
                "-device", "virtconsole,chardev=con,name=systest.getty",
                "-chardev", "socket,id=sh,path=%s" % pshell,
                "-device", "virtserialport,chardev=sh,name=systest.shell",
                "-qmp", "unix:%s,server=on,wait=off" % self.qmp_path,
                "-device", "qemu-xhci,id=xhci",
                "-nic", "none"]
        self.qemu_log = open(os.path.join(self.work, "qemu.log"), "ab")
        self.proc = subprocess.Popen(cmd, stdin=subprocess.DEVNULL, stdout=self.qemu_log,
                                     stderr=subprocess.STDOUT)
        for ls in (lshell, lcon):
            ls.settimeout(30)
        try:
            sh, _ = lshell.accept()
            con, _ = lcon.accept()
        except socket.timeout:
            self.kill()
            raise GuestError("QEMU did not connect its chardevs (see qemu.log)")
        lshell.close()
        lcon.close()
        self.shell = Chan(sh, os.path.join(self.work, "shell.log"))
        self.con = Chan(con, os.path.join(self.work, "getty.log"))
        try:
            self._qmp_connect()
        except (OSError, ValueError) as e:
            self.kill()
            raise GuestError("QMP: %s (QEMU exited? see qemu.log)" % e)
        self.t_start = time.monotonic()

    def _qmp_connect(self):
        for _ in range(100):
            try:
                s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
                s.connect(self.qmp_path)
                break
            except OSError:
                time.sleep(0.1)
        else:
            raise GuestError("no QMP socket")
        self.qmp_sock = s
        self.qmp_buf = b""
        self._qmp_read()  # greeting
        self.qmp("qmp_capabilities")

    def _qmp_read(self, timeout=30):
        deadline = time.monotonic() + timeout
        while b"\n" not in self.qmp_buf:
            left = deadline - time.monotonic()
            if left <= 0:
                raise GuestError("QMP: no answer")
            r, _, _ = select.select([self.qmp_sock], [], [], left)
            if r:
                d = self.qmp_sock.recv(65536)
                if not d:
                    raise GuestError("QMP closed")
                self.qmp_buf += d
        line, self.qmp_buf = self.qmp_buf.split(b"\n", 1)
        return json.loads(line)

    def qmp(self, command, **args):
        msg = {"execute": command}
        if args:
            msg["arguments"] = args
        self.qmp_sock.sendall(json.dumps(msg).encode() + b"\n")
        while True:
            m = self._qmp_read()
            if "event" in m:
                self.events.append(m)
                continue
            if "error" in m:
                raise GuestError("QMP %s: %s" % (command, m["error"].get("desc")))
            return m.get("return")

    def qmp_events(self, wait=0.0):
        """Collects the QMP events that arrived (waiting up to `wait` s for more)."""
        deadline = time.monotonic() + wait
        while True:
            left = deadline - time.monotonic()
            r, _, _ = select.select([self.qmp_sock], [], [], max(0.0, left))
            if not r:
                break
            d = self.qmp_sock.recv(65536)
            if not d:
                break
            self.qmp_buf += d
            while b"\n" in self.qmp_buf:
                line, self.qmp_buf = self.qmp_buf.split(b"\n", 1)
                m = json.loads(line)
                if "event" in m:
                    self.events.append(m)
            if left <= 0:
                break
        return self.events

    def wait_exit(self, timeout):
        """Waits for QEMU to exit (the guest powered off or reset with -no-reboot)."""
        try:
            self.proc.wait(timeout)
        except subprocess.TimeoutExpired:
            return None
        try:
            self.qmp_events(0.2)
        except (OSError, ValueError):
            pass
        return self.proc.returncode

    def alive(self):
        return self.proc is not None and self.proc.poll() is None

    def kill(self):
        if self.alive():
            self.proc.kill()
            self.proc.wait()

    # --- boot -------------------------------------------------------------------------------
    def wait_boot(self, timeout):
        """Waits until the driver shell answers and systemd has finished starting up.
        Returns the seconds since QEMU started."""
        deadline = time.monotonic() + timeout
        while True:
            if not self.alive():
                raise GuestError("QEMU exited during boot (rc %s)" % self.proc.returncode)
            try:
                self.shell.send("echo @@UP@@\n")
                self.shell.expect(r"@@UP@@\n", 3)
                break
            except GuestError:
                if time.monotonic() > deadline:
                    raise GuestError("the guest's driver shell never answered")
        # Earlier probes queued while the port was closed are answered too: drop them.
        self.shell.drain(1.0)
        left = max(10, deadline - time.monotonic())
        rc, out = self.sh("timeout %d systemctl is-system-running --wait" % left, left + 10)
        if out.strip() not in ("running", "degraded"):
            raise GuestError("system did not finish starting: %s" % out.strip())
        if out.strip() == "degraded":
            _, failed = self.sh("systemctl --failed --no-legend --plain")
            self.log("note: the guest is degraded: " + failed.strip().replace("\n", "; "))
        return time.monotonic() - self.t_start

    # --- the driver's root shell -----------------------------------------------------------
    _seq = 0

    def sh(self, cmd, timeout=60):
        """Runs cmd (bash) as root in the guest; returns (exit status, stdout+stderr)."""
        Guest._seq += 1
        tag = "@@RC%d@@" % Guest._seq
        wrapped = "{ %s\n} </dev/null 2>&1; echo \"%s$?@@\"\n" % (cmd, tag)
        self.shell.send(wrapped)
        _, m, text = self.shell.expect(re.escape(tag) + r"(\d+)@@\n", timeout)
        out = text[: text.rfind(tag)]
        return int(m.group(1)), out

    def ok(self, cmd, timeout=60):
        rc, out = self.sh(cmd, timeout)
        if rc != 0:
            raise GuestError("`%s` exited %d: %s" % (cmd, rc, out.strip()[-800:]))
        return out

    def write(self, path, content, mode="0644"):
        self.ok("mkdir -p %s && printf '%%s' %s > %s && chmod %s %s" % (
            shlex.quote(os.path.dirname(path)), shlex.quote(content), shlex.quote(path),
            mode, shlex.quote(path)))

    def serial_tail(self, n=40):
        try:
            with open(self.serial_log, "rb") as f:
                lines = f.read().decode(errors="replace").splitlines()
            return "\n".join(lines[-n:])
        except OSError:
            return ""
