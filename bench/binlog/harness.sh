# harness.sh: the pieces the binlog benches (catchup, soak) share. A bench sets
# root (the repository), dir (its temporary folder) and password, then sources
# this file. It defines:
#
#   bench_storage_args             storage settings of every server a bench starts
#   start_services [ARG]...        scripts/services start in $dir/services with
#                                  those settings (ARGs go to services); sets src
#                                  and dst to the source's and target's ports
#   stop_services                  stops them, if they started
#   start_replica NAME SERVER_ID [MARIADBD_ARG]...
#                                  a third MariaDB in $dir/NAME with a binlog and
#                                  log_slave_updates, not yet following anything;
#                                  sets replica_port and replica_pid
#   stop_replica                   SIGTERM, a wait, then SIGKILL
#   follow_source PORT GTID        makes the replica at PORT follow the source
#                                  from GTID (START SLAVE is the caller's)
#   sql PORT STATEMENT             runs it; one row a line, columns tab-separated
#   block PORT COMPOUND            runs one BEGIN NOT ATOMIC ... END
#   copy_databases FROM TO DB...   mariadb-dump on FROM into TO, not binlogged on TO
#   rows_changed PORT              row writes, updates and deletes since the
#                                  server started (its handler counters)
#   server_work PORT               "questions commits group_commits writes updates
#                                  deletes": the server's client statements, binlog
#                                  commits, binlog group commits and handler counters
#                                  (subtract two readings for the work in between)
#   write_pipeline_config FILE START_JSON INCLUDE_JSON [HTTP_PORT [LOG_LEVEL [LOG_FILE]]]
#                                  a `shoal node` config with one pipeline "bench"
#                                  from $src to $dst with $partitions partitions
#                                  (and apply mode $apply, "key" when unset);
#                                  the password in $SHOAL_BENCH_PASSWORD, the log
#                                  in LOG_FILE ($dir/shoal.log; "": stderr); more
#                                  pipeline settings from $SHOAL_BENCH_PIPELINE_EXTRA
#                                  (JSON members, e.g. '"batch_rows": 2000')
#   throttle PID PCT; unthrottle PID
#                                  PID (a server) gets PCT% of one CPU (a cpu cgroup
#                                  quota), a deliberately slow server; then no limit
#   binlog_bytes PORT              the size of every binlog file of the server
#   now; elapsed T0 T1             wall clock; seconds between two of its values
#   cpu_ticks PID...               user + system clock ticks the processes (every
#                                  thread) have used so far
#   machine_ticks                  "busy total" clock ticks of all CPUs so far
#   cpu_pct T0 T1 SECONDS          % of one core used between two cpu_ticks
#   busy_pct "B0 T0" "B1 T1"       % of all cores busy between two machine_ticks
# shellcheck shell=bash disable=SC2154

# shellcheck source=scripts/free-port.sh
source "$root/scripts/free-port.sh"

export MYSQL_PWD=$password
export SHOAL_BENCH_PASSWORD=$password
services_dir="$dir/services"
replica_pid=""
replica_port=""

bench_storage_args=(
  --innodb-buffer-pool-size=256M --innodb-log-file-size=256M
  --innodb-flush-log-at-trx-commit=2 --sync-binlog=0 --innodb-use-native-aio=0
  --performance-schema=OFF --character-set-server=utf8mb4
  --collation-server=utf8mb4_general_ci --max-connections=500
)

throttled_cgroup=""

throttle() {
  local pid=$1 pct=$2 cg
  if [ -w /sys/fs/cgroup/cpu ]; then
    cg=/sys/fs/cgroup/cpu/shoal-bench-$$
    mkdir -p "$cg"
    echo 100000 >"$cg/cpu.cfs_period_us"
    echo $((pct * 1000)) >"$cg/cpu.cfs_quota_us"
  elif [ -f /sys/fs/cgroup/cgroup.controllers ] && [ -w /sys/fs/cgroup ]; then
    cg=/sys/fs/cgroup/shoal-bench-$$
    mkdir -p "$cg"
    echo "$((pct * 1000)) 100000" >"$cg/cpu.max"
  else
    echo "throttle: no writable cpu cgroup (v1 /sys/fs/cgroup/cpu or v2) here" >&2
    return 1
  fi
  echo "$pid" >"$cg/cgroup.procs"
  throttled_cgroup=$cg
}

unthrottle() {
  [ -n "$throttled_cgroup" ] || return 0
  echo "$1" >"$(dirname "$throttled_cgroup")/cgroup.procs" 2>/dev/null || true
  rmdir "$throttled_cgroup" 2>/dev/null || true
  throttled_cgroup=""
}

binlog_bytes() {
  sql "$1" "SHOW BINARY LOGS" | awk '{ n += $2 } END { printf "%d", n }'
}

now() { date +%s.%N; }
elapsed() { awk -v a="$1" -v b="$2" 'BEGIN { printf "%.3f", b - a }'; }

# CPU use, to tell what a catch-up spent its time on: whether the machine's cores
# were all busy (the CPU bounds the rate) and which process used them.
cpu_ticks() {
  local total=0 pid
  for pid in "$@"; do
    total=$((total + $(awk '{ print $14 + $15 }' "/proc/$pid/stat" 2>/dev/null || echo 0)))
  done
  echo "$total"
}
machine_ticks() {
  # user nice system idle iowait irq softirq steal (guest time is inside user)
  awk '/^cpu / { t = 0; for (i = 2; i <= 9; i++) t += $i; print t - $5 - $6, t }' /proc/stat
}
cpu_pct() {
  awk -v a="$1" -v b="$2" -v s="$3" -v hz="$(getconf CLK_TCK)" \
    'BEGIN { printf "%.0f", (s > 0 ? 100 * (b - a) / hz / s : 0) }'
}
busy_pct() {
  awk -v a="$1" -v b="$2" 'BEGIN { split(a, x, " "); split(b, y, " ");
    printf "%.0f", (y[2] > x[2] ? 100 * (y[1] - x[1]) / (y[2] - x[2]) : 0) }'
}

sql() {
  mariadb --no-defaults -h127.0.0.1 -P"$1" -uroot -N -B -e "$2"
}
block() {
  mariadb --no-defaults -h127.0.0.1 -P"$1" -uroot -N -B --delimiter='$$' -e "$2"
}

# -- servers -------------------------------------------------------------------

# shellcheck disable=SC2120
start_services() {
  local args=() a
  for a in "${bench_storage_args[@]}"; do args+=(--mariadb-arg "$a"); done
  "$root/scripts/services" start --dir "$services_dir" --password "$password" \
    "${args[@]}" "$@" >"$dir/services.log"
  # shellcheck disable=SC1091
  source "$services_dir/env"
  src=$SHOAL_SOURCE_PORT
  dst=$SHOAL_TARGET_PORT
}

stop_services() {
  [ -f "$services_dir/env" ] && "$root/scripts/services" stop "$services_dir" >/dev/null
  return 0
}

start_replica() {
  local name=$1 server_id=$2
  shift 2
  local home="$dir/$name" user_arg=()
  [ "$(id -u)" -eq 0 ] && user_arg=(--user=root)
  mkdir -p "$home/tmp"
  mariadb-install-db --no-defaults "${user_arg[@]}" --datadir="$home/data" \
    --auth-root-authentication-method=normal --skip-test-db --skip-name-resolve \
    "${bench_storage_args[@]}" >"$home/install-db.log" 2>&1 ||
    { echo "mariadb-install-db failed for $name, see $home/install-db.log" >&2; return 1; }
  {
    echo "SET SESSION sql_log_bin=0;"
    for host in localhost 127.0.0.1 %; do
      echo "CREATE USER IF NOT EXISTS 'root'@'$host';"
      echo "ALTER USER 'root'@'$host' IDENTIFIED BY '$password';"
      echo "GRANT ALL PRIVILEGES ON *.* TO 'root'@'$host' WITH GRANT OPTION;"
    done
  } >"$home/init.sql"
  replica_port=$(free_port)
  setsid mariadbd --no-defaults "${user_arg[@]}" --datadir="$home/data" \
    --socket="$home/mariadbd.sock" --pid-file="$home/mariadbd.pid" --tmpdir="$home/tmp" \
    --init-file="$home/init.sql" --port="$replica_port" --bind-address=127.0.0.1 \
    --skip-name-resolve --server-id="$server_id" --log-bin=binlog --binlog-format=ROW \
    --log-slave-updates=ON --skip-slave-start "${bench_storage_args[@]}" "$@" \
    </dev/null >"$home/server.log" 2>&1 &
  replica_pid=$!
  for _ in $(seq 1 600); do
    mariadb-admin --no-defaults -h127.0.0.1 -P"$replica_port" -uroot ping >/dev/null 2>&1 \
      && return 0
    kill -0 "$replica_pid" 2>/dev/null || break
    sleep 0.1
  done
  echo "$name did not start; last lines of $home/server.log:" >&2
  tail -20 "$home/server.log" >&2
  return 1
}

stop_replica() {
  [ -n "$replica_pid" ] || return 0
  kill -TERM "$replica_pid" 2>/dev/null
  for _ in $(seq 1 300); do kill -0 "$replica_pid" 2>/dev/null || break; sleep 0.1; done
  kill -KILL "$replica_pid" 2>/dev/null
  replica_pid=""
  return 0
}

follow_source() {
  sql "$1" "SET GLOBAL gtid_slave_pos = '$2';
    CHANGE MASTER TO MASTER_HOST='127.0.0.1', MASTER_PORT=$src, MASTER_USER='root',
      MASTER_PASSWORD='$password', MASTER_USE_GTID=slave_pos,
      MASTER_CONNECT_RETRY=1"
}

# -- data ----------------------------------------------------------------------

copy_databases() {
  local from=$1 to=$2
  shift 2
  { echo "SET SESSION sql_log_bin=0;"
    mariadb-dump --no-defaults -h127.0.0.1 -P"$from" -uroot --single-transaction \
      --databases "$@"
  } | mariadb --no-defaults -h127.0.0.1 -P"$to" -uroot
}

rows_changed() {
  sql "$1" "SELECT SUM(VARIABLE_VALUE) FROM information_schema.GLOBAL_STATUS
    WHERE VARIABLE_NAME IN ('HANDLER_WRITE', 'HANDLER_UPDATE', 'HANDLER_DELETE')"
}

server_work() {
  sql "$1" "SELECT GROUP_CONCAT(VARIABLE_VALUE ORDER BY FIELD(VARIABLE_NAME,
      'QUESTIONS', 'BINLOG_COMMITS', 'BINLOG_GROUP_COMMITS', 'HANDLER_WRITE',
      'HANDLER_UPDATE', 'HANDLER_DELETE') SEPARATOR ' ')
    FROM information_schema.GLOBAL_STATUS
    WHERE VARIABLE_NAME IN ('QUESTIONS', 'BINLOG_COMMITS', 'BINLOG_GROUP_COMMITS',
                            'HANDLER_WRITE', 'HANDLER_UPDATE', 'HANDLER_DELETE')"
}

# -- shoal ---------------------------------------------------------------------

write_pipeline_config() {
  local file=$1 start=$2 include=$3 http_port=${4:-0} level=${5:-warn}
  local log_file=${6-$dir/shoal.log}
  cat >"$file" <<EOF
{
  "node": { "name": "bench", "host": "127.0.0.1", "port": 0 },
  "http": { "host": "127.0.0.1", "port": $http_port },
  "log": { "level": "$level"${log_file:+, \"file\": \"$log_file\"} },
  "sync": { "pipelines": [ {
    "name": "bench",
    "source": { "host": "127.0.0.1", "port": $src, "user": "root",
                "password_env": "SHOAL_BENCH_PASSWORD", "server_id": 100 },
    "target": { "host": "127.0.0.1", "port": $dst, "user": "root",
                "password_env": "SHOAL_BENCH_PASSWORD" },
    "partitions": $partitions,
    "apply": "${apply:-key}",
    "start": $start,
    "include": $include${SHOAL_BENCH_PIPELINE_EXTRA:+, $SHOAL_BENCH_PIPELINE_EXTRA}
  } ] }
}
EOF
}
