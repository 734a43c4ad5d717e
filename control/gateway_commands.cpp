#include "control/gateway_commands.hpp"

#include <rte_ethdev.h>
#include <rte_log.h>
#include <rte_cycles.h>
#include <rte_version.h>

#include <cstdio>
#include <memory>

#include "control/prometheus.hpp"
#include "dataplane/counter_report.hpp"
#include "dataplane/drop_reason.hpp"

namespace ipsecgw::control {

namespace {

using dataplane::kMaxPorts;

const char* dir_name(esp::Direction d) { return d == esp::Direction::Inbound ? "in" : "out"; }

const char* state_name(esp::SaState s)
{
    return s == esp::SaState::Active ? "active" : s == esp::SaState::Dead ? "dead" : "exhausted";
}

std::string mac_text(const uint8_t* m)
{
    char b[32];
    std::snprintf(b, sizeof b, "%02x:%02x:%02x:%02x:%02x:%02x", m[0], m[1], m[2], m[3], m[4], m[5]);
    return b;
}

std::string range_text(uint64_t lo, uint64_t hi, uint64_t max)
{
    if (lo == 0 && hi == max)
        return "any";
    return lo == hi ? std::to_string(lo) : std::to_string(lo) + "-" + std::to_string(hi);
}

std::string prefix_text(const net::IpPrefix& p) { return p.len == 0 ? "any" : p.to_string(); }

struct PortTotals {
    uint64_t rx_packets = 0, rx_bytes = 0, tx_packets = 0, tx_bytes = 0;
};

PortTotals port_totals(const GatewayView& v, unsigned p)
{
    PortTotals t;
    for (const auto* c : *v.counters) {
        t.rx_packets += c->ports[p].rx_packets.get();
        t.rx_bytes += c->ports[p].rx_bytes.get();
        t.tx_packets += c->ports[p].tx_packets.get();
        t.tx_bytes += c->ports[p].tx_bytes.get();
    }
    return t;
}

uint64_t drop_total(const GatewayView& v, unsigned d)
{
    uint64_t n = 0;
    for (const auto* c : *v.counters)
        n += c->drops[d].get();
    return n;
}

uint64_t uptime_s(const GatewayView& v)
{
    return static_cast<uint64_t>(
        std::chrono::duration_cast<std::chrono::seconds>(std::chrono::steady_clock::now() - v.started).count());
}

Json sa_row(const GatewayView& v, uint32_t slot)
{
    const auto& s = v.tables().sas[slot];
    const esp::Sa& sa = *s.sa;
    const esp::SaConfig& c = sa.config();  // no key material in this copy
    auto tot = dataplane::sa_totals(*v.counters, slot);
    Json r = Json::object();
    r.set("name", s.name);
    r.set("dir", dir_name(sa.direction()));
    r.set("spi", sa.spi());
    r.set("aead", esp::aead_name(sa.aead()));
    r.set("mode", sa.mode() == esp::Mode::Tunnel ? "tunnel" : "transport");
    r.set("local", sa.mode() == esp::Mode::Tunnel ? Json(c.tunnel_src.to_string()) : Json());
    r.set("remote", sa.mode() == esp::Mode::Tunnel ? Json(c.tunnel_dst.to_string()) : Json());
    r.set("esn", sa.esn());
    r.set("state", state_name(sa.state()));
    if (sa.direction() == esp::Direction::Outbound) {
        r.set("seq", sa.last_seq());
        r.set("replay_window", Json());
    } else {
        // Highest accepted sequence number (read racily for display only).
        r.set("seq", sa.replay().highest());
        r.set("replay_window", sa.replay().enabled() ? Json(sa.replay().size()) : Json("off"));
    }
    r.set("packets", tot.packets);
    r.set("bytes", tot.bytes);
    // Drops of packets already tied to this SA: the total, and by reason (non-zero only).
    Json drops = Json::object();
    for (unsigned d = 0; d < dataplane::kSaDropCount; ++d)
        if (tot.drops[d])
            drops.set(std::string(dataplane::sa_drop_name(static_cast<dataplane::SaDrop>(d))), tot.drops[d]);
    r.set("drops_total", tot.drops_total());
    r.set("drops", std::move(drops));
    return r;
}

Json sa_detail(const GatewayView& v, uint32_t slot)
{
    Json r = sa_row(v, slot);
    const auto& s = v.tables().sas[slot];
    auto tot = dataplane::sa_totals(*v.counters, slot);
    const auto& l = s.lifetime;
    auto left = [](uint64_t limit, uint64_t used) -> Json {
        if (!limit)
            return Json();
        return Json(limit > used ? limit - used : 0);
    };
    Json life = Json::object();
    uint64_t age = uptime_s(v);
    life.set("soft_packets_left", left(l.soft_packets, tot.packets));
    life.set("hard_packets_left", left(l.hard_packets, tot.packets));
    life.set("soft_bytes_left", left(l.soft_bytes, tot.bytes));
    life.set("hard_bytes_left", left(l.hard_bytes, tot.bytes));
    life.set("soft_seconds_left", left(l.soft_seconds, age));
    life.set("hard_seconds_left", left(l.hard_seconds, age));
    r.set("lifetime", std::move(life));
    Json sel = Json::array();
    if (v.config())
        for (const auto& p : v.config()->spd.policies())
            if (p.action == gateway::PolicyAction::Protect && p.spi == s.sa->spi() &&
                p.direction == s.sa->direction()) {
                Json x = Json::object();
                x.set("policy", p.name);
                x.set("src", prefix_text(p.selector.src));
                x.set("dst", prefix_text(p.selector.dst));
                x.set("proto", range_text(p.selector.proto_lo, p.selector.proto_hi, 255));
                x.set("sport", range_text(p.selector.sport.lo, p.selector.sport.hi, 65535));
                x.set("dport", range_text(p.selector.dport.lo, p.selector.dport.hi, 65535));
                sel.push(std::move(x));
            }
    r.set("selectors", std::move(sel));
    return r;
}

[[noreturn]] void not_yet(const std::string& what)
{
    throw CommandError(err::kNotSupported,
                       what + " is not available in this build yet (live table updates are not wired; "
                              "change the configuration file and restart)");
}

}  // namespace

void register_gateway_commands(Dispatcher& d, GatewayView& v)
{
    GatewayView* vp = &v;

    d.add("show.status", "version, uptime, lcores, ports", [vp](const Request&) {
        const GatewayView& v = *vp;
        Json r = Json::object();
        r.set("version", v.version);
        r.set("dpdk", rte_version());
        r.set("protocol", kProtocolVersion);
        r.set("uptime_s", uptime_s(v));
        r.set("config", v.config_path);
        Json lc = Json::array();
        Json c = Json::object();
        c.set("lcore", v.control_lcore);
        c.set("role", v.control_is_thread ? "control (thread)" : "control");
        lc.push(std::move(c));
        for (size_t i = 0; i < v.worker_lcores.size(); ++i) {
            Json w = Json::object();
            w.set("lcore", v.worker_lcores[i]);
            w.set("role", "worker " + std::to_string(i));
            lc.push(std::move(w));
        }
        Json ports = Json::array();
        for (unsigned p = 0; p < kMaxPorts; ++p) {
            if (!v.tables().ports[p].enabled)
                continue;
            rte_eth_link link{};
            bool up = rte_eth_link_get_nowait(static_cast<uint16_t>(p), &link) == 0 && link.link_status;
            Json x = Json::object();
            x.set("port", p);
            x.set("role", v.tables().ports[p].role == gateway::PortRole::Protected ? "protected" : "unprotected");
            x.set("link", up ? "up" : "down");
            x.set("mac", mac_text(v.tables().ports[p].mac.addr_bytes));
            ports.push(std::move(x));
        }
        size_t live_sas = 0;
        for (const auto& s : v.tables().sas)
            live_sas += s.sa ? 1 : 0;
        r.set("sas", live_sas);
        r.set("policies", v.tables().policies.size());
        r.set("lcores", std::move(lc));
        r.set("ports", std::move(ports));
        return r;
    });

    // Rates: difference to the previous "show ports" (or to start).
    struct Sample {
        std::chrono::steady_clock::time_point at;
        PortTotals t[kMaxPorts];
    };
    auto prev = std::make_shared<Sample>();
    prev->at = v.started;
    d.add("show.ports", "per port: link, packets, bytes, rates, drops", [vp, prev](const Request&) {
        const GatewayView& v = *vp;
        auto now = std::chrono::steady_clock::now();
        double dt = std::chrono::duration<double>(now - prev->at).count();
        Json rows = Json::array();
        for (unsigned p = 0; p < kMaxPorts; ++p) {
            if (!v.tables().ports[p].enabled)
                continue;
            PortTotals t = port_totals(v, p);
            rte_eth_link link{};
            bool up = rte_eth_link_get_nowait(static_cast<uint16_t>(p), &link) == 0 && link.link_status;
            rte_eth_stats st{};
            bool have = rte_eth_stats_get(static_cast<uint16_t>(p), &st) == 0;
            Json x = Json::object();
            x.set("port", p);
            x.set("link", up ? "up" : "down");
            x.set("speed_mbps", up ? Json(link.link_speed) : Json());
            x.set("rx_packets", t.rx_packets);
            x.set("rx_bytes", t.rx_bytes);
            x.set("tx_packets", t.tx_packets);
            x.set("tx_bytes", t.tx_bytes);
            auto rate = [&](uint64_t now_v, uint64_t then_v) -> Json {
                if (dt <= 0)
                    return Json(0);
                return Json(static_cast<uint64_t>(static_cast<double>(now_v - then_v) / dt));
            };
            x.set("rx_pps", rate(t.rx_packets, prev->t[p].rx_packets));
            x.set("tx_pps", rate(t.tx_packets, prev->t[p].tx_packets));
            x.set("rx_missed", have ? Json(st.imissed) : Json());
            x.set("rx_errors", have ? Json(st.ierrors) : Json());
            x.set("tx_errors", have ? Json(st.oerrors) : Json());
            rows.push(std::move(x));
            prev->t[p] = t;
        }
        prev->at = now;
        Json r = Json::object();
        r.set("ports", std::move(rows));
        return r;
    });

    d.add("show.sa", "SAs (never keys); args: spi, dir", [vp](const Request& rq) {
        const GatewayView& v = *vp;
        int64_t spi = rq.int_arg("spi", 0, 0xffffffffLL, false, -1);
        std::string dir = rq.string_arg("dir", false);
        if (!dir.empty() && dir != "in" && dir != "out")
            throw CommandError(err::kInvalidArgument, "dir must be in or out");
        Json rows = Json::array();
        for (uint32_t i = 0; i < v.tables().sas.size(); ++i) {
            if (!v.tables().sas[i].sa)
                continue;  // free slot
            const esp::Sa& sa = *v.tables().sas[i].sa;
            if (spi >= 0 && sa.spi() != static_cast<uint32_t>(spi))
                continue;
            if (!dir.empty() && dir != dir_name(sa.direction()))
                continue;
            rows.push(spi >= 0 ? sa_detail(v, i) : sa_row(v, i));
        }
        if (spi >= 0 && rows.size() == 0)
            throw CommandError(err::kNotFound, "no SA with SPI " + std::to_string(spi));
        Json r = Json::object();
        if (spi >= 0 && rows.size() == 1)
            return rows.as_array()[0];
        r.set("sas", std::move(rows));
        return r;
    });

    d.add("show.policy", "security policies", [vp](const Request&) {
        const GatewayView& v = *vp;
        Json rows = Json::array();
        if (v.config()) {
            auto ranks = v.config()->spd.precedence_ranks();
            const auto& ps = v.config()->spd.policies();
            for (size_t i = 0; i < ps.size(); ++i) {
                const auto& p = ps[i];
                Json x = Json::object();
                x.set("name", p.name);
                x.set("dir", dir_name(p.direction));
                x.set("priority", p.priority);
                x.set("rank", i < ranks.size() ? Json(ranks[i]) : Json());
                x.set("family", p.selector.family == net::Family::V6 ? "ipv6" : "ipv4");
                x.set("src", prefix_text(p.selector.src));
                x.set("dst", prefix_text(p.selector.dst));
                x.set("proto", range_text(p.selector.proto_lo, p.selector.proto_hi, 255));
                x.set("sport", range_text(p.selector.sport.lo, p.selector.sport.hi, 65535));
                x.set("dport", range_text(p.selector.dport.lo, p.selector.dport.hi, 65535));
                x.set("action", gateway::policy_action_name(p.action));
                x.set("spi", p.action == gateway::PolicyAction::Protect ? Json(p.spi) : Json());
                rows.push(std::move(x));
            }
        }
        Json r = Json::object();
        r.set("default", gateway::policy_action_name(v.tables().default_action));
        r.set("policies", std::move(rows));
        return r;
    });

    d.add("show.routes", "routes", [vp](const Request&) {
        Json rows = Json::array();
        if (vp->config())
            for (const auto& rt : vp->config()->routes.routes()) {
                Json x = Json::object();
                x.set("prefix", rt.prefix.to_string());
                x.set("port", rt.port);
                x.set("via", rt.via ? Json(rt.via->to_string()) : Json("on-link"));
                rows.push(std::move(x));
            }
        Json r = Json::object();
        r.set("routes", std::move(rows));
        return r;
    });

    d.add("show.neighbors", "static neighbours", [vp](const Request&) {
        Json rows = Json::array();
        if (vp->config())
            for (const auto& n : vp->config()->neighbours.entries()) {
                Json x = Json::object();
                x.set("address", n.address ? n.address->to_string() : std::string("default"));
                x.set("port", n.port);
                x.set("mac", mac_text(n.mac.data()));
                rows.push(std::move(x));
            }
        Json r = Json::object();
        r.set("neighbors", std::move(rows));
        return r;
    });

    d.add("show.stats", "counters per lcore and per drop reason; args: format=prometheus", [vp](const Request& rq) {
        const GatewayView& v = *vp;
        std::string fmt = rq.string_arg("format", false, "json");
        if (fmt == "prometheus") {
            PromWriter w;
            w.sample("ipsecgw_uptime_seconds", "gauge", "Seconds since the gateway started.", {}, uptime_s(v));
            for (unsigned p = 0; p < kMaxPorts; ++p) {
                if (!v.tables().ports[p].enabled)
                    continue;
                PortTotals t = port_totals(v, p);
                std::string ps = std::to_string(p);
                w.sample("ipsecgw_port_rx_packets_total", "counter", "Packets received per port.", {{"port", ps}}, t.rx_packets);
                w.sample("ipsecgw_port_rx_bytes_total", "counter", "Bytes received per port.", {{"port", ps}}, t.rx_bytes);
                w.sample("ipsecgw_port_tx_packets_total", "counter", "Packets sent per port.", {{"port", ps}}, t.tx_packets);
                w.sample("ipsecgw_port_tx_bytes_total", "counter", "Bytes sent per port.", {{"port", ps}}, t.tx_bytes);
            }
            for (size_t i = 0; i < v.counters->size(); ++i) {
                uint64_t n = 0;
                for (unsigned d = 1; d < dataplane::kDropCount; ++d)
                    if (dataplane::counts_as_drop(static_cast<dataplane::Drop>(d)))
                        n += (*v.counters)[i]->drops[d].get();
                w.sample("ipsecgw_lcore_drops_total", "counter", "Packets dropped per worker lcore.",
                         {{"lcore", std::to_string(v.worker_lcores[i])}}, n);
            }
            for (unsigned d = 1; d < dataplane::kDropCount; ++d) {
                if (!dataplane::counts_as_drop(static_cast<dataplane::Drop>(d)))
                    continue;
                auto name = dataplane::drop_name(static_cast<dataplane::Drop>(d));
                w.sample("ipsecgw_drops_total", "counter", "Packets dropped, by reason.",
                         {{"reason", std::string(name)}}, drop_total(v, d));
            }
            w.sample("ipsecgw_punted_total", "counter", "IKE packets handed to the control core.", {},
                     drop_total(v, static_cast<unsigned>(dataplane::Drop::Punted)));
            for (uint32_t i = 0; i < v.tables().sas.size(); ++i) {
                const auto& s = v.tables().sas[i];
                if (!s.sa)
                    continue;
                auto tot = dataplane::sa_totals(*v.counters, i);
                std::string spi = std::to_string(s.sa->spi());
                w.sample("ipsecgw_sa_packets_total", "counter", "Packets processed per SA.",
                         {{"sa", s.name}, {"spi", spi}, {"dir", dir_name(s.sa->direction())}}, tot.packets);
                w.sample("ipsecgw_sa_bytes_total", "counter", "Plaintext bytes processed per SA.",
                         {{"sa", s.name}, {"spi", spi}, {"dir", dir_name(s.sa->direction())}}, tot.bytes);
            }
            Json r = Json::object();
            r.set("text", w.text());
            return r;
        }
        if (fmt != "json")
            throw CommandError(err::kInvalidArgument, "format must be json or prometheus");
        Json lcores = Json::array();
        for (size_t i = 0; i < v.counters->size(); ++i) {
            const auto* c = (*v.counters)[i];
            uint64_t rx = 0, tx = 0, rxb = 0, txb = 0, drops = 0;
            for (unsigned p = 0; p < kMaxPorts; ++p) {
                rx += c->ports[p].rx_packets.get();
                rxb += c->ports[p].rx_bytes.get();
                tx += c->ports[p].tx_packets.get();
                txb += c->ports[p].tx_bytes.get();
            }
            for (unsigned d = 1; d < dataplane::kDropCount; ++d)
                if (dataplane::counts_as_drop(static_cast<dataplane::Drop>(d)))
                    drops += c->drops[d].get();
            Json x = Json::object();
            x.set("lcore", v.worker_lcores[i]);
            x.set("worker", i);
            x.set("rx_packets", rx);
            x.set("rx_bytes", rxb);
            x.set("tx_packets", tx);
            x.set("tx_bytes", txb);
            x.set("drops", drops);
            lcores.push(std::move(x));
        }
        Json drops = Json::array();
        uint64_t total = 0;
        for (unsigned d = 1; d < dataplane::kDropCount; ++d) {
            if (!dataplane::counts_as_drop(static_cast<dataplane::Drop>(d)))
                continue;
            uint64_t n = drop_total(v, d);
            total += n;
            if (!n && !rq.bool_arg("all"))
                continue;
            Json x = Json::object();
            x.set("reason", std::string(dataplane::drop_name(static_cast<dataplane::Drop>(d))));
            x.set("packets", n);
            drops.push(std::move(x));
        }
        Json r = Json::object();
        r.set("uptime_s", uptime_s(v));
        r.set("total_drops", total);
        r.set("punted", drop_total(v, static_cast<unsigned>(dataplane::Drop::Punted)));
        r.set("lcores", std::move(lcores));
        r.set("drops", std::move(drops));
        return r;
    });

    d.add("show.ike", "IKE SAs", [](const Request&) -> Json {
        Json r = Json::object();
        r.set("ike_sas", Json::array());
        r.set("note", "IKEv2 is not running in this gateway (manual keying only)");
        return r;
    });

    d.add("log-level", "set the global DPDK/ipsecgw log level", [](const Request& rq) {
        std::string lvl = rq.string_arg("level");
        static const std::map<std::string, uint32_t> levels = {
            {"emerg", RTE_LOG_EMERG}, {"alert", RTE_LOG_ALERT}, {"crit", RTE_LOG_CRIT}, {"error", RTE_LOG_ERR},
            {"err", RTE_LOG_ERR}, {"warning", RTE_LOG_WARNING}, {"notice", RTE_LOG_NOTICE}, {"info", RTE_LOG_INFO},
            {"debug", RTE_LOG_DEBUG}};
        auto it = levels.find(lvl);
        if (it == levels.end())
            throw CommandError(err::kInvalidArgument,
                               "unknown level '" + lvl + "' (emerg|alert|crit|error|warning|notice|info|debug)");
        uint32_t before = rte_log_get_global_level();
        rte_log_set_global_level(it->second);
        Json r = Json::object();
        r.set("previous", static_cast<int64_t>(before));
        r.set("level", lvl);
        return r;
    });

    d.add("shutdown", "stop the gateway", [vp](const Request&) {
        if (vp->stop)
            vp->stop->store(true);
        Json r = Json::object();
        r.set("stopping", true);
        return r;
    });

    if (v.tracer) {
        struct TraceState {
            std::vector<dataplane::TraceRecord> got;
            uint64_t armed_tsc = 0;
        };
        auto ts = std::make_shared<TraceState>();
        auto collect = [vp, ts] {
            dataplane::TraceRecord buf[256];
            for (int round = 0; round < 64; ++round) {
                unsigned n = vp->tracer->drain(buf, 256);
                for (unsigned i = 0; i < n && ts->got.size() < 100000; ++i)
                    ts->got.push_back(buf[i]);
                if (n < 256)
                    break;
            }
        };
        d.add("trace", "record the decisions for the next N packets; args: count", [vp, ts, collect](const Request& rq) {
            int64_t n = rq.int_arg("count", 1, 100000);
            vp->tracer->arm(0);
            collect();
            ts->got.clear();
            ts->armed_tsc = rte_rdtsc();
            vp->tracer->arm(n);
            Json r = Json::object();
            r.set("armed", n);
            return r;
        });
        d.add("trace.show", "the decisions recorded since the last trace", [vp, ts, collect](const Request&) {
            collect();
            double hz = static_cast<double>(rte_get_tsc_hz());
            Json rows = Json::array();
            for (const auto& t : ts->got) {
                Json x = Json::object();
                x.set("us", static_cast<int64_t>(static_cast<double>(t.tsc - ts->armed_tsc) * 1e6 / hz));
                x.set("worker", t.worker);
                x.set("in_port", t.in_port);
                std::string src = "-", dst = "-";
                if (t.family == 4 || t.family == 6) {
                    src = net::IpAddress::from_bytes(t.family == 4 ? net::Family::V4 : net::Family::V6, t.src).to_string();
                    dst = net::IpAddress::from_bytes(t.family == 4 ? net::Family::V4 : net::Family::V6, t.dst).to_string();
                }
                x.set("src", src);
                x.set("dst", dst);
                x.set("proto", t.family ? Json(t.proto) : Json());
                x.set("len", t.len);
                bool dropped = t.out_port == UINT16_MAX;
                x.set("decision", dropped ? "drop" : "forward");
                x.set("out_port", dropped ? Json() : Json(t.out_port));
                x.set("reason", dropped ? Json(std::string(dataplane::drop_name(static_cast<dataplane::Drop>(t.verdict))))
                                        : Json());
                rows.push(std::move(x));
            }
            Json r = Json::object();
            r.set("pending", vp->tracer->left());
            r.set("packets", std::move(rows));
            return r;
        });
    }

    for (const char* c : {"sa.add", "sa.del", "policy.add", "policy.del", "route.add", "route.del", "neighbor.add",
                          "neighbor.del", "reload", "trace"}) {
        if (d.has(c))
            continue;
        std::string name = c;
        d.add(name, "(not available yet)", [name](const Request& rq) -> Json {
            // Never keep key material around longer than needed, even when refusing.
            if (const Json* k = rq.arg("key"); k && k->is_string()) {
                auto& s = const_cast<std::string&>(k->as_string());
                std::fill(s.begin(), s.end(), '\0');
            }
            not_yet(name);
        });
    }
}

}  // namespace ipsecgw::control
