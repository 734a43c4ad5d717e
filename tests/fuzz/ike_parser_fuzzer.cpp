// libFuzzer target: the IKEv2 parser must survive any input without reading
// out of bounds, and whatever it accepts must re-encode.
#include <cstddef>
#include <cstdint>

#include "ike/message.hpp"

extern "C" int LLVMFuzzerTestOneInput(const std::uint8_t* data, std::size_t size) {
    using namespace ipsecgw::ike;
    ByteView in(data, size);
    ParseResult r = parse_message(in);
    if (r.ok()) (void)build_message(r.message.header, r.message.payloads);
    // Also treat the input as a decrypted SK body (first byte picks the type).
    if (size > 0) {
        ParseResult inner = parse_payload_chain(static_cast<PayloadType>(data[0]), in.subspan(1));
        if (inner.ok()) {
            Bytes out;
            Writer w(out);
            encode_payload_chain(w, inner.message.payloads);
        }
    }
    return 0;
}
