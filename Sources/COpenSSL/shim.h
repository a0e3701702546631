// Atlas — COpenSSL
// SPDX-License-Identifier: Apache-2.0
#ifndef ATLAS_COPENSSL_SHIM_H
#define ATLAS_COPENSSL_SHIM_H
#include <openssl/opensslv.h>
#if OPENSSL_VERSION_NUMBER < 0x30000000L
#error "Atlas needs OpenSSL 3.0 or newer"
#endif
#include <openssl/crypto.h>
#include <openssl/evp.h>
#include <openssl/hmac.h>
#include <openssl/kdf.h>
#include <openssl/rand.h>
#include <openssl/err.h>
#endif
