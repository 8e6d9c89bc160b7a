"""Runs a command on a new pty, as a user's terminal would, and plays a script against it.

usage: pty-driver.py STEPS_JSON COMMAND [ARG...]

STEPS_JSON is a list of steps, in order:
  {"size": [rows, cols]}         the terminal's size: first, before the command starts; later,
                                 a resize (the command gets SIGWINCH)
  {"expect": "regex"}            wait (10 s at most) until the output since the last expect matches
  {"send": "text"}               type text (\\u0010 is ctrl-p)
  {"sleep": seconds}
  {"kill": signal}               signal the command
  {"run": [argv...]}             run a program beside it, its stdout added to "side"

At the end it waits for the command (15 s at most), then prints one JSON object: the
output, the exit status (or -signal), whether the terminal is canonical again (icanon) and
processes output again (opost),
and every "run" step's output.
"""
import json, os, re, select, signal, struct, subprocess, sys, time, fcntl, termios

steps = json.loads(sys.argv[1])
cmd = sys.argv[2:]
master, slave = os.openpty()


def set_size(rows, cols):
    fcntl.ioctl(slave, termios.TIOCSWINSZ, struct.pack("HHHH", rows, cols, 0, 0))


set_size(*(steps[0]["size"] if steps and "size" in steps[0] else (24, 80)))


def become_terminal_owner():
    fcntl.ioctl(0, termios.TIOCSCTTY, 0)


proc = subprocess.Popen(cmd, stdin=slave, stdout=slave, stderr=slave, start_new_session=True, preexec_fn=become_terminal_owner)
out = b""
mark = 0
side = []
failed = None


def pump(timeout):
    global out
    r, _, _ = select.select([master], [], [], timeout)
    if r:
        try:
            out += os.read(master, 65536)
        except OSError:
            pass


for i, s in enumerate(steps):
    if "size" in s:
        if i > 0:
            set_size(*s["size"])
    elif "expect" in s:
        end = time.time() + s.get("timeout", 10)
        rx = re.compile(s["expect"].encode(), re.M)
        while True:
            m = rx.search(out, mark)
            if m:
                mark = m.end()
                break
            if time.time() > end:
                failed = "timed out expecting %r" % s["expect"]
                break
            pump(0.05)
        if failed:
            break
    elif "send" in s:
        os.write(master, s["send"].encode())
    elif "sleep" in s:
        end = time.time() + s["sleep"]
        while time.time() < end:
            pump(0.02)
    elif "kill" in s:
        proc.send_signal(s["kill"])
    elif "run" in s:
        side.append(subprocess.run(s["run"], capture_output=True, text=True, timeout=60).stdout)

end = time.time() + 15
while proc.poll() is None and time.time() < end:
    pump(0.05)
if proc.poll() is None:
    proc.kill()
    failed = failed or "the command did not exit"
status = proc.wait()
pump(0.2)
attrs = termios.tcgetattr(slave)
print(json.dumps({
    "out": out.decode(errors="replace"),
    "status": status,
    "icanon": bool(attrs[3] & termios.ICANON),
    "opost": bool(attrs[1] & termios.OPOST),
    "side": side,
    "failed": failed,
}))
