// One IKEv2 exchange, as initiator. Each exchange type is its own class
// (ike_init, ike_auth, child_create, ike_rekey, informational); the
// responder half of each is a static `respond` in the same class, so an
// exchange's logic lives in one place and does not leak into the others.
#pragma once

#include <functional>
#include <memory>
#include <string>
#include <vector>

#include "ike/engine_types.hpp"
#include "ike/message.hpp"

namespace ipsecgw::ike {

class IkeSa;

enum class TaskStatus {
    Done,    // exchange finished (successfully or with a handled failure)
    Again,   // send a fresh request with the same message ID (COOKIE, INVALID_KE)
    Failed,  // the IKE SA cannot continue
};

class Task {
public:
    virtual ~Task() = default;
    virtual ExchangeType exchange() const = 0;
    virtual const char* name() const = 0;
    // Checked just before the task gets a message ID: false drops it (the
    // CHILD_SA it was meant for is gone, say).
    virtual bool ready(IkeSa&) { return true; }
    virtual std::vector<Payload> build_request(IkeSa& sa, TimePoint now) = 0;
    // `raw` is the whole datagram (IKE_SA_INIT needs it for AUTH).
    virtual TaskStatus on_response(IkeSa& sa, const Message& response, ByteView raw, TimePoint now) = 0;
    // The retransmission limit was hit or the SA is going away.
    virtual void on_abort(IkeSa&) {}
};

// What a responder sends back, and what happens once it is on the wire.
struct Reply {
    std::vector<Payload> payloads;
    std::function<void()> after_send;
};

}  // namespace ipsecgw::ike
