// Atlas — CLibPQ
// SPDX-License-Identifier: Apache-2.0
#ifndef ATLAS_CLIBPQ_SHIM_H
#define ATLAS_CLIBPQ_SHIM_H
#include <libpq-fe.h>
#endif
