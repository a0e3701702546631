// Atlas — CLibPQLoader
// SPDX-License-Identifier: Apache-2.0
//
// The libpq functions Storage calls, defined here with libpq's own prototypes (the compiler checks
// each against libpq-fe.h) and forwarded to libpq.so.5, which is opened with dlopen the first time
// a PostgreSQL URL is used. A server on SQLite then never maps libpq, nor the Kerberos, LDAP and
// GnuTLS libraries it depends on (ADR-013). Callers go through atlas_libpq_load() first.
#ifdef __linux__
#define _GNU_SOURCE
#include "CLibPQLoader.h"
#include "/usr/include/postgresql/libpq-fe.h"

#include <dlfcn.h>
#include <pthread.h>
#include <stdio.h>

#define ATLAS_LIBPQ_FUNCTIONS(X) \
    X(PQstatus) \
    X(PQclear) \
    X(PQfreemem) \
    X(PQfinish) \
    X(PQexecParams) \
    X(PQerrorMessage) \
    X(PQunescapeBytea) \
    X(PQsetNoticeProcessor) \
    X(PQresultStatus) \
    X(PQresultErrorMessage) \
    X(PQresultErrorField) \
    X(PQntuples) \
    X(PQnfields) \
    X(PQgetvalue) \
    X(PQgetlength) \
    X(PQgetisnull) \
    X(PQftype) \
    X(PQfname) \
    X(PQexec) \
    X(PQconninfoParse) \
    X(PQconninfoFree) \
    X(PQconnectdbParams) \
    X(PQcmdTuples)

#define ATLAS_DECLARE(name) static __typeof__(&name) real_##name;
ATLAS_LIBPQ_FUNCTIONS(ATLAS_DECLARE)

static pthread_once_t once = PTHREAD_ONCE_INIT;
static const char *failure = "libpq was not loaded";
static char message[512];

static void load(void) {
    void *library = dlopen("libpq.so.5", RTLD_NOW | RTLD_LOCAL);
    if (library == NULL) {
        snprintf(message, sizeof(message), "cannot load libpq.so.5 (install libpq5): %s", dlerror());
        failure = message;
        return;
    }
#define ATLAS_RESOLVE(name) \
    real_##name = (__typeof__(&name))dlsym(library, #name); \
    if (real_##name == NULL) { \
        snprintf(message, sizeof(message), "libpq.so.5 lacks %s", #name); \
        failure = message; \
        return; \
    }
    ATLAS_LIBPQ_FUNCTIONS(ATLAS_RESOLVE)
    failure = NULL;
}

const char *atlas_libpq_load(void) {
    pthread_once(&once, load);
    return failure;
}

ConnStatusType PQstatus(const PGconn *conn) { return real_PQstatus(conn); }
void PQclear(PGresult *res) { real_PQclear(res); }
void PQfreemem(void *ptr) { real_PQfreemem(ptr); }
void PQfinish(PGconn *conn) { real_PQfinish(conn); }
PGresult *PQexecParams(PGconn *conn, const char *command, int nParams, const Oid *paramTypes, const char *const *paramValues, const int *paramLengths, const int *paramFormats, int resultFormat) { return real_PQexecParams(conn, command, nParams, paramTypes, paramValues, paramLengths, paramFormats, resultFormat); }
char *PQerrorMessage(const PGconn *conn) { return real_PQerrorMessage(conn); }
unsigned char *PQunescapeBytea(const unsigned char *strtext, size_t *retbuflen) { return real_PQunescapeBytea(strtext, retbuflen); }
PQnoticeProcessor PQsetNoticeProcessor(PGconn *conn, PQnoticeProcessor proc, void *arg) { return real_PQsetNoticeProcessor(conn, proc, arg); }
ExecStatusType PQresultStatus(const PGresult *res) { return real_PQresultStatus(res); }
char *PQresultErrorMessage(const PGresult *res) { return real_PQresultErrorMessage(res); }
char *PQresultErrorField(const PGresult *res, int fieldcode) { return real_PQresultErrorField(res, fieldcode); }
int PQntuples(const PGresult *res) { return real_PQntuples(res); }
int PQnfields(const PGresult *res) { return real_PQnfields(res); }
char *PQgetvalue(const PGresult *res, int tup_num, int field_num) { return real_PQgetvalue(res, tup_num, field_num); }
int PQgetlength(const PGresult *res, int tup_num, int field_num) { return real_PQgetlength(res, tup_num, field_num); }
int PQgetisnull(const PGresult *res, int tup_num, int field_num) { return real_PQgetisnull(res, tup_num, field_num); }
Oid PQftype(const PGresult *res, int field_num) { return real_PQftype(res, field_num); }
char *PQfname(const PGresult *res, int field_num) { return real_PQfname(res, field_num); }
PGresult *PQexec(PGconn *conn, const char *query) { return real_PQexec(conn, query); }
PQconninfoOption *PQconninfoParse(const char *conninfo, char **errmsg) { return real_PQconninfoParse(conninfo, errmsg); }
void PQconninfoFree(PQconninfoOption *connOptions) { real_PQconninfoFree(connOptions); }
PGconn *PQconnectdbParams(const char *const *keywords, const char *const *values, int expand_dbname) { return real_PQconnectdbParams(keywords, values, expand_dbname); }
char *PQcmdTuples(PGresult *res) { return real_PQcmdTuples(res); }
#endif // __linux__
