#include "gateway/spd.hpp"

#include <algorithm>
#include <numeric>

namespace ipsecgw::gateway {

const char* policy_action_name(PolicyAction a)
{
    switch (a) {
    case PolicyAction::Protect: return "protect";
    case PolicyAction::Bypass: return "bypass";
    case PolicyAction::Discard: return "discard";
    case PolicyAction::Acquire: return "acquire";
    }
    return "?";
}

bool Selector::matches(const FiveTuple& t) const
{
    if (t.src.family != family || t.dst.family != family)
        return false;
    if (src.len != 0 && !src.contains(t.src))
        return false;
    if (dst.len != 0 && !dst.contains(t.dst))
        return false;
    if (t.proto < proto_lo || t.proto > proto_hi)
        return false;
    return sport.contains(t.sport) && dport.contains(t.dport);
}

static bool wins(const Policy& a, size_t ia, const Policy& b, size_t ib)
{
    return a.priority != b.priority ? a.priority > b.priority : ia < ib;
}

const Policy* Spd::lookup(esp::Direction dir, const FiveTuple& t) const
{
    const Policy* best = nullptr;
    size_t best_i = 0;
    for (size_t i = 0; i < policies_.size(); ++i) {
        const Policy& p = policies_[i];
        if (p.direction != dir || !p.selector.matches(t))
            continue;
        if (!best || wins(p, i, *best, best_i))
            best = &p, best_i = i;
    }
    return best;
}

PolicyAction Spd::decide(esp::Direction dir, const FiveTuple& t, uint32_t* spi) const
{
    const Policy* p = lookup(dir, t);
    if (!p)
        return default_action;
    if (spi)
        *spi = p->spi;
    return p->action;
}

std::vector<uint32_t> Spd::precedence_ranks() const
{
    std::vector<size_t> order(policies_.size());
    std::iota(order.begin(), order.end(), 0);
    std::stable_sort(order.begin(), order.end(), [&](size_t a, size_t b) {
        return wins(policies_[a], a, policies_[b], b);
    });
    std::vector<uint32_t> rank(policies_.size());
    for (size_t pos = 0; pos < order.size(); ++pos)
        rank[order[pos]] = static_cast<uint32_t>(order.size() - pos);
    return rank;
}

}  // namespace ipsecgw::gateway
