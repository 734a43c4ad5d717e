/* trafgen: paced traffic generator and sink for the ipsecgw performance lab.
 *
 * One DPDK process, one polling lcore, two ports: port 0 transmits towards the
 * gateway's ingress, port 1 receives what the gateway forwards (in the lab both
 * are net_memif clients of the gateway, "two NICs on a wire"). The gateway
 * under test never counts anything this program reports.
 *
 * Traffic (same addresses and SAs as perf/lab/lab.py's cfg):
 *   --dir out  plaintext IPv4/UDP 192.168.1.x -> 192.168.105.x; every packet
 *              carries MAGIC + TSC in its UDP payload. The sink receives ESP:
 *              one packet in --sample is decrypted (first 48 bytes, CTR part of
 *              AES-GCM with the SA's key) to read the timestamp back.
 *   --dir in   ESP tunnel (SPI --spi, outer 172.16.2.5 -> 172.16.1.5) around
 *              192.168.2.x -> 192.168.115.x; pre-encrypted templates, and
 *              while measuring latency one packet in --sample is encrypted on
 *              the fly with MAGIC + TSC inside. The sink reads plaintext.
 * Timestamps are rdtsc values (invariant TSC; one process, one clock).
 *
 * Phases (all in this one process, the gateway keeps running):
 *   max      unpaced for --window s: maximum forwarding rate at the sink.
 *   search   binary search for the loss-free rate (offered - received == 0
 *            over the window, after a drain), --steps trials, starting below
 *            the max trial's rate; then the same for the partial drop rate
 *            (loss <= --pdr-loss of offered, default 0.005; 0 = skip).
 *   latency  at --lat-points fractions (default 0.1,0.5,0.9) of the
 *            loss-free rate: p50/p99/p99.9/max of sampled one-way latency.
 * Output: one JSON object on stdout.
 *
 * usage: trafgen EAL... -- --dir out|in --size N|imix --key HEX(key||salt)
 *        [--spi N] [--window S] [--steps N] [--pdr-loss F] [--sample N] [--burst N]
 *        [--phases max,search,latency] [--lat-points 0.1,0.5,0.9]
 *        [--max-seconds S]
 */
#define _GNU_SOURCE /* strtok_r, strnlen (DPDK headers) under -std=c11 */
#include <intel-ipsec-mb.h>
#include <rte_cycles.h>
#include <rte_eal.h>
#include <rte_ethdev.h>
#include <rte_ip.h>
#include <rte_mbuf.h>
#include <rte_memcpy.h>
#include <stdbool.h>
#include <stdint.h>
#include <stdio.h>
#include <stdlib.h>
#include <string.h>
#include <arpa/inet.h>

#define MAGIC 0x1a7e5eedu
#define NTPL 768 /* multiple of 256 flows and of the 12-packet IMIX pattern */
#define MAXB 64
#define MAX_SAMPLES (4u << 20)
#define PORT_TX 0
#define PORT_RX 1

struct stamp {
	uint32_t magic;
	uint32_t seq;
	uint64_t tsc;
} __attribute__((packed));

static struct {
	int out; /* direction */
	int imix, size;
	uint8_t key[32], salt[4];
	int bits;
	uint32_t spi;
	double window, max_seconds;
	int steps, sample, burst;
	double pdr_loss;
	char phases[64];
	double lat_points[8];
	int n_lat;
} cfg = {.out = 1, .size = 64, .bits = 128, .spi = 105, .window = 1.0, .max_seconds = 120,
	 .steps = 7, .pdr_loss = 0.005, .sample = 8, .burst = 32, .phases = "max,search,latency",
	 .lat_points = {0.1, 0.5, 0.9}, .n_lat = 3};

static IMB_MGR *mb;
static DECLARE_ALIGNED(struct gcm_key_data gkey, 64);
static struct rte_mempool *pool;
static struct rte_mbuf *tpl[NTPL];
static uint8_t inner[NTPL][2048]; /* inbound: the plaintext of each template */
static uint32_t inner_len[NTPL];
static uint64_t hz, t_end;
static double *samples;
static uint32_t nsamples;

static const int imix_pattern[12] = {64, 570, 64, 64, 1518, 64, 570, 64, 64, 570, 64, 570};

static void gcm_enc(uint8_t *dst, const uint8_t *src, uint64_t len, const uint8_t *iv12,
		    const uint8_t *aad, uint8_t *tag)
{
	struct gcm_context_data ctx;
	if (cfg.bits == 256)
		IMB_AES256_GCM_ENC(mb, &gkey, &ctx, dst, src, len, iv12, aad, 8, tag, 16);
	else
		IMB_AES128_GCM_ENC(mb, &gkey, &ctx, dst, src, len, iv12, aad, 8, tag, 16);
}

static void gcm_dec(uint8_t *dst, const uint8_t *src, uint64_t len, const uint8_t *iv12,
		    const uint8_t *aad, uint8_t *tag)
{
	struct gcm_context_data ctx;
	if (cfg.bits == 256)
		IMB_AES256_GCM_DEC(mb, &gkey, &ctx, dst, src, len, iv12, aad, 8, tag, 16);
	else
		IMB_AES128_GCM_DEC(mb, &gkey, &ctx, dst, src, len, iv12, aad, 8, tag, 16);
}

static void put_ipv4(uint8_t *ip, uint16_t total, uint8_t proto, uint32_t src, uint32_t dst)
{
	struct rte_ipv4_hdr *h = (struct rte_ipv4_hdr *)ip;
	memset(h, 0, sizeof(*h));
	h->version_ihl = 0x45;
	h->total_length = htons(total);
	h->time_to_live = 64;
	h->next_proto_id = proto;
	h->src_addr = htonl(src);
	h->dst_addr = htonl(dst);
	h->hdr_checksum = rte_ipv4_cksum(h);
}

/* Inner (or plaintext) IPv4/UDP packet of ip_len bytes, flow f, stamp area zeroed. */
static uint32_t build_plain_ip(uint8_t *ip, uint32_t ip_len, int f, int out)
{
	if (ip_len < 28 + sizeof(struct stamp))
		ip_len = 28 + sizeof(struct stamp);
	memset(ip, 0, ip_len);
	uint32_t src = out ? (192u << 24 | 168u << 16 | 1u << 8) : (192u << 24 | 168u << 16 | 2u << 8);
	uint32_t dst = out ? (192u << 24 | 168u << 16 | 105u << 8) : (192u << 24 | 168u << 16 | 115u << 8);
	put_ipv4(ip, ip_len, 17, src | (f % 250 + 1), dst | (f % 250 + 1));
	uint8_t *udp = ip + 20;
	*(uint16_t *)udp = htons(1000 + f);
	*(uint16_t *)(udp + 2) = htons(2000);
	*(uint16_t *)(udp + 4) = htons(ip_len - 20);
	return ip_len;
}

/* ESP tunnel frame around inner[i] (RFC 4303/4106), written into frame; returns its length. */
static uint32_t build_esp_frame(uint8_t *frame, const uint8_t *in, uint32_t in_len, uint32_t seq)
{
	static const uint8_t dmac[6] = {2, 0, 0, 0, 0, 4}, smac[6] = {2, 0, 0, 0, 0, 3};
	memcpy(frame, dmac, 6);
	memcpy(frame + 6, smac, 6);
	frame[12] = 0x08, frame[13] = 0x00;
	uint32_t pad = (4 - (in_len + 2) % 4) % 4;
	uint32_t ct_len = in_len + pad + 2;
	uint32_t ip_len = 20 + 8 + 8 + ct_len + 16;
	put_ipv4(frame + 14, ip_len, 50, 172u << 24 | 16u << 16 | 2u << 8 | 5, 172u << 24 | 16u << 16 | 1u << 8 | 5);
	uint8_t *esp = frame + 34;
	*(uint32_t *)esp = htonl(cfg.spi);
	*(uint32_t *)(esp + 4) = htonl(seq);
	uint8_t iv12[12];
	memcpy(iv12, cfg.salt, 4);
	uint64_t ivv = ((uint64_t)seq << 32) | 0x5eed;
	memcpy(iv12 + 4, &ivv, 8);
	memcpy(esp + 8, iv12 + 4, 8);
	uint8_t *ct = esp + 16;
	memcpy(ct, in, in_len);
	for (uint32_t k = 0; k < pad; k++)
		ct[in_len + k] = (uint8_t)(k + 1);
	ct[in_len + pad] = (uint8_t)pad;
	ct[in_len + pad + 1] = 4; /* next header: IPv4 */
	gcm_enc(ct, ct, ct_len, iv12, esp, ct + ct_len);
	return 14 + ip_len;
}

static void build_templates(void)
{
	uint8_t frame[2048];
	for (int i = 0; i < NTPL; i++) {
		int size = cfg.imix ? imix_pattern[i % 12] : cfg.size;
		int f = i % 256;
		uint32_t len;
		if (cfg.out) {
			static const uint8_t dmac[6] = {2, 0, 0, 0, 0, 2}, smac[6] = {2, 0, 0, 0, 0, 1};
			memcpy(frame, dmac, 6);
			memcpy(frame + 6, smac, 6);
			frame[12] = 0x08, frame[13] = 0x00;
			len = 14 + build_plain_ip(frame + 14, size - 14, f, 1);
		} else {
			inner_len[i] = build_plain_ip(inner[i], size - 14, f, 0);
			len = build_esp_frame(frame, inner[i], inner_len[i], i + 1);
		}
		struct rte_mbuf *m = rte_pktmbuf_alloc(pool);
		if (!m || !rte_pktmbuf_append(m, len))
			rte_exit(1, "template alloc\n");
		memcpy(rte_pktmbuf_mtod(m, void *), frame, len);
		tpl[i] = m;
	}
}

/* ------------------------------------------------------------------ trial */
struct trial {
	double rate_req; /* pps requested, 0 = unpaced */
	uint64_t offered, sent, received, rx_bytes, stamped, bad;
	double secs;
	bool gen_limited;
};

static inline void sample_latency(struct rte_mbuf *m, uint64_t now, struct trial *t)
{
	uint8_t *p = rte_pktmbuf_mtod(m, uint8_t *);
	struct stamp st;
	if (cfg.out) { /* ESP: decrypt the first 48 bytes of ciphertext */
		if (m->data_len < 14 + 20 + 16 + 48 + 16 || p[14 + 9] != 50)
			return;
		uint8_t *esp = p + 14 + (p[14] & 15) * 4;
		uint8_t iv12[12], pt[48], tag[16];
		memcpy(iv12, cfg.salt, 4);
		memcpy(iv12 + 4, esp + 8, 8);
		gcm_dec(pt, esp + 16, 48, iv12, esp, tag);
		memcpy(&st, pt + 28, sizeof(st));
	} else {
		if (m->data_len < 42 + sizeof(st))
			return;
		memcpy(&st, p + 42, sizeof(st));
	}
	if (st.magic != MAGIC) {
		if (cfg.out || st.magic != 0) /* inbound: unstamped templates carry 0 */
			t->bad++;
		return;
	}
	if (st.tsc == 0 || now < st.tsc)
		return;
	if (samples && nsamples < MAX_SAMPLES)
		samples[nsamples++] = (double)(now - st.tsc) * 1e6 / (double)hz;
}

static void rx_poll(struct trial *t, bool lat)
{
	struct rte_mbuf *rx[MAXB];
	uint16_t n = rte_eth_rx_burst(PORT_RX, 0, rx, MAXB);
	if (!n)
		return;
	uint64_t now = rte_rdtsc();
	for (uint16_t k = 0; k < n; k++) {
		t->rx_bytes += rx[k]->pkt_len;
		if (lat && (!cfg.out || (t->received + k) % cfg.sample == 0))
			sample_latency(rx[k], now, t);
	}
	t->received += n;
	rte_pktmbuf_free_bulk(rx, n);
}

/* Drain what is still in flight: poll until 50 ms pass with nothing received. */
static void drain(struct trial *t, bool lat)
{
	uint64_t quiet = rte_rdtsc() + hz / 20, stop = rte_rdtsc() + hz;
	while (rte_rdtsc() < stop && rte_rdtsc() < quiet) {
		uint64_t before = t->received;
		rx_poll(t, lat);
		if (t->received != before)
			quiet = rte_rdtsc() + hz / 20;
	}
}

static uint32_t tpl_next;
static uint32_t stamp_seq;

/* Fill b[] with up to n packets to send now; stamped per the direction. */
static uint16_t make_burst(struct rte_mbuf **b, uint16_t n, bool lat, uint64_t now, struct trial *t)
{
	for (uint16_t k = 0; k < n; k++) {
		uint32_t i = tpl_next;
		tpl_next = tpl_next + 1 == NTPL ? 0 : tpl_next + 1;
		struct rte_mbuf *m = tpl[i];
		if (cfg.out) {
			/* memif copies synchronously in tx_burst, so the template can be
			 * stamped in place and sent by reference. */
			struct stamp st = {MAGIC, stamp_seq++, lat ? now : 0};
			memcpy(rte_pktmbuf_mtod_offset(m, uint8_t *, 42), &st, sizeof(st));
			rte_mbuf_refcnt_update(m, 1);
			b[k] = m;
		} else if (lat && (stamp_seq++ % cfg.sample) == 0) {
			struct rte_mbuf *c = rte_pktmbuf_alloc(pool);
			if (!c) {
				rte_mbuf_refcnt_update(m, 1);
				b[k] = m;
				continue;
			}
			uint8_t buf[2048];
			memcpy(buf, inner[i], inner_len[i]);
			struct stamp st = {MAGIC, stamp_seq, now};
			memcpy(buf + 28, &st, sizeof(st));
			uint32_t len = build_esp_frame(rte_pktmbuf_mtod(c, uint8_t *), buf, inner_len[i], i + 1);
			c->data_len = c->pkt_len = len;
			t->stamped++;
			b[k] = c;
		} else {
			rte_mbuf_refcnt_update(m, 1);
			b[k] = m;
		}
	}
	return n;
}

static void run_trial(struct trial *t, double rate, double secs, bool lat)
{
	memset(t, 0, sizeof(*t));
	t->rate_req = rate;
	uint64_t start = rte_rdtsc(), end = start + (uint64_t)(secs * hz);
	if (end > t_end)
		end = t_end;
	double per_burst = rate > 0 ? cfg.burst * (double)hz / rate : 0;
	double next = (double)start;
	struct rte_mbuf *b[MAXB];
	uint64_t now;
	while ((now = rte_rdtsc()) < end) {
		rx_poll(t, lat);
		if (rate > 0 && (double)now < next)
			continue;
		uint16_t n = make_burst(b, (uint16_t)cfg.burst, lat, now, t);
		uint16_t s = rte_eth_tx_burst(PORT_TX, 0, b, n);
		t->offered += n;
		t->sent += s;
		for (uint16_t k = s; k < n; k++)
			rte_pktmbuf_free(b[k]); /* refcnt-- for templates, free for copies */
		if (rate > 0) {
			next += per_burst;
			if (next < (double)now - hz / 1000.0) /* descheduled: do not burst to catch up */
				next = (double)now;
		}
	}
	t->secs = (double)(rte_rdtsc() - start) / hz;
	/* the generator could not offer what was asked (its core was busy) */
	t->gen_limited = rate > 0 && t->offered < 0.97 * rate * t->secs;
	drain(t, lat);
}

static void print_trial(const char *name, const struct trial *t, bool comma)
{
	printf("    {\"phase\": \"%s\", \"rate_req_mpps\": %.4f, \"offered_mpps\": %.4f, \"sent_mpps\": %.4f, "
	       "\"received_mpps\": %.4f, \"offered\": %lu, \"sent\": %lu, \"received\": %lu, \"loss\": %ld, "
	       "\"secs\": %.3f, \"gen_limited\": %s, \"bad_stamps\": %lu}%s\n",
	       name, t->rate_req / 1e6, t->offered / t->secs / 1e6, t->sent / t->secs / 1e6,
	       t->received / t->secs / 1e6, t->offered, t->sent, t->received,
	       (long)t->offered - (long)t->received, t->secs, t->gen_limited ? "true" : "false", t->bad,
	       comma ? "," : "");
}

static int cmpd(const void *a, const void *b)
{
	double x = *(const double *)a, y = *(const double *)b;
	return x < y ? -1 : x > y;
}

static double pct(double p)
{
	if (!nsamples)
		return -1;
	size_t k = (size_t)(p / 100.0 * (nsamples - 1) + 0.5);
	return samples[k];
}

/* Binary search for the highest rate whose loss is at most tol (a fraction of
 * the offered frames; 0 = none), starting just below the max trial's rate.
 * What was really offered counts, even when the generator fell short of the
 * rate asked for (its CPU was busy). lo: a rate known to pass (the loss-free
 * rate, for the partial-drop search), or 0. Returns pps (0: none found). */
static double search(const struct trial *mx, double tol, const char *name, double lo)
{
	struct trial t;
	double hi = mx ? mx->received / mx->secs * 1.02 : 30e6;
	double r = mx ? mx->received / mx->secs * 0.97 : hi / 2;
	for (int s = 0; s < cfg.steps && rte_rdtsc() < t_end; s++) {
		run_trial(&t, r, cfg.window, false);
		print_trial(name, &t, true);
		double got = t.offered / t.secs;
		double lost = (double)t.offered - (double)t.received;
		if (lost <= tol * (double)t.offered) {
			if (got > lo)
				lo = got < r ? got : r;
		} else {
			hi = r;
		}
		if (lo > 0 && (hi - lo) / hi < 0.01)
			break;
		r = lo > 0 ? (lo + hi) / 2 : (s < 2 ? r * 0.8 : (lo + hi) / 2);
	}
	return lo;
}

static void parse_args(int argc, char **argv)
{
	for (int i = 0; i < argc; i++) {
		const char *a = argv[i], *v = i + 1 < argc ? argv[i + 1] : "";
		if (!strcmp(a, "--dir")) cfg.out = !strcmp(v, "out"), i++;
		else if (!strcmp(a, "--size")) { if (!strcmp(v, "imix")) cfg.imix = 1; else cfg.size = atoi(v); i++; }
		else if (!strcmp(a, "--key")) {
			size_t L = strlen(v) / 2;
			if (L != 20 && L != 36) rte_exit(2, "--key: 20 or 36 bytes of hex\n");
			uint8_t k[36];
			for (size_t j = 0; j < L; j++) sscanf(v + 2 * j, "%2hhx", &k[j]);
			cfg.bits = L == 36 ? 256 : 128;
			memcpy(cfg.key, k, L - 4);
			memcpy(cfg.salt, k + L - 4, 4);
			i++;
		}
		else if (!strcmp(a, "--spi")) cfg.spi = strtoul(v, NULL, 0), i++;
		else if (!strcmp(a, "--window")) cfg.window = atof(v), i++;
		else if (!strcmp(a, "--max-seconds")) cfg.max_seconds = atof(v), i++;
		else if (!strcmp(a, "--steps")) cfg.steps = atoi(v), i++;
		else if (!strcmp(a, "--pdr-loss")) cfg.pdr_loss = atof(v), i++;
		else if (!strcmp(a, "--sample")) cfg.sample = atoi(v) > 0 ? atoi(v) : 1, i++;
		else if (!strcmp(a, "--burst")) { cfg.burst = atoi(v); if (cfg.burst < 1 || cfg.burst > MAXB) rte_exit(2, "--burst 1..64\n"); i++; }
		else if (!strcmp(a, "--phases")) snprintf(cfg.phases, sizeof(cfg.phases), "%s", v), i++;
		else if (!strcmp(a, "--lat-points")) {
			cfg.n_lat = 0;
			char buf[128], *s, *save = NULL;
			snprintf(buf, sizeof(buf), "%s", v);
			for (s = strtok_r(buf, ",", &save); s && cfg.n_lat < 8; s = strtok_r(NULL, ",", &save))
				cfg.lat_points[cfg.n_lat++] = atof(s);
			i++;
		} else rte_exit(2, "trafgen: unknown option %s\n", a);
	}
	if (cfg.imix == 0 && (cfg.size < 60 || cfg.size > 1518))
		rte_exit(2, "--size 60..1518 or imix\n");
}

static void port_up(uint16_t p)
{
	struct rte_eth_conf conf;
	memset(&conf, 0, sizeof(conf));
	if (rte_eth_dev_configure(p, 1, 1, &conf) < 0 ||
	    rte_eth_rx_queue_setup(p, 0, 1024, rte_socket_id(), NULL, pool) < 0 ||
	    rte_eth_tx_queue_setup(p, 0, 1024, rte_socket_id(), NULL) < 0 || rte_eth_dev_start(p) < 0)
		rte_exit(1, "port %u setup failed\n", p);
}

int main(int argc, char **argv)
{
	int n = rte_eal_init(argc, argv);
	if (n < 0)
		rte_exit(1, "EAL init failed\n");
	parse_args(argc - n - 1, argv + n + 1);
	if (rte_eth_dev_count_avail() < 2)
		rte_exit(1, "trafgen needs two ports (tx: 0, rx: 1)\n");
	hz = rte_get_tsc_hz();
	t_end = rte_rdtsc() + (uint64_t)(cfg.max_seconds * hz);
	mb = alloc_mb_mgr(0);
	init_mb_mgr_auto(mb, NULL);
	if (cfg.bits == 256) IMB_AES256_GCM_PRE(mb, cfg.key, &gkey);
	else IMB_AES128_GCM_PRE(mb, cfg.key, &gkey);
	pool = rte_pktmbuf_pool_create("trafgen", 16383, 256, 0, RTE_MBUF_DEFAULT_BUF_SIZE, rte_socket_id());
	if (!pool)
		rte_exit(1, "mbuf pool\n");
	port_up(PORT_TX);
	port_up(PORT_RX);
	build_templates();
	samples = malloc(sizeof(double) * MAX_SAMPLES);

	/* Links up, then trickle until the gateway forwards (it may still be starting). */
	for (int w = 0; w < 200; w++) {
		struct rte_eth_link l0, l1;
		rte_eth_link_get_nowait(PORT_TX, &l0);
		rte_eth_link_get_nowait(PORT_RX, &l1);
		if (l0.link_status && l1.link_status)
			break;
		rte_delay_ms(50);
	}
	struct trial warm;
	char sizestr[16];
	if (cfg.imix) snprintf(sizestr, sizeof(sizestr), "imix");
	else snprintf(sizestr, sizeof(sizestr), "%d", cfg.size);
	for (int w = 0; w < 20; w++) {
		run_trial(&warm, 100000, 0.25, false);
		if (warm.received > 0)
			break;
	}
	run_trial(&warm, 0, 0.3, false); /* warm caches and the gateway at full rate */

	printf("{\"dir\": \"%s\", \"size\": \"%s\", \"key_bits\": %d, \"window_s\": %.2f, \"warm_received\": %lu,\n"
	       "  \"trials\": [\n",
	       cfg.out ? "out" : "in", sizestr, cfg.bits, cfg.window, warm.received);
	struct trial t, mx = {0};
	bool have_max = false;
	double lfr = 0;
	if (strstr(cfg.phases, "max")) {
		run_trial(&mx, 0, cfg.window, false);
		have_max = true;
		print_trial("max", &mx, true);
	}
	double pdr = 0;
	if (strstr(cfg.phases, "search")) {
		lfr = search(have_max ? &mx : NULL, 0.0, "search", 0);
		/* Partial drop rate (as FD.io CSIT's PDR): loss up to --pdr-loss. On a
		 * shared machine it is far steadier than the zero-loss rate. */
		if (cfg.pdr_loss > 0)
			pdr = search(have_max ? &mx : NULL, cfg.pdr_loss, "pdr", lfr);
	}
	printf("    {\"phase\": \"end\"}\n  ],\n");
	printf("  \"max_fwd_mpps\": %.4f, \"max_offered_mpps\": %.4f, \"loss_free_mpps\": %.4f, "
	       "\"pdr_mpps\": %.4f, \"pdr_loss\": %g,\n",
	       have_max ? mx.received / mx.secs / 1e6 : -1.0, have_max ? mx.offered / mx.secs / 1e6 : -1.0, lfr / 1e6,
	       pdr / 1e6, cfg.pdr_loss);
	/* Latency is taken at fractions of the loss-free rate; when noise left no
	 * loss-free rate, of the maximum forwarding rate (said in the output). */
	double ref = lfr > 0 ? lfr : (have_max ? mx.received / mx.secs : 0);
	printf("  \"latency_reference\": \"%s\", \"latency\": [", lfr > 0 ? "loss-free" : "max-forwarding");
	if (strstr(cfg.phases, "latency") && ref > 0) {
		for (int k = 0; k < cfg.n_lat && rte_rdtsc() < t_end; k++) {
			nsamples = 0;
			run_trial(&t, ref * cfg.lat_points[k], cfg.window, true);
			qsort(samples, nsamples, sizeof(double), cmpd);
			printf("%s\n    {\"fraction\": %.2f, \"rate_mpps\": %.4f, \"received_mpps\": %.4f, \"loss\": %ld, "
			       "\"samples\": %u, \"p50_us\": %.2f, \"p99_us\": %.2f, \"p999_us\": %.2f, \"max_us\": %.2f, "
			       "\"min_us\": %.2f, \"bad_stamps\": %lu}",
			       k ? "," : "", cfg.lat_points[k], ref * cfg.lat_points[k] / 1e6, t.received / t.secs / 1e6,
			       (long)t.offered - (long)t.received, nsamples, pct(50), pct(99), pct(99.9),
			       nsamples ? samples[nsamples - 1] : -1, nsamples ? samples[0] : -1, t.bad);
		}
	}
	printf("]}\n");
	fflush(stdout);
	rte_eth_dev_stop(PORT_TX);
	rte_eth_dev_stop(PORT_RX);
	rte_eal_cleanup();
	return 0;
}
