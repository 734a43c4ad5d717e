-- pktgen-DPDK script: loss-free rate search (RFC 2544 style) through ipsecgw.
-- Layout and usage: perf/pktgen/README.md. Settings come from the environment
-- (pktgen's Lua has the standard os library):
--
--   IPSECGW_DIR        out | in | loop     (default out)
--       out   pktgen port 0 sends plaintext UDP 192.168.1.x -> 192.168.105.x into
--             DUT port 0; the DUT's ESP comes back on pktgen port 1.
--       in    pktgen port 1 replays an ESP pcap (pktgen -s 1:esp_SIZE_128.pcap
--             from make_pcaps.sh) into DUT port 1; plaintext comes back on port 0.
--       loop  two DUTs back to back (dut.sh --site a / --site b): port 0 sends
--             plaintext into A, port 1 receives B's decrypted plaintext; pktgen's
--             own latency probes work end to end.
--   IPSECGW_SIZES      frame sizes incl. the 4-byte FCS, comma list
--                      (default 68,132,260,516,1028,1424: the lab's 64..1420 + FCS;
--                      ignored for "in": the pcap fixes the size)
--   IPSECGW_DUT_MAC    MAC of the DUT port pktgen port 0 sends to (required for
--                      out/loop unless the DUT runs with -P)
--   IPSECGW_TRIAL_MS   transmit time per trial (default 10000)
--   IPSECGW_STEPS      binary-search steps per size (default 10)
--   IPSECGW_LINK_GBPS  link speed if pktgen cannot tell (default: from the link)
--   IPSECGW_OUT        CSV file to append results to (default ipsecgw_pktgen.csv)
--   IPSECGW_LATENCY    1: after the search, run pktgen's latency probes at 10/50/90 %
--                      of the loss-free rate (meaningful only for "loop")

package.path = package.path .. ";?.lua;test/?.lua;app/?.lua;../?.lua"
require "Pktgen"

local function env(name, default)
	local v = os.getenv(name)
	if v == nil or v == "" then return default end
	return v
end

local DIR = env("IPSECGW_DIR", "out")
local TRIAL_MS = tonumber(env("IPSECGW_TRIAL_MS", "10000"))
local STEPS = tonumber(env("IPSECGW_STEPS", "10"))
local OUT = env("IPSECGW_OUT", "ipsecgw_pktgen.csv")
local DUT_MAC = env("IPSECGW_DUT_MAC", nil)
local LATENCY = env("IPSECGW_LATENCY", "0") == "1"
local PAUSE_MS = 2000  -- drain: frames still in the DUT's rings arrive now

-- tx = the port that offers traffic, rx = the port that receives what the DUT forwards
local txport, rxport = "0", "1"
if DIR == "in" then txport, rxport = "1", "0" end

local function link_gbps(port)
	local forced = tonumber(env("IPSECGW_LINK_GBPS", ""))
	if forced then return forced end
	-- linkState returns e.g. { [0] = "<UP-10000-FD>" }
	local ok, st = pcall(pktgen.linkState, port)
	if ok and st then
		local s = st[tonumber(port)] or ""
		local mbps = tonumber(string.match(s, "UP%-(%d+)"))
		if mbps then return mbps / 1000 end
	end
	return 10
end

-- Line rate in packets/s for a frame of `size` bytes incl. FCS (+8 preamble, +12 IFG).
local function line_pps(size, gbps)
	return gbps * 1e9 / ((size + 20) * 8)
end

local function setup_plaintext(size)
	local p = txport
	if DUT_MAC then pktgen.set_mac(p, "dst", DUT_MAC) end
	pktgen.set_proto(p, "udp")
	pktgen.set_ipaddr(p, "src", "192.168.1.1/24")
	pktgen.set_ipaddr(p, "dst", "192.168.105.1")
	pktgen.set(p, "sport", 1000)
	pktgen.set(p, "dport", 2000)
	pktgen.set(p, "size", size)
	pktgen.set(p, "count", 0)
	-- 250 destinations x 256 source ports: many flows, one SA (as in the lab)
	pktgen.range.dst_ip(p, "start", "192.168.105.1")
	pktgen.range.dst_ip(p, "inc", "0.0.0.1")
	pktgen.range.dst_ip(p, "min", "192.168.105.1")
	pktgen.range.dst_ip(p, "max", "192.168.105.250")
	pktgen.range.src_ip(p, "start", "192.168.1.1")
	pktgen.range.src_ip(p, "inc", "0.0.0.0")
	pktgen.range.src_ip(p, "min", "192.168.1.1")
	pktgen.range.src_ip(p, "max", "192.168.1.1")
	pktgen.range.src_port(p, "start", 1000)
	pktgen.range.src_port(p, "inc", 1)
	pktgen.range.src_port(p, "min", 1000)
	pktgen.range.src_port(p, "max", 1255)
	pktgen.range.dst_port(p, "start", 2000)
	pktgen.range.dst_port(p, "inc", 0)
	pktgen.range.dst_port(p, "min", 2000)
	pktgen.range.dst_port(p, "max", 2000)
	pktgen.range.pkt_size(p, "start", size)
	pktgen.range.pkt_size(p, "inc", 0)
	pktgen.range.pkt_size(p, "min", size)
	pktgen.range.pkt_size(p, "max", size)
	if DUT_MAC then pktgen.range.dst_mac(p, "start", DUT_MAC) end
	pktgen.set_range(p, "on")
end

local function port_counts(port)
	local st = pktgen.portStats(port, "port")[tonumber(port)]
	return st
end

-- One trial at `pct` % of line rate: returns offered (opackets on tx), received
-- (ipackets on rx) and the rx port's imissed/ierrors (pktgen itself too slow).
local function trial(pct)
	pktgen.clr()
	pktgen.delay(200)
	pktgen.set(txport, "rate", pct)
	pktgen.start(txport)
	pktgen.delay(TRIAL_MS)
	pktgen.stop(txport)
	pktgen.delay(PAUSE_MS)
	local t, r = port_counts(txport), port_counts(rxport)
	return t.opackets, r.ipackets, r.imissed or 0, r.ierrors or 0
end

local csv = io.open(OUT, "a")
csv:write("dir,size,step,rate_pct,offered_mpps,received_mpps,loss,rx_imissed,rx_ierrors\n")

local function search(size)
	local gbps = link_gbps(txport)
	local lo, hi, pct = 0, 100, 100
	local best = nil
	for step = 1, STEPS do
		local tx, rx, missed, errs = trial(pct)
		local secs = TRIAL_MS / 1000
		local loss = tx - rx
		printf("ipsecgw %s size %s step %d: rate %.2f%% offered %.3f Mpps received %.3f Mpps loss %d (pktgen rx imissed %d)\n",
			DIR, tostring(size), step, pct, tx / secs / 1e6, rx / secs / 1e6, loss, missed)
		csv:write(string.format("%s,%s,%d,%.3f,%.4f,%.4f,%d,%d,%d\n", DIR, tostring(size), step, pct,
			tx / secs / 1e6, rx / secs / 1e6, loss, missed, errs))
		csv:flush()
		if loss <= 0 then
			lo = pct
			best = { pct = pct, mpps = tx / secs / 1e6 }
			if pct >= 100 then break end
		else
			hi = pct
		end
		pct = lo + (hi - lo) / 2
		if hi - lo < 0.1 then break end
	end
	if best then
		printf("ipsecgw %s size %s: loss-free %.2f%% of %g Gb/s = %.3f Mpps\n", DIR, tostring(size), best.pct, gbps,
			best.mpps)
		csv:write(string.format("%s,%s,lossfree,%.3f,%.4f,,,,\n", DIR, tostring(size), best.pct, best.mpps))
	else
		printf("ipsecgw %s size %s: no loss-free rate found\n", DIR, tostring(size))
	end
	return best
end

local function latency(size, best)
	if not best then return end
	for _, f in ipairs({ 0.1, 0.5, 0.9 }) do
		pktgen.clr()
		pktgen.latency(txport, "enable")
		pktgen.set(txport, "rate", best.pct * f)
		pktgen.start(txport)
		pktgen.delay(TRIAL_MS)
		pktgen.stop(txport)
		pktgen.delay(PAUSE_MS)
		local s = pktgen.pktStats(rxport)[tonumber(rxport)]
		-- Newer pktgen nests the figures in s.latency; older releases put
		-- avg_latency/min_avg_latency/max_avg_latency/jitter_count in s itself.
		local parts = {}
		if type(s.latency) == "table" then
			for k, v in pairs(s.latency) do parts[#parts + 1] = tostring(k) .. "=" .. tostring(v) end
		else
			for k, v in pairs(s) do
				if string.find(tostring(k), "latency") or string.find(tostring(k), "jitter") then
					parts[#parts + 1] = tostring(k) .. "=" .. tostring(v)
				end
			end
		end
		table.sort(parts)
		local text = table.concat(parts, " ")
		printf("ipsecgw %s size %s latency at %d%% of loss-free: %s\n", DIR, tostring(size), f * 100, text)
		csv:write(string.format("%s,%s,latency%d,%.3f,\"%s\",,,,\n", DIR, tostring(size), f * 100,
			best.pct * f, text))
		pktgen.latency(txport, "disable")
	end
end

pktgen.stop("all")
pktgen.clr()
if DIR == "in" then
	-- the ESP frames come from the pcap given with -s 1:FILE
	pktgen.pcap(txport, "on")
	pktgen.set(txport, "count", 0)
	local best = search("pcap")
	pktgen.pcap(txport, "off")
else
	for s in string.gmatch(env("IPSECGW_SIZES", "68,132,260,516,1028,1424"), "[^,]+") do
		local size = tonumber(s)
		setup_plaintext(size)
		local best = search(size)
		if LATENCY then latency(size, best) end
	end
end
csv:close()
printf("ipsecgw: results appended to %s\n", OUT)
