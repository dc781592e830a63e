/**
 * The host side of a host session: a POSIX sh program sent as the first bytes of `sh -s`, so a
 * host needs nothing installed. After it, Ferry writes one line per request (see requestLine and
 * killLine in host-session.ts), which the same shell reads and runs as it arrives.
 *
 * Why it is built this way:
 * - Each command runs as `setsid sh script` in a double-forked job: its own process group (a
 *   kill reaches everything it started), and no job table entry for the main shell to keep.
 * - Output goes to files in a private directory, one set per slot; Ferry reuses a slot only after
 *   its result arrived, so files are overwritten rather than removed (one process fewer).
 * - A single writer process owns stdout. Jobs tell it "slot done" over a FIFO with lines shorter
 *   than PIPE_BUF, which the kernel keeps whole, so frames never interleave without a lock.
 * - Output beyond the caller's cap is not sent (head stops reading there, and the command gets
 *   SIGPIPE); the frame gives its size so Ferry can say so.
 * - Streamed commands (tail -F) pass each line through the FIFO as it comes.
 *
 * - Jobs write nothing to stdout themselves (it is /dev/null for them): only frames reach Ferry.
 *
 * Frames on stdout: `ferry-session 1 PID` once; `l ID TEXT` per streamed line;
 * `d ID STATUS OUTLEN ERRLEN OUTTOTAL ERRTOTAL` followed by OUTLEN + ERRLEN bytes per finished command.
 */
export const HOST_SESSION_PROTOCOL = 1;

export const HOST_SESSION_PROGRAM = `umask 077
# bash reads ~/.bashrc when it believes sshd started it (SSH_CLIENT set, shell level below 2). The
# login shell gave its level up when it exec'd this sh, so without this every \`bash -c\` a command
# runs would pay for ~/.bashrc again.
SHLVL=$((\${SHLVL:-0} + 1))
export SHLVL
for f_t in setsid wc head mkfifo mktemp; do
  command -v "$f_t" >/dev/null 2>&1 || { echo "ferry-session: $f_t is not installed" >&2; exit 98; }
done
f_d=$(mktemp -d "\${TMPDIR:-/tmp}/ferry-session.XXXXXX") || exit 97
trap 'exec 9>&-; rm -rf "$f_d"' EXIT
mkfifo "$f_d/q" || exit 97
f_writer() {
  while IFS= read -r f_line; do
    case $f_line in
    l\\ *) printf '%s\\n' "$f_line" ;;
    d\\ *)
      set -- $f_line
      f_j=$f_d/$3
      # [ -s ] is a builtin: most commands print nothing, and then no wc or head is started.
      if [ -s "$f_j.out" ] || [ -s "$f_j.err" ]; then
        wc -c "$f_j.out" "$f_j.err" >"$f_j.n"
        { read -r f_o _; read -r f_e _; } <"$f_j.n"
      else
        f_o=0; f_e=0
      fi
      f_so=$f_o; f_se=$f_e
      [ "$f_o" -le "$5" ] || f_so=0
      [ "$f_e" -le "$6" ] || f_se=0
      printf 'd %s %s %s %s %s %s\\n' "$2" "$4" "$f_so" "$f_se" "$f_o" "$f_e"
      # Exactly the bytes counted: a process the command left behind may still be writing to
      # its stderr file, and one byte more would break the framing.
      [ "$f_so" -eq 0 ] || head -c "$f_so" "$f_j.out"
      [ "$f_se" -eq 0 ] || head -c "$f_se" "$f_j.err" ;;
    esac
  done <"$f_d/q"
}
f_writer &
exec 9>"$f_d/q"
f_run() {
  f_j=$f_d/$2
  printf '%s' "$6" >"$f_j.sh"
  printf '%s' "$7" >"$f_j.in"
  : >"$f_j.out"
  if [ "$5" = l ]; then
    f_command "$1" | while IFS= read -r f_l || [ -n "$f_l" ]; do printf 'l %s %s\\n' "$1" "$f_l" >&9; done
  else
    # head stops reading one byte past the cap: a command that floods its output is ended by
    # SIGPIPE instead of filling the host's /tmp.
    f_command "$1" | head -c $(($3 + 1)) >"$f_j.out"
  fi
  read -r f_rc <"$f_j.rc" || f_rc=255
  : >"$f_j.pid"
  printf 'd %s %s %s %s %s\\n' "$1" "$2" "$f_rc" "$3" "$4" >&9
}
# The command in its own session and process group, without the FIFO's write end (which would
# keep the writer from ever seeing the end); its status goes to a file, as a pipeline loses it.
f_command() {
  setsid sh "$f_j.sh" <"$f_j.in" 2>"$f_j.err" 9>&- &
  f_started "$1" $!
  wait $!
  echo $? >"$f_j.rc"
}
# A kill and a start can cross: the killer names the request before it reads the pid, the job
# writes its pid before it looks for its name, so one of them always sees the other.
f_started() {
  echo "$2" >"$f_j.pid"
  read -r f_k <"$f_j.k" 2>/dev/null
  [ "$f_k" != "$1" ] || f_killpid "$2"
}
# The group, and the pid itself in case setsid has not made the group yet.
f_killpid() {
  kill -KILL -"$1" 2>/dev/null
  kill -KILL "$1" 2>/dev/null
  :
}
f_kill() {
  echo "$2" >"$f_d/$1.k"
  read -r f_p <"$f_d/$1.pid" 2>/dev/null && [ -n "$f_p" ] && f_killpid "$f_p"
  :
}
printf 'ferry-session ${HOST_SESSION_PROTOCOL} %s\\n' "$$"
`;
