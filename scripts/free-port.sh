# free_port: prints a TCP port on 127.0.0.1 that nothing listens on now. Source
# this file (scripts/services and the benches do); it defines only free_port.
#
# A random pick, then a probe, below the kernel's ephemeral range: a port there
# may be the local end of some outgoing connection, and then a server cannot
# bind it although nobody listens.
free_port() {
  local port low=32768
  [ -r /proc/sys/net/ipv4/ip_local_port_range ] &&
    read -r low _ </proc/sys/net/ipv4/ip_local_port_range
  [ "$low" -gt 12000 ] || low=32768
  for _ in $(seq 1 200); do
    port=$((10000 + RANDOM % (low - 10000)))
    if ! (exec 3<>"/dev/tcp/127.0.0.1/$port") 2>/dev/null; then
      echo "$port"
      return 0
    fi
  done
  echo "free_port: no free port found" >&2
  return 1
}
