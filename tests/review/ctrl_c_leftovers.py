"""Ctrl-C (or KILLMAIN=1: SIGKILL of the main process) a `cfexport build --jobs 2 [args]` after DELAY s; list worker processes and openpyxl temp files left behind.
Usage: FW=<framework> PYTHONPATH=<src> python tests/review/ctrl_c_leftovers.py <src> <delay> [--clean|--watch|--format xlsx]
(frameworks: bench.make_framework(root, crafts=3, specialisms=4, levels=12, areas=80), or crafts=20 for a slow workbook)"""
import os, signal, subprocess, sys, time, glob
from pathlib import Path
sys.path.insert(0, "/work/wt-review/tests"); sys.path.insert(0, "/work/wt-review/benchmarks")
src, delay = sys.argv[1], float(sys.argv[2])
extra = sys.argv[3:]
root = Path(os.environ.get("FW", "/tmp/rv/big"))
if not root.exists():
    from bench import make_framework
    make_framework(root, crafts=int(os.environ.get("CRAFTS", "6")))
def tree(pid):
    out = []
    for p in os.listdir("/proc"):
        if p.isdigit():
            try:
                st = open(f"/proc/{p}/stat").read().rsplit(")", 1)[1].split()
                out.append((int(p), int(st[1]), st[0]))
            except OSError: pass
    kids, todo = [], [pid]
    while todo:
        q = todo.pop(); c = [p for p, pp, s in out if pp == q]; kids += c; todo += c
    return kids
def alive(pid):
    try: return open(f"/proc/{pid}/stat").read().rsplit(")", 1)[1].split()[0] != "Z"
    except OSError: return False
before = set(glob.glob("/tmp/openpyxl.*"))
env = {**os.environ, "PYTHONPATH": src}
cmd = ["/work/main/.venv/bin/python", "-m", "cfexport.cli", "build", "--framework", str(root), "--out", "/tmp/rv/bigout", "--jobs", "2", *extra]
try:
    import cfexport.cli.__main__  # noqa
except Exception: pass
cmd = ["/work/main/.venv/bin/python", "-m", "cfexport", *cmd[3:]]
t0 = time.time()
p = subprocess.Popen(cmd, env=env, stdout=open("/tmp/rv/e.out","wb"), stderr=open("/tmp/rv/e.err","wb"), start_new_session=True,
                     preexec_fn=lambda: signal.signal(signal.SIGINT, signal.SIG_DFL))
time.sleep(delay)
seen = set(tree(p.pid))
print("descendants before Ctrl-C:", sorted(seen))
os.kill(p.pid, signal.SIGKILL) if os.environ.get("KILLMAIN") else os.killpg(p.pid, signal.SIGINT)
p.wait(timeout=40); err = open("/tmp/rv/e.err","rb").read()
print("exit", p.returncode, "after", round(time.time() - t0, 1), "s; stderr tail:", err.decode()[-300:])
for wait in (0, 3, 10):
    time.sleep(wait)
    print(f"+{wait}s still alive:", [pid for pid in seen if alive(pid)])
left = set(glob.glob("/tmp/openpyxl.*")) - before
print("openpyxl temp files left:", [(f, os.path.getsize(f)) for f in left])
for pid in seen:
    if alive(pid): os.kill(pid, signal.SIGKILL); print("killed", pid)
for f in left: os.remove(f)
