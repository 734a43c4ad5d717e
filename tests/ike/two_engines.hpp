// Two engines joined by an in-process "network" that can lose, duplicate,
// reorder and NAT-translate datagrams. Time only moves when the test says.
#pragma once

#include <deque>
#include <functional>
#include <random>

#include "ike/engine.hpp"
#include "ike/traffic_selectors.hpp"

namespace ike_test {

using namespace ipsecgw::ike;

inline Suite gcm256(DhId dh = DhId::Curve25519) { return {EncrId::AesGcm16, 256, IntegId::None, PrfId::HmacSha2_256, dh}; }
inline Suite gcm128(DhId dh = DhId::Ecp256) { return {EncrId::AesGcm16, 128, IntegId::None, PrfId::HmacSha2_384, dh}; }
inline Suite cbc_sha256(DhId dh = DhId::Modp2048) {
    return {EncrId::AesCbc, 128, IntegId::HmacSha2_256_128, PrfId::HmacSha2_256, dh};
}
inline Suite cbc_sha512(DhId dh = DhId::Ecp384) {
    return {EncrId::AesCbc, 256, IntegId::HmacSha2_512_256, PrfId::HmacSha2_512, dh};
}

inline Endpoint addr(std::uint8_t last, std::uint16_t port = 500) { return {{192, 0, 2, last}, port}; }

inline PeerConfig peer(const std::string& name, Endpoint local, Endpoint remote, const std::string& local_id,
                       const std::string& remote_id, bool left) {
    PeerConfig p;
    p.name = name;
    p.local = local;
    p.remote = remote;
    p.local_id = {IdType::Fqdn, to_bytes(local_id)};
    p.remote_id = {IdType::Fqdn, to_bytes(remote_id)};
    p.psk = to_secret(to_bytes("correct horse battery staple"));
    p.ike_suites = {gcm256()};
    p.child.esp_suites = {gcm128(DhId::None)};
    auto net_a = ts_from_prefix(Bytes{10, 1, 0, 0}, 16);
    auto net_b = ts_from_prefix(Bytes{10, 2, 0, 0}, 16);
    p.child.local_ts = {left ? net_a : net_b};
    p.child.remote_ts = {left ? net_b : net_a};
    p.retransmit = {Duration(500), 2.0, 4};
    return p;
}

struct Link {
    // Returns how many copies of a datagram to deliver (0 drops it).
    std::function<int(const Datagram&, bool a_to_b)> copies = [](const Datagram&, bool) { return 1; };
    bool reorder = false;
    std::mt19937 rng{1};
    // NAT in front of A: A's source is rewritten to this endpoint.
    std::optional<Endpoint> nat_a;
};

struct TwoEngines {
    Engine a;
    Engine b;
    Endpoint ea = addr(1), eb = addr(2);
    PeerConfig ca, cb;
    TimePoint now{1'000'000};
    Link link;
    std::vector<SaEvent> ev_a, ev_b;
    std::vector<Datagram> wire_a_to_b, wire_b_to_a;  // everything that was sent

    explicit TwoEngines(EngineConfig cfg_b = {}) : a(EngineConfig{}), b(cfg_b) {
        ca = peer("to-b", ea, eb, "a.example", "b.example", true);
        cb = peer("to-a", eb, ea, "b.example", "a.example", false);
    }
    void configure() {
        a.add_peer(ca);
        b.add_peer(cb);
    }

    // Delivers datagrams until both sides are quiet.
    void pump(int max_rounds = 200) {
        for (int round = 0; round < max_rounds; ++round) {
            auto from_a = a.take_datagrams();
            auto from_b = b.take_datagrams();
            collect();
            if (from_a.empty() && from_b.empty()) return;
            deliver(from_a, true);
            deliver(from_b, false);
        }
    }

    void deliver(std::vector<Datagram>& batch, bool a_to_b) {
        std::vector<Datagram> arriving;
        for (auto& d : batch) {
            (a_to_b ? wire_a_to_b : wire_b_to_a).push_back(d);
            for (int i = link.copies(d, a_to_b); i > 0; --i) arriving.push_back(d);
        }
        if (link.reorder) std::shuffle(arriving.begin(), arriving.end(), link.rng);
        for (auto& d : arriving) {
            Datagram in;
            in.data = d.data;
            if (a_to_b) {
                in.local = d.remote;
                in.remote = d.local;
                // The NAT maps A's port p to p + 1000 on its public address.
                if (link.nat_a) in.remote = {link.nat_a->address, static_cast<std::uint16_t>(d.local.port + 1000)};
                b.receive(in, now);
            } else {
                in.local = d.remote;
                in.remote = d.local;
                if (link.nat_a) {
                    if (!(d.remote.address == link.nat_a->address)) continue;  // not addressed to the NAT
                    in.local = {ea.address, static_cast<std::uint16_t>(d.remote.port - 1000)};
                }
                a.receive(in, now);
            }
        }
    }

    void collect() {
        for (auto& e : a.take_events()) ev_a.push_back(std::move(e));
        for (auto& e : b.take_events()) ev_b.push_back(std::move(e));
    }

    void advance(Duration d, Duration step = Duration(100)) {
        for (Duration t{0}; t < d; t += step) {
            now += step;
            a.tick(now);
            b.tick(now);
            pump();
        }
    }

    std::uint64_t connect() {
        configure();
        std::uint64_t h = a.initiate("to-b", now);
        pump();
        return h;
    }

    static std::size_t count(const std::vector<SaEvent>& v, EventType t) {
        return static_cast<std::size_t>(std::count_if(v.begin(), v.end(), [&](const SaEvent& e) { return e.type == t; }));
    }
};

}  // namespace ike_test
