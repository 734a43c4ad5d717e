// A negotiated CHILD_SA as the IKE SA tracks it.
#pragma once

#include "ike/engine_types.hpp"

namespace ipsecgw::ike {

struct ChildSa {
    enum class State { Installed, Rekeying, Rekeyed, Deleting };

    std::uint32_t spi_in = 0;
    std::uint32_t spi_out = 0;
    Suite suite;
    ChildKeys keys;  // "i" = initiator of the exchange that created it
    bool created_as_initiator = false;
    bool transport_mode = false;
    std::vector<TrafficSelector> local_ts, remote_ts;
    TimePoint rekey_at{0}, expire_at{0};
    State state = State::Installed;
    std::optional<Bytes> virtual_ip;

    // RFC 7296 §2.8.1 collision bookkeeping: the lowest nonce of each
    // exchange that rekeyed this SA, and the SA it produced.
    Bytes our_rekey_min_nonce;
    std::uint32_t our_rekey_new_spi_in = 0;
    Bytes peer_rekey_min_nonce;
    std::uint32_t peer_rekey_new_spi_in = 0;

    const SecretBytes& encr_out() const { return created_as_initiator ? keys.encr_i : keys.encr_r; }
    const SecretBytes& integ_out() const { return created_as_initiator ? keys.integ_i : keys.integ_r; }
    const SecretBytes& encr_in() const { return created_as_initiator ? keys.encr_r : keys.encr_i; }
    const SecretBytes& integ_in() const { return created_as_initiator ? keys.integ_r : keys.integ_i; }
};

}  // namespace ipsecgw::ike
