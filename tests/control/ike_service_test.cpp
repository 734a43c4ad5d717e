// IkeService without DPDK: two services (two engines) talk through an
// in-memory network, optionally through a NAT; their SAs and policies land in
// fake installers that validate every change like LiveGateway does.
#include <gtest/gtest.h>

#include <deque>
#include <functional>

#include "control/ike_service.hpp"

using namespace ipsecgw;
using namespace ipsecgw::control;
using ike::Datagram;
using ike::Endpoint;
using ike::TimePoint;

namespace {

ike::Bytes v4(uint8_t a, uint8_t b, uint8_t c, uint8_t d) { return {a, b, c, d}; }

// Keeps a model of what was installed and checks each change as a whole.
class FakeInstaller : public SaInstaller {
public:
    uint64_t apply_change(SaChange change) override
    {
        gateway::GatewayConfig next;
        next.spd.default_action = gateway::PolicyAction::Discard;
        next.sas = model.sas;
        for (const auto& p : model.spd.policies())
            if (std::find(change.remove_policies.begin(), change.remove_policies.end(), p.name) ==
                change.remove_policies.end())
                next.spd.add(p);
        for (const auto& name : change.remove_sas) {
            auto it = std::find_if(next.sas.begin(), next.sas.end(), [&](auto& e) { return e.name == name; });
            if (it == next.sas.end())
                throw CommandError(err::kNotFound, "no SA " + name);
            next.sas.erase(it);
        }
        for (const auto& e : change.add_sas)
            next.sas.push_back(e);
        for (auto& p : change.add_policies)
            next.spd.add(p);
        for (auto& e : change.add_sas)
            e.sa.wipe();
        if (fail_next) {
            fail_next = false;
            throw CommandError(err::kInvalidArgument, "injected failure");
        }
        try {
            next.validate();
        } catch (const gateway::ConfigError& e) {
            throw CommandError(err::kInvalidArgument, e.what());
        }
        model.sas = std::move(next.sas);
        model.spd = next.spd;
        return ++versions;
    }
    bool sa_counters(const std::string& name, uint64_t& packets, uint64_t& bytes) const override
    {
        for (const auto& e : model.sas)
            if (e.name == name) {
                packets = 7, bytes = 700;
                return true;
            }
        return false;
    }

    const gateway::SaEntry* sa(esp::Direction d, uint32_t spi) const { return model.find_sa(d, spi); }
    std::vector<const gateway::Policy*> policies(esp::Direction d) const
    {
        std::vector<const gateway::Policy*> out;
        for (const auto& p : model.spd.policies())
            if (p.direction == d)
                out.push_back(&p);
        return out;
    }

    gateway::GatewayConfig model;
    uint64_t versions = 0;
    bool fail_next = false;
};

// A point-to-point network; `nat` rewrites A's source endpoints on the way
// to B (and back), like a NAT in front of A.
struct Network {
    std::deque<Datagram> to_a, to_b;
    bool nat = false;
    Endpoint nat_public(const Endpoint& inside) const
    {
        return {v4(198, 51, 100, 9), static_cast<uint16_t>(inside.port + 10000)};
    }
    Endpoint nat_private(const Endpoint& outside) const
    {
        return {v4(10, 0, 0, 1), static_cast<uint16_t>(outside.port - 10000)};
    }
};

class FakeIo : public IkeIo {
public:
    FakeIo(Network& net, bool is_a) : net_(net), a_(is_a) {}
    bool receive(Datagram& out) override
    {
        auto& q = a_ ? net_.to_a : net_.to_b;
        if (q.empty() || held)
            return false;
        out = std::move(q.front());
        q.pop_front();
        return true;
    }
    void send(const Datagram& d) override
    {
        ++sent;
        if (d.local.port == ike::kIkeNatTPort)
            ++sent_from_4500;
        Datagram r;
        r.data = d.data;
        if (a_) {
            r.local = d.remote;
            r.remote = net_.nat ? net_.nat_public(d.local) : d.local;
            net_.to_b.push_back(std::move(r));
        } else {
            r.local = net_.nat ? net_.nat_private(d.remote) : d.remote;
            r.remote = d.local;
            net_.to_a.push_back(std::move(r));
        }
    }
    void send_keepalive(const Endpoint& local, const Endpoint& remote) override
    {
        keepalives.push_back({local, remote});
    }
    std::vector<std::pair<Endpoint, Endpoint>> keepalives;
    int sent = 0, sent_from_4500 = 0;
    bool held = false;

private:
    Network& net_;
    bool a_;
};

gateway::ConnectionConfig conn(const std::string& name, net::IpAddress local, std::optional<net::IpAddress> remote,
                               const std::string& psk, bool initiate)
{
    gateway::ConnectionConfig c;
    c.name = name;
    c.local = local;
    c.remote = remote;
    c.local_id = {ike::IdType::Fqdn, ike::to_bytes(initiate ? "gw-a.test" : "gw-b.test")};
    c.remote_id = {ike::IdType::Fqdn, ike::to_bytes(initiate ? "gw-b.test" : "gw-a.test")};
    c.psk = ike::to_secret(ike::to_bytes(psk));
    c.ike_suites = gateway::parse_ike_proposals("aes128gcm16-prfsha256-ecp256");
    c.esp_suites = gateway::parse_esp_proposals("aes128gcm16");
    auto a = *net::IpPrefix::parse("192.168.10.0/24"), b = *net::IpPrefix::parse("192.168.20.0/24");
    c.local_ts = {initiate ? a : b};
    c.remote_ts = {initiate ? b : a};
    c.start = initiate ? gateway::ConnStart::Initiate : gateway::ConnStart::None;
    c.replay_window = 256;
    c.child_life_bytes = 1000;
    return c;
}

class IkeServiceTest : public ::testing::Test {
protected:
    void make(bool nat, const std::string& psk_b = "interop-test-psk-0123456789",
              gateway::ConnStart a_start = gateway::ConnStart::Initiate)
    {
        net.nat = nat;
        auto a_addr = nat ? *net::IpAddress::parse("10.0.0.1") : *net::IpAddress::parse("10.99.0.1");
        gateway::IkeConfig ca, cb;
        ca.connections.push_back(
            conn("net", a_addr, *net::IpAddress::parse("10.99.0.2"), "interop-test-psk-0123456789", true));
        ca.connections.back().start = a_start;
        cb.connections.push_back(conn("net", *net::IpAddress::parse("10.99.0.2"), std::nullopt, psk_b, false));
        a = std::make_unique<IkeService>(ca, inst_a, io_a, nullptr);
        b = std::make_unique<IkeService>(cb, inst_b, io_b, nullptr);
    }
    // Runs both sides until the network is quiet (bounded).
    void pump(int rounds = 50)
    {
        for (int i = 0; i < rounds; ++i) {
            now += TimePoint(100);
            a->poll(now);
            b->poll(now);
            if (net.to_a.empty() && net.to_b.empty())
                return;
        }
    }
    void establish()
    {
        a->start(now);
        pump();
        ASSERT_EQ(inst_a.model.sas.size(), 2u) << a->last_error("net");
        ASSERT_EQ(inst_b.model.sas.size(), 2u) << b->last_error("net");
    }

    Network net;
    FakeIo io_a{net, true}, io_b{net, false};
    FakeInstaller inst_a, inst_b;
    std::unique_ptr<IkeService> a, b;
    TimePoint now{1'000'000};
};

uint32_t only_spi(const FakeInstaller& f, esp::Direction d)
{
    uint32_t spi = 0;
    int n = 0;
    for (const auto& e : f.model.sas)
        if (e.sa.direction == d)
            spi = e.sa.spi, ++n;
    EXPECT_EQ(n, 1);
    return spi;
}

}  // namespace

TEST_F(IkeServiceTest, EstablishInstallsMatchingSasAndPolicies)
{
    make(false);
    establish();
    uint32_t a_out = only_spi(inst_a, esp::Direction::Outbound), a_in = only_spi(inst_a, esp::Direction::Inbound);
    EXPECT_EQ(only_spi(inst_b, esp::Direction::Inbound), a_out);
    EXPECT_EQ(only_spi(inst_b, esp::Direction::Outbound), a_in);

    // Keys as the engine derived them, and what one side sends with the other receives with.
    auto st = a->engine().status();
    ASSERT_EQ(st.size(), 1u);
    ASSERT_EQ(st[0].children.size(), 1u);
    const auto& child = st[0].children[0];
    const auto* out = inst_a.sa(esp::Direction::Outbound, a_out);
    const auto* peer_in = inst_b.sa(esp::Direction::Inbound, a_out);
    ASSERT_TRUE(out && peer_in);
    ASSERT_EQ(child.encr_out.size(), 20u);
    EXPECT_TRUE(std::equal(child.encr_out.begin(), child.encr_out.begin() + 16, out->sa.key.begin()));
    EXPECT_TRUE(std::equal(child.encr_out.begin() + 16, child.encr_out.end(), out->sa.salt.begin()));
    EXPECT_EQ(out->sa.key, peer_in->sa.key);
    EXPECT_EQ(out->sa.salt, peer_in->sa.salt);
    EXPECT_EQ(out->sa.aead, esp::Aead::AesGcm128);
    EXPECT_EQ(out->sa.mode, esp::Mode::Tunnel);
    EXPECT_EQ(out->sa.tunnel_src.to_string(), "10.99.0.1");
    EXPECT_EQ(out->sa.tunnel_dst.to_string(), "10.99.0.2");
    EXPECT_FALSE(out->sa.udp_encap);
    EXPECT_EQ(peer_in->sa.tunnel_src.to_string(), "10.99.0.1");
    EXPECT_EQ(peer_in->sa.replay_window, 256u);
    EXPECT_EQ(out->lifetime.hard_bytes, 1000u);
    EXPECT_EQ(out->lifetime.soft_bytes, 900u);
    EXPECT_EQ(out->where.file, kIkeSourceTag);

    auto pol_out = inst_a.policies(esp::Direction::Outbound);
    auto pol_in = inst_a.policies(esp::Direction::Inbound);
    ASSERT_EQ(pol_out.size(), 1u);
    ASSERT_EQ(pol_in.size(), 1u);
    EXPECT_EQ(pol_out[0]->selector.src.to_string(), "192.168.10.0/24");
    EXPECT_EQ(pol_out[0]->selector.dst.to_string(), "192.168.20.0/24");
    EXPECT_EQ(pol_out[0]->spi, a_out);
    EXPECT_EQ(pol_out[0]->action, gateway::PolicyAction::Protect);
    EXPECT_EQ(pol_in[0]->selector.src.to_string(), "192.168.20.0/24");
    EXPECT_EQ(pol_in[0]->selector.dst.to_string(), "192.168.10.0/24");
    EXPECT_EQ(pol_in[0]->spi, a_in);
    EXPECT_EQ(io_a.sent_from_4500, 0);  // no NAT: IKE stays on 500

    Json shown = a->show(now);
    const Json& c0 = shown.find("connections")->as_array().at(0);
    EXPECT_EQ(c0.find("name")->as_string(), "net");
    const Json& sa0 = c0.find("ike_sas")->as_array().at(0);
    EXPECT_EQ(sa0.find("state")->as_string(), "established");
    EXPECT_EQ(sa0.find("role")->as_string(), "initiator");
    EXPECT_EQ(sa0.find("algorithms")->as_string(), "aes128gcm16-prfsha256-ecp256");
    const Json& ch = sa0.find("children")->as_array().at(0);
    EXPECT_EQ(ch.find("local_ts")->as_string(), "192.168.10.0/24");
    EXPECT_EQ(ch.find("in_packets")->as_int(), 7);
}

TEST_F(IkeServiceTest, NatDetectedGivesUdpEncapsulationAndKeepalives)
{
    make(true);
    establish();
    uint32_t a_out = only_spi(inst_a, esp::Direction::Outbound);
    const auto* out = inst_a.sa(esp::Direction::Outbound, a_out);
    const auto* b_in = inst_b.sa(esp::Direction::Inbound, a_out);
    const auto* b_out = inst_b.sa(esp::Direction::Outbound, only_spi(inst_b, esp::Direction::Outbound));
    ASSERT_TRUE(out && b_in && b_out);
    EXPECT_TRUE(out->sa.udp_encap);
    EXPECT_EQ(out->sa.encap_src_port, 4500);
    EXPECT_EQ(out->sa.encap_dst_port, 4500);
    EXPECT_TRUE(b_in->sa.udp_encap);
    // Ports are named from B's side in both directions: ESP must arrive on
    // B's own 4500 (the dataplane checks encap_src_port on inbound SAs).
    EXPECT_EQ(b_in->sa.encap_src_port, 4500);
    EXPECT_EQ(b_in->sa.encap_dst_port, 14500);
    // B sends to the NAT's mapping of A's port 4500.
    EXPECT_TRUE(b_out->sa.udp_encap);
    EXPECT_EQ(b_out->sa.encap_src_port, 4500);
    EXPECT_EQ(b_out->sa.encap_dst_port, 14500);
    EXPECT_EQ(b_out->sa.tunnel_dst.to_string(), "198.51.100.9");
    EXPECT_GT(io_a.sent_from_4500, 0);  // IKE_AUTH on moved to 4500
    // Only the side behind the NAT keeps the mapping alive, every 20 s.
    size_t before = io_a.keepalives.size();
    EXPECT_GE(before, 1u);
    for (int i = 0; i < 250; ++i) {  // 25 s
        now += TimePoint(100);
        a->poll(now);
        b->poll(now);
    }
    EXPECT_EQ(io_a.keepalives.size(), before + 1);
    EXPECT_TRUE(io_b.keepalives.empty());
    EXPECT_EQ(io_a.keepalives.back().first.port, 4500);
    EXPECT_EQ(io_a.keepalives.back().second.address, v4(10, 99, 0, 2));
}

TEST_F(IkeServiceTest, ChildRekeyKeepsOldInboundSaUntilDeleted)
{
    make(false);
    establish();
    uint32_t old_b_in = only_spi(inst_b, esp::Direction::Inbound);
    uint32_t old_b_out = only_spi(inst_b, esp::Direction::Outbound);
    io_a.held = true;  // A does not see B's answers yet
    a->rekey("net", false, now);
    ASSERT_FALSE(net.to_b.empty());
    b->poll(now);  // B answers the CREATE_CHILD_SA request and installs the new SAs
    // B (responder of the rekey): old and new inbound SAs, both outbound SAs,
    // and its outbound policies still on the OLD SA: A may not have
    // installed its new inbound SA yet (A has not seen the answer).
    ASSERT_EQ(inst_b.model.sas.size(), 4u);
    EXPECT_NE(inst_b.sa(esp::Direction::Inbound, old_b_in), nullptr);
    EXPECT_NE(inst_b.sa(esp::Direction::Outbound, old_b_out), nullptr);
    auto pol_out = inst_b.policies(esp::Direction::Outbound);
    ASSERT_EQ(pol_out.size(), 1u);
    EXPECT_EQ(pol_out[0]->spi, old_b_out);
    // During the overlap neither inbound SA is bound to a policy, so both decrypt.
    EXPECT_TRUE(inst_b.policies(esp::Direction::Inbound).empty());

    io_a.held = false;
    pump();  // A installs, deletes the old CHILD_SA; B removes it
    ASSERT_EQ(inst_b.model.sas.size(), 2u);
    ASSERT_EQ(inst_a.model.sas.size(), 2u);
    EXPECT_EQ(inst_b.sa(esp::Direction::Inbound, old_b_in), nullptr);
    // A's DELETE of the old CHILD_SA moved B's outbound to the new SA.
    EXPECT_EQ(inst_b.sa(esp::Direction::Outbound, old_b_out), nullptr);
    uint32_t new_b_out = only_spi(inst_b, esp::Direction::Outbound);
    EXPECT_NE(new_b_out, old_b_out);
    auto pol_out_after = inst_b.policies(esp::Direction::Outbound);
    ASSERT_EQ(pol_out_after.size(), 1u);
    EXPECT_EQ(pol_out_after[0]->spi, new_b_out);
    // A (initiator of the rekey) switched its outbound as soon as it had the answer.
    EXPECT_EQ(inst_a.policies(esp::Direction::Outbound).size(), 1u);
    uint32_t new_b_in = only_spi(inst_b, esp::Direction::Inbound);
    EXPECT_NE(new_b_in, old_b_in);
    auto pol_in = inst_b.policies(esp::Direction::Inbound);
    ASSERT_EQ(pol_in.size(), 1u);
    EXPECT_EQ(pol_in[0]->spi, new_b_in);
    EXPECT_EQ(inst_a.policies(esp::Direction::Inbound).size(), 1u);
    EXPECT_EQ(inst_a.policies(esp::Direction::Outbound).at(0)->spi, new_b_in);
}

TEST_F(IkeServiceTest, SoftLifetimeRekeysAndHardLifetimeDeletes)
{
    make(false);
    establish();
    uint32_t a_out = only_spi(inst_a, esp::Direction::Outbound);
    a->on_lifetime_event(esp::Direction::Outbound, a_out, SaLifetimeEvent::Soft, now);
    pump();
    uint32_t a_out2 = only_spi(inst_a, esp::Direction::Outbound);
    EXPECT_NE(a_out2, a_out);
    EXPECT_EQ(inst_a.model.sas.size(), 2u);
    // Not ours: ignored.
    a->on_lifetime_event(esp::Direction::Outbound, 0x12345, SaLifetimeEvent::Hard, now);
    EXPECT_EQ(inst_a.model.sas.size(), 2u);
    a->on_lifetime_event(esp::Direction::Inbound, only_spi(inst_a, esp::Direction::Inbound), SaLifetimeEvent::Hard,
                         now);
    EXPECT_TRUE(inst_a.model.sas.empty());
    pump();
    EXPECT_TRUE(inst_b.model.sas.empty());
    EXPECT_TRUE(inst_b.model.spd.policies().empty());
    EXPECT_NE(a->last_error("net").find("hard lifetime"), std::string::npos);
}

TEST_F(IkeServiceTest, TerminateRemovesBothDirectionsOnBothSides)
{
    make(false);
    establish();
    a->terminate("net", now);
    pump();
    EXPECT_TRUE(inst_a.model.sas.empty());
    EXPECT_TRUE(inst_a.model.spd.policies().empty());
    EXPECT_TRUE(inst_b.model.sas.empty());
    EXPECT_TRUE(inst_b.model.spd.policies().empty());
    EXPECT_THROW(a->terminate("net", now), CommandError);
    // And up again on request.
    a->initiate("net", now);
    pump();
    EXPECT_EQ(inst_a.model.sas.size(), 2u);
    EXPECT_EQ(inst_b.model.sas.size(), 2u);
}

TEST_F(IkeServiceTest, WrongPskIsReportedAsLastError)
{
    make(false, "not-the-same-psk");
    a->start(now);
    pump();
    EXPECT_TRUE(inst_a.model.sas.empty());
    EXPECT_TRUE(inst_b.model.sas.empty());
    EXPECT_NE(a->last_error("net").find("AUTHENTICATION_FAILED"), std::string::npos) << a->last_error("net");
    EXPECT_FALSE(b->last_error("net").empty());
}

TEST_F(IkeServiceTest, InstallFailureDeletesTheChildSa)
{
    make(false);
    inst_b.fail_next = true;
    a->start(now);
    pump();
    EXPECT_TRUE(inst_b.model.sas.empty());
    EXPECT_NE(b->last_error("net").find("not installed"), std::string::npos) << b->last_error("net");
    EXPECT_TRUE(inst_a.model.sas.empty());  // B deleted it, A removed its half
}

TEST_F(IkeServiceTest, CommandsAnswerThroughTheDispatcher)
{
    make(false);
    Dispatcher d;
    a->register_commands(d);
    auto call = [&](const std::string& line) { return Json::parse(d.handle_line(line)); };
    Json r = call(R"({"v":1,"cmd":"ike.initiate","args":{"name":"nope"}})");
    EXPECT_FALSE(r.find("ok")->as_bool());
    EXPECT_EQ(r.find("error")->find("code")->as_string(), "not_found");
    r = call(R"({"v":1,"cmd":"ike.rekey","args":{"name":"net"}})");
    EXPECT_EQ(r.find("error")->find("code")->as_string(), "conflict");
    r = call(R"({"v":1,"cmd":"ike.initiate","args":{"name":"net"}})");
    EXPECT_TRUE(r.find("ok")->as_bool());
    pump();
    EXPECT_EQ(inst_a.model.sas.size(), 2u);
    r = call(R"({"v":1,"cmd":"ike.rekey","args":{"name":"net","ike":true}})");
    EXPECT_TRUE(r.find("ok")->as_bool());
    pump();
    EXPECT_EQ(inst_a.model.sas.size(), 2u);  // an IKE rekey leaves the CHILD_SAs alone
    r = call(R"({"v":1,"cmd":"show.ike"})");
    EXPECT_EQ(r.find("result")->find("connections")->as_array().size(), 1u);
}

TEST_F(IkeServiceTest, TrapInstallsAcquirePoliciesAndAcquireInitiates)
{
    make(false, "interop-test-psk-0123456789", gateway::ConnStart::Trap);
    a->start(now);
    pump();
    // Nothing negotiated yet; one ACQUIRE policy for the selectors, below
    // the priority CHILD_SA policies get.
    EXPECT_TRUE(inst_a.model.sas.empty());
    auto traps = inst_a.policies(esp::Direction::Outbound);
    ASSERT_EQ(traps.size(), 1u);
    EXPECT_EQ(traps[0]->action, gateway::PolicyAction::Acquire);
    EXPECT_LT(traps[0]->priority, kIkePolicyPriority);
    EXPECT_TRUE(net.to_b.empty());
    a->on_acquire("ike:other:trap:0", now);  // not a trap of ours: ignored
    a->on_acquire("net", now);
    EXPECT_TRUE(net.to_b.empty());
    a->on_acquire(traps[0]->name, now);
    pump();
    ASSERT_EQ(inst_a.model.sas.size(), 2u) << a->last_error("net");
    ASSERT_EQ(inst_b.model.sas.size(), 2u);
    // A second acquire while the SAs exist starts nothing.
    a->on_acquire(inst_a.policies(esp::Direction::Outbound).back()->name, now);
    EXPECT_TRUE(net.to_b.empty());
    // The trap stays (for the next time the SAs go), the CHILD_SA's PROTECT policy outranks it.
    size_t acquire = 0, protect = 0;
    for (const auto* p : inst_a.policies(esp::Direction::Outbound))
        (p->action == gateway::PolicyAction::Acquire ? acquire : protect) += 1;
    EXPECT_EQ(acquire, 1u);
    EXPECT_EQ(protect, 1u);
}

TEST(IkeServiceBatch, ChildSasOfOneRoundArePublishedAsOneVersion)
{
    // Two initiating connections on A reach B in the same round: B installs
    // both CHILD_SAs (4 SAs, 4 policies) in one table version, not two.
    Network net;
    FakeIo io_a{net, true}, io_b{net, false};
    FakeInstaller inst_a, inst_b;
    gateway::IkeConfig ca, cb;
    auto a_addr = *net::IpAddress::parse("10.99.0.1"), b_addr = *net::IpAddress::parse("10.99.0.2");
    ca.connections.push_back(conn("net", a_addr, b_addr, "interop-test-psk-0123456789", true));
    ca.connections.push_back(conn("net2", a_addr, b_addr, "interop-test-psk-0123456789", true));
    ca.connections.back().local_id = {ike::IdType::Fqdn, ike::to_bytes("gw-a2.test")};
    ca.connections.back().local_ts = {*net::IpPrefix::parse("192.168.11.0/24")};
    cb.connections.push_back(conn("net", b_addr, std::nullopt, "interop-test-psk-0123456789", false));
    cb.connections.back().remote_id = {};  // any authenticated identity
    cb.connections.back().remote_ts = {*net::IpPrefix::parse("192.168.8.0/21")};
    IkeService a(ca, inst_a, io_a, nullptr), b(cb, inst_b, io_b, nullptr);
    TimePoint now{1'000'000};
    a.start(now);
    for (int i = 0; i < 50 && !(net.to_a.empty() && net.to_b.empty() && i > 0); ++i) {
        now += TimePoint(100);
        a.poll(now);
        b.poll(now);
    }
    ASSERT_EQ(inst_b.model.sas.size(), 4u) << b.last_error("net");
    EXPECT_EQ(inst_b.model.spd.policies().size(), 4u);
    EXPECT_EQ(inst_b.versions, 1u);
    EXPECT_EQ(inst_a.model.sas.size(), 4u);
}
