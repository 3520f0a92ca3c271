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
#   PL-srv    203.0.113.10: the login server, on a host of its own
#   PL-sn1, PL-sn2, PL-sn3             supernodes, each on its own host with two addresses (the
#                                      second for STUN's RFC 5780 tests): .12/.13, .14/.15, .16/.17
#   PL-pub1, PL-pub2                   public clients (203.0.113.21, .22)
#   PL-r<X><i> + PL-c<X><i>            a NAT router and its client, two of each kind (i = 1, 2),
#                                      X = full (full cone), addr (address-restricted),
#                                      port (port-restricted), sym (symmetric), udp (UDP
#                                      blocked), web (web only: TCP 80/443)
#   PL-rcgn<i> + PL-rhome<i> + PL-cdbl<i>  double NAT: a home NAT behind a carrier NAT
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

# A NAT router of one kind with its client: r<kind><i> and c<kind><i>.
natted() {
  local kind=$1 i=$2 wan=$3 net=$4 r="r$1$2" c="c$1$2"
  router "$r" "$wan"
  mkns "$c"
  lan "$r" "$c" "$net"
  case "$kind" in
    port)
      # Port-restricted: Linux's masquerading (ports kept, so the mapping is endpoint-
      # independent; conntrack lets in only the exact endpoint a packet went to).
      ns "$r" iptables -t nat -A POSTROUTING -o wan0 -j MASQUERADE ;;
    full)
      # Full cone: the same, plus every UDP packet to the WAN address forwarded to the client.
      ns "$r" iptables -t nat -A POSTROUTING -o wan0 -j MASQUERADE
      ns "$r" iptables -t nat -A PREROUTING -i wan0 -p udp -j DNAT --to-destination "$net.2" ;;
    addr)
      # Address-restricted: forwarded too, but only from addresses that mapping (port) has sent
      # to (an nftables set keyed by port and address: per mapping, as RFC 4787 means it). The
      # filter runs before connection tracking, packet by packet, as an address-restricted NAT
      # filters: a packet dropped early must not leave a tracked "connection" that keeps the
      # same flow from the client after it has sent there (Linux would cache the drop).
      ns "$r" iptables -t nat -A POSTROUTING -o wan0 -j MASQUERADE
      ns "$r" nft -f - <<NFT
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
  chain filter {
    type filter hook prerouting priority -300;
    iifname "wan0" meta l4proto udp udp dport . ip saddr != @sent drop
  }
  chain inbound {
    type nat hook prerouting priority -100;
    iifname "wan0" udp dport . ip saddr @sent dnat to $net.2
  }
}
NFT
      ;;
    sym)
      # Symmetric: a random port for every new destination.
      ns "$r" iptables -t nat -A POSTROUTING -o wan0 -j MASQUERADE --random-fully ;;
    udp)
      # A firewall that blocks UDP.
      ns "$r" iptables -t nat -A POSTROUTING -o wan0 -j MASQUERADE
      ns "$r" iptables -A FORWARD -p udp -j DROP ;;
    web)
      # A firewall that lets out only TCP to ports 80 and 443.
      ns "$r" iptables -t nat -A POSTROUTING -o wan0 -j MASQUERADE
      ns "$r" iptables -A FORWARD -m conntrack --ctstate ESTABLISHED,RELATED -j ACCEPT
      ns "$r" iptables -A FORWARD -i lan0 -p tcp -m multiport --dports 80,443 -j ACCEPT
      ns "$r" iptables -A FORWARD -j DROP ;;
  esac
}

# Double NAT: a home router (port-restricted) behind a carrier's (port-restricted): rcgn<i>, rhome<i>, cdbl<i>.
double_nat() {
  local i=$1 wan=$2
  router "rcgn$i" "$wan"
  mkns "rhome$i"
  ip link add lan0 netns "$PL-rcgn$i" type veth peer name wan0 netns "$PL-rhome$i"
  ns "rcgn$i" ip addr add "100.64.$i.1/24" dev lan0
  ns "rcgn$i" ip link set lan0 up
  ns "rhome$i" ip addr add "100.64.$i.2/24" dev wan0
  ns "rhome$i" ip link set wan0 up
  ns "rhome$i" ip route add default via "100.64.$i.1"
  ns "rhome$i" sysctl -qw net.ipv4.ip_forward=1
  ns "rcgn$i" iptables -t nat -A POSTROUTING -o wan0 -j MASQUERADE
  mkns "cdbl$i"
  lan "rhome$i" "cdbl$i" "10.9.$i"
  ns "rhome$i" iptables -t nat -A POSTROUTING -o wan0 -j MASQUERADE
}

up() {
  down
  mkns inet
  ns inet ip link add br0 type bridge
  ns inet ip link set br0 up

  mkns srv
  to_internet srv eth0 203.0.113.10
  for i in 1 2 3; do
    mkns "sn$i"
    to_internet "sn$i" eth0 "203.0.113.$((10 + 2 * i))"
    ns "sn$i" ip addr add "203.0.113.$((11 + 2 * i))/24" dev eth0
  done

  # Two of each kind, on two machines (a pair of one kind must cross two NATs, not one machine).
  for i in 1 2; do
    mkns "pub$i"
    to_internet "pub$i" eth0 "203.0.113.2$i"
    natted port "$i" "203.0.113.3$i" "10.4.$i"
    natted full "$i" "203.0.113.4$i" "10.2.$i"
    natted addr "$i" "203.0.113.5$i" "10.3.$i"
    natted sym "$i" "203.0.113.6$i" "10.5.$i"
    natted udp "$i" "203.0.113.7$i" "10.6.$i"
    natted web "$i" "203.0.113.8$i" "10.7.$i"
    double_nat "$i" "203.0.113.9$i"
  done
  # Two clients on one LAN (a bridge in the router) behind a port-restricted NAT.
  router rlan 203.0.113.100
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
