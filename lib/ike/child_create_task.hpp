// CREATE_CHILD_SA for a new CHILD_SA or a CHILD_SA rekey, with optional PFS
// (RFC 7296 §1.3.1, §1.3.3), including simultaneous-rekey resolution (§2.8.1).
#pragma once

#include "ike/dh.hpp"
#include "ike/task.hpp"

namespace ipsecgw::ike {

class ChildCreateTask : public Task {
public:
    // rekey_spi_in: our inbound SPI of the CHILD_SA to rekey; 0 for a new one.
    explicit ChildCreateTask(std::uint32_t rekey_spi_in = 0) : rekey_spi_in_(rekey_spi_in) {}
    ExchangeType exchange() const override { return ExchangeType::CreateChildSa; }
    const char* name() const override { return rekey_spi_in_ ? "child_rekey" : "child_create"; }
    std::uint32_t rekeyed_spi_in() const { return rekey_spi_in_; }
    bool ready(IkeSa& sa) override;
    std::vector<Payload> build_request(IkeSa& sa, TimePoint now) override;
    TaskStatus on_response(IkeSa& sa, const Message& response, ByteView raw, TimePoint now) override;
    void on_abort(IkeSa& sa) override;
    static Reply respond(IkeSa& sa, const Message& request, ByteView raw, TimePoint now);

private:
    std::uint32_t rekey_spi_in_;
    std::uint32_t spi_in_ = 0;
    std::unique_ptr<DhKeyPair> dh_;
    DhId group_ = DhId::None;
    bool group_chosen_ = false;
    Bytes nonce_;
    std::vector<TrafficSelector> ts_i_, ts_r_;
};

}  // namespace ipsecgw::ike
