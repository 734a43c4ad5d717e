// INFORMATIONAL exchanges (RFC 7296 §1.4): CHILD_SA delete, IKE SA delete,
// and the empty request that checks the peer is alive.
#pragma once

#include "ike/task.hpp"

namespace ipsecgw::ike {

class ChildDeleteTask : public Task {
public:
    explicit ChildDeleteTask(std::uint32_t spi_in) : spi_in_(spi_in) {}
    ExchangeType exchange() const override { return ExchangeType::Informational; }
    const char* name() const override { return "child_delete"; }
    std::uint32_t spi_in() const { return spi_in_; }
    bool ready(IkeSa& sa) override;
    std::vector<Payload> build_request(IkeSa& sa, TimePoint now) override;
    TaskStatus on_response(IkeSa& sa, const Message& response, ByteView raw, TimePoint now) override;

private:
    std::uint32_t spi_in_;
};

class IkeDeleteTask : public Task {
public:
    ExchangeType exchange() const override { return ExchangeType::Informational; }
    const char* name() const override { return "ike_delete"; }
    std::vector<Payload> build_request(IkeSa& sa, TimePoint now) override;
    TaskStatus on_response(IkeSa& sa, const Message& response, ByteView raw, TimePoint now) override;
};

class LivenessTask : public Task {
public:
    ExchangeType exchange() const override { return ExchangeType::Informational; }
    const char* name() const override { return "liveness"; }
    std::vector<Payload> build_request(IkeSa& sa, TimePoint now) override;
    TaskStatus on_response(IkeSa& sa, const Message& response, ByteView raw, TimePoint now) override;
};

// Responder side of every INFORMATIONAL request.
Reply respond_informational(IkeSa& sa, const Message& request, TimePoint now);

}  // namespace ipsecgw::ike
