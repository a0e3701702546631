// Atlas — CSQLite
// SPDX-License-Identifier: Apache-2.0
#ifndef ATLAS_CSQLITE_SHIM_H
#define ATLAS_CSQLITE_SHIM_H
#include <sqlite3.h>

/// SQLITE_TRANSIENT is a cast macro that Swift does not import: SQLite copies the bound bytes.
static inline int atlas_sqlite3_bind_text_transient(sqlite3_stmt *stmt, int index, const char *text, int length) {
    return sqlite3_bind_text(stmt, index, text, length, SQLITE_TRANSIENT);
}

static inline int atlas_sqlite3_bind_blob_transient(sqlite3_stmt *stmt, int index, const void *bytes, int length) {
    return sqlite3_bind_blob(stmt, index, bytes, length, SQLITE_TRANSIENT);
}

/// sqlite3_db_config is variadic; wrap the integer form used for SQLITE_DBCONFIG_* switches.
static inline int atlas_sqlite3_db_config_int(sqlite3 *db, int op, int value, int *result) {
    return sqlite3_db_config(db, op, value, result);
}
#endif
