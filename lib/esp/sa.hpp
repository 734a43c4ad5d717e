// A live security association: expanded AES-GCM key, sequence counter or
// replay window, state. Created on the control core, used read-mostly by the
// workers; its key material is wiped when it is destroyed.
#pragma once

#include <intel-ipsec-mb.h>

#include <atomic>
#include <cstdint>
#include <memory>

#include "esp/replay_window.hpp"
#include "esp/sa_config.hpp"

namespace ipsecgw::esp {

enum class SaState : uint8_t { Active, Exhausted, Dead };

class alignas(64) Sa {
public:
    // Expands the key; the config's key material is copied and may be wiped by the caller.
    static std::unique_ptr<Sa> create(const SaConfig& cfg);
    ~Sa();
    Sa(const Sa&) = delete;
    Sa& operator=(const Sa&) = delete;

    uint32_t spi() const { return spi_; }
    Direction direction() const { return direction_; }
    Mode mode() const { return mode_; }
    Aead aead() const { return aead_; }
    bool esn() const { return esn_; }
    const SaConfig& config() const { return cfg_; }  // key fields are zero here
    SaState state() const { return state_.load(std::memory_order_relaxed); }
    void kill() { state_.store(SaState::Dead, std::memory_order_relaxed); }

    // Outbound: reserves up to n consecutive sequence numbers; returns how many
    // were granted (fewer at exhaustion) and the first one in *first.
    uint32_t reserve_seq(uint32_t n, uint64_t* first);
    uint64_t last_seq() const { return seq_.load(std::memory_order_relaxed); }
    uint64_t seq_limit() const { return esn_ ? UINT64_MAX : UINT32_MAX; }
    // True once the soft sequence margin has been crossed (reported once by the caller).
    bool seq_soft_reached() const { return seq_soft_.load(std::memory_order_relaxed); }

    ReplayWindow& replay() { return replay_; }
    const ReplayWindow& replay() const { return replay_; }

    // For the crypto path.
    const gcm_key_data& gcm_key() const { return key_; }
    const uint8_t* salt() const { return salt_; }
    // Tunnel mode: the outer header with its per-packet fields (TOS, length,
    // ID, flags, checksum) zero, and the checksum sum of its constant words.
    // With UDP encapsulation the template's protocol is UDP (17).
    const uint8_t* outer_template() const { return outer_; }
    uint64_t outer_template_sum() const { return outer_sum_; }
    // The outbound case the engine has a straight-line path for: tunnel mode,
    // IPv4 outer header, no UDP encapsulation.
    bool tunnel4_plain() const { return tunnel4_plain_; }
    // Copies of the config's outer TOS/DF rules, next to the template.
    bool copy_dscp() const { return copy_dscp_; }
    uint8_t dscp() const { return dscp_; }
    DfPolicy df_policy() const { return df_; }

    // RFC 3948 UDP encapsulation. The UDP header template holds the ports
    // (length and checksum zero); encap_local_port() is the port inbound
    // ESP-in-UDP must arrive on (SaConfig::encap_src_port).
    bool udp_encap() const { return udp_encap_; }
    uint16_t encap_local_port() const { return encap_local_port_; }
    const uint8_t* udp_template() const { return udp_; }
    // Tunnel mode over IPv6: checksum sum of the constant pseudo-header and
    // UDP words (addresses, next header 17, ports).
    uint64_t udp6_template_sum() const { return udp6_sum_; }

    // Claims the right to report a sequence-number event (soft margin or
    // exhaustion) for this SA: true exactly once per event, across all workers.
    enum SeqEvent : uint8_t { kSeqSoftEvent = 1, kSeqExhaustedEvent = 2 };
    bool claim_seq_event(SeqEvent e)
    {
        if (seq_events_.load(std::memory_order_relaxed) & e)
            return false;
        return !(seq_events_.fetch_or(e, std::memory_order_relaxed) & e);
    }

private:
    explicit Sa(const SaConfig& cfg);
    void build_outer_template();

    // Hot read-only data first: key schedule and identity.
    gcm_key_data key_;
    uint32_t spi_;
    uint8_t salt_[4];
    Direction direction_;
    Mode mode_;
    Aead aead_;
    bool esn_;
    std::atomic<SaState> state_{SaState::Active};
    bool udp_encap_;
    uint16_t encap_local_port_;
    alignas(16) uint8_t outer_[40] = {};
    uint64_t outer_sum_ = 0;
    bool tunnel4_plain_ = false;
    bool copy_dscp_ = true;
    uint8_t dscp_ = 0;
    DfPolicy df_ = DfPolicy::Copy;
    uint8_t udp_[8] = {};
    uint64_t udp6_sum_ = 0;
    // Outbound sequence counter on its own line: workers on several lcores bump it.
    alignas(64) std::atomic<uint64_t> seq_;
    std::atomic<bool> seq_soft_{false};
    std::atomic<uint8_t> seq_events_{0};  // SeqEvent bits already claimed
    uint64_t seq_soft_at_;
    alignas(64) ReplayWindow replay_;
    SaConfig cfg_;  // copy without key material, for display and tunnel headers
};

}  // namespace ipsecgw::esp
