// Micro-benchmark of the ESP engine's batch API on one core, beside the raw
// IPsec-MB AES-GCM rate for the same bytes measured in the same run: the
// difference is what the engine costs on top of the cipher.
//
// usage: esp_bench [--sizes 64,256,512,1420] [--seconds S] [--burst N]
//                  [--key-bits 128|256] [--path direct|job|both] [--esn]
//                  [--encap] [--outer6]
// Sizes are Ethernet frame sizes (as in the gateway benchmarks): the engine
// sees the IP packet, frame - 14 bytes. AES-GCM tunnel mode, IPv4 in IPv4,
// replay window 1024 on the inbound side. --encap: RFC 3948 ESP-in-UDP;
// --outer6: IPv6 outer header (with --encap the UDP checksum is computed).
#include <intel-ipsec-mb.h>

#include <time.h>
#include <x86intrin.h>

#include <chrono>
#include <cstdio>
#include <cstdlib>
#include <cstring>
#include <memory>
#include <sstream>
#include <string>
#include <vector>

#include "esp/esp_engine.hpp"

using namespace ipsecgw::esp;
using Clock = std::chrono::steady_clock;

namespace {

// CPU time of this thread: time the scheduler gave to other processes (builds,
// other benchmarks on a 2-core machine) does not count against a rate.
double thread_seconds()
{
    timespec t;
    clock_gettime(CLOCK_THREAD_CPUTIME_ID, &t);
    return double(t.tv_sec) + double(t.tv_nsec) * 1e-9;
}

struct Options {
    std::vector<unsigned> sizes{64, 256, 512, 1420};
    double seconds = 1.0;
    unsigned burst = 32;
    unsigned key_bits = 128;
    std::string path = "both";
    bool esn = false;
    bool encap = false;
    bool outer6 = false;
    bool best = false;  // rates from the fastest burst, not the mean over CPU time
};

// TSC ticks per second, measured against the steady clock.
double tsc_hz()
{
    static double hz = [] {
        auto t0 = Clock::now();
        uint64_t c0 = __rdtsc();
        while (Clock::now() - t0 < std::chrono::milliseconds(100)) {
        }
        uint64_t c1 = __rdtsc();
        return double(c1 - c0) / std::chrono::duration<double>(Clock::now() - t0).count();
    }();
    return hz;
}

Options parse(int argc, char** argv)
{
    Options o;
    for (int i = 1; i < argc; ++i) {
        std::string a = argv[i];
        auto next = [&]() -> std::string {
            if (i + 1 >= argc) {
                std::fprintf(stderr, "%s needs a value\n", a.c_str());
                std::exit(2);
            }
            return argv[++i];
        };
        if (a == "--sizes") {
            o.sizes.clear();
            std::stringstream ss(next());
            for (std::string s; std::getline(ss, s, ',');)
                o.sizes.push_back(unsigned(std::stoul(s)));
        } else if (a == "--seconds") {
            o.seconds = std::stod(next());
        } else if (a == "--burst") {
            o.burst = unsigned(std::stoul(next()));
        } else if (a == "--key-bits") {
            o.key_bits = unsigned(std::stoul(next()));
        } else if (a == "--esn") {
            o.esn = true;
        } else if (a == "--encap") {
            o.encap = true;
        } else if (a == "--outer6") {
            o.outer6 = true;
        } else if (a == "--best") {
            o.best = true;
        } else if (a == "--path") {
            o.path = next();
        } else {
            std::fprintf(stderr,
                         "usage: esp_bench [--sizes 64,256,512,1420] [--seconds S] [--burst N] "
                         "[--key-bits 128|256] [--path direct|job|both] [--esn] [--encap] [--outer6] [--best]\n");
            std::exit(a == "--help" ? 0 : 2);
        }
    }
    if (o.burst == 0 || o.burst > kMaxBurst || (o.key_bits != 128 && o.key_bits != 256)) {
        std::fprintf(stderr, "burst must be 1..%u and key bits 128 or 256\n", kMaxBurst);
        std::exit(2);
    }
    return o;
}

void write_ipv4_udp(uint8_t* p, unsigned ip_len)
{
    std::memset(p, 0x5a, ip_len);
    p[0] = 0x45, p[1] = 0, p[2] = uint8_t(ip_len >> 8), p[3] = uint8_t(ip_len);
    p[6] = 0x40, p[8] = 64, p[9] = 17;
}

SaConfig config(Direction d, const Options& o)
{
    unsigned key_bits = o.key_bits;
    bool esn = o.esn;
    SaConfig c;
    c.spi = 0x1234;
    c.direction = d;
    c.aead = key_bits == 256 ? Aead::AesGcm256 : Aead::AesGcm128;
    for (unsigned i = 0; i < 32; ++i)
        c.key[i] = uint8_t(i * 7 + 1);
    c.salt = {1, 2, 3, 4};
    c.tunnel_src = ipsecgw::net::IpAddress::v4(192, 0, 2, 1);
    c.tunnel_dst = ipsecgw::net::IpAddress::v4(198, 51, 100, 2);
    if (o.outer6) {
        c.tunnel_src = *ipsecgw::net::IpAddress::parse("2001:db8::1");
        c.tunnel_dst = *ipsecgw::net::IpAddress::parse("2001:db8:1::2");
    }
    c.udp_encap = o.encap;
    c.esn = esn;  // 32-bit counter: 4 billion packets, more than a run sends
    return c;
}

struct Rates {
    double enc_mpps, dec_mpps;
};

// Encrypts then decrypts the same buffers in place, timing each half.
Rates engine_rate(CryptoPath path, unsigned ip_len, const Options& o)
{
    EspEngine engine(path);
    auto out = Sa::create(config(Direction::Outbound, o));
    auto in = Sa::create(config(Direction::Inbound, o));
    const unsigned head = 128, room = 2048 + 256;
    std::vector<uint8_t> store(size_t(o.burst) * room);
    std::vector<Packet> pk(o.burst);
    std::vector<Sa*> outs(o.burst, out.get()), ins(o.burst, in.get());
    std::vector<Status> st(o.burst);
    for (unsigned i = 0; i < o.burst; ++i)
        write_ipv4_udp(store.data() + size_t(i) * room + head, ip_len);
    // Cycle counts split the thread's CPU time between the two halves.
    uint64_t c_enc = 0, c_dec = 0, min_enc = UINT64_MAX, min_dec = UINT64_MAX;
    uint64_t n = 0;
    double cpu0 = thread_seconds();
    auto until = Clock::now() + std::chrono::duration<double>(o.seconds);
    while (Clock::now() < until) {
        for (int rep = 0; rep < 64; ++rep) {
            for (unsigned i = 0; i < o.burst; ++i)
                pk[i] = {store.data() + size_t(i) * room + head, ip_len, head, room - head - ip_len};
            uint64_t t0 = __rdtsc();
            engine.encrypt_burst(pk.data(), outs.data(), o.burst, st.data());
            uint64_t t1 = __rdtsc();
            engine.decrypt_burst(pk.data(), ins.data(), o.burst, st.data());
            uint64_t t2 = __rdtsc();
            c_enc += t1 - t0;
            c_dec += t2 - t1;
            min_enc = std::min<uint64_t>(min_enc, t1 - t0);
            min_dec = std::min<uint64_t>(min_dec, t2 - t1);
            n += o.burst;
        }
        for (unsigned i = 0; i < o.burst; ++i)
            if (st[i] != Status::Ok) {
                std::fprintf(stderr, "engine rejected a packet: %s\n", std::string(status_name(st[i])).c_str());
                std::exit(1);
            }
    }
    if (o.best)
        return {tsc_hz() * o.burst / double(min_enc) / 1e6, tsc_hz() * o.burst / double(min_dec) / 1e6};
    double cpu = thread_seconds() - cpu0;
    double t_enc = cpu * double(c_enc) / double(c_enc + c_dec), t_dec = cpu - t_enc;
    return {n / t_enc / 1e6, n / t_dec / 1e6};
}

// IPsec-MB alone on the bytes ESP encrypts for this packet size.
Rates raw_rate(unsigned text_len, const Options& o)
{
    IMB_MGR* mgr = alloc_mb_mgr(0);
    init_mb_mgr_auto(mgr, nullptr);
    auto key = std::unique_ptr<gcm_key_data>(new gcm_key_data);
    uint8_t k[32] = {1}, iv[12] = {}, aad[12] = {}, tag[16];
    uint64_t aad_len = o.esn ? 12 : 8;  // the engine's AAD: SPI, [seq hi], seq lo
    if (o.key_bits == 256)
        IMB_AES256_GCM_PRE(mgr, k, key.get());
    else
        IMB_AES128_GCM_PRE(mgr, k, key.get());
    std::vector<uint8_t> buf(size_t(o.burst) * 2048, 7);
    struct gcm_context_data ctx;
    Rates r{};
    for (int dir = 0; dir < 2; ++dir) {
        uint64_t n = 0, min_burst = UINT64_MAX;
        double cpu0 = thread_seconds();
        auto until = Clock::now() + std::chrono::duration<double>(o.seconds);
        while (Clock::now() < until) {
            for (int rep = 0; rep < 64; ++rep, ++iv[11]) {
                uint64_t t0 = __rdtsc();
                for (unsigned i = 0; i < o.burst; ++i) {
                    uint8_t* p = buf.data() + size_t(i) * 2048;
                    if (dir == 0 && o.key_bits == 256)
                        IMB_AES256_GCM_ENC(mgr, key.get(), &ctx, p, p, text_len, iv, aad, aad_len, tag, 16);
                    else if (dir == 0)
                        IMB_AES128_GCM_ENC(mgr, key.get(), &ctx, p, p, text_len, iv, aad, aad_len, tag, 16);
                    else if (o.key_bits == 256)
                        IMB_AES256_GCM_DEC(mgr, key.get(), &ctx, p, p, text_len, iv, aad, aad_len, tag, 16);
                    else
                        IMB_AES128_GCM_DEC(mgr, key.get(), &ctx, p, p, text_len, iv, aad, aad_len, tag, 16);
                }
                min_burst = std::min<uint64_t>(min_burst, __rdtsc() - t0);
                n += o.burst;
            }
        }
        double mpps = o.best ? tsc_hz() * o.burst / double(min_burst) / 1e6 : n / (thread_seconds() - cpu0) / 1e6;
        (dir == 0 ? r.enc_mpps : r.dec_mpps) = mpps;
    }
    free_mb_mgr(mgr);
    return r;
}

}  // namespace

int main(int argc, char** argv)
{
    Options o = parse(argc, argv);
    EspEngine probe;
    std::printf("# ESP engine vs raw IPsec-MB, one core, AES-%u-GCM tunnel 4in%s%s, burst %u, %.1f s per cell (rates %s), IPsec-MB %s (%s)\n",
                o.key_bits, o.outer6 ? "6" : "4", o.encap ? " in UDP" : "", o.burst, o.seconds,
                o.best ? "from the fastest burst" : "per second of thread CPU time", imb_get_version_str(), probe.arch_name());
    std::printf("| frame B | path | enc Mpps | raw enc Mpps | enc overhead | dec Mpps | raw dec Mpps | dec overhead |\n");
    std::printf("|---|---|---|---|---|---|---|---|\n");
    for (unsigned frame : o.sizes) {
        if (frame < 14 + 28 || frame > 2000) {
            std::fprintf(stderr, "frame size %u out of range 42..2000\n", frame);
            return 2;
        }
        unsigned ip_len = frame - 14;
        unsigned text_len = (ip_len + 2 + 3) / 4 * 4;  // what ESP encrypts: packet + pad + trailer
        Rates raw = raw_rate(text_len, o);
        for (CryptoPath path : {CryptoPath::Direct, CryptoPath::JobApi}) {
            bool direct = path == CryptoPath::Direct;
            if ((o.path == "direct" && !direct) || (o.path == "job" && direct))
                continue;
            Rates e = engine_rate(path, ip_len, o);
            std::printf("| %u | %s | %.2f | %.2f | %.1f %% | %.2f | %.2f | %.1f %% |\n", frame, direct ? "direct" : "job",
                        e.enc_mpps, raw.enc_mpps, 100.0 * (raw.enc_mpps / e.enc_mpps - 1), e.dec_mpps,
                        raw.dec_mpps, 100.0 * (raw.dec_mpps / e.dec_mpps - 1));
            std::fflush(stdout);
        }
    }
    return 0;
}
