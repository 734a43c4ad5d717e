// RFC 7296 key derivation on top of Prf.
#include "ike/keymat.hpp"

#include "ike/prf.hpp"

namespace ipsecgw::ike {
namespace {

Bytes spi_bytes(std::uint64_t spi_i, std::uint64_t spi_r) {
    Bytes out;
    Writer w(out);
    w.u64(spi_i);
    w.u64(spi_r);
    return out;
}

IkeKeys expand_ike_keys(const Suite& suite, ByteView skeyseed, ByteView ni, ByteView nr, std::uint64_t spi_i,
                        std::uint64_t spi_r) {
    Prf prf(suite.prf);
    Bytes seed = concat({ni, nr, spi_bytes(spi_i, spi_r)});
    std::size_t d = prf.size();  // HMAC PRFs: preferred key size is the output size
    std::size_t a = suite.aead() ? 0 : integ_key_size(suite.integ);
    std::size_t e = encr_keymat_size(suite.encr, suite.encr_key_bits);
    SecretBytes all = prf.plus(skeyseed, seed, d + 2 * a + 2 * e + 2 * d);
    IkeKeys k;
    k.suite = suite;
    auto take = [&, pos = std::size_t{0}](std::size_t n) mutable {
        SecretBytes part(all.begin() + static_cast<std::ptrdiff_t>(pos),
                         all.begin() + static_cast<std::ptrdiff_t>(pos + n));
        pos += n;
        return part;
    };
    k.sk_d = take(d);
    k.sk_ai = take(a);
    k.sk_ar = take(a);
    k.sk_ei = take(e);
    k.sk_er = take(e);
    k.sk_pi = take(d);
    k.sk_pr = take(d);
    return k;
}

}  // namespace

IkeKeys derive_ike_keys(const Suite& suite, ByteView ni, ByteView nr, ByteView g_ir, std::uint64_t spi_i,
                        std::uint64_t spi_r) {
    Prf prf(suite.prf);
    SecretBytes nonces = to_secret(concat({ni, nr}));
    SecretBytes skeyseed = prf(nonces, g_ir);
    return expand_ike_keys(suite, skeyseed, ni, nr, spi_i, spi_r);
}

IkeKeys derive_rekeyed_ike_keys(const Suite& suite, PrfId old_prf, ByteView old_sk_d, ByteView g_ir, ByteView ni,
                                ByteView nr, std::uint64_t spi_i, std::uint64_t spi_r) {
    SecretBytes input = to_secret(g_ir);
    input.insert(input.end(), ni.begin(), ni.end());
    input.insert(input.end(), nr.begin(), nr.end());
    SecretBytes skeyseed = Prf(old_prf)(old_sk_d, input);
    return expand_ike_keys(suite, skeyseed, ni, nr, spi_i, spi_r);
}

ChildKeys derive_child_keys(const Suite& esp, PrfId prf_id, ByteView sk_d, ByteView g_ir, ByteView ni,
                            ByteView nr) {
    Prf prf(prf_id);
    SecretBytes seed = to_secret(g_ir);
    seed.insert(seed.end(), ni.begin(), ni.end());
    seed.insert(seed.end(), nr.begin(), nr.end());
    std::size_t e = encr_keymat_size(esp.encr, esp.encr_key_bits);
    std::size_t a = esp.aead() ? 0 : integ_key_size(esp.integ);
    SecretBytes all = prf.plus(sk_d, seed, 2 * (e + a));
    auto slice = [&](std::size_t from, std::size_t n) {
        return SecretBytes(all.begin() + static_cast<std::ptrdiff_t>(from),
                           all.begin() + static_cast<std::ptrdiff_t>(from + n));
    };
    // Order (§2.17): encryption then integrity key, initiator-to-responder first.
    ChildKeys k;
    k.encr_i = slice(0, e);
    k.integ_i = slice(e, a);
    k.encr_r = slice(e + a, e);
    k.integ_r = slice(2 * e + a, a);
    return k;
}

}  // namespace ipsecgw::ike
