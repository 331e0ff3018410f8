# shellcheck shell=bash
# What every component of the local stack shares: where things live, and the small helpers to
# launch, wait for, stop and report a server. Sourced first by deploy/local/stack.sh.

ROOT="$(cd "$SCRIPT_DIR/../.." && pwd)"
CACHE="${RECOUVRA_CACHE:-${HOME:?HOME must be set}/.cache/recouvra}"
STATE="${RECOUVRA_STATE:-${HOME:?HOME must be set}/.local/state/recouvra}"
LOGS="$STATE/logs"
RUN="$STATE/run"
START_TIMEOUT="${RECOUVRA_START_TIMEOUT:-120}"   # seconds, per server
# Kafka recovers every partition after an unclean stop (a killed machine): with thousands of
# leftover topics that takes minutes. It may take this long as long as its log shows progress.
KAFKA_START_TIMEOUT="${RECOUVRA_KAFKA_START_TIMEOUT:-900}"

# ---- Fixed interface: tests depend on these values. -------------------------------------------
HOST=127.0.0.1

# ---- Small helpers ---------------------------------------------------------------------------
log() { printf '[stack] %s\n' "$*" >&2; }
die() { printf '[stack] ERROR: %s\n' "$*" >&2; exit 1; }
have() { command -v "$1" >/dev/null 2>&1; }

# Run a command as root: directly if we are root, else through passwordless sudo.
as_root() {
  if [[ $EUID -eq 0 ]]; then "$@"
  elif have sudo && sudo -n true 2>/dev/null; then sudo -n "$@"
  else return 1
  fi
}

# Serialise mutating commands: several clones share one cache and one state dir.
lock() {  # lock FILE FD
  mkdir -p "$(dirname "$1")"
  eval "exec $2>\"$1\""
  flock -w 600 "$2" || die "could not lock $1 within 600 s (another stack.sh still running?)"
}

# Keep logs from growing forever: rotate at start when over 50 MiB.
rotate_log() {
  local f="$LOGS/$1.log"
  if [[ -f $f && $(stat -c %s "$f") -gt $((50 * 1024 * 1024)) ]]; then mv -f "$f" "$f.1"; fi
}

# Is the process in pid file $1 alive and is its command line matching $2? (guards pid reuse)
# A process's command line reads empty while it is between two exec's (launch's wrapper becoming
# the server: the kernel fills in the new image's arguments only once it is loaded, which on a
# loaded machine takes a while), so an empty one is read again for up to 3 s before the process
# is called gone (a zombie's stays empty). Read as gone, a server just launched was reported
# "exited during startup" while it went on starting (a chaos run's SeaweedFS restart).
pid_alive() {
  local pidfile=$1 pattern=$2 pid cmdline=""
  [[ -f $pidfile ]] || return 1
  pid=$(<"$pidfile")
  [[ $pid =~ ^[0-9]+$ ]] || return 1
  for _ in $(seq 15); do
    kill -0 "$pid" 2>/dev/null || return 1
    cmdline=$(proc_cmdline "$pid")
    [[ -n $cmdline ]] && break
    sleep 0.2
  done
  grep -qF -- "$pattern" <<<"$cmdline"
}
proc_cmdline() { tr '\0' ' ' <"/proc/$1/cmdline" 2>/dev/null; }

# The Go toolchain that builds Mailpit and Jaeger: on the PATH, or where its tarball installs.
go_bin() { if have go; then command -v go; elif [[ -x /usr/local/go/bin/go ]]; then echo /usr/local/go/bin/go; else return 1; fi; }

port_open() { (exec 3<>"/dev/tcp/$HOST/$1") 2>/dev/null; }

# Start a detached server: own session (survives the caller's terminal/CI step, ignores its ^C),
# stdin from /dev/null and output to the log. Every other inherited file descriptor is closed
# (our lock files, a CI runner's pipes...), or a caller waiting for EOF, or for the lock, would
# wait for as long as the server lives. The tiny bash wrapper writes its own pid and then exec's
# the server, so the pid file holds the server's real pid whatever setsid decides about forking.
launch() {  # launch NAME WORKDIR CMD...
  local name=$1 workdir=$2; shift 2
  rm -f "$RUN/$name.pid"   # a stale one would pass for the new server's below
  rotate_log "$name"
  printf '\n===== %s: starting %s =====\n' "$(date -Is)" "$name" >>"$LOGS/$name.log"
  # `exec` all the way down: no intermediate shell may stay behind holding our lock files open.
  # shellcheck disable=SC2016  # $$, $fd, $0 and $@ are the wrapper's own
  (cd "$workdir" && exec setsid bash -c '
      for fd in /proc/$$/fd/*; do fd=${fd##*/}; ((fd > 2)) && eval "exec $fd>&-" 2>/dev/null; done
      echo $$ >"$0"; exec "$@"' "$RUN/$name.pid" "$@" </dev/null >>"$LOGS/$name.log" 2>&1) &
  local i
  for i in $(seq 50); do [[ -s $RUN/$name.pid ]] && return 0; sleep 0.1; done
  die "$name: launcher wrote no pid file ($RUN/$name.pid); see $LOGS/$name.log"
}

# The current run's part of a server log (from launch's last "=====" marker), last 30 lines.
show_log() {
  local f="$LOGS/$1.log" from
  from=$(grep -n '^===== ' "$f" 2>/dev/null | tail -n1 | cut -d: -f1)
  log "last lines of $f:"
  tail -n +"${from:-1}" "$f" 2>/dev/null | tail -n 30 >&2 || true
}

# Wait until CHECK succeeds; fail early if the process died.
wait_ready() {  # wait_ready NAME PATTERN CHECK...   (RECOUVRA_START_TIMEOUT seconds)
  wait_ready_within "$START_TIMEOUT" "$@"
}

# Waits up to TIMEOUT seconds, but gives up after START_TIMEOUT seconds in which the server's log
# did not grow: a server that is busy recovering keeps its time, a stuck one does not.
wait_ready_within() {  # wait_ready_within TIMEOUT NAME PATTERN CHECK...
  local timeout=$1 name=$2 pattern=$3; shift 3
  local logfile="$LOGS/$name.log" start=$SECONDS size last_size=-1 last_progress=$SECONDS next_note=$((SECONDS + 30))
  while ((SECONDS - start < timeout && SECONDS - last_progress < START_TIMEOUT)); do
    if ! pid_alive "$RUN/$name.pid" "$pattern"; then
      log "$name exited during startup"; show_log "$name"
      return 1
    fi
    if "$@" >/dev/null 2>&1; then return 0; fi
    size=$(stat -c %s "$logfile" 2>/dev/null || echo 0)
    if ((size != last_size)); then last_size=$size; last_progress=$SECONDS; fi
    if ((SECONDS >= next_note)); then
      log "$name: still starting after $((SECONDS - start))s (its log keeps growing: $logfile)"
      next_note=$((SECONDS + 30))
    fi
    sleep 1
  done
  log "$name did not answer within $((SECONDS - start))s"; show_log "$name"
  return 1
}

# SIGTERM (or another signal), wait up to $3 seconds, then SIGKILL.
stop_pid() {  # stop_pid NAME PATTERN TIMEOUT [SIGNAL]
  local name=$1 pattern=$2 timeout=$3 sig=${4:-TERM} pidfile="$RUN/$1.pid" pid i
  if ! pid_alive "$pidfile" "$pattern"; then
    rm -f "$pidfile"; log "$name: not running"; return 0
  fi
  pid=$(<"$pidfile")
  log "$name: stopping (pid $pid, SIG$sig)"
  kill -s "$sig" "$pid" 2>/dev/null || true
  for ((i = 0; i < timeout * 4; i++)); do
    kill -0 "$pid" 2>/dev/null || { rm -f "$pidfile"; log "$name: stopped"; return 0; }
    sleep 0.25
  done
  log "$name: still running after ${timeout}s, sending SIGKILL"
  kill -KILL "$pid" 2>/dev/null || true
  sleep 1
  rm -f "$pidfile"
}

# One line of `stack.sh status`: up when the pid file's process runs and the probe answers.
report() {  # report NAME PIDPATTERN ADDR PROBE...   (sets STATUS_FAILED=1 when down)
  local name=$1 pattern=$2 addr=$3; shift 3
  if pid_alive "$RUN/$name.pid" "$pattern" && "$@" >/dev/null 2>&1; then
    printf '%-10s up    %-16s pid %s\n' "$name" "$addr" "$(<"$RUN/$name.pid")"
  else
    printf '%-10s down  %-16s log %s\n' "$name" "$addr" "$LOGS/$name.log"; STATUS_FAILED=1
  fi
}
