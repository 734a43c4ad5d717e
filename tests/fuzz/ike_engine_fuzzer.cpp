// libFuzzer target: arbitrary datagrams thrown at a responder engine (and
// at an initiator waiting for its IKE_SA_INIT response) must never crash it.
#include <cstddef>
#include <cstdint>

#include "ike/engine.hpp"
#include "ike/traffic_selectors.hpp"

using namespace ipsecgw::ike;

namespace {

PeerConfig fuzz_peer(bool initiator) {
    PeerConfig p;
    p.name = "peer";
    p.local = {{192, 0, 2, static_cast<std::uint8_t>(initiator ? 1 : 2)}, 500};
    p.remote = {{192, 0, 2, static_cast<std::uint8_t>(initiator ? 2 : 1)}, 500};
    p.local_id = {IdType::Fqdn, to_bytes(initiator ? "a" : "b")};
    p.psk = to_secret(to_bytes("fuzz"));
    p.ike_suites = {{EncrId::AesGcm16, 128, IntegId::None, PrfId::HmacSha2_256, DhId::Curve25519}};
    p.child.esp_suites = {{EncrId::AesGcm16, 128, IntegId::None, PrfId::HmacSha2_256, DhId::None}};
    p.child.local_ts = {ts_from_prefix(Bytes{10, 0, 0, 0}, 8)};
    p.child.remote_ts = p.child.local_ts;
    return p;
}

}  // namespace

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    Bytes input(data, data + size);
    TimePoint now{1000};
    Engine responder;
    responder.add_peer(fuzz_peer(false));
    responder.receive(Datagram{{{192, 0, 2, 2}, 500}, {{192, 0, 2, 1}, 500}, input}, now);
    responder.tick(now + Duration(5000));

    Engine initiator;
    initiator.add_peer(fuzz_peer(true));
    initiator.initiate("peer", now);
    auto sent = initiator.take_datagrams();
    // Make the input look like a response to our request where it can.
    if (size >= 28 && !sent.empty()) std::copy(sent[0].data.begin(), sent[0].data.begin() + 8, input.begin());
    initiator.receive(Datagram{{{192, 0, 2, 1}, 500}, {{192, 0, 2, 2}, 500}, input}, now);
    initiator.tick(now + Duration(60'000));
    return 0;
}
