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
};

}  // namespace ipsecgw::ike
