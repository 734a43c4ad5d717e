// Message codec: round trips of every payload and hostile-input rejection.
#include <gtest/gtest.h>

#include <random>

#include "ike/message.hpp"

using namespace ipsecgw::ike;

namespace {

Payload sa_payload() {
    SaPayload sa;
    Proposal p;
    p.number = 1;
    p.protocol = ProtocolId::Ike;
    p.transforms = {
        Transform::make(TransformType::Encryption, static_cast<std::uint16_t>(EncrId::AesGcm16), 256),
        Transform::make(TransformType::Prf, static_cast<std::uint16_t>(PrfId::HmacSha2_256)),
        Transform::make(TransformType::DhGroup, static_cast<std::uint16_t>(DhId::Curve25519)),
    };
    Proposal esp;
    esp.number = 2;
    esp.protocol = ProtocolId::Esp;
    esp.spi = {1, 2, 3, 4};
    esp.transforms = {
        Transform::make(TransformType::Encryption, static_cast<std::uint16_t>(EncrId::AesCbc), 128),
        Transform::make(TransformType::Integrity, static_cast<std::uint16_t>(IntegId::HmacSha2_256_128)),
        Transform::make(TransformType::Esn, 0),
    };
    // A TLV attribute survives too.
    esp.transforms[0].attributes.push_back({200, false, {9, 9, 9}});
    sa.proposals = {p, esp};
    return {PayloadType::SecurityAssociation, sa};
}

std::vector<Payload> every_payload() {
    std::vector<Payload> v;
    v.push_back(sa_payload());
    v.push_back({PayloadType::KeyExchange, KePayload{31, Bytes(32, 0xab)}});
    v.push_back({PayloadType::Nonce, NoncePayload{Bytes(32, 0x11)}});
    v.push_back({PayloadType::IdInitiator, IdPayload{IdType::Ipv4Addr, {192, 0, 2, 1}}});
    v.push_back({PayloadType::IdResponder, IdPayload{IdType::Ipv6Addr, Bytes(16, 0x20)}});
    v.push_back({PayloadType::IdInitiator, IdPayload{IdType::Fqdn, to_bytes("gw.example.org")}});
    v.push_back({PayloadType::IdInitiator, IdPayload{IdType::Rfc822Addr, to_bytes("a@example.org")}});
    v.push_back({PayloadType::IdInitiator, IdPayload{IdType::DerAsn1Dn, {0x30, 0x00}}});
    v.push_back({PayloadType::Authentication, AuthPayload{AuthMethod::SharedKeyMic, Bytes(32, 7)}});
    v.push_back({PayloadType::Certificate, CertPayload{kCertX509Signature, Bytes(100, 0x30)}});
    v.push_back({PayloadType::CertificateRequest, CertReqPayload{kCertX509Signature, Bytes(20, 1)}});
    v.push_back(make_notify(NotifyType::RekeySa, {}, ProtocolId::Esp, {0xa, 0xb, 0xc, 0xd}));
    v.push_back(make_notify(NotifyType::Cookie, Bytes(16, 5)));
    v.push_back({PayloadType::Delete, DeletePayload{ProtocolId::Esp, 4, {{1, 2, 3, 4}, {5, 6, 7, 8}}}});
    v.push_back({PayloadType::Delete, DeletePayload{ProtocolId::Ike, 0, {}}});
    v.push_back({PayloadType::VendorId, VendorPayload{to_bytes("ipsecgw")}});
    TsPayload ts;
    ts.selectors.push_back({TsType::Ipv4AddrRange, 6, 80, 443, {10, 0, 0, 0}, {10, 0, 0, 255}});
    ts.selectors.push_back({TsType::Ipv6AddrRange, 0, 0, 65535, Bytes(16, 0), Bytes(16, 0xff)});
    v.push_back({PayloadType::TsInitiator, ts});
    v.push_back({PayloadType::TsResponder, ts});
    CpPayload cp;
    cp.cfg_type = CfgType::Reply;
    cp.attributes = {{1, {10, 1, 1, 1}}, {3, {}}};
    v.push_back({PayloadType::Configuration, cp});
    v.push_back({PayloadType::Eap, OpaquePayload{{1, 2, 0, 4}}});
    return v;
}

Bytes sample_message() {
    Header h;
    h.spi_i = 0x0102030405060708;
    h.spi_r = 0x1112131415161718;
    h.exchange = ExchangeType::IkeAuth;
    h.flags = header_flags::kInitiator;
    h.message_id = 1;
    return build_message(h, every_payload());
}

// Appends a raw payload (generic header + body) at the end of the chain of `msg`.
Bytes with_raw_trailing_payload(std::uint8_t type, std::uint8_t flags, Bytes body) {
    Header h;
    h.spi_i = 1;
    h.exchange = ExchangeType::Informational;
    Bytes msg = build_message(h, {{PayloadType::Nonce, NoncePayload{Bytes(16, 1)}}});
    // Point the nonce's next field at the raw payload.
    msg[kHeaderSize] = type;
    msg.push_back(0);
    msg.push_back(flags);
    std::uint16_t len = static_cast<std::uint16_t>(4 + body.size());
    msg.push_back(len >> 8);
    msg.push_back(len & 0xff);
    msg.insert(msg.end(), body.begin(), body.end());
    std::uint32_t total = static_cast<std::uint32_t>(msg.size());
    msg[24] = total >> 24;
    msg[25] = total >> 16;
    msg[26] = total >> 8;
    msg[27] = total;
    return msg;
}

}  // namespace

TEST(Codec, EveryPayloadRoundTrips) {
    Bytes wire = sample_message();
    ParseResult r = parse_message(wire);
    ASSERT_TRUE(r.ok()) << to_string(r.error);
    EXPECT_EQ(r.message.header.spi_i, 0x0102030405060708u);
    EXPECT_EQ(r.message.header.spi_r, 0x1112131415161718u);
    EXPECT_EQ(r.message.header.exchange, ExchangeType::IkeAuth);
    EXPECT_EQ(r.message.header.message_id, 1u);
    EXPECT_EQ(r.message.payloads, every_payload());
    EXPECT_EQ(build_message(r.message.header, r.message.payloads), wire);
}

TEST(Codec, TransformKeyLength) {
    auto t = Transform::make(TransformType::Encryption, 20, 256);
    EXPECT_EQ(t.key_length(), 256);
    EXPECT_FALSE(Transform::make(TransformType::Prf, 5).key_length().has_value());
}

TEST(Codec, EncryptedPayloadMustBeLastAndCarriesFirstInner) {
    Header h;
    h.exchange = ExchangeType::IkeAuth;
    EncryptedPayload sk{PayloadType::IdInitiator, Bytes(40, 3)};
    Bytes wire = build_message(h, {{PayloadType::Encrypted, sk}});
    ParseResult r = parse_message(wire);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(r.encrypted_offset, kHeaderSize);
    auto* got = r.message.find<EncryptedPayload>(PayloadType::Encrypted);
    ASSERT_NE(got, nullptr);
    EXPECT_EQ(got->first_inner, PayloadType::IdInitiator);

    EncryptedFragmentPayload skf{PayloadType::IdInitiator, 1, 3, Bytes(40, 3)};
    wire = build_message(h, {{PayloadType::EncryptedFragment, skf}});
    r = parse_message(wire);
    ASSERT_TRUE(r.ok());
    EXPECT_EQ(*r.message.find<EncryptedFragmentPayload>(PayloadType::EncryptedFragment), skf);
}

TEST(Codec, RejectsTruncatedAndLengthMismatch) {
    Bytes wire = sample_message();
    EXPECT_EQ(parse_message(ByteView(wire).first(10)).error, ParseError::Truncated);
    // Header says more than we have.
    Bytes cut(wire.begin(), wire.end() - 1);
    EXPECT_EQ(parse_message(cut).error, ParseError::BadLength);
    // Trailing junk beyond the header length.
    Bytes longer = wire;
    longer.push_back(0);
    EXPECT_EQ(parse_message(longer).error, ParseError::BadLength);
}

TEST(Codec, RejectsWrongMajorVersion) {
    Bytes wire = sample_message();
    wire[17] = 0x30;
    EXPECT_EQ(parse_message(wire).error, ParseError::UnsupportedVersion);
}

TEST(Codec, PayloadLengthOverrunsMessage) {
    Bytes wire = sample_message();
    wire[kHeaderSize + 2] = 0xff;  // first payload's length
    wire[kHeaderSize + 3] = 0xff;
    EXPECT_EQ(parse_message(wire).error, ParseError::BadLength);
    wire[kHeaderSize + 2] = 0;
    wire[kHeaderSize + 3] = 2;  // shorter than a generic header
    EXPECT_EQ(parse_message(wire).error, ParseError::BadLength);
}

TEST(Codec, UnknownNonCriticalPayloadIsSkipped) {
    Bytes wire = with_raw_trailing_payload(200, 0x00, {1, 2, 3});
    ParseResult r = parse_message(wire);
    ASSERT_TRUE(r.ok()) << to_string(r.error);
    EXPECT_EQ(r.message.payloads.size(), 1u);
}

TEST(Codec, UnknownCriticalPayloadIsRejectedWithItsType) {
    Bytes wire = with_raw_trailing_payload(200, 0x80, {1, 2, 3});
    ParseResult r = parse_message(wire);
    EXPECT_EQ(r.error, ParseError::UnsupportedCritical);
    EXPECT_EQ(r.unsupported_type, 200);
}

TEST(Codec, MalformedKnownPayloads) {
    // Nonce too short.
    EXPECT_EQ(parse_message(with_raw_trailing_payload(40, 0, Bytes(8, 1))).error, ParseError::MalformedPayload);
    // IPv4 ID with 3 address bytes.
    EXPECT_EQ(parse_message(with_raw_trailing_payload(35, 0, {1, 0, 0, 0, 1, 2, 3})).error,
              ParseError::MalformedPayload);
    // TS whose selector length disagrees with its type.
    EXPECT_EQ(parse_message(with_raw_trailing_payload(44, 0, {1, 0, 0, 0, 7, 0, 0, 20, 0, 0, 0, 0})).error,
              ParseError::MalformedPayload);
    // Delete with SPI count larger than the data.
    EXPECT_EQ(parse_message(with_raw_trailing_payload(42, 0, {3, 4, 0, 9, 1, 2, 3, 4})).error,
              ParseError::MalformedPayload);
    // Proposal claiming 5 transforms but holding none.
    EXPECT_EQ(parse_message(with_raw_trailing_payload(33, 0, {0, 0, 0, 8, 1, 1, 0, 5})).error,
              ParseError::MalformedPayload);
    // Transform attribute TLV overrunning its transform.
    EXPECT_EQ(parse_message(with_raw_trailing_payload(
                  33, 0, {0, 0, 0, 20, 1, 1, 0, 1, 0, 0, 0, 12, 1, 0, 0, 12, 0, 14, 0, 9})).error,
              ParseError::MalformedPayload);
    // SKF with fragment number above the total.
    EXPECT_EQ(parse_message(with_raw_trailing_payload(53, 0, {0, 3, 0, 2, 1})).error, ParseError::MalformedPayload);
    // Notify SPI size beyond the body.
    EXPECT_EQ(parse_message(with_raw_trailing_payload(41, 0, {3, 200, 0x40, 0x09})).error,
              ParseError::MalformedPayload);
}

TEST(Codec, EncryptedNotLastIsRejected) {
    Header h;
    Bytes wire = build_message(h, {{PayloadType::Encrypted, EncryptedPayload{PayloadType::None, Bytes(20, 0)}}});
    // Append a nonce after it by growing the message.
    Bytes extra = {0, 0, 0, 20};
    extra.resize(20, 1);
    wire.insert(wire.end(), extra.begin(), extra.end());
    std::uint32_t total = static_cast<std::uint32_t>(wire.size());
    wire[27] = total & 0xff;
    wire[26] = total >> 8;
    EXPECT_EQ(parse_message(wire).error, ParseError::EncryptedNotLast);
}

TEST(Codec, TooManyPayloadsAndOversized) {
    Header h;
    std::vector<Payload> many(kMaxPayloads + 1, Payload{PayloadType::VendorId, VendorPayload{}});
    EXPECT_EQ(parse_message(build_message(h, many)).error, ParseError::TooManyPayloads);
    Bytes huge(kMaxMessageSize + 1, 0);
    EXPECT_EQ(parse_message(huge).error, ParseError::TooLarge);
}

TEST(Codec, InnerChainRejectsNestedEncrypted) {
    Bytes chain;
    Writer w(chain);
    encode_payload_chain(w, {{PayloadType::Encrypted, EncryptedPayload{PayloadType::None, {1}}}});
    EXPECT_FALSE(parse_payload_chain(PayloadType::Encrypted, chain).ok());
}

TEST(Codec, EveryTruncationAndRandomMutationIsSafe) {
    Bytes wire = sample_message();
    for (std::size_t n = 0; n < wire.size(); ++n) {
        Bytes cut(wire.begin(), wire.begin() + n);
        if (n >= 28) {
            cut[24] = 0;
            cut[25] = 0;
            cut[26] = static_cast<std::uint8_t>(n >> 8);
            cut[27] = static_cast<std::uint8_t>(n);
        }
        EXPECT_FALSE(parse_message(cut).ok()) << n;
    }
    std::mt19937 rng(7);
    for (int i = 0; i < 5000; ++i) {
        Bytes m = wire;
        int flips = 1 + static_cast<int>(rng() % 4);
        for (int f = 0; f < flips; ++f) m[28 + rng() % (m.size() - 28)] = static_cast<std::uint8_t>(rng());
        ParseResult r = parse_message(m);
        if (r.ok()) {
            // Whatever parsed must re-encode without trouble.
            (void)build_message(r.message.header, r.message.payloads);
        }
    }
}
