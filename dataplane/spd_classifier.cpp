#include "dataplane/spd_classifier.hpp"

#include <rte_byteorder.h>

#include <algorithm>
#include <cstddef>
#include <stdexcept>
#include <vector>

namespace ipsecgw::dataplane {
namespace {

RTE_ACL_RULE_DEF(Acl4Rule, 5);
RTE_ACL_RULE_DEF(Acl6Rule, 11);

// Field layout shared by rule definitions and keys. rte_acl reads input in
// 4-byte groups (input_index); the first field must be a single byte.
rte_acl_config config4()
{
    rte_acl_config c{};
    c.num_categories = 1;
    c.num_fields = 5;
    c.defs[0] = {RTE_ACL_FIELD_TYPE_RANGE, 1, 0, 0, offsetof(AclKey4, proto)};
    c.defs[1] = {RTE_ACL_FIELD_TYPE_MASK, 4, 1, 1, offsetof(AclKey4, src)};
    c.defs[2] = {RTE_ACL_FIELD_TYPE_MASK, 4, 2, 2, offsetof(AclKey4, dst)};
    c.defs[3] = {RTE_ACL_FIELD_TYPE_RANGE, 2, 3, 3, offsetof(AclKey4, sport)};
    c.defs[4] = {RTE_ACL_FIELD_TYPE_RANGE, 2, 4, 3, offsetof(AclKey4, dport)};
    return c;
}

rte_acl_config config6()
{
    rte_acl_config c{};
    c.num_categories = 1;
    c.num_fields = 11;
    c.defs[0] = {RTE_ACL_FIELD_TYPE_RANGE, 1, 0, 0, offsetof(AclKey6, proto)};
    for (uint8_t i = 0; i < 4; ++i) {
        c.defs[1 + i] = {RTE_ACL_FIELD_TYPE_MASK, 4, uint8_t(1 + i), uint8_t(1 + i),
                         uint32_t(offsetof(AclKey6, src) + 4 * i)};
        c.defs[5 + i] = {RTE_ACL_FIELD_TYPE_MASK, 4, uint8_t(5 + i), uint8_t(5 + i),
                         uint32_t(offsetof(AclKey6, dst) + 4 * i)};
    }
    c.defs[9] = {RTE_ACL_FIELD_TYPE_RANGE, 2, 9, 9, offsetof(AclKey6, sport)};
    c.defs[10] = {RTE_ACL_FIELD_TYPE_RANGE, 2, 10, 9, offsetof(AclKey6, dport)};
    return c;
}

uint32_t word(const net::IpAddress& a, unsigned i)
{
    const uint8_t* b = a.bytes.data() + 4 * i;
    return (uint32_t(b[0]) << 24) | (uint32_t(b[1]) << 16) | (uint32_t(b[2]) << 8) | b[3];
}

// Mask length of 32-bit word i of a prefix of length len.
uint32_t word_len(unsigned len, unsigned i)
{
    int l = int(len) - int(32 * i);
    return l <= 0 ? 0 : l >= 32 ? 32 : uint32_t(l);
}

template <typename Rule>
void fill_common(Rule& r, const gateway::Policy& p, uint32_t rank, uint32_t index, unsigned nfields)
{
    r.data.category_mask = 1;
    r.data.priority = int32_t(rank);
    r.data.userdata = index + 1;
    r.field[0].value.u8 = uint8_t(p.selector.proto_lo);
    r.field[0].mask_range.u8 = uint8_t(p.selector.proto_hi);
    r.field[nfields - 2].value.u16 = p.selector.sport.lo;
    r.field[nfields - 2].mask_range.u16 = p.selector.sport.hi;
    r.field[nfields - 1].value.u16 = p.selector.dport.lo;
    r.field[nfields - 1].mask_range.u16 = p.selector.dport.hi;
}

rte_acl_ctx* build(const std::string& name, uint32_t rule_size, const std::vector<uint8_t>& rules, uint32_t n,
                   const rte_acl_config& cfg)
{
    if (n == 0)
        return nullptr;
    rte_acl_param prm{};
    prm.name = name.c_str();
    prm.socket_id = SOCKET_ID_ANY;
    prm.rule_size = rule_size;
    prm.max_rule_num = n;
    rte_acl_ctx* ctx = rte_acl_create(&prm);
    if (!ctx)
        throw std::runtime_error("rte_acl_create failed for " + name);
    if (rte_acl_add_rules(ctx, reinterpret_cast<const rte_acl_rule*>(rules.data()), n) != 0 ||
        rte_acl_build(ctx, &cfg) != 0) {
        rte_acl_free(ctx);
        throw std::runtime_error("building the ACL classifier " + name + " failed");
    }
    return ctx;
}

}  // namespace

SpdClassifier::SpdClassifier(const gateway::Spd& spd, const std::string& name)
{
    auto ranks = spd.precedence_ranks();
    const auto& pol = spd.policies();
    try {
        for (auto dir : {esp::Direction::Inbound, esp::Direction::Outbound}) {
            std::vector<uint8_t> r4, r6;
            uint32_t n4 = 0, n6 = 0;
            std::vector<std::pair<uint32_t, LinearRule4>> lin;  // (rank, rule)
            for (uint32_t i = 0; i < pol.size(); ++i) {
                const auto& p = pol[i];
                if (p.direction != dir)
                    continue;
                const auto& s = p.selector;
                if (s.family == net::Family::V4) {
                    Acl4Rule r{};
                    fill_common(r, p, ranks[i], i, 5);
                    r.field[1].value.u32 = s.src.len ? word(s.src.addr, 0) : 0;
                    r.field[1].mask_range.u32 = s.src.len;
                    r.field[2].value.u32 = s.dst.len ? word(s.dst.addr, 0) : 0;
                    r.field[2].mask_range.u32 = s.dst.len;
                    auto* b = reinterpret_cast<const uint8_t*>(&r);
                    r4.insert(r4.end(), b, b + sizeof r);
                    ++n4;
                    auto mask = [](unsigned len) { return len ? ~uint32_t(0) << (32 - len) : 0u; };
                    LinearRule4 l{};
                    l.src_mask = mask(s.src.len);
                    l.src = r.field[1].value.u32 & l.src_mask;
                    l.dst_mask = mask(s.dst.len);
                    l.dst = r.field[2].value.u32 & l.dst_mask;
                    l.sport_lo = s.sport.lo, l.sport_hi = s.sport.hi;
                    l.dport_lo = s.dport.lo, l.dport_hi = s.dport.hi;
                    l.proto_lo = uint8_t(s.proto_lo), l.proto_hi = uint8_t(s.proto_hi);
                    l.result = i + 1;
                    lin.emplace_back(ranks[i], l);
                } else {
                    Acl6Rule r{};
                    fill_common(r, p, ranks[i], i, 11);
                    for (unsigned w = 0; w < 4; ++w) {
                        r.field[1 + w].value.u32 = s.src.len ? word(s.src.addr, w) : 0;
                        r.field[1 + w].mask_range.u32 = word_len(s.src.len, w);
                        r.field[5 + w].value.u32 = s.dst.len ? word(s.dst.addr, w) : 0;
                        r.field[5 + w].mask_range.u32 = word_len(s.dst.len, w);
                    }
                    auto* b = reinterpret_cast<const uint8_t*>(&r);
                    r6.insert(r6.end(), b, b + sizeof r);
                    ++n6;
                }
            }
            const char* d = dir == esp::Direction::Inbound ? "in" : "out";
            if (n4 <= kLinearMax) {
                // rte_acl: the highest priority wins; the ranks are distinct.
                std::stable_sort(lin.begin(), lin.end(), [](const auto& a, const auto& b) { return a.first > b.first; });
                for (const auto& [rank, l] : lin)
                    linear4_[slot(dir)].push_back(l);
            }
            ctx4_[slot(dir)] = build(name + "4" + d, sizeof(Acl4Rule), r4, n4, config4());
            ctx6_[slot(dir)] = build(name + "6" + d, sizeof(Acl6Rule), r6, n6, config6());
        }
    } catch (...) {
        free_contexts();  // the members themselves are destroyed by the unwinding
        throw;
    }
}

SpdClassifier::~SpdClassifier()
{
    free_contexts();
}

void SpdClassifier::free_contexts()
{
    for (auto*& c : ctx4_)
        rte_acl_free(c), c = nullptr;
    for (auto*& c : ctx6_)
        rte_acl_free(c), c = nullptr;
}

void SpdClassifier::classify4(esp::Direction dir, const AclKey4** keys, AclResult* results, uint32_t n) const
{
    const std::vector<LinearRule4>& lin = linear4_[slot(dir)];
    if (!lin.empty()) {
        for (uint32_t i = 0; i < n; ++i) {
            const AclKey4& k = *keys[i];
            uint32_t src = rte_be_to_cpu_32(k.src), dst = rte_be_to_cpu_32(k.dst);
            uint16_t sport = rte_be_to_cpu_16(k.sport), dport = rte_be_to_cpu_16(k.dport);
            AclResult r = 0;
            for (const LinearRule4& l : lin) {
                if ((src & l.src_mask) == l.src && (dst & l.dst_mask) == l.dst && k.proto >= l.proto_lo &&
                    k.proto <= l.proto_hi && sport >= l.sport_lo && sport <= l.sport_hi && dport >= l.dport_lo &&
                    dport <= l.dport_hi) {
                    r = l.result;
                    break;
                }
            }
            results[i] = r;
        }
        return;
    }
    rte_acl_ctx* c = ctx4_[slot(dir)];
    if (!c) {
        for (uint32_t i = 0; i < n; ++i)
            results[i] = 0;
        return;
    }
    rte_acl_classify(c, reinterpret_cast<const uint8_t**>(keys), results, n, 1);
}

void SpdClassifier::classify6(esp::Direction dir, const AclKey6** keys, AclResult* results, uint32_t n) const
{
    rte_acl_ctx* c = ctx6_[slot(dir)];
    if (!c) {
        for (uint32_t i = 0; i < n; ++i)
            results[i] = 0;
        return;
    }
    rte_acl_classify(c, reinterpret_cast<const uint8_t**>(keys), results, n, 1);
}

}  // namespace ipsecgw::dataplane
