-- A stand-in for pktgen-DPDK's Lua API, enough to run ipsecgw.lua's logic
-- under a plain Lua interpreter (perf/pktgen/selftest/run.sh). The "DUT"
-- forwards up to MOCK_CAPACITY_MPPS and loses the rest; links are 10 Gb/s.
local cap = tonumber(os.getenv("MOCK_CAPACITY_MPPS") or "5") * 1e6
local st = { size = 64, rate = 100, sending = false, latency = false, ms = 0, pcap = false }
local counts = { [0] = { opackets = 0, ipackets = 0 }, [1] = { opackets = 0, ipackets = 0 } }
local calls = {}
local function port(p) return tonumber(p) end
local function need(cond, msg) if not cond then error("mock pktgen: " .. msg, 3) end end
local function portlist(p) need(type(p) == "string", "portlist must be a string, got " .. type(p)) end

pktgen = { range = {} }
function pktgen.set(p, what, v)
	portlist(p); need(v ~= nil, "set " .. what .. " without a value")
	if what == "size" then st.size = v elseif what == "rate" then st.rate = v end
	calls[#calls + 1] = "set " .. what
end
function pktgen.set_mac(p, which, mac) portlist(p); need(which == "dst" or which == "src", "set_mac which"); need(mac, "mac") end
function pktgen.set_proto(p, proto) portlist(p); need(proto == "udp", "proto") end
function pktgen.set_ipaddr(p, which, a) portlist(p); need(which == "src" or which == "dst", "which"); need(a, "addr") end
for _, f in ipairs({ "dst_ip", "src_ip", "src_port", "dst_port", "pkt_size", "dst_mac", "src_mac" }) do
	pktgen.range[f] = function(p, what, v)
		portlist(p); need(what == "start" or what == "inc" or what == "min" or what == "max", f .. " " .. tostring(what))
		need(v ~= nil, f .. " value")
	end
end
function pktgen.set_range(p, on) portlist(p); need(on == "on" or on == "off", "set_range") end
function pktgen.pcap(p, on) portlist(p); st.pcap = on == "on" end
function pktgen.latency(p, on) portlist(p); st.latency = on == "enable" end
function pktgen.clr() counts[0] = { opackets = 0, ipackets = 0 }; counts[1] = { opackets = 0, ipackets = 0 } end
function pktgen.start(p) portlist(p); st.sending = true; st.tx = port(p); st.ms = 0 end
function pktgen.stop(p)
	portlist(p)
	if st.sending then
		local size = st.size
		if st.pcap then size = 68 end
		local line = 10e9 / ((size + 20) * 8)
		local offered = line * st.rate / 100 * st.ms / 1000
		local fwd = math.min(offered, cap * st.ms / 1000)
		local rx = st.tx == 0 and 1 or 0
		counts[st.tx].opackets = math.floor(offered)
		counts[rx].ipackets = math.floor(fwd)
	end
	st.sending = false
end
function pktgen.delay(ms) if st.sending then st.ms = st.ms + ms end end
function pktgen.portStats(p, kind)
	portlist(p); need(kind == "port" or kind == "rate", "portStats kind")
	local c = counts[port(p)]
	return { [port(p)] = { opackets = c.opackets, ipackets = c.ipackets, imissed = 0, ierrors = 0 }, n = 1 }
end
function pktgen.pktStats(p)
	portlist(p)
	return { [port(p)] = { avg_latency = 12, min_avg_latency = 10, max_avg_latency = 15, jitter_count = 0 }, n = 1 }
end
function pktgen.linkState(p) portlist(p); return { [port(p)] = "<UP-10000-FD>", n = 1 } end
function printf(fmt, ...) io.write(string.format(fmt, ...)) end
package.preload["Pktgen"] = function() return pktgen end
