#include "gateway/pem_files.hpp"

#include <openssl/bio.h>
#include <openssl/crypto.h>
#include <openssl/pem.h>
#include <openssl/x509.h>
#include <sys/stat.h>

#include <cerrno>
#include <cstring>
#include <memory>

namespace ipsecgw::gateway {
namespace {

struct BioFree {
    void operator()(BIO* b) const { BIO_free(b); }
};

std::unique_ptr<BIO, BioFree> open(const std::string& path, const SourceLocation& where)
{
    std::unique_ptr<BIO, BioFree> bio(BIO_new_file(path.c_str(), "r"));
    if (!bio)
        throw ConfigError(where, "cannot read " + path + ": " + std::strerror(errno));
    return bio;
}

}  // namespace

std::vector<ike::Bytes> read_pem_certificates(const std::string& path, const SourceLocation& where)
{
    auto bio = open(path, where);
    std::vector<ike::Bytes> out;
    for (int i = 0; i < 64; ++i) {  // bounded: a CA bundle, not a database
        X509* x = PEM_read_bio_X509(bio.get(), nullptr, nullptr, nullptr);
        if (!x)
            break;
        int n = i2d_X509(x, nullptr);
        ike::Bytes der(n > 0 ? static_cast<size_t>(n) : 0);
        unsigned char* p = der.data();
        if (n <= 0 || i2d_X509(x, &p) != n)
            der.clear();
        X509_free(x);
        if (!der.empty())
            out.push_back(std::move(der));
    }
    if (out.empty())
        throw ConfigError(where, path + " holds no PEM certificate");
    return out;
}

ike::SecretBytes read_pem_private_key(const std::string& path, const SourceLocation& where)
{
    struct stat st {};
    if (::stat(path.c_str(), &st) != 0)
        throw ConfigError(where, "cannot stat " + path + ": " + std::strerror(errno));
    if (st.st_mode & (S_IRWXG | S_IRWXO))
        throw ConfigError(where, "private key file " + path + " is readable by group or others (chmod 600)");
    auto bio = open(path, where);
    EVP_PKEY* key = PEM_read_bio_PrivateKey(bio.get(), nullptr, nullptr, const_cast<char*>(""));
    if (!key)
        throw ConfigError(where, path + " holds no unencrypted PEM private key");
    unsigned char* der = nullptr;
    int n = i2d_PrivateKey(key, &der);
    EVP_PKEY_free(key);
    if (n <= 0)
        throw ConfigError(where, "cannot encode the private key in " + path);
    ike::SecretBytes out(der, der + n);
    OPENSSL_clear_free(der, static_cast<size_t>(n));
    return out;
}

ike::Bytes distinguished_name_der(const std::string& text)
{
    X509_NAME* name = X509_NAME_new();
    if (!name)
        return {};
    bool ok = true;
    size_t pos = 0;
    while (ok && pos <= text.size()) {
        size_t comma = text.find(',', pos);
        std::string rdn = text.substr(pos, comma == std::string::npos ? std::string::npos : comma - pos);
        pos = comma == std::string::npos ? text.size() + 1 : comma + 1;
        size_t b = rdn.find_first_not_of(' '), e = rdn.find_last_not_of(' ');
        if (b == std::string::npos) {
            ok = false;
            break;
        }
        rdn = rdn.substr(b, e - b + 1);
        size_t eq = rdn.find('=');
        if (eq == std::string::npos || eq == 0 || eq + 1 == rdn.size()) {
            ok = false;
            break;
        }
        std::string key = rdn.substr(0, eq), value = rdn.substr(eq + 1);
        ok = X509_NAME_add_entry_by_txt(name, key.c_str(), MBSTRING_UTF8,
                                        reinterpret_cast<const unsigned char*>(value.c_str()), -1, -1, 0) == 1;
    }
    ike::Bytes out;
    int n = ok ? i2d_X509_NAME(name, nullptr) : 0;
    if (n > 0) {
        out.resize(static_cast<size_t>(n));
        unsigned char* p = out.data();
        if (i2d_X509_NAME(name, &p) != n)
            out.clear();
    }
    X509_NAME_free(name);
    return out;
}

}  // namespace ipsecgw::gateway
