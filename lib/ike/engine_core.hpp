// What IKE SAs and their tasks need from the engine that owns them.
#pragma once

#include <memory>

#include "ike/engine_types.hpp"

namespace ipsecgw::ike {

class IkeSa;

class EngineCore {
public:
    virtual ~EngineCore() = default;
    virtual void emit(SaEvent event) = 0;
    virtual void send(Datagram datagram) = 0;
    virtual std::uint32_t allocate_child_spi() = 0;
    virtual std::uint64_t allocate_ike_spi() = 0;
    // Takes ownership of the IKE SA a rekey produced.
    virtual void adopt(std::unique_ptr<IkeSa> sa) = 0;
    virtual const EngineConfig& config() const = 0;
    // INITIAL_CONTACT (§3.10.1) arrived on `sa`, now authenticated: forget
    // every other IKE SA between the same identities without a DELETE.
    virtual void initial_contact(IkeSa&) {}
    // Whether another IKE SA to the same configured peer is up (then ours is
    // not the initial contact).
    virtual bool has_other_ike_sa(const IkeSa&) const { return false; }
};

}  // namespace ipsecgw::ike
