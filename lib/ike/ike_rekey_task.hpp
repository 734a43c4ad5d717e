// IKE SA rekey with CREATE_CHILD_SA (RFC 7296 §1.3.2, §2.18).
#pragma once

#include "ike/dh.hpp"
#include "ike/task.hpp"

namespace ipsecgw::ike {

class IkeRekeyTask : public Task {
public:
    ExchangeType exchange() const override { return ExchangeType::CreateChildSa; }
    const char* name() const override { return "ike_rekey"; }
    bool ready(IkeSa& sa) override;
    std::vector<Payload> build_request(IkeSa& sa, TimePoint now) override;
    TaskStatus on_response(IkeSa& sa, const Message& response, ByteView raw, TimePoint now) override;
    static Reply respond(IkeSa& sa, const Message& request, ByteView raw, TimePoint now);
    // A collision ends without our rekey (the peer deleted the old SA, or
    // refused ours): the SA the peer's rekey created takes over, if any.
    static void settle_for_peer_rekey(IkeSa& sa, TimePoint now);

private:
    std::unique_ptr<DhKeyPair> dh_;
    std::uint64_t new_spi_ = 0;
    Bytes nonce_;
};

}  // namespace ipsecgw::ike
