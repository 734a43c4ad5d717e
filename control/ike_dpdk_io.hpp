// IkeIo over the workers' ControlChannel: punted mbufs in, tx mbufs out.
// Never blocks: an empty ring is "nothing received", a full one a counted drop.
#pragma once

#include <cstdint>

#include "control/ike_io.hpp"
#include "control/ike_packet.hpp"
#include "dataplane/control_channel.hpp"

namespace ipsecgw::control {

class IkeDpdkIo : public IkeIo {
public:
    explicit IkeDpdkIo(const dataplane::ControlChannel& channel) : ch_(channel) {}

    bool receive(ike::Datagram& out) override;
    void send(const ike::Datagram& d) override;
    void send_keepalive(const ike::Endpoint& local, const ike::Endpoint& remote) override;

    struct Counters {
        uint64_t received = 0, sent = 0, keepalives = 0;
        uint64_t malformed = 0;      // punted packets parse_ike_packet refused
        uint64_t tx_ring_full = 0, no_mbuf = 0, unbuildable = 0;
    };
    const Counters& counters() const { return counters_; }

private:
    void transmit(const std::vector<uint8_t>& packet);

    const dataplane::ControlChannel& ch_;
    Counters counters_;
    std::vector<uint8_t> rx_buf_, tx_buf_;
};

}  // namespace ipsecgw::control
