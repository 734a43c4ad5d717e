// The rte_acl classifier against the SPD model (gateway::Spd::lookup) on
// random rules and random traffic, IPv4 and IPv6, both directions. Needs EAL
// (rte_acl allocates from its heap): started with virtual-only options.
#include <gtest/gtest.h>
#include <rte_eal.h>
#include <arpa/inet.h>
#include <unistd.h>

#include <cstring>
#include <random>
#include <string>

#include "dataplane/spd_classifier.hpp"
#include "gateway/value_parsers.hpp"

using namespace ipsecgw;
using namespace ipsecgw::gateway;
using namespace ipsecgw::dataplane;

namespace {

net::IpAddress random_address(std::mt19937& rng, net::Family f)
{
    net::IpAddress a;
    a.family = f;
    // A small address space so rules and packets overlap often.
    for (size_t i = 0; i < a.size(); ++i)
        a.bytes[i] = static_cast<uint8_t>(rng() % 4);
    return a;
}

net::IpPrefix random_prefix(std::mt19937& rng, net::Family f)
{
    unsigned max = f == net::Family::V4 ? 32 : 128;
    uint8_t len = static_cast<uint8_t>(rng() % (max + 1));
    if (rng() % 4 == 0)
        len = 0;
    return {mask_address(random_address(rng, f), len), len};
}

PortRange random_range(std::mt19937& rng)
{
    if (rng() % 3 == 0)
        return {};
    uint16_t a = static_cast<uint16_t>(rng() % 8), b = static_cast<uint16_t>(rng() % 8);
    return {std::min(a, b), std::max(a, b)};
}

Spd random_spd(std::mt19937& rng, unsigned n)
{
    Spd spd;
    for (unsigned i = 0; i < n; ++i) {
        Policy p;
        p.direction = rng() % 2 ? esp::Direction::Inbound : esp::Direction::Outbound;
        p.selector.family = rng() % 2 ? net::Family::V4 : net::Family::V6;
        p.selector.src = random_prefix(rng, p.selector.family);
        p.selector.dst = random_prefix(rng, p.selector.family);
        if (rng() % 2) {
            uint16_t a = static_cast<uint16_t>(rng() % 20), b = static_cast<uint16_t>(rng() % 20);
            p.selector.proto_lo = std::min(a, b);
            p.selector.proto_hi = std::max(a, b);
        }
        p.selector.sport = random_range(rng);
        p.selector.dport = random_range(rng);
        p.priority = rng() % 5;  // many ties: the definition order must decide
        p.action = static_cast<PolicyAction>(rng() % 3);
        spd.add(p);
    }
    return spd;
}

}  // namespace

class SpdClassifierTest : public ::testing::Test {
protected:
    static void SetUpTestSuite()
    {
        std::string prefix = "gwacl";
        prefix += std::to_string(getpid());
        const char* argv[] = {"test", "--no-pci", "--no-huge", "-m", "512", "--file-prefix", prefix.c_str(),
                              "--log-level", "lib.eal:error", "--no-telemetry"};
        ASSERT_GE(rte_eal_init(static_cast<int>(std::size(argv)), const_cast<char**>(argv)), 0);
    }
    static void TearDownTestSuite() { rte_eal_cleanup(); }
};

TEST_F(SpdClassifierTest, AgreesWithModel)
{
    std::mt19937 rng(12345);
    for (unsigned round = 0; round < 20; ++round) {
        Spd spd = random_spd(rng, 1 + rng() % 40);
        std::string name = "t";
        name += std::to_string(round);  // (not "t" + ...: GCC 12 -Wrestrict false positive)
        SpdClassifier acl(spd, name);
        for (unsigned k = 0; k < 400; ++k) {
            auto dir = rng() % 2 ? esp::Direction::Inbound : esp::Direction::Outbound;
            auto fam = rng() % 2 ? net::Family::V4 : net::Family::V6;
            FiveTuple t{random_address(rng, fam), random_address(rng, fam), static_cast<uint8_t>(rng() % 20),
                        static_cast<uint16_t>(rng() % 8), static_cast<uint16_t>(rng() % 8)};
            AclResult r = 0;
            if (fam == net::Family::V4) {
                AclKey4 key{};
                key.proto = t.proto;
                std::memcpy(&key.src, t.src.bytes.data(), 4);
                std::memcpy(&key.dst, t.dst.bytes.data(), 4);
                key.sport = htons(t.sport);
                key.dport = htons(t.dport);
                const AclKey4* kp = &key;
                acl.classify4(dir, &kp, &r, 1);
            } else {
                AclKey6 key{};
                key.proto = t.proto;
                std::memcpy(key.src, t.src.bytes.data(), 16);
                std::memcpy(key.dst, t.dst.bytes.data(), 16);
                key.sport = htons(t.sport);
                key.dport = htons(t.dport);
                const AclKey6* kp = &key;
                acl.classify6(dir, &kp, &r, 1);
            }
            const Policy* want = spd.lookup(dir, t);
            uint32_t want_r = want ? static_cast<uint32_t>(want - spd.policies().data()) + 1 : 0;
            ASSERT_EQ(r, want_r) << "round " << round << " packet " << k << " " << t.src.to_string() << " -> "
                                 << t.dst.to_string() << " proto " << int(t.proto) << " " << t.sport << "->"
                                 << t.dport;
        }
    }
}
