// Header and payload-chain codec. Every length is checked before use; no
// allocation exceeds the received datagram, whose size is itself bounded.
#include "ike/message.hpp"

namespace ipsecgw::ike {
namespace {

constexpr std::uint8_t kCriticalBit = 0x80;

bool is_known(PayloadType t) {
    switch (t) {
        case PayloadType::SecurityAssociation:
        case PayloadType::KeyExchange:
        case PayloadType::IdInitiator:
        case PayloadType::IdResponder:
        case PayloadType::Certificate:
        case PayloadType::CertificateRequest:
        case PayloadType::Authentication:
        case PayloadType::Nonce:
        case PayloadType::Notify:
        case PayloadType::Delete:
        case PayloadType::VendorId:
        case PayloadType::TsInitiator:
        case PayloadType::TsResponder:
        case PayloadType::Encrypted:
        case PayloadType::Configuration:
        case PayloadType::Eap:
        case PayloadType::EncryptedFragment:
            return true;
        default:
            return false;
    }
}

template <class T>
bool decode_into(ByteView body, PayloadBody& out) {
    T t;
    if (!t.decode(body)) return false;
    out = std::move(t);
    return true;
}

bool decode_body(PayloadType type, ByteView body, PayloadBody& out) {
    switch (type) {
        case PayloadType::SecurityAssociation: return decode_into<SaPayload>(body, out);
        case PayloadType::KeyExchange: return decode_into<KePayload>(body, out);
        case PayloadType::IdInitiator:
        case PayloadType::IdResponder: return decode_into<IdPayload>(body, out);
        case PayloadType::Certificate: return decode_into<CertPayload>(body, out);
        case PayloadType::CertificateRequest: return decode_into<CertReqPayload>(body, out);
        case PayloadType::Authentication: return decode_into<AuthPayload>(body, out);
        case PayloadType::Nonce: return decode_into<NoncePayload>(body, out);
        case PayloadType::Notify: return decode_into<NotifyPayload>(body, out);
        case PayloadType::Delete: return decode_into<DeletePayload>(body, out);
        case PayloadType::VendorId: return decode_into<VendorPayload>(body, out);
        case PayloadType::TsInitiator:
        case PayloadType::TsResponder: return decode_into<TsPayload>(body, out);
        case PayloadType::Encrypted: return decode_into<EncryptedPayload>(body, out);
        case PayloadType::Configuration: return decode_into<CpPayload>(body, out);
        case PayloadType::EncryptedFragment: return decode_into<EncryptedFragmentPayload>(body, out);
        default: return decode_into<OpaquePayload>(body, out);
    }
}

// Walks a chain starting at `first`; `base` is the chain's offset in the
// datagram so the SK offset can be reported.
void parse_chain(PayloadType first, ByteView chain, std::size_t base, ParseResult& res) {
    Reader r(chain);
    PayloadType next = first;
    while (next != PayloadType::None) {
        if (res.message.payloads.size() >= kMaxPayloads) {
            res.error = ParseError::TooManyPayloads;
            return;
        }
        std::size_t start = r.position();
        auto following = static_cast<PayloadType>(r.u8());
        std::uint8_t flags = r.u8();
        std::uint16_t len = r.u16();
        if (!r.ok()) {
            res.error = ParseError::Truncated;
            return;
        }
        if (len < kGenericHeaderSize) {
            res.error = ParseError::BadLength;
            return;
        }
        ByteView body = r.view(len - kGenericHeaderSize);
        if (!r.ok()) {
            res.error = ParseError::BadLength;
            return;
        }
        if (!is_known(next)) {
            // RFC 7296 §2.5: skip unknown payloads unless marked critical.
            if (flags & kCriticalBit) {
                res.error = ParseError::UnsupportedCritical;
                res.unsupported_type = static_cast<std::uint8_t>(next);
                return;
            }
            next = following;
            continue;
        }
        Payload p{next, {}};
        if (!decode_body(next, body, p.body)) {
            res.error = ParseError::MalformedPayload;
            return;
        }
        if (next == PayloadType::Encrypted || next == PayloadType::EncryptedFragment) {
            // The SK/SKF payload is last; its next field names the first inner payload.
            if (r.remaining() != 0) {
                res.error = ParseError::EncryptedNotLast;
                return;
            }
            if (auto* sk = std::get_if<EncryptedPayload>(&p.body)) sk->first_inner = following;
            if (auto* skf = std::get_if<EncryptedFragmentPayload>(&p.body)) skf->first_inner = following;
            res.encrypted_offset = base + start;
            res.message.payloads.push_back(std::move(p));
            return;
        }
        res.message.payloads.push_back(std::move(p));
        next = following;
    }
    if (r.remaining() != 0) res.error = ParseError::BadLength;
}

void encode_body(Writer& w, const PayloadBody& body) {
    std::visit([&](const auto& b) { b.encode(w); }, body);
}

}  // namespace

const char* to_string(ParseError e) {
    switch (e) {
        case ParseError::None: return "ok";
        case ParseError::Truncated: return "truncated";
        case ParseError::BadLength: return "bad length";
        case ParseError::UnsupportedVersion: return "unsupported version";
        case ParseError::TooLarge: return "too large";
        case ParseError::TooManyPayloads: return "too many payloads";
        case ParseError::MalformedPayload: return "malformed payload";
        case ParseError::UnsupportedCritical: return "unsupported critical payload";
        case ParseError::EncryptedNotLast: return "encrypted payload not last";
    }
    return "?";
}

void Header::encode(Writer& w) const {
    w.u64(spi_i);
    w.u64(spi_r);
    w.u8(static_cast<std::uint8_t>(next_payload));
    w.u8(version);
    w.u8(static_cast<std::uint8_t>(exchange));
    w.u8(flags);
    w.u32(message_id);
    w.u32(length);
}

std::optional<Header> parse_header(ByteView in) {
    Reader r(in);
    Header h;
    h.spi_i = r.u64();
    h.spi_r = r.u64();
    h.next_payload = static_cast<PayloadType>(r.u8());
    h.version = r.u8();
    h.exchange = static_cast<ExchangeType>(r.u8());
    h.flags = r.u8();
    h.message_id = r.u32();
    h.length = r.u32();
    if (!r.ok()) return std::nullopt;
    return h;
}

ParseResult parse_message(ByteView in) {
    ParseResult res;
    if (in.size() > kMaxMessageSize) {
        res.error = ParseError::TooLarge;
        return res;
    }
    auto h = parse_header(in);
    if (!h) {
        res.error = ParseError::Truncated;
        return res;
    }
    res.message.header = *h;
    if ((h->version >> 4) != 2) {
        res.error = ParseError::UnsupportedVersion;
        return res;
    }
    if (h->length != in.size() || h->length < kHeaderSize) {
        res.error = ParseError::BadLength;
        return res;
    }
    parse_chain(h->next_payload, in.subspan(kHeaderSize), kHeaderSize, res);
    return res;
}

ParseResult parse_payload_chain(PayloadType first, ByteView chain) {
    ParseResult res;
    if (chain.size() > kMaxMessageSize) {
        res.error = ParseError::TooLarge;
        return res;
    }
    parse_chain(first, chain, 0, res);
    if (res.ok() && res.encrypted_offset != 0) res.error = ParseError::MalformedPayload;
    // An SK inside SK is never legitimate.
    for (const auto& p : res.message.payloads)
        if (p.type == PayloadType::Encrypted || p.type == PayloadType::EncryptedFragment)
            res.error = ParseError::MalformedPayload;
    return res;
}

PayloadType encode_payload_chain(Writer& w, const std::vector<Payload>& payloads) {
    for (std::size_t i = 0; i < payloads.size(); ++i) {
        const Payload& p = payloads[i];
        PayloadType following = i + 1 < payloads.size() ? payloads[i + 1].type : PayloadType::None;
        if (auto* sk = std::get_if<EncryptedPayload>(&p.body)) following = sk->first_inner;
        if (auto* skf = std::get_if<EncryptedFragmentPayload>(&p.body)) following = skf->first_inner;
        std::size_t start = w.position();
        w.u8(static_cast<std::uint8_t>(following));
        w.u8(0);
        w.u16(0);
        encode_body(w, p.body);
        w.patch_u16(start + 2, static_cast<std::uint16_t>(w.position() - start));
    }
    return payloads.empty() ? PayloadType::None : payloads.front().type;
}

Bytes build_message(Header header, const std::vector<Payload>& payloads) {
    Bytes out;
    Writer w(out);
    header.encode(w);
    PayloadType first = encode_payload_chain(w, payloads);
    header.next_payload = first;
    header.length = static_cast<std::uint32_t>(out.size());
    Bytes head;
    Writer hw(head);
    header.encode(hw);
    std::copy(head.begin(), head.end(), out.begin());
    return out;
}

const NotifyPayload* Message::notify(NotifyType type) const {
    for (const auto& p : payloads)
        if (auto* n = std::get_if<NotifyPayload>(&p.body))
            if (n->type == static_cast<std::uint16_t>(type)) return n;
    return nullptr;
}

std::vector<const NotifyPayload*> Message::notifies_of(NotifyType type) const {
    std::vector<const NotifyPayload*> out;
    for (const auto& p : payloads)
        if (auto* n = std::get_if<NotifyPayload>(&p.body))
            if (n->type == static_cast<std::uint16_t>(type)) out.push_back(n);
    return out;
}

const NotifyPayload* Message::error_notify() const {
    for (const auto& p : payloads)
        if (auto* n = std::get_if<NotifyPayload>(&p.body))
            if (is_error_notify(n->type)) return n;
    return nullptr;
}

}  // namespace ipsecgw::ike
