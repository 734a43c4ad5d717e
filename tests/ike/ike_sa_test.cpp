// One IKE SA driven directly with hand-made protected messages: the
// responder answers malformed-but-authentic requests with the right notify.
#include <gtest/gtest.h>

#include "ike/engine_core.hpp"
#include "ike/ike_sa.hpp"
#include "ike/sk_cipher.hpp"
#include "two_engines.hpp"

using namespace ike_test;

namespace {

class FakeCore : public EngineCore {
public:
    void emit(SaEvent e) override { events.push_back(std::move(e)); }
    void send(Datagram d) override { sent.push_back(std::move(d)); }
    std::uint32_t allocate_child_spi() override { return ++spi; }
    std::uint64_t allocate_ike_spi() override { return ++spi; }
    void adopt(std::unique_ptr<IkeSa>) override {}
    const EngineConfig& config() const override { return cfg; }

    EngineConfig cfg;
    std::vector<SaEvent> events;
    std::vector<Datagram> sent;
    std::uint32_t spi = 1000;
};

struct Fixture {
    FakeCore core;
    Suite suite = gcm256();
    IkeKeys keys = derive_ike_keys(suite, random_bytes(32), random_bytes(32), random_bytes(32), 11, 22);
    IkeSa sa{core, 1, peer("to-a", addr(2), addr(1), "b", "a", false), false, TimePoint(0)};

    Fixture() {
        sa.spi_i = 11;
        sa.spi_r = 22;
        sa.suite = suite;
        sa.keys = keys;
        sa.state = IkeSa::State::Established;
    }

    // Sends a protected request from the (imaginary) initiator with a raw inner chain.
    void request(std::uint32_t mid, PayloadType first, const Bytes& chain) {
        Header h;
        h.spi_i = 11;
        h.spi_r = 22;
        h.exchange = ExchangeType::Informational;
        h.flags = header_flags::kInitiator;
        h.message_id = mid;
        Datagram d{addr(2), addr(1), seal_message(h, first, chain, keys.initiator_sk())};
        ParseResult p = parse_message(d.data);
        ASSERT_TRUE(p.ok());
        sa.on_datagram(d, p, TimePoint(0));
    }

    // Decrypts the one reply the SA sent.
    std::optional<Message> reply() {
        if (core.sent.size() != 1) return std::nullopt;
        Bytes wire = core.sent.front().data;
        core.sent.clear();
        ParseResult p = parse_message(wire);
        if (!p.ok()) return std::nullopt;
        auto plain = open_message(wire, p.encrypted_offset, PayloadType::Encrypted, keys.responder_sk());
        if (!plain) return std::nullopt;
        auto sk = p.message.find<EncryptedPayload>(PayloadType::Encrypted);
        ParseResult inner = parse_payload_chain(sk->first_inner, *plain);
        if (!inner.ok()) return std::nullopt;
        inner.message.header = p.message.header;
        return inner.message;
    }
};

Bytes chain_of(const std::vector<Payload>& payloads) {
    Bytes out;
    Writer w(out);
    encode_payload_chain(w, payloads);
    return out;
}

}  // namespace

TEST(IkeSaResponder, UnknownCriticalPayloadInsideSk) {
    Fixture f;
    Bytes chain = {0, 0x80, 0, 6, 0xab, 0xcd};  // type 200, critical, 2 bytes of body
    f.request(0, static_cast<PayloadType>(200), chain);
    auto r = f.reply();
    ASSERT_TRUE(r);
    EXPECT_TRUE(r->header.is_response());
    auto* n = r->notify(NotifyType::UnsupportedCriticalPayload);
    ASSERT_NE(n, nullptr);
    EXPECT_EQ(n->data, Bytes{200});
    // Not critical: skipped; the empty INFORMATIONAL is simply answered.
    chain[1] = 0;
    f.request(1, static_cast<PayloadType>(200), chain);
    r = f.reply();
    ASSERT_TRUE(r);
    EXPECT_TRUE(r->payloads.empty());
}

TEST(IkeSaResponder, MalformedInnerPayloadGetsInvalidSyntax) {
    Fixture f;
    f.request(0, PayloadType::Nonce, Bytes{0, 0, 0, 8, 1, 2, 3, 4});  // nonce of 4 bytes
    auto r = f.reply();
    ASSERT_TRUE(r);
    EXPECT_NE(r->notify(NotifyType::InvalidSyntax), nullptr);
}

TEST(IkeSaResponder, MessageIdsAndDuplicates) {
    Fixture f;
    f.request(1, PayloadType::None, {});  // ahead of the window: dropped
    EXPECT_TRUE(f.core.sent.empty());
    f.request(0, PayloadType::None, {});
    ASSERT_TRUE(f.reply());
    f.request(0, PayloadType::None, {});  // retransmission: cached answer again
    ASSERT_EQ(f.core.sent.size(), 1u);
    f.core.sent.clear();
    f.request(1, PayloadType::None, {});
    ASSERT_TRUE(f.reply());
}

TEST(IkeSaResponder, DeleteOfUnknownChildAndIkeSa) {
    Fixture f;
    f.request(0, PayloadType::Delete, chain_of({{PayloadType::Delete, DeletePayload{ProtocolId::Esp, 4, {{9, 9, 9, 9}}}}}));
    auto r = f.reply();
    ASSERT_TRUE(r);
    EXPECT_TRUE(r->payloads.empty());  // nothing to delete, nothing named back
    f.request(1, PayloadType::Delete, chain_of({{PayloadType::Delete, DeletePayload{ProtocolId::Ike, 0, {}}}}));
    ASSERT_TRUE(f.reply());
    EXPECT_EQ(f.sa.state, IkeSa::State::Dead);
    EXPECT_EQ(f.core.events.back().type, EventType::IkeDeleted);
}

TEST(IkeSaResponder, CreateChildForUnknownSaToRekey) {
    Fixture f;
    std::vector<Payload> req = {
        make_notify(NotifyType::RekeySa, {}, ProtocolId::Esp, {1, 2, 3, 4}),
    };
    Header h;
    h.spi_i = 11;
    h.spi_r = 22;
    h.exchange = ExchangeType::CreateChildSa;
    h.flags = header_flags::kInitiator;
    Bytes chain = chain_of(req);
    Datagram d{addr(2), addr(1), seal_message(h, PayloadType::Notify, chain, f.keys.initiator_sk())};
    ParseResult p = parse_message(d.data);
    f.sa.on_datagram(d, p, TimePoint(0));
    auto r = f.reply();
    ASSERT_TRUE(r);
    EXPECT_NE(r->notify(NotifyType::ChildSaNotFound), nullptr);
}
