// IANA numbers from RFC 7296 and its companions (RFC 5282, 4868, 7383, 7427).
#pragma once

#include <cstdint>

namespace ipsecgw::ike {

enum class ExchangeType : std::uint8_t {
    IkeSaInit = 34,
    IkeAuth = 35,
    CreateChildSa = 36,
    Informational = 37,
};

enum class PayloadType : std::uint8_t {
    None = 0,
    SecurityAssociation = 33,
    KeyExchange = 34,
    IdInitiator = 35,
    IdResponder = 36,
    Certificate = 37,
    CertificateRequest = 38,
    Authentication = 39,
    Nonce = 40,
    Notify = 41,
    Delete = 42,
    VendorId = 43,
    TsInitiator = 44,
    TsResponder = 45,
    Encrypted = 46,
    Configuration = 47,
    Eap = 48,
    EncryptedFragment = 53,
};

namespace header_flags {
inline constexpr std::uint8_t kInitiator = 0x08;
inline constexpr std::uint8_t kVersion = 0x10;
inline constexpr std::uint8_t kResponse = 0x20;
}  // namespace header_flags

inline constexpr std::uint8_t kIkeVersion2 = 0x20;  // major 2, minor 0

enum class ProtocolId : std::uint8_t { None = 0, Ike = 1, Ah = 2, Esp = 3 };

enum class TransformType : std::uint8_t { Encryption = 1, Prf = 2, Integrity = 3, DhGroup = 4, Esn = 5 };

enum class EncrId : std::uint16_t { AesCbc = 12, AesGcm16 = 20 };
enum class PrfId : std::uint16_t { HmacSha2_256 = 5, HmacSha2_384 = 6, HmacSha2_512 = 7 };
enum class IntegId : std::uint16_t { None = 0, HmacSha2_256_128 = 12, HmacSha2_384_192 = 13, HmacSha2_512_256 = 14 };
enum class DhId : std::uint16_t { None = 0, Modp2048 = 14, Modp3072 = 15, Ecp256 = 19, Ecp384 = 20, Curve25519 = 31 };
enum class EsnId : std::uint16_t { NoEsn = 0, Esn = 1 };

inline constexpr std::uint16_t kAttrKeyLength = 14;

enum class IdType : std::uint8_t {
    Ipv4Addr = 1,
    Fqdn = 2,
    Rfc822Addr = 3,
    Ipv6Addr = 5,
    DerAsn1Dn = 9,
    DerAsn1Gn = 10,
    KeyId = 11,
};

enum class AuthMethod : std::uint8_t {
    RsaSignature = 1,
    SharedKeyMic = 2,
    DssSignature = 3,
    EcdsaSha256P256 = 9,
    EcdsaSha384P384 = 10,
    EcdsaSha512P521 = 11,
    DigitalSignature = 14,
};

enum class TsType : std::uint8_t { Ipv4AddrRange = 7, Ipv6AddrRange = 8 };

inline constexpr std::uint8_t kCertX509Signature = 4;

enum class CfgType : std::uint8_t { Request = 1, Reply = 2, Set = 3, Ack = 4 };

enum class CfgAttr : std::uint16_t {
    InternalIp4Address = 1,
    InternalIp4Netmask = 2,
    InternalIp4Dns = 3,
    InternalIp6Address = 8,
    InternalIp6Dns = 10,
};

enum class NotifyType : std::uint16_t {
    // Errors (< 16384)
    UnsupportedCriticalPayload = 1,
    InvalidIkeSpi = 4,
    InvalidMajorVersion = 5,
    InvalidSyntax = 7,
    InvalidMessageId = 9,
    InvalidSpi = 11,
    NoProposalChosen = 14,
    InvalidKePayload = 17,
    AuthenticationFailed = 24,
    SinglePairRequired = 34,
    NoAdditionalSas = 35,
    InternalAddressFailure = 36,
    FailedCpRequired = 37,
    TsUnacceptable = 38,
    InvalidSelectors = 39,
    TemporaryFailure = 43,
    ChildSaNotFound = 44,
    // Status
    InitialContact = 16384,
    SetWindowSize = 16385,
    AdditionalTsPossible = 16386,
    IpcompSupported = 16387,
    NatDetectionSourceIp = 16388,
    NatDetectionDestinationIp = 16389,
    Cookie = 16390,
    UseTransportMode = 16391,
    HttpCertLookupSupported = 16392,
    RekeySa = 16393,
    EspTfcPaddingNotSupported = 16394,
    NonFirstFragmentsAlso = 16395,
    Ikev2FragmentationSupported = 16430,
    SignatureHashAlgorithms = 16431,
};

inline constexpr bool is_error_notify(std::uint16_t t) { return t < 16384; }

}  // namespace ipsecgw::ike
