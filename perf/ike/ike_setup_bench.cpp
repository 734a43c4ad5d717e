// IKE SA setup rate: many IKEv2 initiators (one lib/ike engine, one peer
// configuration per initiator, each with its own identity) against one
// responder, counting IKE_SA_INIT + IKE_AUTH exchanges completed (the
// CHILD_SA installed) per second.
//
//   ike_setup_bench --engine-only [--count N] [--window K]
//       the responder is a second engine in this process: the engine's own
//       ceiling on one core, no sockets.
//   ike_setup_bench --local ADDR --remote ADDR [--count N] [--window K] [--delete]
//       the responder is a real one (ipsecgw, charon) at ADDR:500; UDP from
//       ADDR:500 of this namespace. The PSK is read from stdin (never argv).
//
// One JSON line on stdout. Every loop is bounded by --max-seconds.
#include <arpa/inet.h>
#include <netinet/in.h>
#include <poll.h>
#include <sys/resource.h>
#include <sys/socket.h>
#include <unistd.h>

#include <algorithm>
#include <chrono>
#include <cstdio>
#include <cstring>
#include <iostream>
#include <map>
#include <string>
#include <vector>

#include "gateway/connection_config.hpp"
#include "ike/engine.hpp"
#include "ike/traffic_selectors.hpp"

using namespace ipsecgw;
using ike::TimePoint;

namespace {

struct Options {
    bool engine_only = false;
    std::string local, remote;
    unsigned count = 200, window = 16;
    bool delete_after = false;
    double max_seconds = 60;
    std::string ike = "aes128gcm16-prfsha256-ecp256";
    std::string esp = "aes128gcm16";
};

TimePoint now_ms()
{
    return std::chrono::duration_cast<TimePoint>(std::chrono::system_clock::now().time_since_epoch());
}

double cpu_seconds()
{
    rusage ru{};
    getrusage(RUSAGE_SELF, &ru);
    return ru.ru_utime.tv_sec + ru.ru_stime.tv_sec + (ru.ru_utime.tv_usec + ru.ru_stime.tv_usec) / 1e6;
}

ike::Bytes v4(const std::string& text)
{
    in_addr a{};
    if (inet_pton(AF_INET, text.c_str(), &a) != 1)
        throw std::runtime_error("not an IPv4 address: " + text);
    auto* p = reinterpret_cast<const uint8_t*>(&a.s_addr);
    return {p[0], p[1], p[2], p[3]};
}

ike::PeerConfig initiator(const Options& o, unsigned i, const ike::Endpoint& local, const ike::Endpoint& remote,
                          const std::string& psk)
{
    ike::PeerConfig p;
    p.name = "init-" + std::to_string(i);
    p.local = local;
    p.remote = remote;
    std::string id = "init-" + std::to_string(i) + ".bench";
    p.local_id = {ike::IdType::Fqdn, ike::to_bytes(id)};
    p.psk = ike::to_secret(ike::to_bytes(psk));
    p.ike_suites = gateway::parse_ike_proposals(o.ike);
    p.child.esp_suites = gateway::parse_esp_proposals(o.esp);
    // One /32 per initiator inside 192.168.10.0/24's neighbourhood, all
    // towards the responder's protected network.
    p.child.local_ts = {ike::ts_from_prefix(ike::Bytes{10, 200, uint8_t(i >> 8), uint8_t(i)}, 32)};
    p.child.remote_ts = {ike::ts_from_prefix(ike::Bytes{192, 168, 20, 0}, 24)};
    p.liveness_interval = ike::Duration(0);
    return p;
}

struct Run {
    std::map<std::string, TimePoint> started;
    std::vector<double> latency_ms;
    std::map<std::string, unsigned> failures;
    unsigned established = 0, in_flight = 0, next = 0;
    std::vector<std::uint64_t> to_delete;
};

void collect(ike::Engine& e, Run& r, TimePoint now, bool delete_after)
{
    for (const auto& ev : e.take_events()) {
        if (ev.type == ike::EventType::ChildInstalled && !ev.replaces_spi_in) {
            auto it = r.started.find(ev.peer);
            if (it == r.started.end())
                continue;
            r.latency_ms.push_back(double((now - it->second).count()));
            r.started.erase(it);
            ++r.established;
            --r.in_flight;
            if (delete_after)
                r.to_delete.push_back(ev.ike_sa);
        } else if (ev.type == ike::EventType::Failed || ev.type == ike::EventType::IkeDeleted) {
            auto it = r.started.find(ev.peer);
            if (it == r.started.end())
                continue;  // an SA we deleted on purpose
            r.failures[ev.reason.empty() ? "failed" : ev.reason]++;
            r.started.erase(it);
            --r.in_flight;
        }
    }
}

double percentile(std::vector<double> v, double p)
{
    if (v.empty())
        return 0;
    std::sort(v.begin(), v.end());
    return v[std::min(v.size() - 1, size_t(p * double(v.size())))];
}

void report(const Options& o, const Run& r, double wall, double cpu, const char* responder)
{
    std::printf("{\"responder\":\"%s\",\"count\":%u,\"window\":%u,\"established\":%u,\"failed\":%zu,"
                "\"seconds\":%.3f,\"setups_per_s\":%.1f,\"p50_ms\":%.1f,\"p99_ms\":%.1f,\"driver_cpu_s\":%.3f",
                responder, o.count, o.window, r.established, size_t(o.count - r.established), wall,
                wall > 0 ? r.established / wall : 0.0, percentile(r.latency_ms, 0.5), percentile(r.latency_ms, 0.99),
                cpu);
    if (o.engine_only)
        std::printf(",\"setups_per_cpu_s\":%.1f", cpu > 0 ? r.established / cpu : 0.0);
    std::printf(",\"failures\":{");
    bool first = true;
    for (const auto& [why, n] : r.failures) {
        std::string w = why;
        std::replace(w.begin(), w.end(), '"', '\'');
        std::printf("%s\"%s\":%u", first ? "" : ",", w.c_str(), n);
        first = false;
    }
    std::printf("}}\n");
}

int engine_only(const Options& o)
{
    const std::string psk = "engine-only bench psk 0123456789";
    ike::Endpoint ea{{192, 0, 2, 1}, 500}, eb{{192, 0, 2, 2}, 500};
    ike::Engine initiators, responder;
    ike::PeerConfig any;
    any.name = "responder";
    any.local = eb;
    any.remote = {{}, 500};  // any peer
    any.local_id = {ike::IdType::Fqdn, ike::to_bytes("resp.bench")};
    any.psk = ike::to_secret(ike::to_bytes(psk));
    any.ike_suites = gateway::parse_ike_proposals(o.ike);
    any.child.esp_suites = gateway::parse_esp_proposals(o.esp);
    any.child.local_ts = {ike::ts_from_prefix(ike::Bytes{192, 168, 20, 0}, 24)};
    any.child.remote_ts = {ike::ts_from_prefix(ike::Bytes{0, 0, 0, 0}, 0)};
    responder.add_peer(any);
    for (unsigned i = 0; i < o.count; ++i)
        initiators.add_peer(initiator(o, i, ea, eb, psk));
    Run r;
    TimePoint t{1'000'000};
    double c0 = cpu_seconds();
    auto w0 = std::chrono::steady_clock::now();
    for (unsigned rounds = 0; (r.next < o.count || r.in_flight > 0) && rounds < 1000000; ++rounds) {
        while (r.in_flight < o.window && r.next < o.count) {
            std::string name = "init-" + std::to_string(r.next++);
            r.started[name] = t;
            ++r.in_flight;
            initiators.initiate(name, t);
        }
        // What one side sends the other receives: local and remote swap.
        for (auto& d : initiators.take_datagrams()) {
            std::swap(d.local, d.remote);
            responder.receive(d, t);
        }
        for (auto& d : responder.take_datagrams()) {
            std::swap(d.local, d.remote);
            initiators.receive(d, t);
        }
        responder.take_events();
        t += TimePoint(1);
        collect(initiators, r, t, false);
    }
    double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - w0).count();
    report(o, r, wall, cpu_seconds() - c0, "engine (in process)");
    return r.established == o.count ? 0 : 1;
}

int over_udp(const Options& o)
{
    std::string psk;
    std::getline(std::cin, psk);
    if (psk.empty())
        throw std::runtime_error("no PSK on stdin");
    int fd = socket(AF_INET, SOCK_DGRAM | SOCK_NONBLOCK, 0);
    if (fd < 0)
        throw std::runtime_error("socket: " + std::string(std::strerror(errno)));
    sockaddr_in me{};
    me.sin_family = AF_INET;
    me.sin_port = htons(500);
    auto la = v4(o.local), ra = v4(o.remote);
    std::memcpy(&me.sin_addr, la.data(), 4);
    if (bind(fd, reinterpret_cast<sockaddr*>(&me), sizeof me) != 0)
        throw std::runtime_error("bind " + o.local + ":500: " + std::strerror(errno));
    ike::Endpoint local{la, 500}, remote{ra, 500};
    ike::Engine e;
    for (unsigned i = 0; i < o.count; ++i)
        e.add_peer(initiator(o, i, local, remote, psk));
    std::fill(psk.begin(), psk.end(), '\0');
    auto send_all = [&] {
        for (const auto& d : e.take_datagrams()) {
            sockaddr_in to{};
            to.sin_family = AF_INET;
            to.sin_port = htons(d.remote.port);
            std::memcpy(&to.sin_addr, d.remote.address.data(), 4);
            // Port 4500 would need the non-ESP marker; without a NAT IKE stays on 500.
            sendto(fd, d.data.data(), d.data.size(), 0, reinterpret_cast<sockaddr*>(&to), sizeof to);
        }
    };
    Run r;
    double c0 = cpu_seconds();
    auto w0 = std::chrono::steady_clock::now();
    auto deadline = w0 + std::chrono::duration<double>(o.max_seconds);
    std::vector<uint8_t> buf(65536);
    while ((r.next < o.count || r.in_flight > 0) && std::chrono::steady_clock::now() < deadline) {
        TimePoint t = now_ms();
        while (r.in_flight < o.window && r.next < o.count) {
            std::string name = "init-" + std::to_string(r.next++);
            r.started[name] = t;
            ++r.in_flight;
            e.initiate(name, t);
        }
        send_all();
        pollfd p{fd, POLLIN, 0};
        poll(&p, 1, 1);
        for (int i = 0; i < 256; ++i) {
            sockaddr_in from{};
            socklen_t fl = sizeof from;
            ssize_t n = recvfrom(fd, buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&from), &fl);
            if (n <= 0)
                break;
            ike::Datagram d;
            d.local = local;
            auto* a = reinterpret_cast<const uint8_t*>(&from.sin_addr);
            d.remote = {ike::Bytes(a, a + 4), ntohs(from.sin_port)};
            d.data.assign(buf.begin(), buf.begin() + n);
            e.receive(d, now_ms());
        }
        e.tick(now_ms());
        collect(e, r, now_ms(), o.delete_after);
        for (auto h : r.to_delete)
            e.delete_ike(h, now_ms());
        r.to_delete.clear();
        send_all();
    }
    double wall = std::chrono::duration<double>(std::chrono::steady_clock::now() - w0).count();
    double cpu = cpu_seconds() - c0;
    // Let the DELETEs reach the responder (bounded).
    for (int i = 0; i < 200 && o.delete_after; ++i) {
        e.tick(now_ms());
        send_all();
        usleep(5000);
        sockaddr_in from{};
        socklen_t fl = sizeof from;
        while (recvfrom(fd, buf.data(), buf.size(), 0, reinterpret_cast<sockaddr*>(&from), &fl) > 0) {
            ike::Datagram d;
            d.local = local;
            auto* a = reinterpret_cast<const uint8_t*>(&from.sin_addr);
            d.remote = {ike::Bytes(a, a + 4), ntohs(from.sin_port)};
            e.receive(d, now_ms());
            fl = sizeof from;
        }
    }
    close(fd);
    report(o, r, wall, cpu, o.remote.c_str());
    return r.established == o.count ? 0 : 1;
}

}  // namespace

int main(int argc, char** argv)
{
    Options o;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto value = [&]() -> std::string {
            if (i + 1 >= argc)
                throw std::runtime_error(a + " needs a value");
            return argv[++i];
        };
        try {
            if (a == "--engine-only") o.engine_only = true;
            else if (a == "--local") o.local = value();
            else if (a == "--remote") o.remote = value();
            else if (a == "--count") o.count = unsigned(std::stoul(value()));
            else if (a == "--window") o.window = std::max(1u, unsigned(std::stoul(value())));
            else if (a == "--delete") o.delete_after = true;
            else if (a == "--max-seconds") o.max_seconds = std::stod(value());
            else if (a == "--ike") o.ike = value();
            else if (a == "--esp") o.esp = value();
            else {
                std::fprintf(stderr, "usage: ike_setup_bench --engine-only | --local ADDR --remote ADDR "
                                     "[--count N] [--window K] [--delete] [--max-seconds S] [--ike P] [--esp P]\n");
                return 2;
            }
        } catch (const std::exception& e) {
            std::fprintf(stderr, "ike_setup_bench: %s: %s\n", a.c_str(), e.what());
            return 2;
        }
    }
    try {
        if (o.count > 60000)
            throw std::runtime_error("--count: at most 60000");
        if (o.engine_only)
            return engine_only(o);
        if (o.local.empty() || o.remote.empty())
            throw std::runtime_error("--local and --remote are needed (or --engine-only)");
        return over_udp(o);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "ike_setup_bench: %s\n", e.what());
        return 1;
    }
}
