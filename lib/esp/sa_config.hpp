// Everything that defines one ESP security association, as configuration or
// IKE hands it over. Holds key material: wipe() it when done with it.
#pragma once

#include <array>
#include <cstdint>
#include <string>

#include "net/ip_address.hpp"

namespace ipsecgw::esp {

enum class Direction : uint8_t { Inbound, Outbound };
enum class Mode : uint8_t { Tunnel, Transport };
enum class Aead : uint8_t { AesGcm128, AesGcm256 };
// What the outer IPv4 header's DF bit becomes (RFC 4301 §8.1).
enum class DfPolicy : uint8_t { Copy, Set, Clear };

constexpr uint32_t kDefaultReplayWindow = 1024;
constexpr uint32_t kMaxReplayWindow = 65536;

inline unsigned key_bytes(Aead a) { return a == Aead::AesGcm256 ? 32 : 16; }
inline const char* aead_name(Aead a) { return a == Aead::AesGcm256 ? "aes256gcm16" : "aes128gcm16"; }

struct SaConfig {
    uint32_t spi = 0;
    Direction direction = Direction::Outbound;
    Mode mode = Mode::Tunnel;
    Aead aead = Aead::AesGcm128;
    std::array<uint8_t, 32> key{};   // key_bytes(aead) used
    std::array<uint8_t, 4> salt{};   // RFC 4106 §8.1: last 4 bytes of the key material
    bool esn = false;                // 64-bit extended sequence numbers (RFC 4303 §2.2.1)
    // Inbound: anti-replay window in packets, 0 disables the check.
    // Rounded up to a multiple of 64; at most kMaxReplayWindow.
    uint32_t replay_window = kDefaultReplayWindow;

    // Tunnel mode: outer addresses (their family picks the outer IP version).
    net::IpAddress tunnel_src;
    net::IpAddress tunnel_dst;
    uint8_t outer_ttl = 64;            // TTL / hop limit of the outer header
    bool copy_dscp = true;             // else outer DSCP = dscp
    uint8_t dscp = 0;
    DfPolicy df = DfPolicy::Copy;      // IPv6 inner → IPv4 outer: Copy means Set

    // RFC 3948 UDP encapsulation (NAT traversal): ESP rides in UDP between
    // our port (encap_src_port) and the peer's (encap_dst_port, possibly a
    // NAT's mapping), named from our side in both directions. Outbound: the
    // source and destination ports of what we send. Inbound: the SA only
    // accepts UDP-encapsulated ESP arriving on encap_src_port, from any
    // source port.
    bool udp_encap = false;
    uint16_t encap_src_port = 4500;
    uint16_t encap_dst_port = 4500;

    // Outbound: the last sequence number already used (tests start near the end).
    uint64_t initial_seq = 0;
    // Outbound: raise a soft event once this many sequence numbers are left.
    uint64_t seq_soft_margin = 1ull << 16;

    // Sets key and salt from RFC 4106 keying material (key || salt); false on a wrong length.
    bool set_keymat(const uint8_t* keymat, size_t len);
    void wipe();
};

}  // namespace ipsecgw::esp
