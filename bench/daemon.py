#!/usr/bin/python3
# SPDX-License-Identifier: GPL-2.0-or-later
"""Start-up time and idle memory of biogated + biogated-sensor.

Start-up: the time from exec to the daemon's READY=1 (sd_notify, caught on our own
NOTIFY_SOCKET), and to the sensor having the reader (GetStatus says reader present), over
N starts on a fresh state directory each (the first start creates the key and the schema).
Memory: RSS, PSS and private dirty (anonymous) memory of both processes, idle right after
start and idle again after a burst of verifications, read from /proc/PID/smaps_rollup.

usage: bench/daemon.py BUILD_DIR [N]
"""
import atexit
import json
import os
import socket
import statistics
import subprocess
import sys
import tempfile
import time

build = os.path.abspath(sys.argv[1] if len(sys.argv) > 1 else "build")
n = int(sys.argv[2]) if len(sys.argv) > 2 else 20
daemon = f"{build}/daemon/biogated"
sensor = f"{build}/daemon/sensor/biogated-sensor"
ctl = f"{build}/client/biogatectl"
vdevctl = f"{build}/tests/integration/vdevctl"
policy = os.path.join(os.path.dirname(os.path.abspath(__file__)), "..", "policy", "policy.conf")


def call(sock_path, method, params=None):
    s = socket.socket(socket.AF_UNIX, socket.SOCK_STREAM)
    s.connect(sock_path)
    s.sendall(json.dumps({"method": method, "parameters": params or {}}).encode() + b"\0")
    buf = b""
    while not buf.endswith(b"\0"):
        chunk = s.recv(65536)
        if not chunk:
            break
        buf += chunk
    s.close()
    return json.loads(buf[:-1])


def smaps(pid):
    out = {}
    with open(f"/proc/{pid}/smaps_rollup") as f:
        for line in f:
            k, _, v = line.partition(":")
            if v.strip().endswith("kB"):
                out[k] = int(v.split()[0])
    return out


def start(tmp):
    notify_path = f"{tmp}/notify"
    ns = socket.socket(socket.AF_UNIX, socket.SOCK_DGRAM)
    ns.bind(notify_path)
    ns.settimeout(10)
    env = dict(os.environ, NOTIFY_SOCKET=notify_path,
               FP_VIRTUAL_DEVICE=f"{tmp}/vdev.sock", FP_DRIVERS_WHITELIST="virtual_device")
    t0 = time.monotonic()
    proc = subprocess.Popen([daemon, "--foreground", "--state-dir", f"{tmp}/state",
                             "--runtime-dir", f"{tmp}/run", "--config", "/dev/null",
                             "--sensor", sensor, "--policy", policy], env=env,
                            stderr=subprocess.DEVNULL)
    while True:
        msg = ns.recv(4096).decode()
        if "READY=1" in msg:
            t_ready = time.monotonic() - t0
            break
    ns.close()
    sock = f"{tmp}/run/io.biogate"
    while True:
        st = call(sock, "io.biogate.GetStatus")["parameters"]
        if st["reader"]["present"]:
            t_reader = time.monotonic() - t0
            break
        time.sleep(0.001)
    return proc, sock, t_ready, t_reader


def sensor_pid(daemon_pid):
    with open(f"/proc/{daemon_pid}/task/{daemon_pid}/children") as f:
        return int(f.read().split()[0])


# First starts (a fresh state directory each: keys and schemas created and flushed), and
# restarts on one existing state directory (what a terminal does every morning).
ready, reader, re_ready, re_reader = [], [], [], []
for i in range(n):
    with tempfile.TemporaryDirectory() as tmp:
        proc, sock, t_ready, t_reader = start(tmp)
        ready.append(t_ready * 1000)
        reader.append(t_reader * 1000)
        proc.terminate()
        proc.wait()
with tempfile.TemporaryDirectory() as tmp:
    for i in range(n + 1):
        proc, sock, t_ready, t_reader = start(tmp)
        if i > 0:
            re_ready.append(t_ready * 1000)
            re_reader.append(t_reader * 1000)
        proc.terminate()
        proc.wait()
        os.unlink(f"{tmp}/notify")

with tempfile.TemporaryDirectory() as tmp:
    proc, sock, _, _ = start(tmp)
    # A failed step must not leave the daemon running (it holds our stdout).
    atexit.register(lambda: proc.poll() is None and proc.kill())
    time.sleep(1)
    spid = sensor_pid(proc.pid)
    idle = (smaps(proc.pid), smaps(spid))
    env = dict(os.environ, BIOGATE_SOCKET=sock)
    vdev = f"{tmp}/vdev.sock"
    subprocess.run([ctl, "staff", "add", "M001", "--name", "b", "--affiliation", "b",
                    "--nationality", "x"], env=env, check=True, stdout=subprocess.DEVNULL)
    subprocess.run([ctl, "staff", "edit", "M001", "--pledge-date", "2026-01-01",
                    "--training-date", "2026-01-01"], env=env, check=True,
                   stdout=subprocess.DEVNULL)
    subprocess.run([vdevctl, vdev] + ["SCAN f"] * 5, check=True)
    subprocess.run([ctl, "enroll", "M001", "--finger", "right-index"], env=env, check=True,
                   stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    subprocess.run([ctl, "operator", "grant", "M001", "OP-1", "--role", "counter"], env=env,
                   check=True, stdout=subprocess.DEVNULL)
    for _ in range(200):
        subprocess.run([vdevctl, vdev, "SCAN f"], check=True)
        subprocess.run([ctl, "verify", "M001"], env=env, check=True,
                       stdout=subprocess.DEVNULL, stderr=subprocess.DEVNULL)
    time.sleep(1)
    busy = (smaps(proc.pid), smaps(spid))
    proc.terminate()
    proc.wait()


def p(label, values):
    values = sorted(values)
    print(f"{label:44s} median {statistics.median(values):7.1f} ms   "
          f"p90 {values[int(len(values) * 0.9) - 1]:7.1f} ms   max {values[-1]:7.1f} ms")


print(f"command: bench/daemon.py {sys.argv[1] if len(sys.argv) > 1 else 'build'} {n}")
p(f"first start: exec -> READY=1, n={n}", ready)
p(f"first start: exec -> reader present, n={n}", reader)
p(f"restart: exec -> READY=1, n={n}", re_ready)
p(f"restart: exec -> reader present, n={n}", re_reader)
print()
print()
print(f"{'memory (KiB)':44s} {'RSS':>7s} {'PSS':>7s} {'anon':>7s}")
for label, (d, s) in (("idle after start", idle), ("idle after 200 verifies", busy)):
    for name, m in (("biogated", d), ("biogated-sensor", s)):
        print(f"{label + ', ' + name:44s} {m['Rss']:7d} {m['Pss']:7d} {m['Anonymous']:7d}")
    print(f"{label + ', both':44s} {d['Rss'] + s['Rss']:7d} {d['Pss'] + s['Pss']:7d} "
          f"{d['Anonymous'] + s['Anonymous']:7d}")
