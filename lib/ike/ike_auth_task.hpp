// IKE_AUTH (RFC 7296 §1.2): identities, AUTH (PSK or signatures), the first CHILD_SA.
#pragma once

#include "ike/dh.hpp"
#include "ike/task.hpp"

namespace ipsecgw::ike {

class IkeAuthTask : public Task {
public:
    ExchangeType exchange() const override { return ExchangeType::IkeAuth; }
    const char* name() const override { return "ike_auth"; }
    std::vector<Payload> build_request(IkeSa& sa, TimePoint now) override;
    TaskStatus on_response(IkeSa& sa, const Message& response, ByteView raw, TimePoint now) override;
    static Reply respond(IkeSa& sa, const Message& request, ByteView raw, TimePoint now);

private:
    std::uint32_t child_spi_in_ = 0;
};

}  // namespace ipsecgw::ike
