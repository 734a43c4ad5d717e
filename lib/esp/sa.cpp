#include "esp/sa.hpp"

#include <cstring>
#include <new>

#include "esp/ip_headers.hpp"

namespace ipsecgw::esp {

namespace {

// Key expansion needs a manager; the control thread keeps one for its lifetime.
IMB_MGR* expansion_manager()
{
    thread_local struct Holder {
        IMB_MGR* mgr = nullptr;
        Holder()
        {
            mgr = alloc_mb_mgr(0);
            if (mgr)
                init_mb_mgr_auto(mgr, nullptr);
        }
        ~Holder() { free_mb_mgr(mgr); }
    } holder;
    return holder.mgr;
}

}  // namespace

Sa::Sa(const SaConfig& cfg)
    : spi_(cfg.spi),
      direction_(cfg.direction),
      mode_(cfg.mode),
      aead_(cfg.aead),
      esn_(cfg.esn),
      udp_encap_(cfg.udp_encap),
      encap_local_port_(cfg.encap_src_port),
      seq_(cfg.initial_seq),
      replay_(cfg.replay_window, cfg.esn),
      cfg_(cfg)
{
    std::memcpy(salt_, cfg.salt.data(), 4);
    uint64_t limit = seq_limit();
    seq_soft_at_ = cfg.seq_soft_margin >= limit ? 0 : limit - cfg.seq_soft_margin;
    if (cfg.initial_seq >= limit)
        state_.store(SaState::Exhausted, std::memory_order_relaxed);
    cfg_.wipe();  // the copy keeps everything but the secret
    tunnel4_plain_ = cfg.mode == Mode::Tunnel && cfg.tunnel_src.is_v4() && !cfg.udp_encap;
    copy_dscp_ = cfg.copy_dscp;
    dscp_ = cfg.dscp;
    df_ = cfg.df;
    build_outer_template();
}

void Sa::build_outer_template()
{
    const uint8_t proto = udp_encap_ ? kProtoUdp : kProtoEsp;
    store16(udp_, cfg_.encap_src_port);
    store16(udp_ + 2, cfg_.encap_dst_port);
    if (cfg_.tunnel_src.is_v4()) {
        outer_[0] = 0x45;
        outer_[8] = cfg_.outer_ttl;
        outer_[9] = proto;
        std::memcpy(outer_ + 12, cfg_.tunnel_src.bytes.data(), 4);
        std::memcpy(outer_ + 16, cfg_.tunnel_dst.bytes.data(), 4);
        outer_sum_ = checksum_add_words(0, outer_ + 8, 3);  // TTL/proto, src, dst
    } else if (cfg_.tunnel_src.is_v6()) {
        outer_[0] = 0x60;
        outer_[6] = proto;
        outer_[7] = cfg_.outer_ttl;
        std::memcpy(outer_ + 8, cfg_.tunnel_src.bytes.data(), 16);
        std::memcpy(outer_ + 24, cfg_.tunnel_dst.bytes.data(), 16);
        // Pseudo-header addresses and next header, and the UDP ports: the
        // per-packet lengths and the payload are added after encryption.
        static const uint8_t next_header[4] = {0, 0, 0, kProtoUdp};
        udp6_sum_ = checksum_add_words(0, outer_ + 8, 8);
        udp6_sum_ = checksum_add_words(udp6_sum_, next_header, 1);
        udp6_sum_ = checksum_add_words(udp6_sum_, udp_, 1);
    }
}

std::unique_ptr<Sa> Sa::create(const SaConfig& cfg)
{
    IMB_MGR* mgr = expansion_manager();
    if (!mgr)
        return nullptr;
    std::unique_ptr<Sa> sa(new (std::nothrow) Sa(cfg));
    if (!sa)
        return nullptr;
    if (cfg.aead == Aead::AesGcm256)
        IMB_AES256_GCM_PRE(mgr, cfg.key.data(), &sa->key_);
    else
        IMB_AES128_GCM_PRE(mgr, cfg.key.data(), &sa->key_);
    return sa;
}

Sa::~Sa()
{
    explicit_bzero(&key_, sizeof key_);
    explicit_bzero(salt_, sizeof salt_);
}

uint32_t Sa::reserve_seq(uint32_t n, uint64_t* first)
{
    uint64_t limit = seq_limit();
    uint64_t cur = seq_.load(std::memory_order_relaxed);
    uint64_t take;
    do {
        take = std::min<uint64_t>(n, limit - cur);
        if (take == 0) {
            state_.store(SaState::Exhausted, std::memory_order_relaxed);
            return 0;
        }
    } while (!seq_.compare_exchange_weak(cur, cur + take, std::memory_order_relaxed));
    *first = cur + 1;
    if (cur + take >= seq_soft_at_ && !seq_soft_.load(std::memory_order_relaxed))
        seq_soft_.store(true, std::memory_order_relaxed);
    if (cur + take == limit)
        state_.store(SaState::Exhausted, std::memory_order_relaxed);
    return uint32_t(take);
}

}  // namespace ipsecgw::esp
