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

/// sqlite3_config is variadic; this turns memory statistics off. With them on, every allocation
/// SQLite makes takes one process-wide mutex, which threads reading on their own connections
/// then wait on. It only takes effect before SQLite initialises (the first connection opens).
static inline int atlas_sqlite3_disable_memstatus(void) {
    return sqlite3_config(SQLITE_CONFIG_MEMSTATUS, 0);
}

/// sqlite3_db_config is variadic; wrap the integer form used for SQLITE_DBCONFIG_* switches.
static inline int atlas_sqlite3_db_config_int(sqlite3 *db, int op, int value, int *result) {
    return sqlite3_db_config(db, op, value, result);
}
/// PostgreSQL's `left(text, n)` and `right(text, n)` (n characters; a negative n drops |n|
/// characters from the other end), which SQLite lacks, registered as `atlas_left`/`atlas_right`
/// since LEFT and RIGHT are keywords of SQLite's grammar: the Data module rewrites dbt models'
/// `left(`/`right(` calls to them. The user data selects the end: NULL for left, non-NULL for right.
static inline void atlas_sqlite3_left_right(sqlite3_context *context, int argc, sqlite3_value **argv) {
    (void)argc;
    if (sqlite3_value_type(argv[0]) == SQLITE_NULL || sqlite3_value_type(argv[1]) == SQLITE_NULL) {
        sqlite3_result_null(context);
        return;
    }
    const unsigned char *text = sqlite3_value_text(argv[0]);
    int bytes = sqlite3_value_bytes(argv[0]);
    if (text == 0) { sqlite3_result_null(context); return; }
    sqlite3_int64 n = sqlite3_value_int64(argv[1]);
    sqlite3_int64 characters = 0;
    for (int i = 0; i < bytes; i++) if ((text[i] & 0xC0) != 0x80) characters++;
    sqlite3_int64 keep = n >= 0 ? (n < characters ? n : characters) : (characters + n > 0 ? characters + n : 0);
    sqlite3_int64 boundary = sqlite3_user_data(context) == 0 ? keep : characters - keep;
    int offset = 0;
    sqlite3_int64 seen = 0;
    while (offset < bytes) {
        if ((text[offset] & 0xC0) != 0x80) {
            if (seen == boundary) break;
            seen++;
        }
        offset++;
    }
    if (sqlite3_user_data(context) == 0) {
        sqlite3_result_text(context, (const char *)text, offset, SQLITE_TRANSIENT);
    } else {
        sqlite3_result_text(context, (const char *)text + offset, bytes - offset, SQLITE_TRANSIENT);
    }
}

/// Registers the portable SQL functions above on a connection.
static inline int atlas_sqlite3_register_functions(sqlite3 *db) {
    static int right_marker = 1;
    int flags = SQLITE_UTF8 | SQLITE_DETERMINISTIC | SQLITE_INNOCUOUS;
    int rc = sqlite3_create_function_v2(db, "atlas_left", 2, flags, 0, atlas_sqlite3_left_right, 0, 0, 0);
    if (rc != SQLITE_OK) return rc;
    return sqlite3_create_function_v2(db, "atlas_right", 2, flags, &right_marker, atlas_sqlite3_left_right, 0, 0, 0);
}
#endif
