// The ESP engine: one per lcore. Transforms bursts of packets, each with its
// own SA, in place. Every packet gets a Status; rejected packets are left for
// the caller to drop and count.
//
//   outbound: IP packet (inner) -> [outer IP] [UDP] ESP hdr | IV | enc(payload | pad | pl | nh) | ICV
//   inbound:  the reverse; tunnel mode leaves the inner packet, transport mode
//             the original IP packet with ESP removed.
// [UDP]: RFC 3948 encapsulation when the SA has udp_encap; such an SA accepts
// only ESP-in-UDP to its port, and a plain SA only IP protocol 50.
#pragma once

#include <intel-ipsec-mb.h>

#include <cstdint>

#include "esp/ip_headers.hpp"
#include "esp/packet.hpp"
#include "esp/sa.hpp"
#include "esp/status.hpp"

namespace ipsecgw::esp {

// How bursts reach IPsec-MB. Both are kept so perf/ can compare them; the
// default is the faster one measured on AVX-512/VAES (see perf/README.md).
enum class CryptoPath : uint8_t { Direct, JobApi };

constexpr uint16_t kMaxBurst = 256;
constexpr uint32_t kEspHeaderLen = 8;   // SPI + sequence number
constexpr uint32_t kIvLen = 8;          // RFC 4106 explicit IV
constexpr uint32_t kIcvLen = 16;
constexpr uint32_t kTrailerLen = 2;     // pad length + next header
constexpr uint32_t kUdpEncapLen = 8;    // RFC 3948 UDP header in front of ESP
// Largest growth of a packet on encryption (IPv6 outer, UDP, 3 pad bytes).
constexpr uint32_t kMaxOverhead = 40 + kUdpEncapLen + kEspHeaderLen + kIvLen + 3 + kTrailerLen + kIcvLen;

class EspEngine {
public:
    explicit EspEngine(CryptoPath path = CryptoPath::Direct);
    ~EspEngine();
    EspEngine(const EspEngine&) = delete;
    EspEngine& operator=(const EspEngine&) = delete;

    // Encrypt n packets (n any size; processed in chunks of kMaxBurst).
    // sas[i] is the outbound SA of pkts[i].
    void encrypt_burst(Packet* pkts, Sa* const* sas, uint32_t n, Status* status);
    // Decrypt n packets; sas[i] is the inbound SA found for pkts[i]'s SPI
    // (nullptr: no SA -> BadSpi). seq[i] (optional) gets the full sequence number.
    void decrypt_burst(Packet* pkts, Sa* const* sas, uint32_t n, Status* status,
                       uint64_t* seq = nullptr);

    CryptoPath path() const { return path_; }
    const char* arch_name() const;  // IPsec-MB code path in use (sse, avx2, avx512 ...)

private:
    struct Work;  // per-packet scratch between the prepare, crypto and finish steps
    void crypto_direct(Work& w, bool encrypt);
    void run_jobs(Work* w, uint32_t n, bool encrypt);
    Status finish_decrypt(Packet& p, Sa& sa, Work& w, uint64_t seq);

    IMB_MGR* mgr_;
    CryptoPath path_;
    Work* work_;
};

// Reads the SPI of an ESP packet (outer IP header first) for SA lookup; for
// ESP-in-UDP the SPI follows the UDP header. Returns false with *why set when
// the packet is not a well-formed ESP packet (NotEsp: UDP carrying IKE's
// non-ESP marker or a NAT keepalive). Plain ESP in an option-less IPv4
// header is read without further checks (decrypt_burst makes them all);
// inline, since the dataplane calls it once per received ESP packet.
bool peek_spi_parsed(const Packet& pkt, uint32_t* spi, Status* why);  // the general case
inline bool peek_spi(const Packet& pkt, uint32_t* spi, Status* why)
{
    if (pkt.len >= kIpv4MinHeader + kEspHeaderLen && pkt.data[0] == 0x45 && pkt.data[9] == kProtoEsp) {
        *spi = load32(pkt.data + kIpv4MinHeader);
        *why = Status::Ok;
        return true;
    }
    return peek_spi_parsed(pkt, spi, why);
}

}  // namespace ipsecgw::esp
