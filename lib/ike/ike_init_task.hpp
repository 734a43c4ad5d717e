// IKE_SA_INIT (RFC 7296 §1.2): SA/KE/nonce, COOKIE and INVALID_KE_PAYLOAD retries, NAT detection.
#pragma once

#include "ike/dh.hpp"
#include "ike/task.hpp"

namespace ipsecgw::ike {

class IkeInitTask : public Task {
public:
    ExchangeType exchange() const override { return ExchangeType::IkeSaInit; }
    const char* name() const override { return "ike_init"; }
    std::vector<Payload> build_request(IkeSa& sa, TimePoint now) override;
    TaskStatus on_response(IkeSa& sa, const Message& response, ByteView raw, TimePoint now) override;
    static Reply respond(IkeSa& sa, const Message& request, ByteView raw, TimePoint now);

private:
    std::unique_ptr<DhKeyPair> dh_;
    Bytes cookie_;
    DhId group_ = DhId::None;
    int restarts_ = 0;
};

}  // namespace ipsecgw::ike
