// A packet as the ESP engine sees it: an IP packet in a buffer with known free
// space on both sides. The engine moves `data` and changes `len` in place; the
// dataplane maps the change back onto its mbuf (prepend/adj/append/trim).
#pragma once

#include <cstdint>

namespace ipsecgw::esp {

struct Packet {
    uint8_t* data = nullptr;  // first byte of the (outer) IP header
    uint32_t len = 0;         // bytes from data; may include L2 padding after the IP packet
    uint32_t headroom = 0;    // writable bytes before data
    uint32_t tailroom = 0;    // writable bytes after data + len

    void prepend(uint32_t n) { data -= n, len += n, headroom -= n; }
    void strip_front(uint32_t n) { data += n, len -= n, headroom += n; }
    void append(uint32_t n) { len += n, tailroom -= n; }
    void trim(uint32_t n) { len -= n, tailroom += n; }
};

}  // namespace ipsecgw::esp
