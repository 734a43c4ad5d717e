// PEM files named by `conn ... auth pubkey` lines, turned into the DER the
// IKE engine takes. Throw ConfigError(where, reason) on anything unreadable.
#pragma once

#include <string>
#include <vector>

#include "gateway/config_error.hpp"
#include "ike/secret.hpp"

namespace ipsecgw::gateway {

// Every certificate in the file (at least one).
std::vector<ike::Bytes> read_pem_certificates(const std::string& path, const SourceLocation& where);
// A private key (PKCS#8 or traditional PEM, unencrypted). The file must not
// be readable by group or others.
ike::SecretBytes read_pem_private_key(const std::string& path, const SourceLocation& where);
// "CN=gw, O=Example" -> DER Name; empty when malformed.
ike::Bytes distinguished_name_der(const std::string& text);

}  // namespace ipsecgw::gateway
