// Atlas — CLibPQ
// SPDX-License-Identifier: Apache-2.0
//
// libpq's declarations only: the library itself is loaded on first use by CLibPQLoader, so a
// server on SQLite never maps libpq and what it pulls in (Kerberos, LDAP, GnuTLS).
#ifndef ATLAS_CLIBPQ_SHIM_H
#define ATLAS_CLIBPQ_SHIM_H
#include "/usr/include/postgresql/libpq-fe.h"
#endif
