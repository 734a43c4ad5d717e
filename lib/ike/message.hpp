// IKEv2 header (RFC 7296 §3.1) and payload chains: parse and build whole messages.
#pragma once

#include <cstdint>
#include <optional>
#include <vector>

#include "ike/payloads.hpp"

namespace ipsecgw::ike {

inline constexpr std::size_t kHeaderSize = 28;
inline constexpr std::size_t kGenericHeaderSize = 4;

struct Header {
    std::uint64_t spi_i = 0;
    std::uint64_t spi_r = 0;
    PayloadType next_payload = PayloadType::None;
    std::uint8_t version = kIkeVersion2;
    ExchangeType exchange = ExchangeType::IkeSaInit;
    std::uint8_t flags = 0;
    std::uint32_t message_id = 0;
    std::uint32_t length = 0;

    bool is_response() const { return flags & header_flags::kResponse; }
    bool from_initiator() const { return flags & header_flags::kInitiator; }
    void encode(Writer& w) const;
};

enum class ParseError {
    None,
    Truncated,           // shorter than its own lengths claim
    BadLength,           // header length differs from the datagram, or a payload overruns
    UnsupportedVersion,  // major version is not 2 (INVALID_MAJOR_VERSION)
    TooLarge,
    TooManyPayloads,
    MalformedPayload,    // a known payload failed its own checks (INVALID_SYNTAX)
    UnsupportedCritical, // unknown payload with the critical bit (UNSUPPORTED_CRITICAL_PAYLOAD)
    EncryptedNotLast,
};

const char* to_string(ParseError e);

struct Message {
    Header header;
    std::vector<Payload> payloads;

    template <class T>
    const T* find(PayloadType type) const {
        for (const auto& p : payloads)
            if (p.type == type)
                if (auto* body = std::get_if<T>(&p.body)) return body;
        return nullptr;
    }
    const NotifyPayload* notify(NotifyType type) const;
    std::vector<const NotifyPayload*> notifies_of(NotifyType type) const;
    // First error notify, if any (for responses that carry a failure).
    const NotifyPayload* error_notify() const;
};

struct ParseResult {
    ParseError error = ParseError::None;
    std::uint8_t unsupported_type = 0;  // payload type for UNSUPPORTED_CRITICAL_PAYLOAD
    Message message;
    std::size_t encrypted_offset = 0;   // where the SK/SKF generic header starts
    bool ok() const { return error == ParseError::None; }
};

// Just the fixed header, for dispatch by SPI before any further work.
std::optional<Header> parse_header(ByteView datagram);

// Whole datagram: header plus the unencrypted payload chain. An SK or SKF
// payload must be last; its body stays opaque.
ParseResult parse_message(ByteView datagram);

// A decrypted SK body's inner chain, starting at `first`.
ParseResult parse_payload_chain(PayloadType first, ByteView chain);

// Encodes payloads into a chain; returns the type of the first one. An SK/SKF
// payload, if present, must be last and its next-payload field carries its
// first_inner type.
PayloadType encode_payload_chain(Writer& w, const std::vector<Payload>& payloads);

// Full message with length and next-payload fields filled in.
Bytes build_message(Header header, const std::vector<Payload>& payloads);

}  // namespace ipsecgw::ike
