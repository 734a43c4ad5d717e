// What the IKE service needs from the running gateway: apply a set of SA and
// policy additions and removals as ONE published table version, and read an
// SA's traffic counters. control::LiveGateway implements it; tests use a fake.
#pragma once

#include <cstdint>
#include <string>
#include <vector>

#include "gateway/gateway_config.hpp"

namespace ipsecgw::control {

struct SaChange {
    std::vector<gateway::SaEntry> add_sas;  // key material: wiped by apply_change, whatever happens
    std::vector<gateway::Policy> add_policies;  // PROTECT policies name their SA by direction + SPI
    std::vector<std::string> remove_sas;        // by name
    std::vector<std::string> remove_policies;   // by name
    bool empty() const { return add_sas.empty() && add_policies.empty() && remove_sas.empty() && remove_policies.empty(); }
};

class SaInstaller {
public:
    virtual ~SaInstaller() = default;
    // Removals first, then additions; the result is validated whole and
    // published at once. Throws CommandError and changes nothing on error.
    // Returns the new table version.
    virtual uint64_t apply_change(SaChange change) = 0;
    // Packets and bytes the workers counted on the named SA; false if unknown.
    virtual bool sa_counters(const std::string& name, uint64_t& packets, uint64_t& bytes) const = 0;
};

// SAs and policies the IKE service installed carry this as their source
// file, so a reload of the configuration file keeps them.
inline constexpr const char* kIkeSourceTag = "<ike>";

}  // namespace ipsecgw::control
