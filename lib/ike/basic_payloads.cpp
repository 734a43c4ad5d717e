// Payloads with a small fixed header and opaque data: KE, Nonce, ID, AUTH,
// CERT, CERTREQ, V, SK, SKF and carried-through types (RFC 7296 §3.4-§3.12,
// §3.14, RFC 7383 §2.5).
#include "ike/payloads.hpp"

namespace ipsecgw::ike {

void KePayload::encode(Writer& w) const {
    w.u16(group);
    w.u16(0);
    w.bytes(data);
}
bool KePayload::decode(ByteView in) {
    Reader r(in);
    group = r.u16();
    r.u16();
    data = r.bytes(r.remaining());
    return r.ok() && !data.empty();
}

void NoncePayload::encode(Writer& w) const { w.bytes(data); }
bool NoncePayload::decode(ByteView in) {
    // RFC 7296 §3.9: between 16 and 256 octets.
    if (in.size() < 16 || in.size() > 256) return false;
    data.assign(in.begin(), in.end());
    return true;
}

void IdPayload::encode(Writer& w) const {
    w.u8(static_cast<std::uint8_t>(type));
    w.zeros(3);
    w.bytes(data);
}
Bytes IdPayload::body() const {
    Bytes out;
    Writer w(out);
    encode(w);
    return out;
}
bool IdPayload::decode(ByteView in) {
    Reader r(in);
    type = static_cast<IdType>(r.u8());
    r.skip(3);
    data = r.bytes(r.remaining());
    if (!r.ok()) return false;
    if (type == IdType::Ipv4Addr) return data.size() == 4;
    if (type == IdType::Ipv6Addr) return data.size() == 16;
    return !data.empty();
}

void AuthPayload::encode(Writer& w) const {
    w.u8(static_cast<std::uint8_t>(method));
    w.zeros(3);
    w.bytes(data);
}
bool AuthPayload::decode(ByteView in) {
    Reader r(in);
    method = static_cast<AuthMethod>(r.u8());
    r.skip(3);
    data = r.bytes(r.remaining());
    return r.ok() && !data.empty();
}

void CertPayload::encode(Writer& w) const {
    w.u8(encoding);
    w.bytes(data);
}
bool CertPayload::decode(ByteView in) {
    Reader r(in);
    encoding = r.u8();
    data = r.bytes(r.remaining());
    return r.ok() && !data.empty();
}

void CertReqPayload::encode(Writer& w) const {
    w.u8(encoding);
    w.bytes(authorities);
}
bool CertReqPayload::decode(ByteView in) {
    Reader r(in);
    encoding = r.u8();
    authorities = r.bytes(r.remaining());
    return r.ok();
}

void VendorPayload::encode(Writer& w) const { w.bytes(data); }
bool VendorPayload::decode(ByteView in) {
    data.assign(in.begin(), in.end());
    return true;
}

void EncryptedPayload::encode(Writer& w) const { w.bytes(body); }
bool EncryptedPayload::decode(ByteView in) {
    body.assign(in.begin(), in.end());
    return !body.empty();
}

void EncryptedFragmentPayload::encode(Writer& w) const {
    w.u16(number);
    w.u16(total);
    w.bytes(body);
}
bool EncryptedFragmentPayload::decode(ByteView in) {
    Reader r(in);
    number = r.u16();
    total = r.u16();
    body = r.bytes(r.remaining());
    // RFC 7383 §2.5: number starts at 1 and never exceeds the total.
    return r.ok() && number >= 1 && number <= total && !body.empty();
}

void OpaquePayload::encode(Writer& w) const { w.bytes(data); }
bool OpaquePayload::decode(ByteView in) {
    data.assign(in.begin(), in.end());
    return true;
}

}  // namespace ipsecgw::ike
