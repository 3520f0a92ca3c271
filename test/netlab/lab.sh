#!/usr/bin/env bash
# The network lab: a small internet in Linux network namespaces, with NAT routers of every
# class Parley must get through, made with iptables. Fully isolated: no namespace has a link to
# the host's; the "internet" uses documentation ranges (203.0.113.0/24, RFC 5737), the LANs
# private ones, a carrier NAT 100.64.0.0/24 (RFC 6598). Every link between the internet bridge
# and a node delays 5 ms each way (tc netem), so two devices behind NATs see about 20 ms RTT —
# where the kernel has netem: where it has not (the CI machines' kernel lacks sch_netem), links
# have no added delay, and `lab.sh up` says so.
#
#   lab.sh up     builds it (as root);   lab.sh down   removes every namespace it made
#
# Namespaces (prefix PL, default "pl"):
#   PL-inet   the internet: a bridge, nothing else
#   PL-srv    203.0.113.10 and .11: login server and supernodes (.11: the STUN second address)
#   PL-pub    203.0.113.20: a public client
#   PL-r<X>   a NAT router (WAN 203.0.113.3x) with its client PL-c<X> (LAN 10.<n>.0.2), for
#             X = full (full cone), addr (address-restricted), port (port-restricted),
#             sym (symmetric), udp (UDP blocked), web (web only: TCP 80/443)
#   PL-rcgn + PL-rhome + PL-cdbl       double NAT: a home NAT behind a carrier NAT
#   PL-rlan + PL-clan1 + PL-clan2      two clients on one LAN behind a port-restricted NAT
set -euo pipefail
PL="${PL:-pl}"
DELAY="${DELAY:-5ms}"

ns() { ip netns exec "$PL-$1" "${@:2}"; }

down() {
  for n in $(ip netns list | awk '{print $1}' | grep "^$PL-" || true); do
    ip netns pids "$n" 2>/dev/null | xargs -r kill -9 2>/dev/null || true
    ip netns del "$n"
  done
}

mkns() {
  ip netns add "$PL-$1"
  ns "$1" ip link set lo up
  ns "$1" sysctl -qw net.ipv6.conf.all.disable_ipv6=1
}

# A veth from namespace $1 (interface $2, address $3) to the internet bridge, with delay.
to_internet() {
  local node=$1 dev=$2 addr=$3 peer="b-$1"
  ip link add "$dev" netns "$PL-$node" type veth peer name "$peer" netns "$PL-inet"
  ns "$node" ip addr add "$addr/24" dev "$dev"
  ns "$node" ip link set "$dev" up
  ns inet ip link set "$peer" master br0 up
  if [ -z "${NO_NETEM:-}" ] && ! ns "$node" tc qdisc add dev "$dev" root netem delay "$DELAY" 2>/dev/null; then
    NO_NETEM=1
    echo "lab: this kernel has no netem qdisc: links without added delay" >&2
  fi
  [ -z "${NO_NETEM:-}" ] && ns inet tc qdisc add dev "$peer" root netem delay "$DELAY"
  return 0
}

# A LAN link between router $1 (address $3.1) and client $2 (address $3.2), client's default route via the router.
lan() {
  local router=$1 client=$2 net=$3
  ip link add lan0 netns "$PL-$router" type veth peer name eth0 netns "$PL-$client"
  ns "$router" ip addr add "$net.1/24" dev lan0
  ns "$router" ip link set lan0 up
  ns "$client" ip addr add "$net.2/24" dev eth0
  ns "$client" ip link set eth0 up
  ns "$client" ip route add default via "$net.1"
}

# A NAT router: forwarding on, WAN on the internet, masquerading out of it, nothing to itself.
router() {
  local name=$1 wan=$2
  mkns "$name"
  to_internet "$name" wan0 "$wan"
  ns "$name" sysctl -qw net.ipv4.ip_forward=1
  ns "$name" iptables -A INPUT -i wan0 -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
  ns "$name" iptables -A INPUT -i wan0 -j DROP
}

up() {
  down
  mkns inet
  ns inet ip link add br0 type bridge
  ns inet ip link set br0 up

  mkns srv
  to_internet srv eth0 203.0.113.10
  ns srv ip addr add 203.0.113.11/24 dev eth0

  mkns pub
  to_internet pub eth0 203.0.113.20

  # Port-restricted (Linux's masquerading: ports kept, so the mapping is endpoint-independent;
  # conntrack lets in only the exact endpoint a packet went to).
  router rport 203.0.113.31
  mkns cport; lan rport cport 10.4.0
  ns rport iptables -t nat -A POSTROUTING -o wan0 -j MASQUERADE

  # Full cone: the same, plus every UDP packet to the WAN address forwarded to the client.
  router rfull 203.0.113.32
  mkns cfull; lan rfull cfull 10.2.0
  ns rfull iptables -t nat -A POSTROUTING -o wan0 -j MASQUERADE
  ns rfull iptables -t nat -A PREROUTING -i wan0 -p udp -j DNAT --to-destination 10.2.0.2

  # Address-restricted: forwarded too, but only from addresses that mapping (port) has sent to
  # (an nftables set keyed by port and address: per mapping, as RFC 4787 means it).
  router raddr 203.0.113.33
  mkns caddr; lan raddr caddr 10.3.0
  ns raddr iptables -t nat -A POSTROUTING -o wan0 -j MASQUERADE
  ns raddr nft -f - <<'NFT'
table ip addressrestricted {
  set sent {
    type inet_service . ipv4_addr
    flags dynamic,timeout
    timeout 2m
  }
  chain outbound {
    type filter hook forward priority 0;
    iifname "lan0" oifname "wan0" meta l4proto udp add @sent { udp sport . ip daddr }
  }
  chain inbound {
    type nat hook prerouting priority -100;
    iifname "wan0" udp dport . ip saddr @sent dnat to 10.3.0.2
  }
}
NFT

  # Symmetric: a random port for every new destination.
  router rsym 203.0.113.34
  mkns csym; lan rsym csym 10.5.0
  ns rsym iptables -t nat -A POSTROUTING -o wan0 -j MASQUERADE --random-fully

  # A firewall that blocks UDP, and one that lets out only TCP to ports 80 and 443.
  router rudp 203.0.113.35
  mkns cudp; lan rudp cudp 10.6.0
  ns rudp iptables -t nat -A POSTROUTING -o wan0 -j MASQUERADE
  ns rudp iptables -A FORWARD -p udp -j DROP
  router rweb 203.0.113.36
  mkns cweb; lan rweb cweb 10.7.0
  ns rweb iptables -t nat -A POSTROUTING -o wan0 -j MASQUERADE
  ns rweb iptables -A FORWARD -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
  ns rweb iptables -A FORWARD -i lan0 -p tcp -m multiport --dports 80,443 -j ACCEPT
  ns rweb iptables -A FORWARD -j DROP

  # Double NAT: a home router (port-restricted) behind a carrier's (port-restricted).
  router rcgn 203.0.113.40
  mkns rhome
  ip link add lan0 netns "$PL-rcgn" type veth peer name wan0 netns "$PL-rhome"
  ns rcgn ip addr add 100.64.0.1/24 dev lan0
  ns rcgn ip link set lan0 up
  ns rhome ip addr add 100.64.0.2/24 dev wan0
  ns rhome ip link set wan0 up
  ns rhome ip route add default via 100.64.0.1
  ns rhome sysctl -qw net.ipv4.ip_forward=1
  ns rcgn iptables -t nat -A POSTROUTING -o wan0 -j MASQUERADE
  mkns cdbl; lan rhome cdbl 10.9.0
  ns rhome iptables -t nat -A POSTROUTING -o wan0 -j MASQUERADE

  # Two clients on one LAN (a bridge in the router) behind a port-restricted NAT.
  router rlan 203.0.113.41
  ns rlan ip link add br-lan type bridge
  ns rlan ip addr add 10.10.0.1/24 dev br-lan
  ns rlan ip link set br-lan up
  for i in 1 2; do
    mkns "clan$i"
    ip link add "lan$i" netns "$PL-rlan" type veth peer name eth0 netns "$PL-clan$i"
    ns rlan ip link set "lan$i" master br-lan up
    ns "clan$i" ip addr add "10.10.0.$((i + 1))/24" dev eth0
    ns "clan$i" ip link set eth0 up
    ns "clan$i" ip route add default via 10.10.0.1
  done
  ns rlan iptables -t nat -A POSTROUTING -o wan0 -j MASQUERADE
}

case "${1:-}" in
  up) up ;;
  down) down ;;
  *) echo "usage: $0 up|down" >&2; exit 2 ;;
esac
