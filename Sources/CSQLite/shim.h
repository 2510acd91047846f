#ifndef BACKSTREAM_CSQLITE_SHIM_H
#define BACKSTREAM_CSQLITE_SHIM_H
#include <sqlite3.h>

// SQLITE_TRANSIENT is a cast macro Swift cannot import; binding with it makes SQLite copy the bytes.
static inline sqlite3_destructor_type backstream_sqlite_transient(void) { return SQLITE_TRANSIENT; }
#endif
