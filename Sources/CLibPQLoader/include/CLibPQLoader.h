// Atlas — CLibPQLoader
// SPDX-License-Identifier: Apache-2.0
#ifndef ATLAS_CLIBPQLOADER_H
#define ATLAS_CLIBPQLOADER_H

/// Loads libpq (`libpq.so.5`) once per process and resolves the functions Storage calls.
/// Returns NULL when they are ready, or a message saying why libpq could not be loaded; every
/// libpq function Storage calls must come after a NULL answer.
const char *atlas_libpq_load(void);

#endif
