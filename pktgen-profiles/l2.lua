-- pktgen-dpdk profile of the `l2` scenario: 64-byte UDP frames into the
-- switch's host port (host0, patched to fabric0), FLOWS flows (destination
-- address and source port ranges). Run: pktgen ... -f pktgen-profiles/l2.lua
package.path = package.path ..";?.lua;test/?.lua;app/?.lua;"
require "Pktgen"

local port = "0"
local FLOWS = 1024

pktgen.set(port, "size", 64)
pktgen.set(port, "rate", 100)
pktgen.set_type(port, "ipv4")
pktgen.set_proto(port, "udp")
pktgen.set_mac(port, "dst", "02:00:00:00:00:02")

-- range mode has its own protocol (set_proto shapes the single packet only)
pktgen.range.ip_proto(port, "udp")
pktgen.range.dst_mac(port, "start", "02:00:00:00:00:02")
pktgen.range.src_ip(port, "start", "10.0.0.1")
pktgen.range.src_ip(port, "inc", "0.0.0.0")
pktgen.range.dst_ip(port, "start", "10.0.0.0")
pktgen.range.dst_ip(port, "inc", "0.0.0.1")
pktgen.range.dst_ip(port, "min", "10.0.0.0")
pktgen.range.dst_ip(port, "max", string.format("10.0.%d.%d", (FLOWS - 1) // 256, (FLOWS - 1) % 256))
pktgen.range.src_port(port, "start", 1024)
pktgen.range.src_port(port, "inc", 1)
pktgen.range.src_port(port, "min", 1024)
pktgen.range.src_port(port, "max", 1024 + FLOWS - 1)
pktgen.range.dst_port(port, "start", 80)
pktgen.range.dst_port(port, "inc", 0)
pktgen.range.pkt_size(port, "start", 64)
pktgen.range.pkt_size(port, "inc", 0)
pktgen.set_range(port, "on")
pktgen.start(port)
