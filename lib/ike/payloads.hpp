// In-memory form of every IKEv2 payload body (RFC 7296 §3.3-§3.16, RFC 7383).
// Each body type has its own encoder (encode) and hostile-input-safe decoder
// (decode: returns false on any malformed length or field).
#pragma once

#include <cstdint>
#include <optional>
#include <string>
#include <variant>
#include <vector>

#include "ike/bytes.hpp"
#include "ike/constants.hpp"

namespace ipsecgw::ike {

// Bounds that keep a hostile message from making us allocate without limit.
inline constexpr std::size_t kMaxMessageSize = 65535;
inline constexpr std::size_t kMaxPayloads = 64;
inline constexpr std::size_t kMaxProposals = 32;
inline constexpr std::size_t kMaxTransforms = 64;
inline constexpr std::size_t kMaxSelectors = 32;

struct TransformAttribute {
    std::uint16_t type = 0;
    bool tv = true;         // TV format: 2-byte value inline; TLV otherwise
    Bytes value;            // for TV: 2 bytes big-endian
    bool operator==(const TransformAttribute&) const = default;
};

struct Transform {
    TransformType type = TransformType::Encryption;
    std::uint16_t id = 0;
    std::vector<TransformAttribute> attributes;

    std::optional<std::uint16_t> key_length() const;
    static Transform make(TransformType t, std::uint16_t id, std::optional<std::uint16_t> key_bits = {});
    bool operator==(const Transform&) const = default;
};

struct Proposal {
    std::uint8_t number = 1;
    ProtocolId protocol = ProtocolId::Ike;
    Bytes spi;
    std::vector<Transform> transforms;
    bool operator==(const Proposal&) const = default;
};

struct SaPayload {
    std::vector<Proposal> proposals;
    void encode(Writer& w) const;
    bool decode(ByteView body);
    bool operator==(const SaPayload&) const = default;
};

struct KePayload {
    std::uint16_t group = 0;
    Bytes data;
    void encode(Writer& w) const;
    bool decode(ByteView body);
    bool operator==(const KePayload&) const = default;
};

struct NoncePayload {
    Bytes data;
    void encode(Writer& w) const;
    bool decode(ByteView body);
    bool operator==(const NoncePayload&) const = default;
};

struct IdPayload {
    IdType type = IdType::Fqdn;
    Bytes data;
    void encode(Writer& w) const;
    bool decode(ByteView body);
    // The body as it goes on the wire (type, reserved, data): the input to
    // the MACed ID in AUTH computation.
    Bytes body() const;
    bool operator==(const IdPayload&) const = default;
};

struct AuthPayload {
    AuthMethod method = AuthMethod::SharedKeyMic;
    Bytes data;
    void encode(Writer& w) const;
    bool decode(ByteView body);
    bool operator==(const AuthPayload&) const = default;
};

struct CertPayload {
    std::uint8_t encoding = kCertX509Signature;
    Bytes data;
    void encode(Writer& w) const;
    bool decode(ByteView body);
    bool operator==(const CertPayload&) const = default;
};

struct CertReqPayload {
    std::uint8_t encoding = kCertX509Signature;
    Bytes authorities;  // concatenated SHA-1 hashes of CA public keys
    void encode(Writer& w) const;
    bool decode(ByteView body);
    bool operator==(const CertReqPayload&) const = default;
};

struct NotifyPayload {
    ProtocolId protocol = ProtocolId::None;
    Bytes spi;
    std::uint16_t type = 0;
    Bytes data;
    void encode(Writer& w) const;
    bool decode(ByteView body);
    bool operator==(const NotifyPayload&) const = default;
};

struct DeletePayload {
    ProtocolId protocol = ProtocolId::Esp;
    std::uint8_t spi_size = 4;
    std::vector<Bytes> spis;
    void encode(Writer& w) const;
    bool decode(ByteView body);
    bool operator==(const DeletePayload&) const = default;
};

struct VendorPayload {
    Bytes data;
    void encode(Writer& w) const;
    bool decode(ByteView body);
    bool operator==(const VendorPayload&) const = default;
};

struct TrafficSelector {
    TsType type = TsType::Ipv4AddrRange;
    std::uint8_t ip_protocol = 0;  // 0: any
    std::uint16_t start_port = 0;
    std::uint16_t end_port = 65535;
    Bytes start_addr;  // 4 or 16 bytes, network order
    Bytes end_addr;
    bool operator==(const TrafficSelector&) const = default;
};

struct TsPayload {
    std::vector<TrafficSelector> selectors;
    void encode(Writer& w) const;
    bool decode(ByteView body);
    bool operator==(const TsPayload&) const = default;
};

struct ConfigAttribute {
    std::uint16_t type = 0;
    Bytes value;
    bool operator==(const ConfigAttribute&) const = default;
};

struct CpPayload {
    CfgType cfg_type = CfgType::Request;
    std::vector<ConfigAttribute> attributes;
    void encode(Writer& w) const;
    bool decode(ByteView body);
    bool operator==(const CpPayload&) const = default;
};

// SK: kept opaque (IV | ciphertext | ICV) until the SA's keys open it.
struct EncryptedPayload {
    PayloadType first_inner = PayloadType::None;  // carried in the generic header
    Bytes body;
    void encode(Writer& w) const;
    bool decode(ByteView body);
    bool operator==(const EncryptedPayload&) const = default;
};

// SKF (RFC 7383): fragment number and total, then the same opaque body.
struct EncryptedFragmentPayload {
    PayloadType first_inner = PayloadType::None;  // only set in fragment 1
    std::uint16_t number = 1;
    std::uint16_t total = 1;
    Bytes body;
    void encode(Writer& w) const;
    bool decode(ByteView body);
    bool operator==(const EncryptedFragmentPayload&) const = default;
};

// A payload type we do not interpret (e.g. EAP) but carry through.
struct OpaquePayload {
    Bytes data;
    void encode(Writer& w) const;
    bool decode(ByteView body);
    bool operator==(const OpaquePayload&) const = default;
};

using PayloadBody = std::variant<SaPayload, KePayload, NoncePayload, IdPayload, AuthPayload, CertPayload,
                                 CertReqPayload, NotifyPayload, DeletePayload, VendorPayload, TsPayload,
                                 CpPayload, EncryptedPayload, EncryptedFragmentPayload, OpaquePayload>;

struct Payload {
    PayloadType type = PayloadType::None;
    PayloadBody body;
    bool operator==(const Payload&) const = default;
};

// Helpers to build payloads tersely.
Payload make_notify(NotifyType type, Bytes data = {}, ProtocolId proto = ProtocolId::None, Bytes spi = {});

}  // namespace ipsecgw::ike
