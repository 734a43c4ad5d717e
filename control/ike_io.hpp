// How the IKE service exchanges datagrams with the outside world. The DPDK
// gateway implements it over the ControlChannel rings (control/ike_dpdk_io);
// tests connect two services through memory.
#pragma once

#include "ike/engine_types.hpp"

namespace ipsecgw::control {

class IkeIo {
public:
    virtual ~IkeIo() = default;
    // The next received IKE message (non-ESP marker already removed), false
    // when none is waiting. Never blocks.
    virtual bool receive(ike::Datagram& out) = 0;
    // Sends an IKE message; from local port 4500 it gets the non-ESP marker.
    // Never blocks (a full queue drops it: IKE retransmits).
    virtual void send(const ike::Datagram& d) = 0;
    // RFC 3948 §2.3 NAT-keepalive: one 0xFF byte in UDP from local (4500)
    // to remote.
    virtual void send_keepalive(const ike::Endpoint& local, const ike::Endpoint& remote) = 0;
};

}  // namespace ipsecgw::control
