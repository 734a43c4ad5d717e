// ipsecgw: `ipsecgw <EAL options> -- <application options>`.
// Startup order keeps configuration errors side-effect free: options, then the
// whole configuration file (parsed and validated), then ports, tables and
// workers. SIGINT/SIGTERM stop the workers; final counters are printed.
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_launch.h>
#include <rte_lcore.h>
#include <rte_ring.h>

#include <atomic>
#include <chrono>
#include <cinttypes>
#include <csignal>
#include <cstdio>
#include <cstring>
#include <functional>
#include <map>
#include <memory>
#include <set>
#include <thread>

#include <pthread.h>
#include <unistd.h>

#include <rte_eal.h>

#include "control/gateway_commands.hpp"
#include "control/ike_dpdk_io.hpp"
#include "control/ike_service.hpp"
#include "control/live_gateway.hpp"
#include "control/server.hpp"
#include "dataplane/app_options.hpp"
#include "dataplane/control_channel.hpp"
#include "dataplane/counter_report.hpp"
#include "dataplane/gateway_tables.hpp"
#include "dataplane/lifetime_monitor.hpp"
#include "dataplane/port_setup.hpp"
#include "dataplane/worker.hpp"
#include "gateway/native_config.hpp"
#include "gateway/secgw_config.hpp"

using namespace ipsecgw;
using namespace ipsecgw::dataplane;

namespace {

std::atomic<bool> g_stop{false};

void on_signal(int) { g_stop.store(true, std::memory_order_relaxed); }

// The control socket path: --socket, else one per EAL file prefix so that
// several gateways (and tests) on one machine never collide.
std::string socket_path(const AppOptions& o)
{
    if (!o.socket_path.empty())
        return o.socket_path;
    std::string dir = rte_eal_get_runtime_dir();  // .../dpdk/PREFIX
    std::string prefix = dir.substr(dir.rfind('/') + 1);
    if (prefix.empty() || prefix == "rte")
        return control::kDefaultSocketPath;
    return "/run/ipsecgw/" + prefix + ".sock";
}

// The rings of the control channel (control_channel.hpp). Ring names are
// per DPDK instance, which is one process here (own --file-prefix).
ControlChannel create_control_channel(rte_mempool* pool)
{
    constexpr unsigned kRingSize = 1024;
    ControlChannel ch;
    int socket = static_cast<int>(rte_socket_id());
    ch.pool = pool;
    ch.punt = rte_ring_create("gw_punt", kRingSize, socket, RING_F_SC_DEQ);
    ch.tx = rte_ring_create("gw_ctl_tx", kRingSize, socket, RING_F_SC_DEQ);
    ch.events = rte_ring_create_elem("gw_events", sizeof(WorkerEvent), kRingSize, socket, RING_F_SC_DEQ);
    if (!ch.punt || !ch.tx || !ch.events) {
        rte_ring_free(ch.punt);
        rte_ring_free(ch.tx);
        rte_ring_free(ch.events);
        throw std::runtime_error(std::string("cannot create the control channel rings: ") + rte_strerror(rte_errno));
    }
    return ch;
}

void free_ring_of_mbufs(rte_ring* r)
{
    if (!r)
        return;
    void* m = nullptr;
    while (rte_ring_dequeue(r, &m) == 0)
        rte_pktmbuf_free(static_cast<rte_mbuf*>(m));
    rte_ring_free(r);
}

// The IKE engine's clock: Unix-epoch milliseconds (certificate validity
// needs wall time).
ike::TimePoint ike_now()
{
    return std::chrono::duration_cast<ike::TimePoint>(std::chrono::system_clock::now().time_since_epoch());
}

// A control thread started from the main lcore inherits its pinning to the
// main worker's CPU: move it to the CPUs no worker polls on (or let it float
// over all of them when every CPU has a worker), so control work does not
// take time from one particular worker.
void keep_off_worker_cpus(std::thread& t, const std::vector<WorkerPlan>& workers)
{
    cpu_set_t set;
    CPU_ZERO(&set);
    long n = sysconf(_SC_NPROCESSORS_ONLN);
    for (long c = 0; c < n && c < CPU_SETSIZE; ++c)
        CPU_SET(c, &set);
    cpu_set_t all = set;
    for (const auto& w : workers) {
        rte_cpuset_t ws = rte_lcore_cpuset(w.lcore);
        for (int c = 0; c < CPU_SETSIZE; ++c)
            if (CPU_ISSET(c, &ws))
                CPU_CLR(c, &set);
    }
    pthread_setaffinity_np(t.native_handle(), sizeof(cpu_set_t), CPU_COUNT(&set) ? &set : &all);
}

int launch_worker(void* arg)
{
    static_cast<Worker*>(arg)->run();
    return 0;
}

bool wants_help(int argc, char** argv)
{
    for (int i = 1; i < argc; ++i)
        if (!std::strcmp(argv[i], "--help") || !std::strcmp(argv[i], "-h")) {
            // After "--" it is ours; before it, EAL would print only its own help.
            return true;
        }
    return false;
}

gateway::GatewayConfig load_config(const AppOptions& o, std::vector<std::string>& warnings)
{
    if (!o.native_config.empty()) {
        if (o.unprotected_mask)
            throw std::runtime_error("-u: port roles are set in the native configuration file");
        auto cfg = gateway::load_native_config(o.native_config);
        if (o.port_mask)
            for (const auto& p : cfg.ports)
                if (p.id >= 64 || !(o.port_mask >> p.id & 1))
                    throw gateway::ConfigError(p.where, "port " + std::to_string(p.id) + " is outside -p mask");
        return cfg;
    }
    gateway::SecgwOptions so;
    so.replay_window = o.replay_window;
    so.esn = o.esn;
    auto cfg = gateway::load_secgw_config(o.secgw_config, so, &warnings);
    uint16_t n = rte_eth_dev_count_avail();
    uint64_t mask = o.port_mask ? o.port_mask : (n >= 64 ? ~0ull : (1ull << n) - 1);
    for (uint16_t p = 0; p < 64; ++p) {
        if (!(mask >> p & 1))
            continue;
        gateway::PortConfig pc;
        pc.id = p;
        pc.role = (o.unprotected_mask >> p & 1) ? gateway::PortRole::Unprotected : gateway::PortRole::Protected;
        pc.where = {"-p", 0};
        cfg.ports.push_back(pc);
    }
    cfg.validate();
    return cfg;
}

struct Plan {
    std::vector<WorkerPlan> workers;
    std::map<uint16_t, PortPlan> ports;
};

Plan make_plan(const AppOptions& o, const gateway::GatewayConfig& cfg)
{
    Plan plan;
    std::vector<QueueAssignment> qs = o.queues;
    if (qs.empty()) {
        // Default: one worker, on the first lcore after the main one if there
        // is one (the main lcore then does control work), else on the main lcore.
        unsigned lcore = rte_get_next_lcore(rte_get_main_lcore(), 1, 0);
        if (lcore >= RTE_MAX_LCORE)
            lcore = rte_get_main_lcore();
        for (const auto& p : cfg.ports)
            qs.push_back({p.id, 0, lcore});
    }
    std::map<unsigned, size_t> worker_of;
    std::set<std::pair<uint16_t, uint16_t>> seen;
    for (const auto& q : qs) {
        if (!cfg.port(q.port))
            throw std::runtime_error("--config: port " + std::to_string(q.port) + " is not enabled (-p / port lines)");
        if (!rte_lcore_is_enabled(q.lcore))
            throw std::runtime_error("--config: lcore " + std::to_string(q.lcore) + " is not in the EAL core list");
        if (!seen.insert({q.port, q.queue}).second)
            throw std::runtime_error("--config: queue " + std::to_string(q.queue) + " of port " +
                                     std::to_string(q.port) + " assigned twice");
        auto [it, fresh] = worker_of.emplace(q.lcore, plan.workers.size());
        if (fresh) {
            WorkerPlan w;
            w.lcore = q.lcore;
            w.index = static_cast<uint16_t>(plan.workers.size());
            w.tx_queue = w.index;
            plan.workers.push_back(w);
        }
        plan.workers[it->second].rx.push_back({q.port, q.queue});
        PortPlan& pp = plan.ports[q.port];
        pp.port = q.port;
        pp.rx_queues = std::max<uint16_t>(pp.rx_queues, static_cast<uint16_t>(q.queue + 1));
    }
    for (const auto& p : cfg.ports) {
        PortPlan& pp = plan.ports[p.id];
        pp.port = p.id;
        pp.tx_queues = static_cast<uint16_t>(plan.workers.size());
    }
    return plan;
}

int run(int argc, char** argv)
{
    int eal = rte_eal_init(argc, argv);
    if (eal < 0) {
        std::fprintf(stderr, "ipsecgw: EAL initialisation failed: %s\n", rte_strerror(rte_errno));
        return 1;
    }
    argc -= eal;
    argv += eal;
    std::signal(SIGINT, on_signal);
    std::signal(SIGTERM, on_signal);
    std::vector<std::string> warnings;
    std::unique_ptr<GatewayTables> tables;
    // Owns the published tables once the workers exist; outlives them.
    std::unique_ptr<control::LiveGateway> live;
    std::unique_ptr<Tracer> tracer;
    std::vector<std::unique_ptr<LcoreCounters>> counters;
    std::vector<std::unique_ptr<Worker>> workers;
    std::vector<rte_ring*> handoff;
    Plan plan;
    rte_mempool* pool = nullptr;
    ControlChannel channel;  // IKE punt path, control tx, worker events
    uint64_t punt_discarded = 0;
    int status = 0;
    try {
        auto opts = parse_app_options(argc, argv);
        if (!opts) {
            rte_eal_cleanup();
            return 0;
        }
        warnings = opts->warnings;
        auto cfg = load_config(*opts, warnings);
        for (const auto& p : cfg.ports)
            if (!rte_eth_dev_is_valid_port(p.id))
                throw gateway::ConfigError(p.where, "port " + std::to_string(p.id) + " does not exist (" +
                                           std::to_string(rte_eth_dev_count_avail()) + " ethdev ports)");
        plan = make_plan(*opts, cfg);
        tables = std::make_unique<GatewayTables>(cfg, "gw");
        std::vector<LcoreCounters*> raw;
        for (size_t i = 0; i < plan.workers.size(); ++i) {
            // Room for SAs added at run time (slots are reused after deletion).
            counters.push_back(
                std::make_unique<LcoreCounters>(std::max<size_t>(tables->sas.size(), control::kSaSlots)));
            raw.push_back(counters.back().get());
        }
        uint32_t nb_mbufs = opts->nb_mbufs;
        if (nb_mbufs == 0) {
            uint32_t need = 0;
            for (const auto& [id, pp] : plan.ports)
                need += pp.rx_queues * 1024u + pp.tx_queues * 1024u;
            nb_mbufs = std::max<uint32_t>(8191, need + static_cast<uint32_t>(plan.workers.size()) * 512u);
        }
        pool = create_packet_pool(nb_mbufs, opts->frame_size);
        channel = create_control_channel(pool);
        PortSettings ps{opts->frame_size, opts->mtu, opts->rx_offload, opts->tx_offload, opts->promiscuous};
        for (const auto& [id, pp] : plan.ports)
            start_port(pp, ps, pool, warnings, &tables->ports[id].mac);
        {
            std::vector<uint16_t> ids;
            for (const auto& [id, pp] : plan.ports)
                ids.push_back(id);
            for (uint16_t p : wait_for_links(ids, 5000))
                warnings.push_back("port " + std::to_string(p) + ": link still down, starting anyway");
        }
        for (const auto& w : warnings)
            std::fprintf(stderr, "ipsecgw: warning: %s\n", w.c_str());

        if (plan.workers.size() > 1) {
            // Inbound SAs are spread over the workers; each owns its SAs' replay windows.
            uint16_t next = 0;
            for (auto& s : tables->sas)
                if (s.sa && s.sa->direction() == esp::Direction::Inbound)
                    s.owner = static_cast<uint16_t>(next++ % plan.workers.size());
            for (size_t i = 0; i < plan.workers.size(); ++i) {
                std::string name = "gw_handoff" + std::to_string(i);
                rte_ring* r = rte_ring_create(name.c_str(), 4096, static_cast<int>(rte_socket_id()), RING_F_SC_DEQ);
                if (!r)
                    throw std::runtime_error("cannot create the handoff ring " + name);
                handoff.push_back(r);
            }
        }
        std::printf("ipsecgw: %zu worker(s), %zu port(s), %zu SA(s), %zu policies\n", plan.workers.size(),
                    plan.ports.size(), tables->sas.size(), tables->policies.size());
        // From here on the control thread owns every change: it publishes new
        // table versions and frees old ones after an RCU grace period.
        {
            AppOptions reload_opts = *opts;
            auto loader = [reload_opts] {
                std::vector<std::string> w;
                auto c = load_config(reload_opts, w);
                for (const auto& p : c.ports)
                    if (!rte_eth_dev_is_valid_port(p.id))
                        throw gateway::ConfigError(p.where, "port " + std::to_string(p.id) + " does not exist");
                return c;
            };
            live = std::make_unique<control::LiveGateway>(std::move(tables), std::move(cfg), raw,
                                                          static_cast<uint16_t>(plan.workers.size()), loader);
        }
        tracer = std::make_unique<Tracer>();
        for (size_t i = 0; i < plan.workers.size(); ++i)
            workers.push_back(std::make_unique<Worker>(live->live(), plan.workers[i], *counters[i], g_stop, handoff,
                                                       live->rcu().qsbr(), tracer.get(), &channel));

        // The control socket, opened before any worker starts so that a
        // second gateway on the same path stops here with a clear error.
        unsigned main_lcore = rte_get_main_lcore();
        control::Dispatcher dispatcher;
        control::GatewayView view;
        view.tables = [&]() -> const GatewayTables& { return live->tables(); };
        view.config = [&]() { return &live->model(); };
        view.counters = &raw;
        for (const auto& w : plan.workers) {
            view.worker_lcores.push_back(w.lcore);
            if (w.lcore == main_lcore)
                view.control_is_thread = true;
        }
        view.control_lcore = main_lcore;
        view.config_path = !opts->native_config.empty() ? opts->native_config : opts->secgw_config;
        view.stop = &g_stop;
        view.tracer = tracer.get();
        control::register_gateway_commands(dispatcher, view);
        live->register_commands(dispatcher);
        std::unique_ptr<control::ControlServer> server;
        if (opts->socket_path != "none") {
            control::ServerOptions so;
            so.path = socket_path(*opts);
            so.group = opts->socket_group;
            so.mode = static_cast<mode_t>(opts->socket_mode);
            server = std::make_unique<control::ControlServer>(so, dispatcher);
        }
        if (server)
            std::printf("ipsecgw: control socket %s\n", server->path().c_str());
        std::fflush(stdout);

        Worker* main_worker = nullptr;
        for (size_t i = 0; i < workers.size(); ++i) {
            if (plan.workers[i].lcore == main_lcore)
                main_worker = workers[i].get();
            else if (rte_eal_remote_launch(launch_worker, workers[i].get(), plan.workers[i].lcore) != 0)
                throw std::runtime_error("cannot launch a worker on lcore " + std::to_string(plan.workers[i].lcore));
        }
        // Control work: lifetimes and periodic counters, on the main lcore or,
        // when that lcore is a worker, on an ordinary thread.
        LifetimeMonitor monitor(live->live(), raw, stdout);
        monitor.set_event_ring(channel.events);

        // IKEv2 (issue 7): the control core runs the engine for every `conn`
        // of the configuration. Punted IKE comes in on channel.punt, replies
        // leave through channel.tx (worker 0 routes them); CHILD_SAs become
        // SAs and policies through `live`; lifetime and sequence-number
        // events from the monitor trigger rekeys.
        std::function<void()> control_tick;
        std::unique_ptr<control::IkeDpdkIo> ike_io;
        std::unique_ptr<control::IkeService> ike;
        if (!live->model().ike.connections.empty()) {
            ike_io = std::make_unique<control::IkeDpdkIo>(channel);
            ike = std::make_unique<control::IkeService>(live->model().ike, *live, *ike_io, stderr);
            ike->register_commands(dispatcher);
            monitor.set_listener([&](const SaSlot& s, uint32_t, LifetimeEvent e) {
                auto what = (e == LifetimeEvent::HardReached || e == LifetimeEvent::SeqExhausted)
                                ? control::SaLifetimeEvent::Hard
                                : control::SaLifetimeEvent::Soft;
                ike->on_lifetime_event(s.sa->direction(), s.sa->spi(), what, ike_now());
            });
            monitor.set_acquire_listener([&](uint32_t policy_index) {
                const auto& policies = live->model().spd.policies();
                if (policy_index < policies.size())
                    ike->on_acquire(policies[policy_index].name, ike_now());
            });
            ike->start(ike_now());
            control_tick = [&] { ike->poll(ike_now()); };
        }

        auto drain_punted = [&] {
            void* m[32];
            for (int round = 0; round < 32; ++round) {  // bounded: 1024 per call
                unsigned n = rte_ring_sc_dequeue_burst(channel.punt, m, 32, nullptr);
                for (unsigned i = 0; i < n; ++i)
                    rte_pktmbuf_free(static_cast<rte_mbuf*>(m[i]));
                punt_discarded += n;
                if (n < 32)
                    break;
            }
        };
        auto control = [&] {
            auto next_stats = std::chrono::steady_clock::now() + std::chrono::seconds(opts->stats_interval);
            // With IKE, the loop waits at most 1 ms, and not at all while
            // punted IKE is queued: every exchange crosses it twice.
            auto wait_ms_now = [&] {
                return !control_tick ? 50 : rte_ring_empty(channel.punt) ? 1 : 0;
            };
            while (!g_stop.load(std::memory_order_relaxed)) {
                // The socket is served from here: requests are handled on this
                // thread, between lifetime checks, never by a worker.
                if (server)
                    server->poll(wait_ms_now());
                else
                    std::this_thread::sleep_for(std::chrono::milliseconds(wait_ms_now()));
                if (control_tick)
                    control_tick();
                else
                    drain_punted();
                monitor.poll();
                live->poll();
                if (opts->stats_interval && std::chrono::steady_clock::now() >= next_stats) {
                    print_counters(stdout, live->tables(), raw, "counters");
                    next_stats += std::chrono::seconds(opts->stats_interval);
                }
            }
        };
        if (main_worker) {
            std::thread control_thread(control);
            keep_off_worker_cpus(control_thread, plan.workers);
            main_worker->run();
            control_thread.join();
        } else {
            control();
        }
        rte_eal_mp_wait_lcore();
        print_counters(stdout, live->tables(), raw, "final counters");
        if (punt_discarded)
            std::printf("ipsecgw: %" PRIu64 " punted IKE packet(s) discarded: no IKE service\n", punt_discarded);
    } catch (const std::exception& e) {
        std::fprintf(stderr, "ipsecgw: %s\n", e.what());
        g_stop.store(true);
        rte_eal_mp_wait_lcore();
        status = 1;
    }
    for (rte_ring* r : handoff)
        free_ring_of_mbufs(r);
    free_ring_of_mbufs(channel.punt);
    free_ring_of_mbufs(channel.tx);
    rte_ring_free(channel.events);
    for (const auto& [id, pp] : plan.ports)
        if (rte_eth_dev_is_valid_port(id))
            stop_port(id);
    workers.clear();
    tables.reset();
    live.reset();  // the workers have stopped
    tracer.reset();
    counters.clear();
    if (pool)
        rte_mempool_free(pool);
    rte_eal_cleanup();
    return status;
}

}  // namespace

int main(int argc, char** argv)
{
    if (wants_help(argc, argv)) {
        print_app_help(argv[0]);
        return 0;
    }
    return run(argc, argv);
}
